"""`http`: OpenAPI / Swagger operations sent to a real HTTP service.

The base URL is the collection's `base_url` (may hold ${VAR}), else the spec's first `servers`
URL. A credential comes from the environment variable `auth_env` names, at call time; it is sent
as a header or a query parameter and never stored. `mock:` starts a mock server over the spec
itself (Stoplight Prism by default: `prism mock SPEC`), waits until it answers, and stops it with
the run, so a collection can be executed offline against what its spec promises.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ConfigDict, Field

from ..llm.model_spec import expand_env
from ..sandbox import Observation, error_observation
from .base import ExecutorConfig, find_command

MOCK_CREDENTIAL = (
    "toolloom-mock-credential"  # what a mock server is shown when auth_env is unset (it checks presence only)
)


class MockServer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    command: list[str] = Field(
        ["prism", "mock"], min_length=1, description="looked up on PATH, then in node_modules/.bin"
    )
    args: list[str] = Field(
        ["{spec}", "--host", "127.0.0.1", "--port", "{port}"], description="{spec}: the collection's file"
    )
    startup_timeout_s: float = Field(60.0, gt=0)


class HttpConfig(ExecutorConfig):
    kind: str = "http"
    base_url: str | None = Field(None, description="default: the spec's servers URL (or the mock's)")
    auth_env: str | None = Field(None, description="name of the environment variable holding the credential")
    auth_header: str | None = Field("Authorization", description="header that carries the credential")
    auth_scheme: str = Field("Bearer", description="prefix of the header value ('' for the bare credential)")
    auth_query: str | None = Field(
        None, description="send the credential as this query parameter instead (api_key=...)"
    )
    headers: dict[str, str] = {}
    timeout_s: float = Field(30.0, gt=0)
    max_response_bytes: int = Field(2**20, ge=1024)
    mock: MockServer | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MockProcess:
    """A mock server over one spec file, started now and stopped with `stop()`."""

    def __init__(self, mock: MockServer, spec: Path, project_root: Path, log_dir: Path):
        self.port = _free_port()
        fill = lambda a: a.replace("{spec}", str(spec)).replace("{port}", str(self.port))  # noqa: E731
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"mock-{spec.stem}-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [find_command(mock.command[0], project_root), *mock.command[1:], *map(fill, mock.args)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        self.base_url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + mock.startup_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mock server exited ({self.proc.returncode}): {self._log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"mock server did not listen in {mock.startup_timeout_s:.0f} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-800:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 15)
                self.proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, 9)


def request_parts(tool: dict, arguments: dict) -> tuple[str, str, dict, dict, object]:
    """(method, path, query, headers, body) of an operation's call, from the locations ingest recorded."""
    meta = tool.get("meta") or {}
    meta = json.loads(meta) if isinstance(meta, str) else meta
    locations = meta.get("params") or {}
    path, query, headers, body, form = meta.get("path") or "/", {}, {}, {}, {}
    whole_body = None
    for key, value in arguments.items():
        where, wire = locations.get(key, ["query", key])
        if where == "path":
            path = path.replace("{" + wire + "}", quote(str(value), safe=""))
        elif where == "header":
            headers[wire] = str(value)
        elif where == "body":
            if wire is None:
                whole_body = value
            else:
                body[wire] = value
        elif where == "form":
            form[wire] = value
        else:
            query[wire] = (
                json.dumps(value)
                if isinstance(value, (dict, list))
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
    payload = whole_body if whole_body is not None else body or form or None
    return (meta.get("method") or "GET").upper(), path, query, headers, payload


class HttpExecutor:
    kind = "http"

    def __init__(self, config: HttpConfig, collection: str, spec_path: Path | None, project_root: Path, home: Path):
        self.config, self.collection, self.spec_path = config, collection, spec_path
        self.project_root, self.home = Path(project_root), Path(home)
        self._mock: MockProcess | None = None
        self._lock = threading.Lock()

    @property
    def answers(self) -> str:
        """A mock server answers from the spec's examples, whatever is asked: its calls verify nothing."""
        return "mock" if self.config.mock is not None else "real"

    def runs(self, tool_name: str) -> bool:
        return True

    def base_url(self, tool: dict) -> str:
        if self.config.mock is not None:
            with self._lock:
                if self._mock is None:
                    if self.spec_path is None or not self.spec_path.is_file():
                        raise FileNotFoundError(
                            f"collection {self.collection!r}: mock: needs the collection's path to be one spec file"
                        )
                    self._mock = MockProcess(self.config.mock, self.spec_path, self.project_root, self.home / "logs")
            return self._mock.base_url
        if self.config.base_url:
            return expand_env(self.config.base_url).rstrip("/")
        meta = tool.get("meta") or {}
        servers = (json.loads(meta) if isinstance(meta, str) else meta).get("servers") or []
        if not servers:
            raise ValueError(f"collection {self.collection!r}: the spec declares no servers URL; set executor.base_url")
        return servers[0].rstrip("/")

    def _secret(self) -> str | None:
        c = self.config
        return (os.environ.get(c.auth_env) or (MOCK_CREDENTIAL if c.mock is not None else None)) if c.auth_env else None

    def _credential(self, query: dict, headers: dict) -> None:
        c = self.config
        if not c.auth_env:
            return
        secret = self._secret()
        if secret is None:
            raise PermissionError(f"the credential variable {c.auth_env} is not set")
        if c.auth_query:
            query[c.auth_query] = secret
        elif c.auth_header:
            headers[c.auth_header] = f"{c.auth_scheme} {secret}".strip() if c.auth_scheme else secret

    async def call(self, tool: dict, arguments: dict, episode) -> Observation:
        obs = await self._call(tool, arguments)
        secret = self._secret()
        if (
            secret and not obs.ok and secret in (obs.error or "")
        ):  # an error that quotes the request never carries the key
            msg = obs.content["error"]["message"].replace(secret, "[credential]")
            obs = error_observation(obs.content["error"]["status"], msg)
        return obs

    async def _call(self, tool: dict, arguments: dict) -> Observation:
        method, path, query, headers, body = request_parts(tool, arguments)
        try:
            base = await asyncio.to_thread(self.base_url, tool)
            headers = {**self.config.headers, **headers}
            self._credential(query, headers)
        except (OSError, ValueError, RuntimeError, TimeoutError) as e:
            return error_observation(503, f"{type(e).__name__}: {e}"[:500])
        timeout = aiohttp.ClientTimeout(total=self.config.timeout_s)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                kwargs = {"json": body} if body is not None and method not in ("GET", "HEAD") else {}
                async with session.request(method, base + path, params=query, headers=headers, **kwargs) as resp:
                    raw = await resp.content.read(self.config.max_response_bytes + 1)
                    status, ctype = resp.status, resp.headers.get("Content-Type", "")
        except asyncio.TimeoutError:
            return error_observation(504, f"{method} {path}: no answer in {self.config.timeout_s:.0f} s")
        except aiohttp.ClientError as e:
            return error_observation(502, f"{method} {path}: {type(e).__name__}: {e}"[:500])
        if len(raw) > self.config.max_response_bytes:
            return error_observation(
                502, f"{method} {path}: response larger than {self.config.max_response_bytes} bytes"
            )
        text = raw.decode("utf-8", errors="replace")
        try:
            content = (
                json.loads(text) if text.strip() and ("json" in ctype or text.lstrip()[:1] in "{[") else {"text": text}
            )
        except json.JSONDecodeError:
            content = {"text": text}
        if status >= 400:
            message = (
                content.get("status_message") or content.get("message") or content.get("error")
                if isinstance(content, dict)
                else None
            )
            return error_observation(status, str(message or text or f"HTTP {status}")[:1000])
        return Observation(True, content)

    def close(self) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
