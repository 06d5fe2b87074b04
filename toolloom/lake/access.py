"""Attaching a pipeline's lake: the store's connections, one operation at a time under the catalog's lock, or
held attached for a stage's session where the catalog admits several writers."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

from .catalog import catalog_for
from .storage import ENGINE, StorageError, StorageSpec, storage_settings


def fetched(result) -> pa.Table:
    """The whole result, read while the lake is attached: a lazy reader kept past the operation would
    hold the catalog file open after the lake's lock is released."""
    t = result.arrow()
    return t.read_all() if hasattr(t, "read_all") else t


class LakeAccess:
    """The connections of a Store: its home, its catalog, and each pipeline's lake attached on demand."""

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

    @staticmethod
    def _exists(con, pipeline: str, table: str) -> bool:
        q = "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?"
        return con.execute(q, [pipeline, table]).fetchone()[0] > 0
