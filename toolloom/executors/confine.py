"""Start a command confined, the way the python sandbox confines tool code: bubblewrap with the
seccomp filter, as user nobody, seeing /usr, the interpreter, the paths given with --ro, and its
private folder (--bind SRC:DST, writable, its working folder); no network unless --network.
Used to launch MCP servers (whose client spawns the process, so the filter's pipe is made here):
`python -m toolloom.executors.confine [--memory-mb N] [--network] [--ro PATH]... --bind SRC:DST -- COMMAND ARGS...`.

Without bubblewrap it refuses with the reason, unless TOOLLOOM_UNSAFE_SANDBOX=1: then it only
sets the limits, starts a session and, where the host allows, unshares the mount and network
namespaces itself (the private folder still appears at DST).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import sys
from pathlib import Path

CLONE_NEWNET, CLONE_NEWNS = 0x40000000, 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18


def _unconfined(source: str, target: str, network: bool) -> None:
    """The unsafe mode's best effort: a session, and (when allowed) mount and network namespaces."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        os.setsid()
    except PermissionError:
        pass
    os.makedirs(target, exist_ok=True)
    if libc.unshare(CLONE_NEWNS) == 0 and libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) == 0:
        libc.mount(source.encode(), target.encode(), None, MS_BIND, None)
    if not network:
        libc.unshare(CLONE_NEWNET)
    os.chdir(target)


def _parser(default_uid: int) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="toolloom-confine")
    ap.add_argument("--memory-mb", type=int, default=1024)
    ap.add_argument("--file-mb", type=int, default=64)
    ap.add_argument("--processes", type=int, default=1024)
    ap.add_argument("--network", action="store_true")
    ap.add_argument("--uid", type=int, default=default_uid, help="the user it runs as (its own: its process budget)")
    ap.add_argument("--ro", action="append", default=[], help="a path the command may read")
    ap.add_argument("--cgroup", action="append", default=[], help="a control group folder to run in (its limits)")
    ap.add_argument("--bind", required=True, help="SOURCE:TARGET: the private folder, writable, seen at TARGET")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    return ap


def main() -> None:
    from ..sandbox.confinement import NOBODY, bwrap_command, confinement_problem, seccomp_program, unsafe_requested

    a = _parser(default_uid=NOBODY).parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not command:
        sys.exit("toolloom confine: no command")
    source, _, target = a.bind.partition(":")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # PYTHONPATH was there to find this module
    for group in a.cgroup:  # before anything starts: the server and all it forks are counted there
        Path(group, "cgroup.procs").write_text("0")
    mem = a.memory_mb * 2**20
    resource.setrlimit(
        resource.RLIMIT_DATA, (mem, mem)
    )  # not RLIMIT_AS: V8 and Go reserve address space they never touch
    resource.setrlimit(resource.RLIMIT_FSIZE, (a.file_mb * 2**20, a.file_mb * 2**20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    problem = confinement_problem()
    if problem is None:
        read_fd, write_fd = os.pipe()
        os.write(write_fd, seccomp_program())
        os.close(write_fd)
        os.set_inheritable(read_fd, True)
        resource.setrlimit(resource.RLIMIT_NPROC, (a.processes, a.processes))
        argv = bwrap_command(
            command,
            env,
            read_fd,
            read_only=a.ro,
            writable={source: target},
            chdir=target,
            network=a.network,
            uid=a.uid,
        )
        os.execv(argv[0], argv)
    if not unsafe_requested():
        sys.exit(
            f"toolloom confine: cannot confine the MCP server: {problem}. Install bubblewrap, or run it unconfined "
            "at your own risk with TOOLLOOM_UNSAFE_SANDBOX=1 (toolloom run --unsafe-sandbox)"
        )
    print(f"toolloom confine: UNSAFE: starting {command[0]} unconfined ({problem})", file=sys.stderr)
    _unconfined(source, target, a.network)
    os.environ.clear()
    os.environ.update(env)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
