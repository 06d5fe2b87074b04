"""`mcp`: tools of a real MCP server, started over stdio with the official `mcp` SDK.

The server is launched from the collection's config (command, args, the names of environment
variables it may see, a fixtures folder copied into a private working folder). With `lifetime:
episode` every episode gets its own server over fresh fixtures, so state never leaks between
episodes; `run` shares one server (for stateless servers). Each server runs on its own thread and
event loop, so callers on any loop or thread can use it. The launch goes through
`toolloom.executors.confine`: resource limits, its own session, and no network.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from ..domain import Tool
from ..sandbox import Observation, error_observation
from ..sandbox.cgroups import sandbox_group
from ..sandbox.confinement import TMP_BYTES, give_to_sandbox_user, sandbox_uid
from .base import ExecutorConfig, find_command
from .server_pool import EpisodeServers


class McpConfig(ExecutorConfig):
    kind: str = "mcp"
    lists_tools: ClassVar[bool] = True
    command: str = Field(description="the server executable (looked up on PATH, then beside this Python)")
    args: list[str] = Field(
        [], description="arguments; {workdir}: the server's private folder, {project}: the project root"
    )
    env: list[str] = Field(
        [], description="names of environment variables the server may see (values are never stored)"
    )
    set_env: dict[str, str] = Field({}, description="literal, non-secret variables for the server; {workdir} is filled")
    fixtures: str | None = Field(
        None, description="a folder (relative to the project) copied into {workdir} for every server start"
    )
    setup: list[list[str]] = Field(
        [], description="commands run in {workdir} before the server starts (e.g. git clone repo.bundle repo)"
    )
    fixed_arguments: dict[str, Any] = Field(
        {}, description="arguments the executor supplies (hidden from the tools' schemas)"
    )
    workspace: str = Field(
        "/tmp/toolloom-workspace", description="the path at which the server sees {workdir} (its own mount)"
    )
    lifetime: Literal["episode", "run"] = Field(
        "episode", description="episode: a fresh server per episode; run: one shared server"
    )
    tools: list[str] | None = Field(None, description="the server's tools to use; all when unset")
    network: bool = Field(False, description="whether the server may reach the network")
    prestart: int = Field(2, ge=0, description="lifetime episode: fresh servers kept started ahead of demand")
    memory_mb: int = Field(1024, ge=64)
    timeout_s: float = Field(30.0, gt=0, description="per call")
    startup_timeout_s: float = Field(60.0, gt=0)

    def preflight(self, project_root: Path) -> None:
        find_command(self.command, project_root)


def fill(value, workdir: str):
    """{workdir} in a string (or in the strings of a list or mapping) replaced by the folder."""
    if isinstance(value, str):
        return value.replace("{workdir}", workdir)
    if isinstance(value, list):
        return [fill(v, workdir) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, workdir) for k, v in value.items()}
    return value


def hide_fixed(tool: Tool, fixed: dict) -> dict:
    """A listed tool without the parameters the executor supplies itself."""
    schema = dict(tool.get("inputSchema") or {})
    if fixed and isinstance(schema.get("properties"), dict):
        schema["properties"] = {k: v for k, v in schema["properties"].items() if k not in fixed}
        schema["required"] = [r for r in schema.get("required") or [] if r not in fixed]
    return {**tool, "inputSchema": schema}


def _leaf(error: BaseException) -> str:
    """The first real error inside (nested) exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return f"{type(error).__name__}: {error}"


def result_content(result: dict):
    """An MCP CallToolResult as JSON: structured content, else the text parts (parsed when JSON)."""
    if result.get("structuredContent") is not None:
        return result["structuredContent"]
    texts = [c.get("text", "") for c in result.get("content") or [] if c.get("type") == "text"]
    text = "\n".join(texts)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return {"text": text}


