"""Progress of long stages: logged to Dagster, and shown by any listener (the CLI draws a bar)."""
from __future__ import annotations

from typing import Callable

Listener = Callable[[str, int, int], None]
_listeners: list[Listener] = []


def add_listener(fn: Listener) -> None:
    _listeners.append(fn)


def remove_listener(fn: Listener) -> None:
    if fn in _listeners:
        _listeners.remove(fn)


def reporter(stage: str, log: Callable[[str], None]) -> Callable[[int, int], None]:
    """A (done, total) callback that logs every tenth and feeds the listeners."""
    last = [-1]

    def report(done: int, total: int) -> None:
        tenth = (10 * done) // max(total, 1)
        if tenth != last[0]:
            last[0] = tenth
            log(f"{stage}: {done}/{total}")
        for fn in list(_listeners):
            fn(stage, done, total)

    return report
