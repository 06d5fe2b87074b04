"""The sandbox worker process: runs one collection's tool code under limits, one call at a time.

Layers, outermost first: the parent's wall-clock timeout and kill; resource limits (CPU seconds
per call, address space, file size); a network namespace of its own where the OS allows it; and a
Python audit hook that refuses process creation, sockets, native code loading, signals, and file
access outside the allowed folders (writes only in the worker's private temporary directory).
The environment was scrubbed by the parent. Audit hooks are not a boundary against native code,
which is why loading it is refused and the limits sit beneath.

Protocol: 4-byte big-endian length + JSON, requests on stdin, responses on the fd in argv.
"""
from __future__ import annotations

import ctypes
import inspect
import json
import os
import resource
import signal
import struct
import sys
import traceback
from pathlib import Path

CLONE_NEWNET = 0x40000000
_BLOCKED_EVENTS = {
    "os.fork": "creating processes", "os.forkpty": "creating processes", "os.posix_spawn": "creating processes",
    "os.spawn": "creating processes", "os.exec": "creating processes", "os.system": "creating processes",
    "subprocess.Popen": "creating processes", "pty.spawn": "creating processes",
    "socket.connect": "network access", "socket.bind": "network access", "socket.sendto": "network access",
    "socket.getaddrinfo": "network access", "socket.gethostbyname": "network access",
    "ctypes.dlopen": "loading native code", "ctypes.dlsym": "loading native code", "ctypes.cdata": "loading native code",
    "os.kill": "sending signals", "os.killpg": "sending signals", "signal.pthread_kill": "sending signals",
}
_PATH_EVENTS = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link", "os.symlink", "os.truncate", "shutil.rmtree"}


def _read_exact(stream, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _send(fd: int, payload: dict, max_bytes: int) -> None:
    body = json.dumps(payload, ensure_ascii=False, default=str).encode()
    if len(body) > max_bytes:
        body = json.dumps({"ok": False, "status": 502, "message": f"tool response too large ({len(body)} bytes, limit {max_bytes})"}).encode()
    _write_all(fd, struct.pack(">I", len(body)) + body)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _isolate_network() -> bool:
    """A fresh network namespace has no interfaces: nothing to connect to. Needs privileges."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(CLONE_NEWNET) == 0
    except (OSError, AttributeError):
        return False


def _install_audit_hook(readable: list[str], writable: str) -> None:
    readable = [os.path.realpath(p) for p in readable]
    writable = os.path.realpath(writable)

    def inside(path, roots) -> bool:
        real = os.path.realpath(os.fsdecode(path)) if isinstance(path, (str, bytes, os.PathLike)) else ""
        return any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots)

    def hook(event: str, args) -> None:
        if event in _BLOCKED_EVENTS:
            raise PermissionError(f"sandbox: {_BLOCKED_EVENTS[event]} is not allowed ({event})")
        if event == "open":
            path, mode, flags = (list(args) + [None, None, None])[:3]
            if isinstance(path, int):
                return
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if writing and not inside(path, [writable]):
                raise PermissionError(f"sandbox: writing outside the private directory is not allowed ({path})")
            if not writing and not inside(path, readable + [writable]):
                raise PermissionError(f"sandbox: reading {path} is not allowed")
        elif event in _PATH_EVENTS:
            if args and not inside(args[0], [writable]):
                raise PermissionError(f"sandbox: changing {args[0]} is not allowed ({event})")

    sys.addaudithook(hook)


class _BoundedOutput:
    """Stands in for stdout/stderr: tool output is discarded, and a flood becomes an error."""

    def __init__(self, limit: int):
        self.limit, self.written = limit, 0

    def write(self, text) -> int:
        self.written += len(text)
        if self.written > self.limit:
            raise OSError(f"the tool wrote more than {self.limit} bytes of output")
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _set_cpu_budget(seconds: float) -> None:
    used = resource.getrusage(resource.RUSAGE_SELF)
    now = int(used.ru_utime + used.ru_stime)
    soft = now + max(1, int(seconds + 0.999))
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _call(tools: dict, request: dict) -> dict:
    fn = tools.get(request["tool"])
    if fn is None:
        return {"ok": False, "status": 404, "message": f"no executable implementation of tool '{request['tool']}'"}
    from .registry import ToolError

    args = dict(request.get("arguments") or {})
    accepted = set(inspect.signature(fn).parameters) - {"state"}
    unknown = sorted(set(args) - accepted)
    if unknown:
        return {"ok": False, "status": 400, "message": f"unknown argument(s): {', '.join(unknown)}"}
    state = request.get("state") or {}
    try:
        result = fn(**args, state=state) if getattr(fn, "__toolloom_stateful__", False) else fn(**args)
        json.dumps(result)
        return {"ok": True, "result": result, "state": state}
    except ToolError as e:
        return {"ok": False, "status": e.status, "message": e.message, "state": state}
    except MemoryError:
        return {"ok": False, "status": 507, "message": "the tool ran out of memory (sandbox limit)"}
    except PermissionError as e:
        return {"ok": False, "status": 403, "message": str(e)}
    except OSError as e:
        return {"ok": False, "status": 500, "message": f"internal error: {type(e).__name__}: {e}"}
    except Exception as e:  # a tool bug is an observation, never a dead pipeline
        frame = traceback.extract_tb(e.__traceback__)[-1]
        return {"ok": False, "status": 500, "message": f"internal error: {type(e).__name__}: {e} (line {frame.lineno})"}


def main() -> None:
    root, collection, out_fd = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    limits = json.loads(sys.argv[4])
    os.umask(0o077)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes fail with EFBIG instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    isolated = _isolate_network()
    from .registry import load_collection

    tools = load_collection(root, collection)
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
    readable = [str(root), sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr/share/zoneinfo", "/etc/localtime",
                "/dev/null", "/dev/urandom", *sys.path[1:]]
    _install_audit_hook([p for p in readable if p], os.getcwd())
    _send(out_fd, {"ready": True, "tools": sorted(tools), "network_isolated": isolated}, limits["response_bytes"])
    stdin = sys.stdin.buffer
    while True:
        try:
            (size,) = struct.unpack(">I", _read_exact(stdin, 4))
            request = json.loads(_read_exact(stdin, size))
        except EOFError:
            return
        _set_cpu_budget(limits["cpu_s"])
        sys.stdout = sys.stderr = _BoundedOutput(limits["output_bytes"])
        _send(out_fd, _call(tools, request), limits["response_bytes"])


if __name__ == "__main__":
    main()
