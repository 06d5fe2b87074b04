"""A control group per sandbox (a tool worker, an MCP server): its memory, /tmp included (tmpfs pages are
charged to the group that writes them), and its processes are limited together, and one collection's
sandbox cannot use up another's budget.

cgroup v2 is used where toolloom's own group lets it enable the memory and pids controllers below it (a
delegated subtree, or a container's root group); else cgroup v1's memory and pids hierarchies where they
are writable (root on a v1 or hybrid host). Where neither is, the per-process rlimits and the per-sandbox
user ids stand alone, and `unavailable()` says why.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("toolloom")

CGROUP_ROOT = Path(os.environ.get("TOOLLOOM_CGROUP_ROOT", "/sys/fs/cgroup"))
PARENT = "toolloom"
_counter = itertools.count()


@dataclass(frozen=True)
class Hierarchy:
    version: int
    parents: tuple[Path, ...]  # where sandbox groups are made: one (v2), or the memory and pids ones (v1)


def _own_v2_path(root: Path) -> Path | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    own = next((line[3:] for line in lines if line.startswith("0::")), None)
    if own is None:
        return None
    mount = root if (root / "cgroup.controllers").exists() else root / "unified"
    return mount / own.lstrip("/") if (mount / "cgroup.controllers").exists() else None


def _v2(root: Path) -> Hierarchy | str:
    base = _own_v2_path(root)
    if base is None:
        return "no cgroup v2 hierarchy"
    if not {"memory", "pids"} <= set((base / "cgroup.controllers").read_text().split()):
        return f"cgroup v2 at {base} does not offer the memory and pids controllers"
    try:
        parent = base / PARENT
        parent.mkdir(exist_ok=True)
        for group in (base, parent):  # the base refuses with EBUSY where it holds processes (not a delegated root)
            (group / "cgroup.subtree_control").write_text("+memory +pids")
    except OSError as e:
        return f"cgroup v2 at {base} is not delegated to toolloom ({e.strerror})"
    return Hierarchy(2, (parent,))


def _v1(root: Path) -> Hierarchy | str:
    parents = (root / "memory" / PARENT, root / "pids" / PARENT)
    if not all(p.parent.is_dir() for p in parents):
        return "no cgroup v1 memory and pids hierarchies"
    try:
        for p in parents:
            p.mkdir(exist_ok=True)
    except OSError as e:
        return f"cgroup v1 hierarchies are not writable ({e.strerror})"
    return Hierarchy(1, parents)


@functools.lru_cache(maxsize=1)
def hierarchy() -> Hierarchy | str:
    """Where sandbox groups are made on this host, or why none can be (checked once)."""
    found = _v2(CGROUP_ROOT)
    if isinstance(found, str):
        why_not_v2 = found
        found = _v1(CGROUP_ROOT)
        if isinstance(found, str):
            return f"{why_not_v2}; {found}"
    _remove_stale(found)
    return found


def unavailable() -> str | None:
    """Why sandboxes get no control group of their own here (None when they do)."""
    found = hierarchy()
    return found if isinstance(found, str) else None


def _remove_stale(h: Hierarchy) -> None:
    """Groups left by a toolloom process that died without removing them (named after its pid)."""
    for parent in h.parents:
        for group in parent.iterdir():
            pid = group.name.split("-", 1)[0]
            if group.is_dir() and pid.isdigit() and not Path(f"/proc/{pid}").exists():
                _remove(group)


def _members(group: Path) -> list[int]:
    try:
        return [int(p) for p in (group / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def _remove(group: Path) -> None:
    for _ in range(50):  # a killed process leaves its group a moment after SIGKILL
        for pid in _members(group):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)
    log.warning("sandbox: could not remove control group %s", group)


class SandboxGroup:
    """One sandbox's control group: `enter()` in the sandbox's first process (a preexec_fn), `close()` when
    it is done (kills what is left in it)."""

    def __init__(self, h: Hierarchy, name: str, memory_bytes: int, processes: int):
        self.paths = [parent / name for parent in h.parents]
        for path in self.paths:
            path.mkdir()
        memory, pids = self.paths[0], self.paths[-1]
        (memory / ("memory.max" if h.version == 2 else "memory.limit_in_bytes")).write_text(str(memory_bytes))
        (pids / "pids.max").write_text(str(processes))
        swap = ("memory.swap.max", 0) if h.version == 2 else ("memory.memsw.limit_in_bytes", memory_bytes)
        if (memory / swap[0]).exists():  # no escape to swap, where the host has swap accounting
            (memory / swap[0]).write_text(str(swap[1]))

    def enter(self) -> None:
        """Move the calling process into the group (its children follow)."""
        for path in self.paths:
            (path / "cgroup.procs").write_text("0")

    def close(self) -> None:
        for path in self.paths:
            _remove(path)


def sandbox_group(kind: str, memory_bytes: int, processes: int) -> SandboxGroup | None:
    """A new group for one sandbox, or None where this host has none to give (see `unavailable`)."""
    h = hierarchy()
    if isinstance(h, str):
        return None
    try:
        return SandboxGroup(h, f"{os.getpid()}-{kind}-{next(_counter)}", memory_bytes, processes)
    except OSError as e:
        log.warning("sandbox: no control group for a %s (%s); its rlimits still apply", kind, e)
        return None
