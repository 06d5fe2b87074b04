"""Progress of long stages: logged to Dagster, and shown by any listener (the CLI draws a bar).

Step processes (the multiprocess executor) have no listener of the CLI's: `toolloom run` asks them
(`ToolloomResource.progress_lines`) to print their own progress lines to the stderr they share with the
CLI, named after their asset (two shards' lines interleave, so a redrawn bar would be unreadable)."""

from __future__ import annotations

import contextlib
import contextvars
import sys
from typing import Callable, Iterator

Listener = Callable[[str, int, int], None]
_listeners: list[Listener] = []
_step: contextvars.ContextVar[tuple[str, bool]] = contextvars.ContextVar("toolloom_step", default=("", False))


class Bar:
    """A progress bar on stderr: redrawn in place on a terminal, else a line every tenth of the way."""

    def __init__(self, lines: bool | None = None, named: bool = False):
        self.named, self.lines = named, lines

    @property
    def stream(self):
        return sys.stderr  # looked up when drawing: the stderr of now, not of when the bar was made

    def __call__(self, stage: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        name = _step.get()[0]
        label = f"{name} {stage}" if self.named and name else stage
        line = f"  {label:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        redraw = self.stream.isatty() if self.lines is None else not self.lines
        if redraw:
            self.stream.write("\r" + line + ("\n" if done == total else ""))
            self.stream.flush()
        elif done == total or (10 * done // max(total, 1)) != (10 * (done - 1) // max(total, 1)):
            print(line, file=self.stream, flush=True)


_step_bar = Bar(lines=True, named=True)


def add_listener(fn: Listener) -> None:
    _listeners.append(fn)


def remove_listener(fn: Listener) -> None:
    if fn in _listeners:
        _listeners.remove(fn)


@contextlib.contextmanager
def step(name: str, lines: bool = False) -> Iterator[None]:
    """The step (asset) running in this block; with `lines`, its progress is printed where no listener is."""
    token = _step.set((name, lines))
    try:
        yield
    finally:
        _step.reset(token)


def _targets() -> list[Listener]:
    if _listeners:
        return list(_listeners)
    return [_step_bar] if _step.get()[1] else []


def reporter(stage: str, log: Callable[[str], None]) -> Callable[[int, int], None]:
    """A (done, total) callback that logs every tenth and feeds the listeners."""
    last = [-1]

    def report(done: int, total: int) -> None:
        tenth = (10 * done) // max(total, 1)
        if tenth != last[0]:
            last[0] = tenth
            log(f"{stage}: {done}/{total}")
        for fn in _targets():
            fn(stage, done, total)

    return report
