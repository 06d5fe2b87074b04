"""One concurrency limit per endpoint across every process of a run (and every host, with a PostgreSQL catalog).

Each request in flight to an endpoint holds one of its `max_concurrency` slots. A slot is a lock that the
operating system holds for the process (a file lock under the toolloom home, for step processes on one host)
or that PostgreSQL holds for the process's session (an advisory lock in the catalog's database, for any number
of hosts). Either is released when its holder dies, so a killed step process never keeps a slot. A process
polls for a free slot only from one waiting request at a time, and at once when one of its own requests ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import threading
import zlib
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)
POLL_S = 0.004  # how often a waiting process looks for a slot another process freed


class SlotLocks(Protocol):
    def take_one(self, candidates: list[int]) -> int | None:
        """Lock one of `candidates` (slots this process does not hold) if one is free; its number, or None."""

    def give(self, slot: int) -> None:
        """Unlock a slot this process holds."""

    def close(self) -> None:
        """Release every slot and what holds them."""


class FileSlotLocks:
    """Slots as files `<folder>/<slot>.lock`, each locked with flock by the process that holds it."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._fds: dict[int, int] = {}

    def take_one(self, candidates: list[int]) -> int | None:
        for slot in candidates:
            fd = self._fds.get(slot)
            if fd is None:
                fd = self._fds[slot] = os.open(self.folder / f"{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return slot
            except BlockingIOError:
                continue
        return None

    def give(self, slot: int) -> None:
        fcntl.flock(self._fds[slot], fcntl.LOCK_UN)

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)  # closing the descriptor drops its lock
        self._fds = {}


class PostgresSlotLocks:
    """Slots as session advisory locks (endpoint key, slot) on one connection to the catalog's database."""

    def __init__(self, url: str, endpoint: str):
        from .shared import connect_catalog  # the `scale` extra's psycopg

        self.url, self._connect = url, connect_catalog
        self.con = connect_catalog(url)
        self.key = zlib.crc32(endpoint.encode()) - 2**31  # advisory locks take two signed 32-bit keys
        self._lock = threading.Lock()

    def take_one(self, candidates: list[int]) -> int | None:
        """None also while the catalog cannot be reached (a restart): the request waits and polls again."""
        from psycopg import Error

        from ..lake.storage import StorageError

        # rows are filtered one at a time and LIMIT stops at the first lock taken: one statement tries them all
        with self._lock:
            try:
                if self.con.closed or self.con.broken:  # the catalog restarted: its locks went with the old session
                    self.con = self._connect(self.url)
                row = self.con.execute(
                    "SELECT s FROM unnest(%s::int[]) AS s WHERE pg_try_advisory_lock(%s, s) LIMIT 1",
                    (candidates, self.key),
                ).fetchone()
            except (Error, StorageError) as e:
                log.warning("endpoint slots: the catalog cannot be reached (%s); waiting", str(e).splitlines()[0])
                return None
        return row[0] if row else None

    def give(self, slot: int) -> None:
        from psycopg import Error

        with self._lock:
            try:
                released = self.con.execute("SELECT pg_advisory_unlock(%s, %s)", (self.key, slot)).fetchone()[0]
            except Error:  # the connection is gone, and the session's locks with it
                released = False
        if not released:
            log.warning("endpoint slot %d was no longer held (the catalog's connection was lost)", slot)

    def close(self) -> None:
        with self._lock:
            self.con.close()  # the session ends: PostgreSQL releases its advisory locks


def file_slots_folder(home: Path, endpoint: str) -> Path:
    """Where an endpoint's slot files live: one folder per endpoint under the home."""
    return Path(home) / "endpoint_slots" / hashlib.sha256(endpoint.encode()).hexdigest()[:16]


class SharedSlots:
    """One endpoint's `size` slots as this process sees them: `async with slots.holding():` around a request.

    Made once per process and endpoint; the asyncio parts are made per event loop (each stage run has its own)."""

    def __init__(self, locks: SlotLocks, size: int):
        self.locks, self.size = locks, size
        self.held: set[int] = set()
        self._per_loop: dict[int, tuple[asyncio.Lock, asyncio.Event]] = {}
        self.waited = 0  # requests that found every slot taken

    def _primitives(self) -> tuple[asyncio.Lock, asyncio.Event]:
        key = id(asyncio.get_running_loop())
        if key not in self._per_loop:
            # one poller per process, the other waiters behind it in arrival order
            self._per_loop = {key: (asyncio.Lock(), asyncio.Event())}
        return self._per_loop[key]

    async def take(self) -> int:
        turn, freed = self._primitives()
        async with turn:
            first = True
            while True:
                freed.clear()
                free = [s for s in range(self.size) if s not in self.held]
                slot = self.locks.take_one(free) if free else None
                if slot is not None:
                    self.held.add(slot)
                    return slot
                if first:
                    self.waited, first = self.waited + 1, False
                try:  # a slot this process frees wakes the poller at once; another process's, at the next poll
                    await asyncio.wait_for(freed.wait(), POLL_S)
                except asyncio.TimeoutError:
                    pass

    def release(self, slot: int) -> None:
        self.held.discard(slot)
        self.locks.give(slot)
        _, freed = self._primitives()
        freed.set()

    @contextlib.asynccontextmanager
    async def holding(self):
        slot = await self.take()
        try:
            yield slot
        finally:
            self.release(slot)

    def close(self) -> None:
        self.held.clear()
        self.locks.close()
