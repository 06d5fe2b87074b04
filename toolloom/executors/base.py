"""What every executor is (DESIGN 8): `call(tool, arguments, episode) -> Observation`.

An executor runs the tools of one collection. `runs(name)` says whether it really runs a tool;
tools it cannot run are simulated, and every example records which happened (`execution`).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from ..domain import Tool
from ..registry import EXECUTORS
from ..sandbox import Observation


class ExecutorConfig(BaseModel):
    """The `executor:` of a collection in the pipeline YAML; `kind` names a registered executor."""

    model_config = ConfigDict(extra="forbid")
    kind: str
    lists_tools: ClassVar[bool] = False  # True: the collection's tools come from the live executor (no `path` needed)

    def preflight(self, project_root: Path) -> None:
        """Before any stage: raise FileNotFoundError or ValueError naming what the run could not start."""


class Executor(Protocol):
    kind: str  # what examples record as `execution`: python, mcp, http, simulated, or a plug-in's name
    answers: str  # optional, default "real": who answers its calls (real, or mock for a mock server)

    def runs(self, tool_name: str) -> bool: ...

    async def call(self, tool: Tool, arguments: dict, episode) -> Observation: ...

    def close(self) -> None: ...


def find_command(command: str, project_root: Path) -> str:
    """An executable on PATH, else in the project's node_modules/.bin (npm), else beside this Python (pip)."""
    for path in (None, str(Path(project_root) / "node_modules" / ".bin"), str(Path(sys.executable).parent)):
        found = shutil.which(command, path=path)
        if found:
            return found
    raise FileNotFoundError(
        f"command {command!r} is not on PATH, in {Path(project_root) / 'node_modules/.bin'} (npm install) "
        f"nor beside {sys.executable} (pip install)"
    )


@dataclass(frozen=True)
class ExecutorPlugin:
    config: type[ExecutorConfig]
    build: Callable  # (config, collection: spec.Collection, ctx: Runtime) -> Executor


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
