"""`python`: tool code in `sandbox/<collection>/`, run in the sandbox's worker processes."""

from __future__ import annotations

import asyncio

from ..domain import Tool
from ..sandbox import Observation, Sandbox
from .base import ExecutorConfig


class PythonConfig(ExecutorConfig):
    """Tools implemented in `sandbox/<collection>/` run there; the others are simulated."""

    kind: str = "python"


class PythonExecutor:
    kind = "python"

    def __init__(self, sandbox: Sandbox, collection: str):
        self.sandbox, self.collection = sandbox, collection

    def runs(self, tool_name: str) -> bool:
        return self.sandbox.is_executable(self.collection, tool_name)

    async def call(self, tool: Tool, arguments: dict, episode) -> Observation:
        state = episode.state.get(self.collection, {})
        obs = await asyncio.to_thread(self.sandbox.execute, self.collection, tool["name"], arguments, None, state)
        episode.state[self.collection] = obs.state
        return obs

    def close(self) -> None:  # the sandbox is the runtime's and closes with it
        pass
