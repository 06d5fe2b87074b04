"""Versioned tables: one DuckLake lake per pipeline (Parquet files + a DuckDB-file catalog).

A dataset version is a value of the `version` column. A stage's writes (its table, its rejections,
its model-call records) are one DuckLake commit, so one snapshot: they land together or not at all.
Rewriting a version replaces its rows in a new snapshot; the old rows stay reachable by time travel.

The `version_log` table says which versions are complete. A run begins its version (`begin_version`,
copying from a complete base version the tables of stages it does not run) and marks it complete
only after its export is written (`complete_version`); a partition's run writes aside, under a
staging name, and completing it replaces the partition's rows in one commit. Readers that want data
(`versions`, `kept_before`, `latest_version`) see complete versions only unless asked.

Where the catalog and files live is storage.py's: a DuckDB-file catalog admits one writing process at a
time, so connections are short-lived and taken under an exclusive file lock per lake, and concurrent
processes (a UI run, a schedule, a `toolloom query`) queue instead of failing; a PostgreSQL catalog admits
many writers, takes no lock, and a stage keeps its lake attached while it runs (`session`).

Store is built in layers: lake_access.py attaches lakes, version_log.py keeps the log; here are the writes
and reads.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

import duckdb
import pyarrow as pa

from .access import fetched
from .storage import retried
from .version_log import VersionLog

LINEAGE_COLUMNS = ("pipeline", "version", "run_id", "written_at")


@dataclass(frozen=True)
class Write:
    """Rows replacing one version's rows of `table`; `scope` narrows what is replaced in a shared table
    (e.g. {"stage": "filter"} in `rejections`)."""

    table: str
    rows: pa.Table
    scope: dict[str, str | int] | None = None


class Store(VersionLog):
    # -- writes -----------------------------------------------------------------------------
    def write(
        self,
        pipeline: str,
        table: str,
        rows: pa.Table,
        *,
        version: str,
        run_id: str,
        scope: dict[str, str | int] | None = None,
    ) -> int:
        """Replace `version`'s rows of `table` with `rows` in one commit; returns the snapshot id."""
        return self.commit(pipeline, [Write(table, rows, scope)], version=version, run_id=run_id)

    @retried
    def commit(self, pipeline: str, writes: Iterable[Write], *, version: str, run_id: str) -> int:
        """Every write in one transaction (one snapshot): all land, or none does. Returns the snapshot id."""
        writes = list(writes)
        now = datetime.now(timezone.utc)
        with self.connect(pipeline) as con:
            con.execute("BEGIN")
            info = json.dumps(
                {
                    "tables": [w.table for w in writes],
                    "version": version,
                    "run_id": run_id,
                    "rows": sum(w.rows.num_rows for w in writes),
                }
            )
            con.execute(
                f"CALL {pipeline}.set_commit_message('toolloom', ?, extra_info => ?)",
                [f"{'+'.join(w.table for w in writes)}@{version}", info],
            )
            for i, w in enumerate(writes):
                n = w.rows.num_rows
                rows = w.rows
                for name, values, typ in (
                    ("pipeline", pipeline, pa.string()),
                    ("version", version, pa.string()),
                    ("run_id", run_id, pa.string()),
                    ("written_at", now, pa.timestamp("us", tz="UTC")),
                ):
                    rows = rows.append_column(name, pa.array([values] * n, typ))
                incoming = f"incoming_{i}"
                con.register(incoming, rows)
                fq = f"{pipeline}.{w.table}"
                if not self._exists(con, pipeline, w.table):
                    con.execute(f"CREATE TABLE {fq} AS SELECT * FROM {incoming} LIMIT 0")
                else:
                    self._add_missing_columns(con, pipeline, w.table, incoming)
                    where = " AND ".join(["version = ?"] + [f'"{k}" = ?' for k in (w.scope or {})])
                    con.execute(f"DELETE FROM {fq} WHERE {where}", [version, *(w.scope or {}).values()])
                con.execute(f"INSERT INTO {fq} BY NAME SELECT * FROM {incoming}")
            con.execute("COMMIT")
            return con.execute(f"SELECT max(snapshot_id) FROM {pipeline}.snapshots()").fetchone()[0]

    @staticmethod
    def _add_missing_columns(con, pipeline: str, table: str, incoming: str) -> None:
        have = {r[0] for r in con.execute(f"DESCRIBE {pipeline}.{table}").fetchall()}
        for name, typ, *_ in con.execute(f"DESCRIBE {incoming}").fetchall():
            if name not in have:
                con.execute(f'ALTER TABLE {pipeline}.{table} ADD COLUMN "{name}" {typ}')

    # -- reads ------------------------------------------------------------------------------
    @retried
    def read(self, pipeline: str, table: str, version: str, *, snapshot: int | None = None) -> pa.Table:
        """Rows of one version, lineage columns dropped. `snapshot` reads the table as it was then."""
        with self.connect(pipeline, read_only=True) as con:
            if not self._exists(con, pipeline, table):
                raise KeyError(f"pipeline {pipeline!r} has no table {table!r} yet; materialize its stage first")
            at = f" AT (VERSION => {int(snapshot)})" if snapshot is not None else ""
            t = fetched(
                con.execute(f"SELECT * FROM {pipeline}.{table}{at} WHERE version = ? ORDER BY rowid", [version])
            )
        return t.drop_columns([c for c in LINEAGE_COLUMNS if c in t.column_names])

    def query(self, sql: str, *, pipelines: list[str] | None = None, retries: int = 3) -> pa.Table:
        """Run SQL with every pipeline's lake attached read-only under its own name (e.g. demo.tools)."""
        names = pipelines if pipelines is not None else self.pipelines()
        for attempt in range(retries):
            try:
                with self.connect(*names, read_only=True) as con:
                    if len(names) == 1:
                        con.execute(f"USE {names[0]}")
                    return fetched(con.execute(sql))
            except duckdb.IOException:
                if attempt == retries - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")
