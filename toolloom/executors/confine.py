"""Start a command confined: resource limits, its own session (so its whole group can be killed),
and, unless allowed, its own empty network namespace. Used to launch MCP servers:
`python -m toolloom.executors.confine [--memory-mb N] [--no-network] -- COMMAND ARGS...`.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import resource
import sys

CLONE_NEWNET = 0x40000000


def _no_network() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        sys.exit(f"toolloom confine: cannot take the network away (unshare: {os.strerror(err)}); "
                 "set `network: true` on the executor to run it with the host's network")


def main() -> None:
    ap = argparse.ArgumentParser(prog="toolloom-confine")
    ap.add_argument("--memory-mb", type=int, default=1024)
    ap.add_argument("--file-mb", type=int, default=64)
    ap.add_argument("--no-network", action="store_true")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not command:
        sys.exit("toolloom confine: no command")
    try:
        os.setsid()
    except PermissionError:  # already a session leader (started with a new session)
        pass
    if a.no_network:
        _no_network()
    mem = a.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_FSIZE, (a.file_mb * 2**20, a.file_mb * 2**20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
