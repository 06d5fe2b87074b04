"""Versioned tables: one DuckLake lake per pipeline (Parquet files + a DuckDB-file catalog).

Every write is one DuckLake commit, so one snapshot; a dataset version (a Dagster partition, or a
run of an unpartitioned pipeline) is a value of the `version` column, and rewriting a version
replaces its rows in a new snapshot while the old rows stay reachable by time travel.

A DuckDB-file catalog admits one writing process at a time. Connections are therefore short-lived
and taken under an exclusive file lock per lake, so concurrent processes (a UI run, a schedule, a
`toolloom query`) queue instead of failing; pipelines run their steps in one process (DESIGN 5).
"""
from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import site
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

LINEAGE_COLUMNS = ("pipeline", "version", "run_id", "written_at")


def _ducklake_load_sql() -> str:
    """LOAD the extension from the duckdb-ext-ducklake wheel when present (offline), else INSTALL it."""
    roots = site.getsitepackages() + [site.getusersitepackages()]
    for root in roots:
        pattern = os.path.join(root, "duckdb_ext", "extensions", f"v{duckdb.__version__}", "*", "ducklake.duckdb_extension")
        found = glob.glob(pattern)
        if found:
            return f"LOAD '{found[0]}'"
    return "INSTALL ducklake; LOAD ducklake"


