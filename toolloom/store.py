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
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

import duckdb
import pyarrow as pa

from .storage import ENGINE, StorageError, StorageSpec, catalog_for, retried, storage_settings

LINEAGE_COLUMNS = ("pipeline", "version", "run_id", "written_at")
STAGING = ".run-"  # a partition run's version: <day>.run-<root run id>, promoted to <day> once complete
VERSION_LOG = "version_log"
_LOG_COLUMNS = (
    "version VARCHAR, status VARCHAR, run_id VARCHAR, partition_key VARCHAR, base VARCHAR, staged_as VARCHAR, "
    "started_at TIMESTAMP WITH TIME ZONE, completed_at TIMESTAMP WITH TIME ZONE, export VARCHAR"
)


def day_of(version: str) -> str:
    """The name a version has once complete: a partition run's staging version `<day>.run-<id>` -> `<day>`."""
    return version.split(STAGING)[0]


@dataclass(frozen=True)
class Write:
    """Rows replacing one version's rows of `table`; `scope` narrows what is replaced in a shared table
    (e.g. {"stage": "filter"} in `rejections`)."""

    table: str
    rows: pa.Table
    scope: dict[str, str | int] | None = None


def _fetched(result) -> pa.Table:
    """The whole result, read while the lake is attached: a lazy reader kept past the operation would
    hold the catalog file open after the lake's lock is released."""
    t = result.arrow()
    return t.read_all() if hasattr(t, "read_all") else t


