"""Start a command confined: resource limits, its own session (so its whole group can be killed),
its own mount namespace with a private folder at a fixed path, and, unless allowed, its own empty
network namespace. Used to launch MCP servers:
`python -m toolloom.executors.confine [--memory-mb N] [--bind SRC:DST] [--no-network] -- COMMAND ARGS...`.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import resource
import sys

CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18


def _no_network() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        sys.exit(f"toolloom confine: cannot take the network away (unshare: {os.strerror(err)}); "
                 "set `network: true` on the executor to run it with the host's network")


def _bind(source: str, target: str) -> None:
    """In a mount namespace of its own, `source` appears at `target` (other processes see nothing)."""
    libc = ctypes.CDLL(None, use_errno=True)
    os.makedirs(target, exist_ok=True)
    steps = ((libc.unshare, (CLONE_NEWNS,), "unshare"), (libc.mount, (b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make private"),
             (libc.mount, (source.encode(), target.encode(), None, MS_BIND, None), "bind"))
    for fn, args, what in steps:
        if fn(*args) != 0:
            sys.exit(f"toolloom confine: cannot give the server its private folder at {target} ({what}: "
                     f"{os.strerror(ctypes.get_errno())}); the host must allow mount namespaces (root or user namespaces)")
    os.chdir(target)


def main() -> None:
    ap = argparse.ArgumentParser(prog="toolloom-confine")
    ap.add_argument("--memory-mb", type=int, default=1024)
    ap.add_argument("--file-mb", type=int, default=64)
    ap.add_argument("--no-network", action="store_true")
    ap.add_argument("--bind", help="SOURCE:TARGET: the folder SOURCE is seen at TARGET, and is the working folder")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not command:
        sys.exit("toolloom confine: no command")
    try:
        os.setsid()
    except PermissionError:  # already a session leader (started with a new session)
        pass
    if a.bind:
        source, _, target = a.bind.partition(":")
        _bind(source, target)
    if a.no_network:
        _no_network()
    mem = a.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_DATA, (mem, mem))  # not RLIMIT_AS: V8 and Go reserve address space they never touch
    resource.setrlimit(resource.RLIMIT_FSIZE, (a.file_mb * 2**20, a.file_mb * 2**20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.environ.pop("PYTHONPATH", None)  # it was there to find this module, not for the server
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
