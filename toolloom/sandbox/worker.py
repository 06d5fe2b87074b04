"""The sandbox worker: a confined template process that runs every tool call in a fresh child.

The worker is started inside the confinement of `confinement.py` and never runs tool code itself:
it compiles the collection's sources (compiling executes nothing), imports the installed libraries
they import (numpy, pandas: warm, so a call does not pay for them) and, per call, forks a child
that imports the module defining the tool from those compiled sources, runs the call and writes
its answer on a pipe made for that call alone, then exits. The worker reads the answer only from
that pipe, kills every process left in its pid namespace, and empties /tmp, so no call can change
another call's code, module state or files, outlive its call, or have its answer taken for
another's. The child closes every other descriptor, and the worker is not dumpable, so the child
cannot reach the worker's channel to the parent through /proc either.

Inside the child, a Python audit hook is a second line (it names the refused act in the error:
process creation, sockets, native code, signals, files outside the allowed folders); the
boundary is the operating system's.

Protocol with the parent: 4-byte big-endian length + JSON, requests on stdin, answers on stdout.
"""

from __future__ import annotations

import ast
import ctypes
import importlib.abc
import importlib.util
import json
import os
import resource
import select
import shutil
import signal
import struct
import sys
import time
from pathlib import Path

from .child import BoundedOutput, Precompiled, install_audit_hook, run_tool

PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36
# stdlib modules tools commonly use, imported once by the worker (no tool code) so a call's child starts warm
_WARM = (
    "json",
    "datetime",
    "zoneinfo",
    "math",
    "re",
    "random",
    "decimal",
    "collections",
    "functools",
    "itertools",
    "statistics",
    "csv",
    "hashlib",
    "uuid",
    "dataclasses",
    "typing",
    "string",
    "textwrap",
    "fractions",
    "bisect",
    "heapq",
    "calendar",
)


