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
import sys
import tempfile
import threading
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from ..sandbox import Observation, error_observation
from .base import ExecutorConfig


class McpConfig(ExecutorConfig):
    kind: str = "mcp"
    lists_tools: ClassVar[bool] = True
    command: str = Field(description="the server executable (looked up on PATH, then beside this Python)")
    args: list[str] = Field([], description="arguments; {workdir} is the server's private working folder")
    env: list[str] = Field([], description="names of environment variables the server may see (values are never stored)")
    fixtures: str | None = Field(None, description="a folder (relative to the project) copied into {workdir} for every server start")
    lifetime: Literal["episode", "run"] = Field("episode", description="episode: a fresh server per episode; run: one shared server")
    tools: list[str] | None = Field(None, description="the server's tools to use; all when unset")
    network: bool = Field(False, description="whether the server may reach the network")
    memory_mb: int = Field(1024, ge=64)
    timeout_s: float = Field(30.0, gt=0, description="per call")
    startup_timeout_s: float = Field(60.0, gt=0)


def resolve_command(command: str) -> str:
    found = shutil.which(command) or shutil.which(command, path=str(Path(sys.executable).parent))
    if not found:
        raise FileNotFoundError(f"MCP server command {command!r} is not on PATH nor beside {sys.executable}")
    return found


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
        self.config = config
        self.workdir = tempfile.mkdtemp(prefix="toolloom-mcp-")
        if config.fixtures:
            shutil.copytree(project_root / config.fixtures, self.workdir, dirs_exist_ok=True)
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
            self.stop()
            raise RuntimeError(f"MCP server {config.command!r} failed to start: {self._error}") from self._error

    def _params(self):
        from mcp import StdioServerParameters

        c = self.config
        fill = lambda s: s.replace("{workdir}", self.workdir)  # noqa: E731
        confine = [sys.executable, "-m", "toolloom.executors.confine", "--memory-mb", str(c.memory_mb)]
        confine += [] if c.network else ["--no-network"]
        env = {k: os.environ[k] for k in c.env if k in os.environ}
        env.update({"HOME": self.workdir, "TMPDIR": self.workdir, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
        return StdioServerParameters(command=confine[0], args=[*confine[1:], "--", resolve_command(c.command), *map(fill, c.args)],
                                     env=env, cwd=self.workdir)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        from mcp import ClientSession
        from mcp.client.stdio import stdio_client

        self._stop = asyncio.Event()
        try:
            with open(os.devnull, "w") as quiet:
                async with stdio_client(self._params(), errlog=quiet) as (read, write):
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
            raise RuntimeError(f"MCP server {self.config.command!r} is not running ({self._error or 'stopped'})")
        return asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, timeout), self.loop).result(timeout + 5)

    def list_tools(self) -> list[dict]:
        tools = self._run(self.session.list_tools(), self.config.timeout_s).tools
        return [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools]

    def call(self, name: str, arguments: dict) -> dict:
        result = self._run(self.session.call_tool(name, arguments), self.config.timeout_s)
        return result.model_dump(by_alias=True, exclude_none=True, mode="json")

    def stop(self) -> None:
        if self._stop is not None and self.loop.is_running():
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(15)
        if not self.thread.is_alive():
            self.loop.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


class McpExecutor:
    kind = "mcp"

    def __init__(self, config: McpConfig, collection: str, project_root: Path):
        self.config, self.collection, self.project_root = config, collection, Path(project_root)
        self._shared: McpServer | None = None
        self._lock = threading.Lock()
        self._names: set[str] | None = None
        self._live: set[McpServer] = set()

    def _start(self) -> McpServer:
        server = McpServer(self.config, self.project_root)
        self._live.add(server)
        return server

    def _stop(self, server: McpServer) -> None:
        self._live.discard(server)
        server.stop()

    def list_tools(self) -> list[dict]:
        """The live `tools/list`, limited to `tools:` when set (an unknown name there is an error)."""
        server = self._start()
        try:
            tools = server.list_tools()
        finally:
            self._stop(server)
        if self.config.tools is not None:
            missing = sorted(set(self.config.tools) - {t["name"] for t in tools})
            if missing:
                raise ValueError(f"collection {self.collection!r}: the MCP server has no tool {missing}; it has "
                                 f"{sorted(t['name'] for t in tools)}")
            tools = [t for t in tools if t["name"] in self.config.tools]
        self._names = {t["name"] for t in tools}
        return tools

    def runs(self, tool_name: str) -> bool:
        if self._names is None:
            self.list_tools()
        return tool_name in self._names

    def _server_for(self, episode) -> McpServer:
        with self._lock:
            if self.config.lifetime == "run":
                if self._shared is None or self._shared.session is None:
                    self._shared = self._start()
                return self._shared
            key = ("mcp", self.collection)
            if key not in episode.resources:
                server = self._start()
                episode.resources[key] = server
                episode.on_close(lambda: self._stop(server))
            return episode.resources[key]

    async def call(self, tool: dict, arguments: dict, episode) -> Observation:
        meta = tool.get("meta") or {}
        meta = json.loads(meta) if isinstance(meta, str) else meta
        name = meta.get("mcp_name") or tool["name"]
        try:
            server = await asyncio.to_thread(self._server_for, episode)
            result = await asyncio.to_thread(server.call, name, arguments)
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
        for server in list(self._live):
            self._stop(server)
        self._shared = None
