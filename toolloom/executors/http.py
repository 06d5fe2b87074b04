"""`http`: OpenAPI / Swagger operations sent to a real HTTP service.

The base URL is the collection's `base_url` (may hold ${VAR}), else the spec's first `servers`
URL. A credential comes from the environment variable `auth_env` names, at call time; it is sent
as a header or a query parameter and never stored. `mock:` starts a mock server over the spec
itself (Stoplight Prism by default: `prism mock SPEC`), waits until it answers, and stops it with
the run, so a collection can be executed offline against what its spec promises (its answers are
`mock`, verifying nothing). `service:` starts the real service instead (Jupyter Server for its own
Swagger spec), a fresh one per episode by default, with a credential made for the run when
`auth_env`'s variable is unset: its answers are `real`.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import threading
from pathlib import Path
from urllib.parse import quote

import aiohttp
from pydantic import Field, model_validator
from yarl import URL

from ..domain import Tool
from ..llm.model_spec import expand_env
from ..sandbox import Observation, error_observation
from .base import ExecutorConfig, find_command
from .local_service import LocalProcess, MockServer, ServiceConfig
from .server_pool import EpisodeServers

MAX_REDIRECTS = 5
MOCK_CREDENTIAL = (
    "toolloom-mock-credential"  # what a mock server is shown when auth_env is unset (it checks presence only)
)


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
    service: ServiceConfig | None = Field(None, description="a real service started by the run (Jupyter Server)")

    @model_validator(mode="after")
    def _one_server(self):
        if self.mock is not None and self.service is not None:
            raise ValueError("mock: and service: exclude each other (a mock answers instead of the service)")
        if self.service is not None and self.base_url:
            raise ValueError("service: runs on its own loopback port; leave base_url unset")
        return self

    def preflight(self, project_root: Path) -> None:
        server = self.service or self.mock
        if server is not None:
            find_command(server.command[0], project_root)


def request_parts(tool: Tool, arguments: dict) -> tuple[str, str, dict, dict, object]:
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
        self._mock: LocalProcess | None = None
        self._lock = threading.Lock()
        # a service the run starts itself gets a credential made for this run when auth_env's variable is unset
        self._run_credential = secrets.token_urlsafe(24) if config.service is not None else None
        self.services = None
        if config.service is not None:
            svc = config.service
            self.services = EpisodeServers(
                self._start_service,
                LocalProcess.stop,
                lifetime=svc.lifetime,
                prestart=svc.prestart,
                key=("http", collection),
            )

    @property
    def answers(self) -> str:
        """A mock server answers from the spec's examples, whatever is asked: its calls verify nothing."""
        return "mock" if self.config.mock is not None else "real"

    def runs(self, tool_name: str) -> bool:
        return True

    def _start_service(self) -> LocalProcess:
        svc = self.config.service
        return LocalProcess(
            svc.command,
            svc.args,
            project_root=self.project_root,
            log_dir=self.home / "logs",
            name=f"service-{self.collection}",
            env=svc.env,
            fixtures=svc.fixtures,
            spec=self.spec_path,
            credential=self._secret(),
            startup_timeout_s=svc.startup_timeout_s,
        )

    def base_url(self, tool: Tool, episode=None) -> str:
        if self.services is not None:
            server = self.services.for_episode(episode) if episode is not None else self.services.shared()
            return server.base_url
        if self.config.mock is not None:
            with self._lock:
                if self._mock is None:
                    if self.spec_path is None or not self.spec_path.is_file():
                        raise FileNotFoundError(
                            f"collection {self.collection!r}: mock: needs the collection's path to be one spec file"
                        )
                    m = self.config.mock
                    self._mock = LocalProcess(
                        m.command,
                        m.args,
                        project_root=self.project_root,
                        name="mock",
                        log_dir=self.home / "logs",
                        spec=self.spec_path,
                        startup_timeout_s=m.startup_timeout_s,
                    )
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
        if not c.auth_env:
            return None
        fallback = MOCK_CREDENTIAL if c.mock is not None else self._run_credential
        return os.environ.get(c.auth_env) or fallback

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

    async def call(self, tool: Tool, arguments: dict, episode) -> Observation:
        obs = await self._call(tool, arguments, episode)
        secret = self._secret()
        if (
            secret and not obs.ok and secret in (obs.error or "")
        ):  # an error that quotes the request never carries the key
            msg = obs.content["error"]["message"].replace(secret, "[credential]")
            obs = error_observation(obs.content["error"]["status"], msg)
        return obs

    async def _call(self, tool: Tool, arguments: dict, episode) -> Observation:
        method, path, query, headers, body = request_parts(tool, arguments)
        try:
            base = await asyncio.to_thread(self.base_url, tool, episode)
            url = URL(base + path)
            if url.origin() != URL(base).origin() or url.user is not None:
                return error_observation(400, f"{method} {path}: the path would leave {URL(base).origin()}; refused")
            plain = {**self.config.headers, **headers}  # what goes to any host: no credential
            secret_query, secret_headers = {}, dict(plain)
            self._credential(secret_query, secret_headers)
        except (OSError, ValueError, RuntimeError, TimeoutError) as e:
            return error_observation(503, f"{type(e).__name__}: {e}"[:500])
        timeout = aiohttp.ClientTimeout(total=self.config.timeout_s)
        origin = url.origin()
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                params = {**query, **secret_query}
                for _ in range(MAX_REDIRECTS + 1):
                    # credentials go to the configured origin only; a redirect elsewhere is followed without them
                    mine = url.origin() == origin
                    kwargs = {"json": body} if body is not None and method not in ("GET", "HEAD") else {}
                    async with session.request(
                        method,
                        url,
                        params=params,
                        headers=secret_headers if mine else plain,
                        allow_redirects=False,
                        **kwargs,
                    ) as resp:
                        location = resp.headers.get("Location") if resp.status in (301, 302, 303, 307, 308) else None
                        if location is None:
                            raw = await resp.content.read(self.config.max_response_bytes + 1)
                            status, ctype = resp.status, resp.headers.get("Content-Type", "")
                            break
                    url = resp.url.join(URL(location))
                    params = secret_query if url.origin() == origin and self.config.auth_query else {}
                    if resp.status == 303 or resp.status in (301, 302) and method not in ("GET", "HEAD"):
                        method, body = "GET", None  # as browsers and HTTP clients do
                else:
                    return error_observation(502, f"{method} {path}: more than {MAX_REDIRECTS} redirects")
        except asyncio.TimeoutError:
            return error_observation(504, f"{method} {path}: no answer in {self.config.timeout_s:.0f} s")
        except (aiohttp.ClientError, ValueError) as e:  # aiohttp refuses some URLs with ValueError
            return error_observation(502, f"{method} {path}: {type(e).__name__}: {e}"[:500])
        return self._observation(method, path, status, ctype, raw)

    def _observation(self, method: str, path: str, status: int, ctype: str, raw: bytes) -> Observation:
        """The service's answer as an observation: JSON (or its text), an error with the service's message."""
        if len(raw) > self.config.max_response_bytes:
            return error_observation(
                502, f"{method} {path}: response larger than {self.config.max_response_bytes} bytes"
            )
        text = raw.decode("utf-8", errors="replace")
        if status < 400 and not text.strip():  # 204 No Content: done, nothing to report
            return Observation(True, {})
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
        if self.services is not None:
            self.services.close()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