class McpServer:
    """One running server and its client session, owned by a private thread and event loop."""

    def __init__(self, config: McpConfig, project_root: Path):
        self.config, self.project_root = config, project_root
        self.workdir = tempfile.mkdtemp(prefix="toolloom-mcp-")
        if config.fixtures:
            shutil.copytree(project_root / config.fixtures, self.workdir, dirs_exist_ok=True)
        for command in config.setup:
            done = subprocess.run(
                [fill(a, self.workdir) for a in command], cwd=self.workdir, capture_output=True, text=True, timeout=120
            )
            if done.returncode:
                shutil.rmtree(self.workdir, ignore_errors=True)
                raise RuntimeError(f"setup command {command} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        self.uid = sandbox_uid()
        # the server and all it forks share one memory budget (its /tmp included) and process count
        self.group = sandbox_group("mcp", config.memory_mb * 2**20 + TMP_BYTES, 1024)
        give_to_sandbox_user(Path(self.workdir), self.uid)  # the server runs as a user of its own, owning its folder
        self.stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # what it says when it fails
        # imported here, not first in the server's thread: CPython 3.11 can fail to compile a module in two
        # threads at once ("AST constructor recursion depth mismatch"), which pytest's rewriting of anyio's
        # plugin modules made happen in CI
        import mcp.client.stdio  # noqa: F401

        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.session = None
        self.thread = threading.Thread(target=self._main, name="toolloom-mcp", daemon=True)
        self.thread.start()
        if not self._ready.wait(config.startup_timeout_s):
            self.stop()
            raise TimeoutError(f"MCP server {config.command!r} did not start in {config.startup_timeout_s:.0f} s")
        if self._error is not None:
            why = f"{_leaf(self._error)}; its stderr ends: {self.stderr_tail()!r}"
            self.stop()
            raise RuntimeError(f"MCP server {config.command!r} failed to start: {why}") from None

    def _params(self):
        from mcp import StdioServerParameters

        c = self.config
        command = find_command(c.command, self.project_root)
        args = [fill(a, c.workspace).replace("{project}", str(self.project_root)) for a in c.args]
        # what the server may read besides /usr and the interpreter: its own executable's folder, node_modules,
        # and files its arguments name (a server script); never the rest of the project
        readable = [Path(command).resolve().parent, self.project_root / "node_modules"]
        readable += [Path(a) for a in args if a.startswith("/") and not a.startswith(c.workspace) and Path(a).exists()]
        confine = [
            sys.executable,
            "-m",
            "toolloom.executors.confine",
            "--memory-mb",
            str(c.memory_mb),
            "--uid",
            str(self.uid),
            *[x for p in (self.group.paths if self.group else []) for x in ("--cgroup", str(p))],
            "--bind",
            f"{self.workdir}:{c.workspace}",
            *[x for p in readable for x in ("--ro", str(p))],
        ]
        confine += ["--network"] if c.network else []
        env = {k: os.environ[k] for k in c.env if k in os.environ}
        env.update(fill(c.set_env, c.workspace))
        env.update(
            {
                "HOME": c.workspace,
                "TMPDIR": "/tmp",
                "PATH": "/usr/bin:/bin",
                "LANG": "C.UTF-8",
                "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            }
        )
        return StdioServerParameters(command=confine[0], args=[*confine[1:], "--", command, *args], env=env)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as e:  # reported at once, not after the start timeout
            self._error = self._error or e
            self._ready.set()

    async def _serve(self) -> None:
        from mcp import ClientSession
        from mcp.client.stdio import stdio_client

        self._stop = asyncio.Event()
        try:
            async with stdio_client(self._params(), errlog=self.stderr) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    self.session = session
                    self._ready.set()
                    await self._stop.wait()
        except BaseException as e:  # reported to the starter, or to the next caller
            self._error = e
        finally:
            self.session = None
            self._ready.set()

    def _run(self, coro, timeout: float):
        if self.session is None:
            why = _leaf(self._error) if self._error else "stopped"
            raise RuntimeError(
                f"MCP server {self.config.command!r} is not running ({why}; stderr: {self.stderr_tail(300)!r})"
            )
        return asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, timeout), self.loop).result(timeout + 5)

    def list_tools(self) -> list[dict]:
        tools = self._run(self.session.list_tools(), self.config.timeout_s).tools
        return [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools]

    def call(self, name: str, arguments: dict) -> dict:
        result = self._run(self.session.call_tool(name, arguments), self.config.timeout_s)
        return result.model_dump(by_alias=True, exclude_none=True, mode="json")

    def stderr_tail(self, limit: int = 600) -> str:
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()[-limit:].strip()

    def stop(self) -> None:
        if self._stop is not None and self.loop.is_running():
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(15)
        if not self.thread.is_alive():
            self.loop.close()
        self.stderr.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self.group is not None:
            self.group.close()  # kills what the server left behind
            self.group = None


class McpExecutor:
    kind = "mcp"

    def __init__(self, config: McpConfig, collection: str, project_root: Path):
        self.config, self.collection, self.project_root = config, collection, Path(project_root)
        self._names: set[str] | None = None
        self.servers = EpisodeServers(
            lambda: McpServer(self.config, self.project_root),
            McpServer.stop,
            lifetime=config.lifetime,
            prestart=config.prestart,
            key=("mcp", collection),
        )

    def list_tools(self) -> list[dict]:
        """The live `tools/list`, limited to `tools:` when set (an unknown name there is an error)."""
        server = self.servers.start()
        try:
            tools = server.list_tools()
        finally:
            self.servers.stop(server)
        if self.config.tools is not None:
            missing = sorted(set(self.config.tools) - {t["name"] for t in tools})
            if missing:
                raise ValueError(
                    f"collection {self.collection!r}: the MCP server has no tool {missing}; it has "
                    f"{sorted(t['name'] for t in tools)}"
                )
            tools = [t for t in tools if t["name"] in self.config.tools]
        self._names = {t["name"] for t in tools}
        return [hide_fixed(t, self.config.fixed_arguments) for t in tools]

    def runs(self, tool_name: str) -> bool:
        if self._names is None:
            self.list_tools()
        return tool_name in self._names

    def _server_for(self, episode) -> McpServer:
        if self.config.lifetime == "run":
            return self.servers.shared(lambda s: s.session is not None)
        return self.servers.for_episode(episode)

    async def call(self, tool: Tool, arguments: dict, episode) -> Observation:
        meta = tool.get("meta") or {}
        meta = json.loads(meta) if isinstance(meta, str) else meta
        name = meta.get("mcp_name") or tool["name"]
        try:
            server = await asyncio.to_thread(self._server_for, episode)
            full = {**arguments, **fill(self.config.fixed_arguments, self.config.workspace)}
            result = await asyncio.to_thread(server.call, name, full)
        except (TimeoutError, asyncio.TimeoutError):
            return error_observation(504, f"the MCP server did not answer {name} in {self.config.timeout_s:.0f} s")
        except Exception as e:  # a server that died or refused: an observation, never a crashed stage
            return error_observation(502, f"MCP server error: {type(e).__name__}: {e}"[:500])
        content = result_content(result)
        if result.get("isError"):
            text = content.get("text") if isinstance(content, dict) and "text" in content else json.dumps(content)
            return error_observation(400, str(text)[:2000])
        return Observation(True, content)

    def close(self) -> None:
        """Stop every server this executor started; when it returns, none is running."""
        self.servers.close()