class Store:
    def __init__(self, home: str | Path, storage: StorageSpec | None = None):
        self.home = Path(home).resolve()
        self.catalog = catalog_for(self.home, storage_settings(storage))

    # -- layout -----------------------------------------------------------------------------
    def lake_dir(self, pipeline: str) -> Path:
        """The lake's local folder (its catalog file and lock with the DuckDB-file catalog)."""
        return self.home / "lake" / pipeline

    def pipelines(self) -> list[str]:
        return self.catalog.pipelines()

    def _database(self) -> duckdb.DuckDBPyConnection:
        try:
            return ENGINE.database(self.catalog.extensions(), self.catalog.setup_sql())
        except duckdb.Error as e:
            raise StorageError(f"storage {self.catalog.describe()}: {e}") from e

    @contextlib.contextmanager
    def connect(self, *pipelines: str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection with each named pipeline's lake attached under the pipeline's name.

        A lake not held by a session is attached for one operation and detached after it (another process
        may write between two), under the catalog's lock; on one in-memory DuckDB per process that loaded
        the extensions once: loading costs ~0.2 s, attaching a file catalog ~0.03 s. One operation at a
        time per process (a thread lock, taken before the file locks so threads cannot deadlock on them)."""
        with ENGINE.lock, contextlib.ExitStack() as stack:
            fresh = [p for p in dict.fromkeys(pipelines) if p not in ENGINE.held]
            for p in sorted(fresh):
                stack.enter_context(self.catalog.lock(p))
            db = self._database()
            for p in dict.fromkeys(pipelines):  # held by a session, but the database was reset since
                if p in ENGINE.held and p not in ENGINE.attached:
                    self._attach(db, p, False)
                    ENGINE.attached.add(p)
            con = db.cursor()
            attached: list[str] = []
            try:
                for p in fresh:
                    self._attach(db, p, read_only)
                    attached.append(p)
                yield con
            except BaseException:
                with contextlib.suppress(duckdb.Error):  # here, where a failed ROLLBACK (the catalog's connection is
                    con.execute("ROLLBACK")  # gone) is an exception: in close() it would abort the process
                raise
            finally:
                con.close()
                for p in attached:
                    db.execute(f"DETACH {p}")

    def _attach(self, db, pipeline: str, read_only: bool) -> None:
        try:
            with self.catalog.creating(pipeline):
                db.execute(self.catalog.attach_sql(pipeline, read_only))
        except duckdb.IOException as e:
            if self.catalog.spec.shared:  # an unreachable server, not a busy file: say which
                raise StorageError(f"lake {pipeline!r} at {self.catalog.describe()}: {e}") from e
            raise

    @contextlib.contextmanager
    def session(self, pipeline: str) -> Iterator[None]:
        """Keep `pipeline`'s lake attached until the block ends (one connection per stage), where the catalog
        admits several writers; with the DuckDB-file catalog each operation still attaches it, so that a stage
        does not hold the lake's lock (and block the UI's queries) for minutes."""
        if not self.catalog.spec.shared:
            yield
            return
        with ENGINE.lock:
            if pipeline not in ENGINE.attached:
                self._attach(self._database(), pipeline, False)
                ENGINE.attached.add(pipeline)
            ENGINE.held[pipeline] = ENGINE.held.get(pipeline, 0) + 1
        try:
            yield
        finally:
            with ENGINE.lock:
                ENGINE.held[pipeline] -= 1
                if not ENGINE.held[pipeline]:
                    del ENGINE.held[pipeline]
                    if pipeline in ENGINE.attached:
                        ENGINE.attached.discard(pipeline)
                        with contextlib.suppress(duckdb.Error):  # a catalog that went away: nothing to detach
                            self._database().execute(f"DETACH {pipeline}")

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
    def _exists(con, pipeline: str, table: str) -> bool:
        q = "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?"
        return con.execute(q, [pipeline, table]).fetchone()[0] > 0

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
            t = _fetched(
                con.execute(f"SELECT * FROM {pipeline}.{table}{at} WHERE version = ? ORDER BY rowid", [version])
            )
        return t.drop_columns([c for c in LINEAGE_COLUMNS if c in t.column_names])

    # -- versions ---------------------------------------------------------------------------
    @retried
    def begin_version(
        self,
        pipeline: str,
        version: str,
        run_id: str,
        *,
        partition: str | None = None,
        base: str | None = None,
        copy: dict[str, list[str] | None] | None = None,
    ) -> bool:
        """Log `version` as running and copy into it, from `base`, the tables a run reads but does not
        write: table -> None (all its rows) or the stages whose rows to copy (a shared table). One commit;
        False (and nothing done) when the version was begun before (a re-execution of the same run)."""
        with self.connect(pipeline) as con:
            con.execute("BEGIN")
            con.execute(f"CREATE TABLE IF NOT EXISTS {pipeline}.{VERSION_LOG} ({_LOG_COLUMNS})")
            if con.execute(f"SELECT count(*) FROM {pipeline}.{VERSION_LOG} WHERE version = ?", [version]).fetchone()[0]:
                con.execute("ROLLBACK")
                return False
            con.execute(
                f"CALL {pipeline}.set_commit_message('toolloom', ?)",
                [f"begin {version}" + (f" from {base}" if base else "")],
            )
            for table, stages in (copy or {}).items() if base else ():
                if not self._exists(con, pipeline, table):
                    continue
                only = f" AND stage IN ({', '.join('?' * len(stages))})" if stages else ""
                con.execute(
                    f"INSERT INTO {pipeline}.{table} BY NAME SELECT * REPLACE (? AS version) FROM {pipeline}.{table} "
                    f"WHERE version = ?{only}",
                    [version, base, *(stages or [])],
                )
            con.execute(
                f"INSERT INTO {pipeline}.{VERSION_LOG} (version, status, run_id, partition_key, base, started_at) "
                "VALUES (?, 'running', ?, ?, ?, ?)",
                [version, run_id, partition, base, datetime.now(timezone.utc)],
            )
            con.execute("COMMIT")
        return True

    @retried
    def complete_version(
        self, pipeline: str, version: str, *, export: str | None = None, promote_to: str | None = None
    ) -> None:
        """Mark `version` complete (its export is written). With `promote_to` (a partition), its rows
        replace that version's rows in every table, in one commit, and it takes that name."""
        with self.connect(pipeline) as con:
            con.execute("BEGIN")
            con.execute(f"CREATE TABLE IF NOT EXISTS {pipeline}.{VERSION_LOG} ({_LOG_COLUMNS})")
            con.execute(
                f"CALL {pipeline}.set_commit_message('toolloom', ?)",
                [f"complete {version}" + (f" as {promote_to}" if promote_to else "")],
            )
            log, now = f"{pipeline}.{VERSION_LOG}", datetime.now(timezone.utc)
            if promote_to and promote_to != version:
                for table in self._data_tables(con, pipeline):
                    con.execute(f"DELETE FROM {pipeline}.{table} WHERE version = ?", [promote_to])
                    con.execute(f"UPDATE {pipeline}.{table} SET version = ? WHERE version = ?", [promote_to, version])
                con.execute(
                    f"UPDATE {log} SET status = 'replaced' WHERE version = ? AND status = 'complete'", [promote_to]
                )
                con.execute(
                    f"UPDATE {log} SET version = ?, staged_as = ? WHERE version = ?", [promote_to, version, version]
                )
                version = promote_to
            con.execute(
                f"UPDATE {log} SET status = 'complete', completed_at = ?, export = ? WHERE version = ? AND status IN "
                "('running', 'failed')",
                [now, export, version],
            )
            con.execute("COMMIT")

    @retried
    def fail_version(self, pipeline: str, run_id: str) -> list[str]:
        """Mark the versions `run_id` began and left unfinished `failed` (its run ended); returns them."""
        if not self.catalog.exists(pipeline):
            return []
        with self.connect(pipeline) as con:
            if not self._exists(con, pipeline, VERSION_LOG):
                return []
            con.execute("BEGIN")
            log = f"{pipeline}.{VERSION_LOG}"
            rows = con.execute(f"SELECT version FROM {log} WHERE run_id = ? AND status = 'running'", [run_id])
            failed = [v for (v,) in rows.fetchall()]
            con.execute(f"UPDATE {log} SET status = 'failed' WHERE run_id = ? AND status = 'running'", [run_id])
            con.execute("COMMIT")
        return failed

    def _data_tables(self, con, pipeline: str) -> list[str]:
        rows = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY table_name", [pipeline]
        ).fetchall()
        return [t for (t,) in rows if t != VERSION_LOG]

    def _log(self, con, pipeline: str) -> dict[str, dict] | None:
        """version -> its newest log row; None for a lake written before the log existed (all complete)."""
        if not self._exists(con, pipeline, VERSION_LOG):
            return None
        t = _fetched(con.execute(f"SELECT * FROM {pipeline}.{VERSION_LOG} ORDER BY started_at"))
        return {r["version"]: r for r in t.to_pylist() if r["status"] != "replaced"}

    def _complete_sql(self, con, pipeline: str, column: str = "version") -> str:
        """A condition on `column` keeping complete versions (versions without a log row predate the log)."""
        if not self._exists(con, pipeline, VERSION_LOG):
            return "TRUE"
        return f"{column} NOT IN (SELECT version FROM {pipeline}.{VERSION_LOG} WHERE status IN ('running', 'failed'))"

    @retried
    def kept_before(self, pipeline: str, version: str) -> list[dict]:
        """The trajectories that complete earlier partitions (versions sorting before `version`) kept as samples."""
        with self.connect(pipeline, read_only=True) as con:
            if not (self._exists(con, pipeline, "samples") and self._exists(con, pipeline, "trajectories")):
                return []
            complete = self._complete_sql(con, pipeline, "t.version")
            return _fetched(
                con.execute(
                    f"SELECT t.version, t.traj_id, t.messages FROM {pipeline}.trajectories t SEMI JOIN "
                    f"{pipeline}.samples s ON s.traj_id = t.traj_id AND s.version = t.version "
                    f"WHERE t.version < ? AND {complete} ORDER BY t.version, t.rowid",
                    [version],
                )
            ).to_pylist()

    def latest_version(self, pipeline: str, table: str | None = None) -> str | None:
        """The newest complete version (holding rows of `table`, when given)."""
        found = [v for v in self.versions(pipeline) if table is None or v["tables"].get(table)]
        return found[-1]["version"] if found else None

    @retried
    def versions(self, pipeline: str, *, include_incomplete: bool = False) -> list[dict]:
        """One entry per dataset version, oldest first: status, when written, by which runs, rows per table.
        Versions still running (or left by a run that failed or was killed) only with `include_incomplete`."""
        if not self.catalog.exists(pipeline):
            return []
        out: dict[str, dict] = {}
        with self.connect(pipeline, read_only=True) as con:
            log = self._log(con, pipeline)
            for t in self._data_tables(con, pipeline):
                q = (
                    "SELECT version, count(*), max(written_at), string_agg(DISTINCT run_id, ',') FROM "
                    f"{pipeline}.{t} GROUP BY version"
                )
                for version, n, at, runs in con.execute(q).fetchall():
                    v = out.setdefault(version, {"version": version, "written_at": at, "runs": set(), "tables": {}})
                    v["tables"][t] = n
                    v["runs"].update((runs or "").split(","))
                    v["written_at"] = max(v["written_at"], at)
            for version, row in (log or {}).items():  # a version begun whose first stage has not committed yet
                out.setdefault(
                    version,
                    {"version": version, "written_at": row["started_at"], "runs": {row["run_id"]}, "tables": {}},
                )
            snaps = con.execute(f"SELECT count(*) FROM {pipeline}.snapshots()").fetchone()[0]
        for v in out.values():
            row = (log or {}).get(v["version"]) or {}
            v.update(
                status=row.get("status", "complete"),
                based_on=row.get("base"),
                export=row.get("export"),
                started_at=row.get("started_at") or v["written_at"],
                runs=sorted(r for r in v["runs"] if r),
                snapshots_in_lake=snaps,
            )
        result = sorted(out.values(), key=lambda v: v["started_at"])  # copied rows keep their base's written_at
        return result if include_incomplete else [v for v in result if v["status"] == "complete"]

    def query(self, sql: str, *, pipelines: list[str] | None = None, retries: int = 3) -> pa.Table:
        """Run SQL with every pipeline's lake attached read-only under its own name (e.g. demo.tools)."""
        names = pipelines if pipelines is not None else self.pipelines()
        for attempt in range(retries):
            try:
                with self.connect(*names, read_only=True) as con:
                    if len(names) == 1:
                        con.execute(f"USE {names[0]}")
                    return _fetched(con.execute(sql))
            except duckdb.IOException:
                if attempt == retries - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")
