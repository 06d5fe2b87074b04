"""The version log of a lake: which dataset versions are running, complete, failed or replaced, what a run
begins from and how a partition's staged version takes its day's name."""

from __future__ import annotations

from datetime import datetime, timezone

from .access import LakeAccess, fetched
from .storage import retried

STAGING = ".run-"  # a partition run's version: <day>.run-<root run id>, promoted to <day> once complete
VERSION_LOG = "version_log"
_LOG_COLUMNS = (
    "version VARCHAR, status VARCHAR, run_id VARCHAR, partition_key VARCHAR, base VARCHAR, staged_as VARCHAR, "
    "started_at TIMESTAMP WITH TIME ZONE, completed_at TIMESTAMP WITH TIME ZONE, export VARCHAR"
)


def day_of(version: str) -> str:
    """The name a version has once complete: a partition run's staging version `<day>.run-<id>` -> `<day>`."""
    return version.split(STAGING)[0]


class VersionLog(LakeAccess):
    """The Store's versions: begun, completed (or promoted), failed, and listed from the log."""

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
        t = fetched(con.execute(f"SELECT * FROM {pipeline}.{VERSION_LOG} ORDER BY started_at"))
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
            return fetched(
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
