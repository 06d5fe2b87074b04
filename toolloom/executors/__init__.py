"""Executors (DESIGN 8): how a collection's tool calls are answered, one plug-in per kind.

Each registered executor is an `ExecutorPlugin`: the config model of its `executor:` block in the
pipeline YAML and a factory `build(config, collection, ctx) -> Executor`. Built-ins register here,
through the same registry a plug-in package uses (`toolloom.registry`, entry points
`toolloom.plugins`).
"""

from __future__ import annotations

from ..registry import EXECUTORS
from .base import Executor, ExecutorConfig, ExecutorPlugin, executor_config
from .http import HttpConfig, HttpExecutor
from .mcp import McpConfig, McpExecutor
from .python import PythonConfig, PythonExecutor
from .simulated import SimulatedConfig, SimulatedExecutor


def _python(config, collection, ctx):

    return PythonExecutor(ctx.sandbox, collection.name)


def _simulated(config, collection, ctx):

    return SimulatedExecutor()


def _mcp(config, collection, ctx):

    return McpExecutor(config, collection.name, ctx.project_root)


def _http(config, collection, ctx):

    spec = (ctx.project_root / collection.path).resolve() if collection.path else None
    return HttpExecutor(config, collection.name, spec, ctx.project_root, ctx.home)


EXECUTORS.register("python", ExecutorPlugin(PythonConfig, _python))
EXECUTORS.register("simulated", ExecutorPlugin(SimulatedConfig, _simulated))
EXECUTORS.register("mcp", ExecutorPlugin(McpConfig, _mcp))
EXECUTORS.register("http", ExecutorPlugin(HttpConfig, _http))


def build_executor(config: ExecutorConfig, collection, ctx) -> Executor:
    return EXECUTORS.get(config.kind).build(config, collection, ctx)


__all__ = ["EXECUTORS", "Executor", "ExecutorConfig", "ExecutorPlugin", "build_executor", "executor_config"]
