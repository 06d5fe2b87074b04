"""How tool code declares itself, and how a collection's tool modules are found and imported."""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Callable

_PENDING: list[tuple[str, str, Callable]] = []
_PKG = "_toolloom_sandbox"


class ToolError(Exception):
    """Raised by tool code for an API-level error (bad input, not found, conflict)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def tool(name: str, *, stateful: bool = False):
    """Register a function as the implementation of tool `name` of its collection.

    A stateful tool takes a keyword argument `state`: a JSON-serialisable dict that lives for one
    episode (a fresh one per episode), so a shop's cart and orders never leak between episodes.
    """

    def register(fn: Callable) -> Callable:
        fn.__toolloom_stateful__ = stateful
        _PENDING.append((fn.__module__, name, fn))
        return fn

    return register


def load_collection(root: Path, collection: str) -> dict[str, Callable]:
    """Import `root/<collection>/` as a package and return its registered tools by name."""
    folder = Path(root) / collection
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
