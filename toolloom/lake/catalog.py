"""The lake catalogs: a DuckDB file per lake under the home (one writer at a time, a file lock), or one
PostgreSQL database for every lake (a schema per pipeline, many writers); the S3 secret a lake's data needs."""

from __future__ import annotations

import contextlib
import fcntl
import os
import urllib.parse
from pathlib import Path
from typing import Iterator

from .storage import StorageError, StorageSpec, public_url


class Catalog:
    """One lake per pipeline: where its catalog is, where its files go, and how writers are kept apart."""

    def __init__(self, home: Path, spec: StorageSpec):
        self.home, self.spec = home, spec

    def data_path(self, pipeline: str) -> str:
        if not self.spec.data_path:
            return f"{self.home / 'lake' / pipeline / 'data'}/"
        root = self.spec.data_path if "://" in self.spec.data_path else str(Path(self.spec.data_path).resolve())
        return f"{root.rstrip('/')}/{pipeline}/"

    def setup_sql(self) -> list[str]:
        """Statements a DuckDB connection runs once before attaching (the S3 secret, from the environment)."""
        if not self._on_s3:
            return []
        s = self.spec
        missing = [e for e in (s.s3_key_id_env, s.s3_secret_env) if not os.environ.get(e)]
        if missing:
            raise StorageError(f"data_path {s.data_path} needs S3 credentials: set {' and '.join(missing)}")
        opts = {
            "KEY_ID": os.environ[s.s3_key_id_env],
            "SECRET": os.environ[s.s3_secret_env],
            "REGION": os.environ.get(s.s3_region_env) or "us-east-1",
        }
        endpoint = os.environ.get(s.s3_endpoint_env)
        if endpoint:
            url = urllib.parse.urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
            opts.update(ENDPOINT=url.netloc, URL_STYLE="path", USE_SSL=url.scheme == "https")
        body = ", ".join(f"{k} {v}" if isinstance(v, bool) else f"{k} '{_quoted(v)}'" for k, v in opts.items())
        return [f"CREATE OR REPLACE SECRET toolloom_s3 (TYPE s3, {body})"]

    def extensions(self) -> list[str]:
        """DuckDB extensions the lake needs beyond DuckLake itself."""
        return (["postgres"] if self.spec.shared else []) + (["httpfs"] if self._on_s3 else [])

    @property
    def _on_s3(self) -> bool:
        return (self.spec.data_path or "").startswith("s3://")

    def remote(self, *parts: str) -> str | None:
        """A location under an s3:// data path (None with local data): where shared files go."""
        return "/".join([self.spec.data_path.rstrip("/"), *parts]) if self._on_s3 else None

    def creating(self, pipeline: str) -> contextlib.AbstractContextManager:
        """Held around attaching a lake that may not exist yet (the file catalog's lock already covers it)."""
        return contextlib.nullcontext()

    def describe(self) -> dict:
        """Catalog and data path without credentials, for metadata and messages."""
        return {
            "catalog": self.spec.catalog if not self.spec.shared else public_url(self.spec.catalog),
            "data_path": self.spec.data_path or str(self.home / "lake"),
        }


class FileCatalog(Catalog):
    """A DuckDB file per lake under the home: one writing process at a time, kept in line by a file lock."""

    def _file(self, pipeline: str) -> Path:
        return self.home / "lake" / pipeline / "catalog.ducklake"

    def attach_sql(self, pipeline: str, read_only: bool) -> str:
        mode = ", READ_ONLY" if read_only else ""
        return f"ATTACH 'ducklake:{self._file(pipeline)}' AS {pipeline} (DATA_PATH '{self.data_path(pipeline)}'{mode})"

    def exists(self, pipeline: str) -> bool:
        return self._file(pipeline).exists()

    def pipelines(self) -> list[str]:
        root = self.home / "lake"
        return sorted(p.name for p in root.iterdir() if (p / "catalog.ducklake").exists()) if root.exists() else []

    @contextlib.contextmanager
    def lock(self, pipeline: str) -> Iterator[None]:
        d = self.home / "lake" / pipeline
        d.mkdir(parents=True, exist_ok=True)
        with open(d / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


class PostgresCatalog(Catalog):
    """One PostgreSQL database for every lake, a schema per pipeline; its transactions keep writers apart."""

    def __init__(self, home: Path, spec: StorageSpec):
        super().__init__(home, spec)
        self._known: set[str] = set()  # lakes this process has attached: made, no need to guard their creation

    def attach_sql(self, pipeline: str, read_only: bool) -> str:
        mode = ", READ_ONLY" if read_only else ""
        return (
            f"ATTACH 'ducklake:postgres:{self.spec.catalog}' AS {pipeline} (METADATA_SCHEMA '{pipeline}', "
            f"DATA_PATH '{self.data_path(pipeline)}'{mode})"
        )

    @contextlib.contextmanager
    def _connection(self):
        try:
            import psycopg
        except ImportError as e:
            raise StorageError("a postgres catalog needs psycopg: pip install 'toolloom[scale]'") from e
        try:
            con = psycopg.connect(self.spec.catalog, connect_timeout=10, autocommit=True)
        except psycopg.OperationalError as e:
            raise StorageError(
                f"catalog {public_url(self.spec.catalog)} cannot be reached: {str(e).strip().splitlines()[0]}"
            ) from e
        with con:
            yield con

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._connection() as con:
            return con.execute(sql, params).fetchall()

    @contextlib.contextmanager
    def creating(self, pipeline: str) -> Iterator[None]:
        """Two processes attaching a new lake at once would both create its schema and one would fail on
        PostgreSQL's unique index; an advisory lock makes the second wait and then find the lake made."""
        if pipeline in self._known:
            yield
            return
        with self._connection() as con:
            con.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"toolloom.lake.{pipeline}",))
            try:
                yield
            finally:
                con.execute("SELECT pg_advisory_unlock(hashtext(%s))", (f"toolloom.lake.{pipeline}",))
        self._known.add(pipeline)

    def exists(self, pipeline: str) -> bool:
        q = "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'ducklake_metadata'"
        return bool(self._query(q, (pipeline,)))

    def pipelines(self) -> list[str]:
        q = "SELECT table_schema FROM information_schema.tables WHERE table_name = 'ducklake_metadata' ORDER BY 1"
        return [s for (s,) in self._query(q)]

    @contextlib.contextmanager
    def lock(self, pipeline: str) -> Iterator[None]:
        yield  # DuckLake commits are PostgreSQL transactions; a conflicting commit is retried by DuckLake


def catalog_for(home: Path, spec: StorageSpec) -> Catalog:
    return PostgresCatalog(home, spec) if spec.shared else FileCatalog(home, spec)


def _quoted(value: str) -> str:
    return value.replace("'", "''")
