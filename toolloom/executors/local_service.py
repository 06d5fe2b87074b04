"""Local HTTP servers the `http` executor starts itself: a real service (`service:`) or a mock (`mock:`).

Each runs on a free loopback port in its own temporary root folder (fixtures copied in), with only the
environment it is given; its output goes to a log under the toolloom home with the credential masked.
A real service keeps real state, so by default every episode gets a fresh one (`lifetime: episode`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .base import find_command

KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TZ")  # what a server sees of toolloom's environment, besides its own env


class MockServer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    command: list[str] = Field(
        ["prism", "mock"], min_length=1, description="looked up on PATH, then in node_modules/.bin"
    )
    args: list[str] = Field(
        ["{spec}", "--host", "127.0.0.1", "--port", "{port}"], description="{spec}: the collection's file"
    )
    startup_timeout_s: float = Field(60.0, gt=0)


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    command: list[str] = Field(min_length=1, description="looked up on PATH, node_modules/.bin, beside this Python")
    args: list[str] = Field([], description="may hold {port}, {root} (the service's own folder) and {spec}")
    env: dict[str, str] = Field({}, description="its environment; values may hold {root}, {port}, {credential}")
    fixtures: str | None = Field(None, description="a folder (relative to the project) copied into {root} first")
    lifetime: Literal["episode", "run"] = Field(
        "episode", description="episode: a fresh service per episode (state never leaks); run: one shared"
    )
    prestart: int = Field(1, ge=0, description="lifetime episode: fresh services kept started ahead of demand")
    startup_timeout_s: float = Field(60.0, gt=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalProcess:
    """One server process, listening when the constructor returns; `stop()` ends it and removes its root."""

    def __init__(
        self,
        command: list[str],
        args: list[str],
        *,
        project_root: Path,
        log_dir: Path,
        name: str,
        env: dict[str, str] | None = None,
        fixtures: str | None = None,
        spec: Path | None = None,
        credential: str | None = None,
        startup_timeout_s: float = 60.0,
    ):
        executable = find_command(command[0], project_root)  # before anything is made that must be removed
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix=f"toolloom-{name}-"))
        if fixtures:
            shutil.copytree(Path(project_root) / fixtures, self.root, dirs_exist_ok=True)
        values = {
            "{port}": str(self.port),
            "{root}": str(self.root),
            "{spec}": str(spec or ""),
            "{credential}": credential or "",
        }

        def fill(text: str) -> str:
            for key, value in values.items():
                text = text.replace(key, value)
            return text

        run_env = {k: v for k, v in os.environ.items() if k in KEPT_ENV}
        run_env["HOME"] = str(self.root)  # a server's dot-folders land in its own root, never the user's
        run_env.update({k: fill(v) for k, v in (env or {}).items()})
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self._mask = credential
        self.proc = subprocess.Popen(
            [executable, *command[1:], *map(fill, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=run_env,
            cwd=self.root,
            start_new_session=True,
        )
        self._logger = threading.Thread(target=self._copy_log, name=f"toolloom-{name}-log", daemon=True)
        self._logger.start()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._await_listening(name, startup_timeout_s)

    def _await_listening(self, name: str, startup_timeout_s: float) -> None:
        """Return once the server accepts connections; stop it and raise if it exits or takes too long."""
        deadline = time.monotonic() + startup_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._logger.join(5)
                self.stop()
                raise RuntimeError(f"{name} exited ({self.proc.returncode}): {self._log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"{name} did not listen in {startup_timeout_s:.0f} s: {self._log_tail()}")

    def _copy_log(self) -> None:
        """The server's output, line by line, into its log file with the credential masked."""
        with open(self.log_path, "w", encoding="utf-8", errors="replace") as log:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", errors="replace")
                log.write(line.replace(self._mask, "[credential]") if self._mask else line)
                log.flush()

    def _log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-800:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 15)
                self.proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, 9)
                except ProcessLookupError:
                    pass
                self.proc.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)
