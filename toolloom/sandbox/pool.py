"""The parent side of the sandbox: reusable worker processes per collection, and their failures
turned into error observations (a hung, crashed or hostile tool never stops the pipeline).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import weakref
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..checks.arguments import argument_errors
from .cgroups import sandbox_group
from .worker import readable
from .confinement import (
    TMP_BYTES,
    UNSAFE_ENV,
    SandboxUnavailable,
    bwrap_command,
    confinement_problem,
    limit_resources,
    sandbox_uid,
    seccomp_program,
    unsafe_requested,
)

log = logging.getLogger("toolloom")
_STDERR = None if os.environ.get("TOOLLOOM_SANDBOX_DEBUG") else subprocess.DEVNULL
_seccomp = functools.lru_cache(maxsize=1)(seccomp_program)
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toolloom-sandbox-spawner")

# variables a worker keeps; everything else (API keys above all) stays in the parent
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class Limits:
    cpu_s: float = 2.0
    wall_s: float = 5.0
    memory_bytes: int = 512 * 2**20
    file_bytes: int = 8 * 2**20
    response_bytes: int = 1 * 2**20
    output_bytes: int = 1 * 2**20  # what a tool may print (discarded); more is an error
    workers_per_collection: int = 4
    processes: int = (
        1024  # processes and threads of the sandbox user at once, MCP servers included (a fork bomb's ceiling)
    )


@dataclass(frozen=True)
class Observation:
    ok: bool
    content: Any  # the JSON result, or {"error": {"status", "message"}}
    error: str | None = None
    state: dict = field(default_factory=dict, compare=False)
    # who answered: real (sandbox code, an MCP server, an HTTP service), mock (a mock server answering from
    # the spec), simulated (the simulator), none (refused before any executor saw it: bad arguments)
    answered_by: str = field(default="real", compare=False)

    def to_json(self) -> str:
        return json.dumps(self.content, ensure_ascii=False, sort_keys=True)


def error_observation(status: int, message: str, state: dict | None = None) -> Observation:
    return Observation(False, {"error": {"status": status, "message": message}}, f"{status}: {message}", state or {})


class WorkerDied(Exception):
    pass


def _worker_env(scratch: str) -> dict[str, str]:
    """A worker's environment: the few variables it keeps, its scratch folder as home, this package importable."""
    package_parent = str(Path(__file__).resolve().parents[2])
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    env.update(
        {
            "HOME": scratch,
            "TMPDIR": scratch,
            "PYTHONPATH": package_parent,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "PATH": "/usr/bin:/bin",
        }
    )
    return env


def _worker_spec(limits: Limits, confined: bool) -> str:
    """The limits a worker applies to each call, as its command line carries them (JSON)."""
    return json.dumps(
        {
            "cpu_s": limits.cpu_s,
            "wall_s": limits.wall_s,
            "response_bytes": limits.response_bytes,
            "output_bytes": limits.output_bytes,
            "confined": confined,
        }
    )


class _Worker:
    """One confined worker process of a collection (toolloom.sandbox.worker), started through
    `confinement.bwrap_command`, or unconfined in the unsafe mode."""

    def __init__(self, root: Path, collection: str, limits: Limits, confined: bool):
        self.tmp = tempfile.mkdtemp(prefix=f"toolloom-{collection}-")
        # removed however the worker ends: killed, failed to start, or left to the interpreter's exit
        self._removal = weakref.finalize(self, shutil.rmtree, self.tmp, True)
        env = _worker_env(scratch="/tmp" if confined else self.tmp)
        spec = _worker_spec(limits, confined)
        argv = [sys.executable, "-s", "-m", "toolloom.sandbox.worker", str(root), collection, spec]
        pass_fds: tuple = ()
        # the worker and every call it forks share one memory budget (its /tmp included) and process count
        self.group = sandbox_group("worker", limits.memory_bytes + TMP_BYTES, limits.processes) if confined else None
        rlimits = limit_resources(limits.memory_bytes, limits.file_bytes, limits.processes)

        def start_limited() -> None:
            rlimits()
            if self.group is not None:
                self.group.enter()

        if confined:
            program_fd, write_fd = os.pipe()
            os.write(write_fd, _seccomp())
            os.close(write_fd)
            argv = bwrap_command(argv, env, program_fd, read_only=[root / collection], uid=sandbox_uid())
            pass_fds = (program_fd,)
        self.proc = self._spawn(argv, {} if confined else env, pass_fds, start_limited)
        self._read_fd = self.proc.stdout.fileno()
        hello = self.receive(timeout=30.0, max_bytes=limits.response_bytes + 64)
        self.tools: list[str] = hello["tools"]
        self.error: str | None = hello.get("error")

    def _spawn(self, argv: list[str], env: dict, pass_fds: tuple, start_limited) -> subprocess.Popen:
        """The worker process, its group closed if it cannot start; the passed descriptors closed here either way."""
        try:
            # started from one long-lived thread: bwrap's --die-with-parent is the *thread's* death
            # signal, and calls arrive on short-lived threads (asyncio.to_thread)
            return _SPAWNER.submit(
                subprocess.Popen,
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=_STDERR,
                cwd=self.tmp,
                env=env,
                pass_fds=pass_fds,
                start_new_session=True,
                preexec_fn=start_limited,
            ).result()
        except BaseException:
            self._close_group()
            raise
        finally:
            for fd in pass_fds:
                os.close(fd)

    def _read(self, n: int, deadline: float) -> bytes:
        data = b""
        while len(data) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if not readable(self._read_fd, left):
                raise TimeoutError
            chunk = os.read(self._read_fd, min(n - len(data), 1 << 20))
            if not chunk:
                raise WorkerDied
            data += chunk
        return data

    def receive(self, timeout: float, max_bytes: int) -> dict:
        deadline = time.monotonic() + timeout
        (size,) = struct.unpack(">I", self._read(4, deadline))
        if size > max_bytes:
            raise WorkerDied
        return json.loads(self._read(size, deadline))

    def send(self, payload: dict) -> None:
        body = json.dumps(payload).encode()
        try:
            self.proc.stdin.write(struct.pack(">I", len(body)) + body)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerDied from None

    def death_reason(self) -> str:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "the tool process stopped answering"
        if code == -signal.SIGXCPU:
            return "the tool exceeded its CPU time limit"
        if code in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
            return f"the tool process was killed (signal {-code}; memory limit or crash)"
        return f"the tool process exited unexpectedly (exit code {code})"

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # bwrap and, with --die-with-parent, all it holds
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stdin):
            try:
                stream.close()
            except OSError:
                pass
        self._removal()
        self._close_group()

    def _close_group(self) -> None:
        if self.group is not None:
            self.group.close()
            self.group = None


