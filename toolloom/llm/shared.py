"""The request cache, the token budget and the embedding cache where a run's steps are several processes (or hosts).

With the PostgreSQL catalog both live in the catalog's database (schema `toolloom`): every step process,
on any host, reads the answers the others cached and spends from one budget. With the DuckDB-file catalog
(one host) the cache is the home's SQLite file, which is already safe across processes, and the budget a
SQLite file beside it. The budget is counted per Dagster run: `used` is what all of the run's processes
reported so far, read again before each request.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from ..lake.storage import StorageError, public_url
from .cache import WriteBehindCache, set_up_sqlite
from .call_errors import BudgetExhausted

_SCHEMA = "toolloom"


def connect_catalog(url: str):
    import psycopg  # the `scale` extra, needed only with a PostgreSQL catalog

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as e:
        raise StorageError(f"catalog {public_url(url)} cannot be reached: {str(e).strip().splitlines()[0]}") from e


RECONNECT_S = 60.0  # how long a statement keeps trying while the catalog's server is away (a restart)


class _Pg:
    """One connection to the catalog's database that survives the server dropping it (a restart, an
    administrator's termination): a statement that fails on a broken connection runs again on a new one,
    with backoff, for up to RECONNECT_S. A retried `spend` may count twice; a budget errs on the safe side."""

    def __init__(self, url: str):
        self.url, self.con = url, connect_catalog(url)

    def execute(self, sql: str, params: tuple = (), fetch: bool = False):
        def run(con):
            cur = con.execute(sql, params)
            return cur.fetchone() if fetch else None

        return self._retried(run)

    def execute_fetch_all(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self._retried(lambda con: con.execute(sql, params).fetchall())

    def execute_many(self, sql: str, rows: list[tuple]) -> None:
        """All rows in one transaction (rolled back whole if the connection drops, then sent again)."""

        def send(con):
            with con.transaction(), con.cursor() as cur:
                cur.executemany(sql, rows)

        self._retried(send)

    def _retried(self, run):
        import psycopg
        from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

        dropped = (psycopg.OperationalError, psycopg.InterfaceError, StorageError)
        for attempt in Retrying(
            retry=retry_if_exception_type(dropped),
            wait=wait_exponential(0.2, max=5),
            stop=stop_after_delay(RECONNECT_S),
            reraise=True,
        ):
            with attempt:
                if self.con.closed or self.con.broken:
                    self.con = connect_catalog(self.url)
                return run(self.con)

    def close(self) -> None:
        self.con.close()


def _create_pg(con, *statements: str) -> None:
    """Run CREATE ... IF NOT EXISTS statements under an advisory lock: two processes creating the same schema
    or table at once would otherwise have one fail on PostgreSQL's unique index of names."""
    with con.transaction():
        con.execute("SELECT pg_advisory_xact_lock(hashtext('toolloom.shared'))")
        for sql in statements:
            con.execute(sql)


class PostgresRequestCache(WriteBehindCache):
    """RequestCache over a table in the catalog's database: a connection for the event loop's reads and
    one for the background writer's batches, per process."""

    def __init__(self, url: str):
        super().__init__()
        self._con = _Pg(url)
        _create_pg(
            self._con.con,
            f"CREATE SCHEMA IF NOT EXISTS {_SCHEMA}",
            f"CREATE TABLE IF NOT EXISTS {_SCHEMA}.llm_cache (key TEXT PRIMARY KEY, model TEXT, "
            "response TEXT NOT NULL, created TIMESTAMPTZ DEFAULT now())",
        )
        self._reader = _Pg(url)
        self._read_lock = threading.Lock()

    def _read(self, key: str) -> str | None:
        with self._read_lock:
            row = self._reader.execute(f"SELECT response FROM {_SCHEMA}.llm_cache WHERE key = %s", (key,), fetch=True)
        return row[0] if row else None

    def _write(self, rows: list[tuple[str, str, str]]) -> None:
        self._con.execute_many(
            f"INSERT INTO {_SCHEMA}.llm_cache (key, model, response) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET response = EXCLUDED.response",
            rows,
        )

    def _count(self) -> int:
        with self._read_lock:
            return self._reader.execute(f"SELECT count(*) FROM {_SCHEMA}.llm_cache", fetch=True)[0]

    def _close(self) -> None:
        with self._read_lock:
            self._reader.close()
        self._con.close()


class PostgresVectors:
    """The graph's embedding cache as a table of the catalog's database, keyed by (model, text) hash: every host
    that builds a graph of the same tools reads the vectors another host embedded."""

    def __init__(self, url: str):
        self._con = _Pg(url)
        self._lock = threading.Lock()
        _create_pg(
            self._con.con,
            f"CREATE SCHEMA IF NOT EXISTS {_SCHEMA}",
            f"CREATE TABLE IF NOT EXISTS {_SCHEMA}.embeddings (key TEXT PRIMARY KEY, vec BYTEA NOT NULL)",
        )

    def get(self, keys: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self._lock:
            for i in range(0, len(keys), 1000):
                rows = self._con.execute_fetch_all(
                    f"SELECT key, vec FROM {_SCHEMA}.embeddings WHERE key = ANY(%s)", (keys[i : i + 1000],)
                )
                found.update({k: bytes(v) for k, v in rows})
        return found

    def put(self, rows: list[tuple[str, bytes]]) -> None:
        with self._lock:
            self._con.execute_many(
                f"INSERT INTO {_SCHEMA}.embeddings (key, vec) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING", rows
            )

    def close(self) -> None:
        with self._lock:
            self._con.close()


class SharedBudget:
    """RunBudget's interface, counted in a table every process of the run adds to (one row per run)."""

    def __init__(
        self, max_tokens: int | None, run_id: str, *, postgres: str | None = None, sqlite: str | Path | None = None
    ):
        self.max_tokens, self.run_id = max_tokens, run_id
        self._lock = threading.Lock()
        self._table = f"{_SCHEMA}.token_budget" if postgres else "token_budget"
        table = f"CREATE TABLE IF NOT EXISTS {self._table} (run_id TEXT PRIMARY KEY, used BIGINT NOT NULL)"
        if postgres:
            self._con, self._p = _Pg(postgres), "%s"
            _create_pg(self._con.con, f"CREATE SCHEMA IF NOT EXISTS {_SCHEMA}", table)
        else:
            Path(sqlite).parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(sqlite, check_same_thread=False, timeout=30, isolation_level=None)
            self._p = "?"
            set_up_sqlite(self._con, "PRAGMA journal_mode=WAL", table)

    @property
    def used(self) -> int:
        with self._lock:
            sql, args = f"SELECT used FROM {self._table} WHERE run_id = {self._p}", (self.run_id,)
            row = (
                self._con.execute(sql, args, fetch=True)
                if isinstance(self._con, _Pg)
                else self._con.execute(sql, args).fetchone()
            )
        return row[0] if row else 0

    def check(self) -> None:
        if self.max_tokens is not None:
            used = self.used
            if used >= self.max_tokens:
                raise BudgetExhausted(f"token budget of {self.max_tokens} reached ({used} used by this run's steps)")

    def spend(self, tokens: int) -> None:
        p = self._p
        with self._lock:  # one statement: atomic against the run's other processes
            self._con.execute(
                f"INSERT INTO {self._table} (run_id, used) VALUES ({p}, {p}) "
                f"ON CONFLICT (run_id) DO UPDATE SET used = {self._table}.used + EXCLUDED.used",
                (self.run_id, tokens),
            )

    def close(self) -> None:
        with self._lock:
            self._con.close()
