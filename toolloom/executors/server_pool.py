"""Servers an executor starts for episodes: a fresh one per episode (kept started ahead), or one per run.

Shared by the MCP executor and the HTTP executor's `service:` so that both isolate episodes the same
way: an episode's server is taken on its first call and stopped in the background when it closes.
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, Literal, TypeVar

S = TypeVar("S")


class EpisodeServers(Generic[S]):
    def __init__(
        self,
        start: Callable[[], S],
        stop: Callable[[S], None],
        *,
        lifetime: Literal["episode", "run"],
        prestart: int,
        key: tuple,
    ):
        self._start_fn, self._stop_fn = start, stop
        self.lifetime, self.prestart, self.key = lifetime, prestart, key
        self._lock = threading.RLock()
        self._shared: S | None = None
        self._live: list[S] = []
        self._spares: list[S] = []  # started, never used: an episode takes one instead of waiting
        self._starting = 0
        self._threads: list[threading.Thread] = []  # spare starters and background stoppers, joined by close()
        self._closed = False

    def start(self) -> S:
        """A new server, outside any episode (listing tools); stop it with `stop()`."""
        server = self._start_fn()
        with self._lock:
            self._live.append(server)
        return server

    def stop(self, server: S) -> None:
        with self._lock:
            if server in self._live:
                self._live.remove(server)
        self._stop_fn(server)

    def shared(self, usable: Callable[[S], bool] = lambda s: True) -> S:
        with self._lock:
            if self._shared is None or not usable(self._shared):
                self._shared = self.start()
            return self._shared

    def for_episode(self, episode) -> S:
        """The episode's server: the run's one, or its own (a spare when one is ready, else a new one)."""
        if self.lifetime == "run":
            return self.shared()
        server = episode.resources.get(self.key)
        if server is None:
            server = self._take()
            episode.resources[self.key] = server
            # stopped in the background: closing an episode never waits for a server to exit
            episode.on_close(lambda: self._background(self.stop, server))
        return server

    def _take(self) -> S:
        with self._lock:
            server = self._spares.pop(0) if self._spares else None
            missing = max(self.prestart - len(self._spares) - self._starting, 0)
            self._starting += missing
        for _ in range(missing):
            self._background(self._start_spare)
        return server if server is not None else self.start()

    def _background(self, fn, *args) -> None:
        thread = threading.Thread(target=fn, args=args, name=f"toolloom-{self.key[0]}", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _start_spare(self) -> None:
        try:
            server = self.start()
        except Exception:  # the episode that needs it will start one itself and see the error
            server = None
        with self._lock:
            self._starting -= 1
            keep = server is not None and not self._closed
            if keep:
                self._spares.append(server)
        if server is not None and not keep:
            self.stop(server)

    def close(self) -> None:
        """Stop every server started here; when it returns, none is running."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for thread in threads:  # a spare still starting stops itself once started (closed)
            thread.join(120)
        with self._lock:
            live, self._spares = list(self._live), []
        for server in live:
            self.stop(server)
        self._shared = None
