"""Executors (DESIGN 8): how a collection's tool calls are answered, one plug-in per kind.

Each registered executor is an `ExecutorPlugin`: the config model of its `executor:` block in the
pipeline YAML and a factory `build(config, collection, ctx) -> Executor`. Built-ins register here,
through the same registry a plug-in package uses (`toolloom.registry`, entry points
`toolloom.plugins`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pydantic import ValidationError

from ..registry import Registry
from .base import Executor, ExecutorConfig
from .http import HttpConfig
from .mcp import McpConfig
from .python import PythonConfig
from .simulated import SimulatedConfig


@dataclass(frozen=True)
class ExecutorPlugin:
    config: type[ExecutorConfig]
    build: Callable  # (config, collection: spec.Collection, ctx: Runtime) -> Executor


EXECUTORS: Registry[ExecutorPlugin] = Registry("executor")


def _python(config, collection, ctx):
    from .python import PythonExecutor

    return PythonExecutor(ctx.sandbox, collection.name)


def _simulated(config, collection, ctx):
    from .simulated import SimulatedExecutor

    return SimulatedExecutor()


def _mcp(config, collection, ctx):
    from .mcp import McpExecutor

    return McpExecutor(config, collection.name, ctx.project_root)


def _http(config, collection, ctx):
    from .http import HttpExecutor

    spec = (ctx.project_root / collection.path).resolve() if collection.path else None
    return HttpExecutor(config, collection.name, spec, ctx.project_root, ctx.home)


EXECUTORS.register("python", ExecutorPlugin(PythonConfig, _python))
EXECUTORS.register("simulated", ExecutorPlugin(SimulatedConfig, _simulated))
EXECUTORS.register("mcp", ExecutorPlugin(McpConfig, _mcp))
EXECUTORS.register("http", ExecutorPlugin(HttpConfig, _http))


def executor_config(value) -> ExecutorConfig:
    """A collection's `executor:` (a name, or a mapping with `kind`) as its registered config model."""
    if isinstance(value, ExecutorConfig):
        return value
    if isinstance(value, str):
        value = {"kind": value}
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
        raise ValueError(f"executor must be a name or a mapping with `kind` (one of {', '.join(EXECUTORS.names())})")
    plugin = EXECUTORS.get(value["kind"])
    try:
        return plugin.config.model_validate(value)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, x['loc'])) or 'executor'}: {x['msg']}" for x in e.errors())
        raise ValueError(f"{value['kind']} executor: {problems}") from None


def build_executor(config: ExecutorConfig, collection, ctx) -> Executor:
    return EXECUTORS.get(config.kind).build(config, collection, ctx)


__all__ = ["EXECUTORS", "Executor", "ExecutorConfig", "ExecutorPlugin", "build_executor", "executor_config"]
