"""Real services for the scale-out tests, started on this machine: a throwaway PostgreSQL cluster (Debian's
server binaries; `.ci/run` installs the package) and moto's S3 server."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

from toolloom.llm.managed_server import free_port


def postgres_bin() -> Path | None:
    """The folder of a PostgreSQL server's binaries (initdb, postgres, pg_ctl), newest version first."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_server_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user the package made."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class PostgresCluster:
    """A cluster in `root` on a free loopback port, trust auth for the user `toolloom`, that can be stopped and
    started again on the same port and data (what a catalog restart looks like to its clients)."""

    def __init__(self, root: Path):
        self.binaries, self.root = postgres_bin(), root
        self.data, self.port = root / "data", free_port()
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(self.data, "postgres")
        subprocess.run(
            _as_server_user([str(self.binaries / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "toolloom"]),
            check=True,
            capture_output=True,
        )
        self.url = f"postgres://toolloom@127.0.0.1:{self.port}/postgres"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.log = open(self.root / "server.log", "a")
        self.proc = subprocess.Popen(
            _as_server_user(
                [
                    str(self.binaries / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.root),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "max_connections=200",
                    "-c",
                    "fsync=off",
                ]
            ),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        _wait_for_postgres(self.url, self.proc, self.root / "server.log")

    def stop(self, fast: bool = False) -> None:
        """Smart shutdown, or `fast`: every client session is ended at once (pg_ctl's default mode)."""
        if fast:
            self.proc.send_signal(signal.SIGINT)
        stop_process(self.proc, self.log)


@contextlib.contextmanager
def postgres_server(root: Path) -> Iterator[str]:
    """A cluster in `root` on a free loopback port, trust auth for the user `toolloom`; yields its URL."""
    cluster = PostgresCluster(root)
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def stop_process(proc: subprocess.Popen, log=None) -> None:
    """Terminate a server the tests started, kill it if it does not end in 30 s, close its log."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    if log is not None:
        log.close()


def _wait_for_postgres(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 60.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.2)


def create_database(server_url: str, name: str) -> str:
    """A new database on the server; returns its URL."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port (a thread of this process); yields its endpoint URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per S3 request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def create_bucket(endpoint: str, name: str) -> None:
    import boto3

    boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    ).create_bucket(Bucket=name)


def s3_keys(endpoint: str, bucket: str) -> list[str]:
    import boto3

    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys
