"""Executable tools: discovery of `sandbox/<collection>/` implementations and their execution.

Calls are checked against the tool's JSON Schema first, and every failure becomes an error
observation (status + message), as a real API would answer; a tool never crashes the pipeline.
Process isolation with resource limits is tracked separately (DESIGN section 8); calls here run
in the pipeline process.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .arguments import argument_errors

_PENDING: list[tuple[str, str, Callable]] = []
_PKG = "_toolloom_sandbox"


class ToolError(Exception):
    """Raised by tool code for an API-level error (bad input, not found)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def tool(name: str):
    """Register a function as the implementation of the tool `name` of its collection."""

    def register(fn: Callable) -> Callable:
        _PENDING.append((fn.__module__, name, fn))
        return fn

    return register


@dataclass(frozen=True)
class Observation:
    ok: bool
    content: Any  # the JSON result, or {"error": {"status", "message"}}
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps(self.content, ensure_ascii=False, sort_keys=True)


def error_observation(status: int, message: str) -> Observation:
    return Observation(False, {"error": {"status": status, "message": message}}, f"{status}: {message}")


class Sandbox:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._impls: dict[str, dict[str, Callable]] = {}

    def implementations(self, collection: str) -> dict[str, Callable]:
        if collection not in self._impls:
            self._impls[collection] = self._discover(collection)
        return self._impls[collection]

    def _discover(self, collection: str) -> dict[str, Callable]:
        folder = self.root / collection
        if not (folder / "__init__.py").exists():
            return {}
        if _PKG not in sys.modules:
            parent = types.ModuleType(_PKG)
            parent.__path__ = []
            sys.modules[_PKG] = parent
        pkg_name = f"{_PKG}.{collection}"
        if pkg_name not in sys.modules:
            spec = importlib.util.spec_from_file_location(pkg_name, folder / "__init__.py", submodule_search_locations=[str(folder)])
            module = importlib.util.module_from_spec(spec)
            sys.modules[pkg_name] = module
            spec.loader.exec_module(module)
        for path in sorted(folder.glob("*.py")):
            if not path.stem.startswith("_"):
                importlib.import_module(f"{pkg_name}.{path.stem}")
        return {name: fn for mod, name, fn in _PENDING if mod.startswith(pkg_name + ".")}

    def is_executable(self, collection: str, name: str) -> bool:
        return name in self.implementations(collection)

    def execute(self, collection: str, name: str, arguments: dict, parameters: dict | str) -> Observation:
        fn = self.implementations(collection).get(name)
        if fn is None:
            return error_observation(404, f"no executable implementation of tool '{name}'")
        problems = argument_errors(parameters, arguments)
        if problems:
            return error_observation(400, "invalid arguments: " + "; ".join(problems))
        accepted = set(inspect.signature(fn).parameters)
        unknown = sorted(set(arguments) - accepted)
        if unknown:
            return error_observation(400, f"unknown argument(s): {', '.join(unknown)}")
        try:
            return Observation(True, fn(**arguments))
        except ToolError as e:
            return error_observation(e.status, e.message)
        except Exception as e:  # tool bugs are observations too, never a crashed pipeline
            return error_observation(500, f"internal error: {type(e).__name__}: {e}")
