"""Content-addressed request cache in SQLite (WAL): safe across processes and hard kills.

Answers are written behind the requests: a background thread commits what arrived in one
transaction every FLUSH_S seconds, so the model client's event loop never waits on the disk
(at 1,024 requests in flight one commit per answer was a fifth of the client's CPU). A run killed
hard loses at most the answers of that last window, which its resume asks again; a clean exit,
`flush()` and `close()` write everything. A write that fails is raised by the next `put`.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import sqlite3
import threading
import time
import weakref
from pathlib import Path

HASHED_FIELDS = ("model", "messages", "tools", "tool_choice", "temperature", "max_tokens", "seed", "response_format")
FLUSH_S = 0.05


def request_hash(request: dict) -> str:
    key = {k: request.get(k) for k in HASHED_FIELDS}
    return hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class CacheWriteError(RuntimeError):
    """Answers could not be written to the cache (a full disk, a database that is gone)."""


class WriteBehindCache:
    """get/put/flush/close over a store that subclasses give by `_read`, `_write`, `_count` and `_close`."""

    def __init__(self):
        self._pending: dict[str, tuple[str, str]] = {}  # key -> (model, response JSON), not yet written
        self._writing: dict[str, tuple[str, str]] = {}  # the batch being written now
        self._state = threading.Lock()
        self._write_lock = threading.Lock()  # one batch at a time
        self._writer: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._closed = False
        atexit.register(_flush_at_exit, weakref.ref(self))

    def _read(self, key: str) -> str | None:
        raise NotImplementedError

    def _write(self, rows: list[tuple[str, str, str]]) -> None:
        raise NotImplementedError

    def _count(self) -> int:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def get(self, key: str) -> dict | None:
        with self._state:
            held = self._pending.get(key) or self._writing.get(key)
        text = held[1] if held else self._read(key)
        return json.loads(text) if text is not None else None

    def put(self, key: str, model: str, response: dict) -> None:
        text = json.dumps(response, ensure_ascii=False)
        with self._state:
            if self._failure is not None:
                raise CacheWriteError(f"the request cache could not be written: {self._failure}") from self._failure
            self._pending[key] = (model, text)
            if self._writer is None and not self._closed:
                self._writer = threading.Thread(target=self._write_loop, name="toolloom-cache-writer", daemon=True)
                self._writer.start()

    def flush(self) -> int:
        """Write what is pending now; returns how many answers were written."""
        with self._write_lock:
            with self._state:
                batch, self._pending = self._pending, {}
                self._writing = batch
            if not batch:
                return 0
            try:
                self._write([(key, model, text) for key, (model, text) in batch.items()])
            except BaseException as e:
                with self._state:  # kept in memory (get still answers them); the next put raises
                    self._pending = {**batch, **self._pending}
                    self._failure = e
                raise
            finally:
                with self._state:
                    self._writing = {}
            return len(batch)

    def _write_loop(self) -> None:
        """Ends when a window passes with nothing to write (the next put starts another), or on a failure."""
        while True:
            time.sleep(FLUSH_S)
            try:
                written = self.flush()
            except BaseException:
                with self._state:
                    self._writer = None
                return
            if not written:
                with self._state:
                    if not self._pending:
                        self._writer = None
                        return

    def __len__(self) -> int:
        self.flush()
        return self._count()

    def close(self) -> None:
        with self._state:
            self._closed = True
        try:
            self.flush()
        finally:
            with self._write_lock:
                self._close()


def _flush_at_exit(ref: "weakref.ref[WriteBehindCache]") -> None:
    cache = ref()
    if cache is not None and not cache._closed:
        try:
            cache.flush()
        except Exception:  # noqa: BLE001 - at exit there is no one left to tell but stderr
            import sys

            print("toolloom: answers of the last moments could not be cached", file=sys.stderr)


class RequestCache(WriteBehindCache):
    def __init__(self, path: str | Path):
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # a writer connection for the background thread and a reader for the event loop: WAL lets the
        # reader go on while a batch commits
        self._con = self._connect()
        set_up_sqlite(
            self._con,
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT, response TEXT NOT NULL, created "
            "REAL DEFAULT (unixepoch('subsec')))",
        )
        self._reader = self._connect()
        self._read_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)

    def _read(self, key: str) -> str | None:
        with self._read_lock:
            row = self._reader.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _write(self, rows: list[tuple[str, str, str]]) -> None:
        with self._con:  # one transaction
            self._con.execute("BEGIN")
            self._con.executemany("INSERT OR REPLACE INTO responses (key, model, response) VALUES (?, ?, ?)", rows)

    def _count(self) -> int:
        with self._read_lock:
            return self._reader.execute("SELECT count(*) FROM responses").fetchone()[0]

    def _close(self) -> None:
        with self._read_lock:
            self._reader.close()
        self._con.close()


def set_up_sqlite(con: sqlite3.Connection, *statements: str) -> None:
    """A shared SQLite file's set-up (WAL, its tables), tried again while the run's other processes set it up:
    switching to WAL can be refused as 'database is locked' at once, without the busy timeout, when processes
    start together (a loaded machine)."""
    from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

    for attempt in Retrying(
        retry=retry_if_exception_type(sqlite3.OperationalError),
        wait=wait_exponential(0.05, max=2),
        stop=stop_after_delay(60),
        reraise=True,
    ):
        with attempt:
            for statement in statements:
                con.execute(statement)
