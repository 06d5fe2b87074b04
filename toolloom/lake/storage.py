"""Where a lake's catalog and Parquet files live: a DuckDB file (default) or PostgreSQL; local disk or s3://.

DuckLake keeps the catalog (snapshots, schemas, which files hold which rows) apart from the data files. A
DuckDB-file catalog admits one writing process on one host, so the store takes a file lock per lake and
attaches it for one operation at a time. A PostgreSQL catalog admits many writers on many hosts: no lock,
and a stage keeps its lake attached while it runs (`Store.session`). Parquet files go under the data path:
a folder per pipeline, on local disk or under an s3:// prefix of any S3-compatible service. Credentials come
only from environment variables: PostgreSQL's from libpq's own (PGPASSWORD, ~/.pgpass), S3's from the
variables this spec names; a URL with a password in it is refused, so none reaches a log or a table.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import logging
import os
import random
import re
import site
import threading
import time
import urllib.parse
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CATALOG_ENV, DATA_PATH_ENV = "TOOLLOOM_CATALOG", "TOOLLOOM_DATA_PATH"
log = logging.getLogger("toolloom")


_EXTENSION_FILES = {"postgres": "postgres_scanner"}  # the extension's name -> its file's name


def home_of(project: Path, home: str | None) -> Path:
    """The store and cache folder: `home` (the --home option), else $TOOLLOOM_HOME, else .toolloom, each relative to
    the project folder unless absolute."""
    path = Path(home or os.environ.get("TOOLLOOM_HOME") or ".toolloom")
    return path if path.is_absolute() else project / path


def load_sql(extension: str) -> str:
    """LOAD an extension from its duckdb-ext-* wheel when installed (offline), else INSTALL it from DuckDB's
    repository."""
    name = _EXTENSION_FILES.get(extension, extension)
    for root in site.getsitepackages() + [site.getusersitepackages()]:
        found = glob.glob(
            os.path.join(root, "duckdb_ext", "extensions", f"v{duckdb.__version__}", "*", f"{name}.duckdb_extension")
        )
        if found:
            return f"LOAD '{found[0]}'"
    return f"INSTALL {extension}; LOAD {extension}"


class Engine:
    """The process's DuckDB with the extensions loaded once (a forked child makes its own), and the lakes a
    stage holds attached (`Store.session`)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._db: duckdb.DuckDBPyConnection | None = None
        self._pid = 0
        self._setup: set[str] = set()
        self.held: dict[str, int] = {}  # pipeline -> sessions holding it attached
        self.attached: set[str] = set()  # held lakes attached to the current database (all, until a reset)

    def database(self, extensions: list[str], setup: list[str]) -> duckdb.DuckDBPyConnection:
        if self._db is None or self._pid != os.getpid():
            if self._pid != os.getpid():
                self.held = {}
            self._db, self._pid, self._setup, self.attached = duckdb.connect(), os.getpid(), set(), set()
        for sql in [load_sql(e) for e in ["ducklake", *extensions]] + setup:
            if sql not in self._setup:
                self._db.execute(sql)
                self._setup.add(sql)
        return self._db

    def reset(self) -> None:
        """Drop the database and its catalog connections (a catalog server restart left them dead); held lakes
        are attached again, to a new one, by the next operation."""
        with self.lock:
            if self._db is not None and self._pid == os.getpid():
                with contextlib.suppress(duckdb.Error):
                    self._db.close()
            self._db, self.attached = None, set()


ENGINE = Engine()
CONFLICT_RETRIES = 6
RECONNECT_S = 60.0
# what libpq and PostgreSQL say when the server went away (a restart, a failover, an administrator's kill)
_CONNECTION_LOST = re.compile(
    r"server closed the connection|connection refused|could not connect|terminating connection|no connection to the "
    r"server|the database system is (?:shutting down|starting up|in recovery mode)|connection has been closed|"
    r"connection to server .* failed|current transaction is aborted"  # a state a lost connection left
    r'|Failed to commit: Failed to execute query "ROLLBACK"',  # a COMMIT the restart cut, whose ROLLBACK failed too
    re.IGNORECASE,
)


def retried(method):
    """A store operation run again when a concurrent writer's commit conflicted with it (DuckLake aborts the later
    one; the retry sees what the other wrote), and, on a shared catalog, when the catalog server dropped the
    connection: reconnected with backoff for up to RECONNECT_S, so a restart costs retries, not the run."""

    @functools.wraps(method)
    def wrapper(store, *args, **kwargs):
        conflicts, started, pause = 0, time.monotonic(), 0.25
        while True:
            try:
                return method(store, *args, **kwargs)
            except (duckdb.Error, StorageError, OSError) as e:  # OSError: a result read as an Arrow stream
                if isinstance(e, duckdb.TransactionException) and "conflict" in str(e).lower():
                    conflicts += 1
                    if conflicts == CONFLICT_RETRIES:
                        raise
                    time.sleep(random.uniform(0.05, 0.2) * conflicts)
                    continue
                # a commit whose COMMIT was lost may have landed: running it again replaces the same rows
                if not (store.catalog.spec.shared and _CONNECTION_LOST.search(str(e))):
                    raise
                why = str(e).strip().splitlines()[0]
                if time.monotonic() - started > RECONNECT_S:
                    raise StorageError(
                        f"catalog {public_url(store.catalog.spec.catalog)}: connection lost for more "
                        f"than {RECONNECT_S:.0f} s: {why}"
                    ) from e
                log.warning("catalog connection lost (%s); reconnecting in %.1f s", why, pause)
                ENGINE.reset()
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    return wrapper