class Sandbox:
    """Executes a collection's tools confined by the operating system, each call in a fresh process
    (DESIGN section 8). `unsafe=True` (or TOOLLOOM_UNSAFE_SANDBOX=1) runs them unconfined where the
    host cannot confine them; otherwise such a host gets `SandboxUnavailable`, saying why."""

    def __init__(self, root: str | Path, limits: Limits | None = None, unsafe: bool | None = None):
        self.root = Path(root).resolve()
        self.limits = limits or Limits()
        self.unsafe = unsafe_requested() if unsafe is None else unsafe
        self._idle: dict[str, list[_Worker]] = {}
        self._count: dict[str, int] = {}
        self._names: dict[str, list[str]] = {}
        self._cond = threading.Condition()

    def implementations(self, collection: str) -> list[str]:
        """Names of the executable tools of a collection (asked of a worker, never imported here)."""
        if collection not in self._names:
            if not (self.root / collection / "__init__.py").exists():
                self._names[collection] = []
            else:
                worker = self._acquire(collection)
                self._names[collection] = list(worker.tools)
                self._release(collection, worker)
                if worker.error:
                    log.warning(
                        "sandbox/%s: the tool code failed to import (%s); its tools will be simulated",
                        collection,
                        worker.error,
                    )
        return self._names[collection]

    def is_executable(self, collection: str, name: str) -> bool:
        return name in self.implementations(collection)

    def _acquire(self, collection: str) -> _Worker:
        with self._cond:
            while True:
                idle = self._idle.setdefault(collection, [])
                if idle:
                    return idle.pop()
                if self._count.get(collection, 0) < self.limits.workers_per_collection:
                    self._count[collection] = self._count.get(collection, 0) + 1
                    break
                self._cond.wait()
        try:
            return _Worker(self.root, collection, self.limits, confined=self._confined(collection))
        except Exception:
            self._forget(collection)
            raise

    def _confined(self, collection: str) -> bool:
        problem = confinement_problem()
        if problem is None:
            return True
        if not self.unsafe:
            raise SandboxUnavailable(
                f"cannot run the tool code of collection {collection!r} confined: {problem}. Install "
                f"bubblewrap, or run it unconfined at your own risk with {UNSAFE_ENV}=1 (toolloom run --unsafe-sandbox)"
            )
        log.warning("UNSAFE SANDBOX: running the tool code of %r without confinement (%s)", collection, problem)
        return False

    def _release(self, collection: str, worker: _Worker) -> None:
        with self._cond:
            self._idle.setdefault(collection, []).append(worker)
            self._cond.notify()

    def _forget(self, collection: str) -> None:
        with self._cond:
            self._count[collection] -= 1
            self._cond.notify()

    def execute(
        self,
        collection: str,
        name: str,
        arguments: dict,
        parameters: dict | str | None = None,
        state: dict | None = None,
    ) -> Observation:
        """Check arguments against the schema, then run the tool; every failure is an observation."""
        if parameters is not None:
            problems = argument_errors(parameters, arguments)
            if problems:
                return error_observation(400, "invalid arguments: " + "; ".join(problems), state)
        if not self.is_executable(collection, name):
            return error_observation(404, f"no executable implementation of tool '{name}'", state)
        worker = self._acquire(collection)
        try:
            worker.send({"tool": name, "arguments": arguments, "state": state or {}})
            # the worker stops a call at wall_s itself; this wait only catches a worker that stopped answering
            reply = worker.receive(self.limits.wall_s + 10, self.limits.response_bytes + 512)
        except TimeoutError:
            worker.kill()
            self._forget(collection)
            return error_observation(504, f"the tool timed out after {self.limits.wall_s:g} s", state)
        except WorkerDied:
            reason = worker.death_reason()
            worker.kill()
            self._forget(collection)
            return error_observation(500, reason, state)
        self._release(collection, worker)
        new_state = reply.get("state", state or {})
        if reply["ok"]:
            return Observation(True, reply["result"], None, new_state)
        return error_observation(reply["status"], reply["message"], new_state)

    def close(self) -> None:
        with self._cond:
            for workers in self._idle.values():
                for w in workers:
                    w.kill()
            self._idle.clear()
            self._count.clear()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