class Store:
    def __init__(self, home: str | Path):
        self.home = Path(home).resolve()
        self._load_sql = _ducklake_load_sql()

    # -- layout -----------------------------------------------------------------------------
    def lake_dir(self, pipeline: str) -> Path:
        return self.home / "lake" / pipeline

    def pipelines(self) -> list[str]:
        root = self.home / "lake"
        return sorted(p.name for p in root.iterdir() if (p / "catalog.ducklake").exists()) if root.exists() else []

    @contextlib.contextmanager
    def _locked(self, pipeline: str) -> Iterator[None]:
        d = self.lake_dir(pipeline)
        d.mkdir(parents=True, exist_ok=True)
        with open(d / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def connect(self, *pipelines: str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection with each named pipeline's lake attached under the pipeline's name."""
        with contextlib.ExitStack() as stack:
            for p in sorted(set(pipelines)):
                stack.enter_context(self._locked(p))
            con = duckdb.connect()
            stack.callback(con.close)
            con.execute(self._load_sql)
            for p in pipelines:
                d = self.lake_dir(p)
                mode = ", READ_ONLY" if read_only else ""
                con.execute(f"ATTACH 'ducklake:{d / 'catalog.ducklake'}' AS {p} (DATA_PATH '{d / 'data'}/'{mode})")
            yield con

    # -- writes -----------------------------------------------------------------------------
    def write(self, pipeline: str, table: str, rows: pa.Table, *, version: str, run_id: str,
              scope: dict[str, str] | None = None) -> int:
        """Replace `version`'s rows of `table` with `rows` in one commit; returns the snapshot id.

        `scope` narrows what is replaced in a table several stages share (e.g. {"stage": "filter"}).
        """
        now = datetime.now(timezone.utc)
        n = rows.num_rows
        rows = rows.append_column("pipeline", pa.array([pipeline] * n, pa.string()))
        rows = rows.append_column("version", pa.array([version] * n, pa.string()))
        rows = rows.append_column("run_id", pa.array([run_id] * n, pa.string()))
        rows = rows.append_column("written_at", pa.array([now] * n, pa.timestamp("us", tz="UTC")))
        with self.connect(pipeline) as con:
            con.register("incoming", rows)
            fq = f"{pipeline}.{table}"
            con.execute("BEGIN")
            info = json.dumps({"table": table, "version": version, "run_id": run_id, "rows": n})
            con.execute(f"CALL {pipeline}.set_commit_message('toolloom', ?, extra_info => ?)", [f"{table}@{version}", info])
            if not self._exists(con, pipeline, table):
                con.execute(f"CREATE TABLE {fq} AS SELECT * FROM incoming LIMIT 0")
            else:
                self._add_missing_columns(con, pipeline, table)
                where = " AND ".join(["version = ?"] + [f'"{k}" = ?' for k in (scope or {})])
                con.execute(f"DELETE FROM {fq} WHERE {where}", [version, *(scope or {}).values()])
            con.execute(f"INSERT INTO {fq} BY NAME SELECT * FROM incoming")
            con.execute("COMMIT")
            return con.execute(f"SELECT max(snapshot_id) FROM {pipeline}.snapshots()").fetchone()[0]

    @staticmethod
    def _exists(con, pipeline: str, table: str) -> bool:
        q = "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?"
        return con.execute(q, [pipeline, table]).fetchone()[0] > 0

    @staticmethod
    def _add_missing_columns(con, pipeline: str, table: str) -> None:
        have = {r[0] for r in con.execute(f"DESCRIBE {pipeline}.{table}").fetchall()}
        for name, typ, *_ in con.execute("DESCRIBE incoming").fetchall():
            if name not in have:
                con.execute(f'ALTER TABLE {pipeline}.{table} ADD COLUMN "{name}" {typ}')

    # -- reads ------------------------------------------------------------------------------
    def read(self, pipeline: str, table: str, version: str, *, snapshot: int | None = None) -> pa.Table:
        """Rows of one version, lineage columns dropped. `snapshot` reads the table as it was then."""
        with self.connect(pipeline, read_only=True) as con:
            if not self._exists(con, pipeline, table):
                raise KeyError(f"pipeline {pipeline!r} has no table {table!r} yet; materialize its stage first")
            at = f" AT (VERSION => {int(snapshot)})" if snapshot is not None else ""
            t = con.execute(f"SELECT * FROM {pipeline}.{table}{at} WHERE version = ? ORDER BY rowid", [version]).arrow()
        if hasattr(t, "read_all"):
            t = t.read_all()
        return t.drop_columns([c for c in LINEAGE_COLUMNS if c in t.column_names])

    def version_of_run(self, pipeline: str, table: str, run_id: str) -> str | None:
        """The version a run wrote `table` under (None when it did not write it, or wrote no rows)."""
        if not (self.lake_dir(pipeline) / "catalog.ducklake").exists():
            return None
        with self.connect(pipeline, read_only=True) as con:
            if not self._exists(con, pipeline, table):
                return None
            row = con.execute(f"SELECT version FROM {pipeline}.{table} WHERE run_id = ? LIMIT 1", [run_id]).fetchone()
        return row[0] if row else None

    def kept_before(self, pipeline: str, version: str) -> list[dict]:
        """The trajectories that earlier partitions (versions sorting before `version`) kept as samples."""
        with self.connect(pipeline, read_only=True) as con:
            if not (self._exists(con, pipeline, "samples") and self._exists(con, pipeline, "trajectories")):
                return []
            t = con.execute(f"SELECT t.version, t.traj_id, t.messages FROM {pipeline}.trajectories t SEMI JOIN {pipeline}.samples s "
                            "ON s.traj_id = t.traj_id AND s.version = t.version WHERE t.version < ? ORDER BY t.version, t.rowid",
                            [version]).arrow()
        return (t.read_all() if hasattr(t, "read_all") else t).to_pylist()

    def latest_version(self, pipeline: str, table: str) -> str | None:
        if not (self.lake_dir(pipeline) / "catalog.ducklake").exists():
            return None
        with self.connect(pipeline, read_only=True) as con:
            if not self._exists(con, pipeline, table):
                return None
            row = con.execute(f"SELECT version FROM {pipeline}.{table} ORDER BY written_at DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def versions(self, pipeline: str) -> list[dict]:
        """One entry per dataset version: when it was written, by which runs, rows per table."""
        if not (self.lake_dir(pipeline) / "catalog.ducklake").exists():
            return []
        out: dict[str, dict] = {}
        with self.connect(pipeline, read_only=True) as con:
            tables = [r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY table_name", [pipeline]).fetchall()]
            for t in tables:
                q = f"SELECT version, count(*), max(written_at), string_agg(DISTINCT run_id, ',') FROM {pipeline}.{t} GROUP BY version"
                for version, n, at, runs in con.execute(q).fetchall():
                    v = out.setdefault(version, {"version": version, "written_at": at, "runs": set(), "tables": {}})
                    v["tables"][t] = n
                    v["runs"].update((runs or "").split(","))
                    v["written_at"] = max(v["written_at"], at)
            snaps = con.execute(f"SELECT count(*) FROM {pipeline}.snapshots()").fetchone()[0]
        result = sorted(out.values(), key=lambda v: v["written_at"])
        for v in result:
            v["runs"] = sorted(r for r in v["runs"] if r)
            v["snapshots_in_lake"] = snaps
        return result

    def query(self, sql: str, *, pipelines: list[str] | None = None, retries: int = 3) -> pa.Table:
        """Run SQL with every pipeline's lake attached read-only under its own name (e.g. demo.tools)."""
        names = pipelines if pipelines is not None else self.pipelines()
        for attempt in range(retries):
            try:
                with self.connect(*names, read_only=True) as con:
                    if len(names) == 1:
                        con.execute(f"USE {names[0]}")
                    t = con.execute(sql).arrow()
                    return t.read_all() if hasattr(t, "read_all") else t
            except duckdb.IOException:
                if attempt == retries - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")