def readable(fd: int, timeout_s: float) -> bool:
    """Whether the fd has data (or its writer closed) within the timeout. poll, not select: select
    fails on a descriptor numbered 1024 or more, which a run with 1,024 model requests in flight has."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(max(timeout_s, 0.0) * 1000))


def _read_exact(fd: int, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _frame(payload: dict, max_bytes: int) -> bytes:
    body = json.dumps(payload, ensure_ascii=False, default=str).encode()
    if len(body) > max_bytes:
        body = json.dumps(
            {"ok": False, "status": 502, "message": f"tool response too large ({len(body)} bytes, limit {max_bytes})"}
        ).encode()
    return struct.pack(">I", len(body)) + body


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Worker:
    def __init__(self, root: Path, collection: str, limits: dict):
        self.limits = limits
        self.confined = limits.get("confined", True)  # in a pid namespace of its own: every other process is a call's
        self.scratch = Path(os.environ.get("TMPDIR") or "/tmp")
        self.loader = Precompiled(root / collection, collection)
        self.readable = [
            str(root / collection),
            sys.prefix,
            sys.base_prefix,
            sys.exec_prefix,
            "/usr/share/zoneinfo",
            "/etc/localtime",
            "/dev/null",
            "/dev/urandom",
            *sys.path[1:],
        ]
        self.where: dict[str, str] = {}  # tool name -> the module that defines it
        # folders bound read-only under the scratch folder (a project under /tmp): not the calls' to remove
        self.mounted = {
            Path(p).relative_to(self.scratch).parts[0]
            for p in self.readable
            if p and Path(p).is_absolute() and Path(p).is_relative_to(self.scratch) and Path(p) != self.scratch
        }

    def child(self, request: dict, out_fd: int, modules: list[str]) -> None:
        """In the forked child: confine further, import, run, answer, exit. Never returns."""
        try:
            os.closerange(0, out_fd)
            os.closerange(out_fd + 1, 1 << 16)
            null = os.open("/dev/null", os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.setsid()  # its own process group and session, away from the worker's
            cpu = max(1, int(self.limits["cpu_s"] + 0.999))
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU at the soft limit, SIGKILL a second later
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversize write fails with EFBIG instead of killing
            signal.signal(signal.SIGXCPU, signal.SIG_DFL)
            os.chdir(self.scratch)
            sys.meta_path.insert(0, self.loader)
            install_audit_hook([p for p in self.readable if p], str(self.scratch))
            sys.stdout = sys.stderr = BoundedOutput(self.limits["output_bytes"])
            from .registry import REGISTERED

            importlib.import_module(self.loader.package)
            for module in modules:
                importlib.import_module(module)
            if request.get("list"):
                answer = {
                    "ok": True,
                    "tools": {n: {"module": m} for m, n, _ in REGISTERED if m.startswith(self.loader.package + ".")},
                }
            else:
                fn = next((f for m, n, f in REGISTERED if n == request["tool"]), None)
                answer = (
                    run_tool(fn, request)
                    if fn
                    else {
                        "ok": False,
                        "status": 404,
                        "message": f"no executable implementation of tool '{request['tool']}'",
                    }
                )
        except BaseException as e:  # import-time failures too: an answer, not a dead worker
            answer = {"ok": False, "status": 500, "message": f"internal error: {type(e).__name__}: {e}"}
        try:
            _write_all(out_fd, _frame(answer, self.limits["response_bytes"]))
        finally:
            os._exit(0)

    def call(self, request: dict) -> dict:
        modules = self.loader.modules() if request.get("list") else [self.where.get(request.get("tool"), "")]
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            self.child(request, write_fd, [m for m in modules if m])
        os.close(write_fd)
        answer = self._collect(read_fd, pid)
        os.close(read_fd)
        self._clean_up(pid)
        return answer

    def _collect(self, fd: int, pid: int) -> dict:
        deadline = time.monotonic() + self.limits["wall_s"]
        data = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not readable(fd, left):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return {"ok": False, "status": 504, "message": f"the tool timed out after {self.limits['wall_s']:g} s"}
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            data += chunk
            if len(data) > self.limits["response_bytes"] + 1024:
                break
        _, status = os.waitpid(pid, 0)
        if not data:
            return {"ok": False, "status": 500, "message": _death_reason(status)}
        try:
            (size,) = struct.unpack(">I", data[:4])
            if len(data) != 4 + size:
                raise ValueError
            answer = json.loads(data[4:])
            if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
                raise ValueError
            return answer
        except (struct.error, ValueError):
            return {"ok": False, "status": 502, "message": "the tool wrote a malformed answer on its result channel"}

    def _clean_up(self, child: int) -> None:
        """Every process of the call's making dies (detached ones too), and /tmp starts empty again.
        Unconfined (the unsafe mode) only the call's own process group can be found."""
        me = os.getpid()
        if not self.confined:
            try:
                os.killpg(child, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + 5.0  # a SIGKILLed process on a busy machine takes a moment to go
        while self.confined:
            others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
            for pid in others:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            while True:  # reap what the subreaper inherited
                try:
                    if os.waitpid(-1, os.WNOHANG) == (0, 0):
                        break
                except ChildProcessError:
                    break
            if not others or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        for entry in self.scratch.iterdir():
            if entry.name in self.mounted:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _death_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return "the tool exceeded its CPU time limit"
        return f"the tool process was killed (signal {sig}; memory limit or crash)"
    return f"the tool process exited unexpectedly (exit code {os.WEXITSTATUS(status)})"


def libraries_of(folder: Path) -> list[str]:
    """The installed modules the collection's sources import (top-level names; not its own modules)."""
    own = {p.stem for p in folder.glob("*.py")}
    found: set[str] = set()
    for path in sorted(folder.glob("*.py")):
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue  # the call reports it
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return sorted(found - own - {"toolloom"})


def warm_libraries(folder: Path) -> list[str]:
    """Import, once, the installed libraries the collection uses (numpy, pandas): every call's child is forked
    with them loaded, so a call costs the call, not the import, and the import is not on the call's CPU clock.
    Only modules found outside the collection's folder are imported; its own code still runs only in a child."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # no thread pools in a process that forks per call
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    warmed = []
    for name in libraries_of(folder):
        try:
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec else None
            if origin and origin not in ("built-in", "frozen") and not Path(origin).is_relative_to(folder):
                importlib.import_module(name)
                warmed.append(name)
        except BaseException:  # noqa: BLE001 - a library that fails to import here fails in the call, reported
            continue
    return warmed


def main() -> None:
    root, collection, limits = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
    os.umask(0o077)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # a call's child cannot open this process's descriptors through /proc
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # orphans of a call come back here, to be killed
    for name in _WARM:
        importlib.import_module(name)
    warm_libraries(root / collection)
    control_in, control_out = os.dup(0), os.dup(1)
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.stdout = sys.stderr = BoundedOutput(1 << 16)
    worker = Worker(root, collection, limits)
    listing = worker.call({"list": True})
    worker.where = {name: info["module"] for name, info in (listing.get("tools") or {}).items()}
    hello = {
        "ready": True,
        "tools": sorted(worker.where),
        "error": None if "tools" in listing else listing.get("message"),
    }
    _write_all(control_out, _frame(hello, limits["response_bytes"]))
    while True:
        try:
            (size,) = struct.unpack(">I", _read_exact(control_in, 4))
            request = json.loads(_read_exact(control_in, size))
        except EOFError:
            return
        _write_all(control_out, _frame(worker.call(request), limits["response_bytes"] + 256))


if __name__ == "__main__":
    main()
