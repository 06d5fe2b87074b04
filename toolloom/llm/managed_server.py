"""Model servers toolloom starts itself (`vllm serve`, llama.cpp's server): one per (model, serve
options), shared by the roles that name it.

A server is started when a role first needs it, polled until `/health` and `/v1/models` answer,
restarted when it dies mid-run (requests in flight are retried by the client), and stopped when
the run ends. Each server runs in its own process group with a watchdog process beside it that
stops the group if the toolloom process goes away without stopping it (SIGKILL, a crash), so no
server outlives its run. The kinds differ only in their command line and environment
(vllm_server.py, llamacpp_server.py); nothing here imports an inference engine.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from .model_spec import ModelSpec
from .call_errors import ServerError

log = logging.getLogger("toolloom")
START_MARK = "== toolloom: "  # the line each start writes to the log before the server's own output


class ServerStartError(ServerError):
    """A managed server exited or never became healthy; the message carries its log tail."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except (urllib.error.URLError, OSError, ValueError):
        return 0


class ManagedServer:
    """The lifecycle; a kind supplies `kind`, `options` (its serve block), `command()` and `env()`."""

    kind = "server"

    def __init__(self, spec: ModelSpec, log_dir: Path, poll_s: float = 0.5):
        self.spec, self.options = spec, self.options_of(spec)
        self.log_dir, self.poll_s = Path(log_dir), poll_s
        self.proc: subprocess.Popen | None = None
        self.watchdog: subprocess.Popen | None = None
        self.port: int | None = None
        self.restarts = 0
        self.failed: str | None = None  # set when a restart failed: later requests fail at once
        self._lock = threading.Lock()
        self._recovering: asyncio.Lock | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def log_path(self) -> Path:
        slug = self.spec.model.strip("/").replace("/", "--")
        return self.log_dir / f"{self.kind}-{slug}.log"

    @staticmethod
    def options_of(spec: ModelSpec):
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        """The server's environment: the key goes here, never on a command line, where `ps` shows it."""
        return dict(os.environ)

    def start(self) -> None:
        """Start and block until healthy; ServerStartError (with the log tail) when it is not."""
        self.port = self.options.port or self.port or free_port()  # a restart keeps the port the clients know
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = self.env()
        cmd = self.command()
        with open(self.log_path, "ab") as out:
            out.write(f"\n{START_MARK}{json.dumps(cmd)}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
            )
        self.watchdog = subprocess.Popen(
            [sys.executable, "-m", "toolloom.llm.watchdog", str(os.getpid()), str(self.proc.pid)],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.info(
            "started %s %s (pid %s, port %s); log: %s",
            self.kind,
            self.spec.model,
            self.proc.pid,
            self.port,
            self.log_path,
        )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.options.startup_timeout_s
        root = self.base_url.removesuffix("/v1")
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                self._stop_watchdog()
                raise ServerStartError(
                    f"{self.kind} {self.spec.model} exited with status {code} before it was healthy; "
                    f"log tail ({self.log_path}):\n{self.log_tail()}"
                )
            if _get(root + "/health") == 200 and _get(self.base_url + "/models") == 200:
                log.info("%s %s is healthy on port %s", self.kind, self.spec.model, self.port)
                return
            time.sleep(self.poll_s)
        self.stop()
        raise ServerStartError(
            f"{self.kind} {self.spec.model} was not healthy after {self.options.startup_timeout_s:.0f}s; "
            f"log tail ({self.log_path}):\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 30) -> str:
        """The last start's output: its command line, then its last `lines` lines (a server that keeps writing
        while it is stopped must not push out which command failed)."""
        try:
            logged = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        starts = [i for i, line in enumerate(logged) if line.startswith(START_MARK)]
        mine = logged[starts[-1] :] if starts else logged
        if len(mine) <= lines + 1:
            return "\n".join(mine)
        head = [mine[0], f"... ({len(mine) - 1 - lines} lines)"] if starts else []
        return "\n".join(head + mine[-lines:])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def recover(self) -> None:
        """Called by the client after a connection failure: restart the server if it died (once,
        however many requests noticed), then the client retries. Raises when it cannot."""
        if self._recovering is None:
            self._recovering = asyncio.Lock()
        async with self._recovering:
            if self.failed:
                raise ServerStartError(self.failed)
            if self.alive():
                return
            code = self.proc.poll() if self.proc else None
            log.warning("%s %s died (status %s); restarting", self.kind, self.spec.model, code)
            try:
                await asyncio.to_thread(self.restart)
            except ServerStartError as e:
                self.failed = str(e)
                raise

    def restart(self) -> None:
        with self._lock:
            self.stop()
            self.restarts += 1
            self.start()

    def _stop_watchdog(self) -> None:
        if self.watchdog is not None and self.watchdog.poll() is None:
            self.watchdog.terminate()
            self.watchdog.wait(timeout=5)
        self.watchdog = None

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM to the server's process group, SIGKILL after `grace_s`; then the watchdog."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if proc is not None:
            try:  # workers a server left in its group (tensor-parallel ranks) go too
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.poll()
        self._stop_watchdog()
