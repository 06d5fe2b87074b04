"""Stops a managed server's process group when the process that started it is gone.

`python -m toolloom.llm.watchdog OWNER_PID SERVER_PID`: runs in its own session, polls; when
OWNER_PID has exited (killed, crashed), the server's group gets SIGTERM, then SIGKILL. Exits when
the server is gone.
"""

from __future__ import annotations

import os
import signal
import sys
import time


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(owner: int, server: int, poll_s: float = 0.5, grace_s: float = 20.0) -> None:
    while True:
        try:
            os.killpg(server, 0)
        except ProcessLookupError:
            return  # the server's group is gone: nothing to watch
        if os.getppid() != owner or not _alive(owner):  # reparented: the owner is gone (a zombie still answers kill 0)
            break
        time.sleep(poll_s)
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 0)):
        try:
            os.killpg(server, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(server, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