class StorageError(Exception):
    """The configured catalog or data path cannot be used (unreachable, missing credentials, bad URL)."""


class StorageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    catalog: str = Field(
        "duckdb",
        description="'duckdb' (a catalog file per lake under the home) or "
        "postgres://user@host:port/database (password from PGPASSWORD)",
    )
    data_path: str | None = Field(
        None,
        description="where Parquet files go: a folder or s3://bucket/prefix "
        "(a sub-folder per pipeline); default <home>/lake/<pipeline>/data",
    )
    s3_key_id_env: str = "AWS_ACCESS_KEY_ID"
    s3_secret_env: str = "AWS_SECRET_ACCESS_KEY"
    s3_endpoint_env: str = Field("AWS_ENDPOINT_URL", description="unset: AWS itself; set: e.g. MinIO or moto")
    s3_region_env: str = "AWS_REGION"

    @field_validator("catalog")
    @classmethod
    def _catalog_url(cls, v: str) -> str:
        if v == "duckdb":
            return v
        url = urllib.parse.urlsplit(v)
        if url.scheme not in ("postgres", "postgresql"):
            raise ValueError(f"catalog must be 'duckdb' or a postgres:// URL, not {public_url(v)!r}")
        if url.password or "password" in urllib.parse.parse_qs(url.query):
            raise ValueError("a catalog URL must not carry a password: set PGPASSWORD (or ~/.pgpass) instead")
        if not url.path.strip("/"):
            raise ValueError(f"catalog URL {v!r} names no database (postgres://user@host:port/DATABASE)")
        return v

    @field_validator("data_path")
    @classmethod
    def _data_path(cls, v: str | None) -> str | None:
        if v and "://" in v and not v.startswith("s3://"):
            raise ValueError(f"data_path must be a folder or s3://bucket/prefix, not {v!r}")
        return v

    @property
    def shared(self) -> bool:
        """Whether several processes on several hosts may write at once (the PostgreSQL catalog)."""
        return self.catalog != "duckdb"


def storage_settings(spec: StorageSpec | None = None, environ=os.environ) -> StorageSpec:
    """The pipeline's storage settings with the environment's on top (a deployment names its own catalog)."""
    spec = spec or StorageSpec()
    update = {k: environ[e] for k, e in (("catalog", CATALOG_ENV), ("data_path", DATA_PATH_ENV)) if environ.get(e)}
    try:
        return StorageSpec(**{**spec.model_dump(), **update}) if update else spec
    except ValidationError as e:  # the message only: pydantic's own text repeats the value, password and all
        raise StorageError(
            "; ".join(
                f"${CATALOG_ENV if err['loc'][0] == 'catalog' else DATA_PATH_ENV}: "
                f"{err['msg'].removeprefix('Value error, ')}"
                for err in e.errors()
            )
        ) from None


def public_url(url: str) -> str:
    """`url` without user and password, for messages and metadata."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def s3_client(spec: StorageSpec):
    """A boto3 S3 client from the environment variables the spec names (exports, GraphML, `load_export`)."""
    try:
        import boto3
    except ImportError as e:
        raise StorageError("files on s3:// need boto3: pip install 'toolloom[scale]'") from e
    return boto3.client(
        "s3",
        aws_access_key_id=os.environ.get(spec.s3_key_id_env),
        aws_secret_access_key=os.environ.get(spec.s3_secret_env),
        endpoint_url=os.environ.get(spec.s3_endpoint_env) or None,
        region_name=os.environ.get(spec.s3_region_env) or "us-east-1",
    )


def split_s3(url: str) -> tuple[str, str]:
    """s3://bucket/key/path -> (bucket, key/path)."""
    bucket, _, key = url.removeprefix("s3://").partition("/")
    return bucket, key.strip("/")


def upload_folder(local: Path, remote: str, spec: StorageSpec) -> None:
    """Copy a folder's files to `remote` (s3://...), keeping their relative paths."""
    client, (bucket, prefix) = s3_client(spec), split_s3(remote)
    for path in sorted(p for p in Path(local).rglob("*") if p.is_file()):
        client.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(local).as_posix()}")


def upload_file(local: Path, remote: str, spec: StorageSpec) -> None:
    s3_client(spec).upload_file(str(local), *split_s3(remote))


def write_remote_text(remote: str, text: str, spec: StorageSpec) -> None:
    bucket, key = split_s3(remote)
    s3_client(spec).put_object(Bucket=bucket, Key=key, Body=text.encode())


def download_folder(remote: str, local: Path, spec: StorageSpec) -> Path:
    """Copy the files under `remote` (s3://...) into `local`; returns `local`."""
    client, (bucket, prefix) = s3_client(spec), split_s3(remote)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for obj in page.get("Contents", []):
            target = local / obj["Key"][len(prefix) + 1 :]
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, obj["Key"], str(target))
    return local


def read_remote_text(remote: str, spec: StorageSpec) -> str:
    bucket, key = split_s3(remote)
    return s3_client(spec).get_object(Bucket=bucket, Key=key)["Body"].read().decode()
