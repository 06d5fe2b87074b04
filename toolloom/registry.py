"""One registry per extension point; built-ins and plug-ins register through the same path.

A component is named in YAML by its registered name or by `module:attr`. Installed packages add
components through the entry-point group `toolloom.plugins`: each entry point is a callable that
is given the registries by name (`plugin(registries)`) and registers what it brings.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

T = TypeVar("T")
ENTRY_POINT_GROUP = "toolloom.plugins"
_REGISTRIES: dict[str, "Registry"] = {}
_plugins_loaded = False


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        _REGISTRIES[kind] = self

    def register(self, name: str, item: T) -> T:
        self._items[name] = item
        return item

    def setdefault(self, name: str, item: T) -> T:
        """The component registered as `name`, registering `item` first when there is none."""
        return self._items.setdefault(name, item)

    def names(self) -> list[str]:
        load_plugins()
        return sorted(self._items)

    def items(self) -> dict[str, T]:
        """Every registered component, in registration order (built-ins first)."""
        load_plugins()
        return dict(self._items)

    def check(self, name: str, extra: tuple[str, ...] = ()) -> str:
        """`name` when it is registered (or in `extra`, or a `module:attr`); else a ValueError listing the names."""
        if name in extra or ":" in name:
            return name
        if name not in self.items():
            raise ValueError(
                f"unknown {self.kind} {name!r}; known: {', '.join(sorted([*extra, *self.names()]))} (or module:attr)"
            )
        return name

    def get(self, name: str) -> T:
        """The component registered as `name`, or the object at `module:attr`; a clear error otherwise."""
        load_plugins()
        if name in self._items:
            return self._items[name]
        if ":" in name:
            module, _, attr = name.partition(":")
            try:
                return getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as e:
                raise ValueError(f"{self.kind} {name!r} cannot be imported ({e})") from None
        raise ValueError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())} (or module:attr)")


def registries() -> dict[str, Any]:
    return dict(_REGISTRIES)


def load_plugins() -> None:
    """Run every `toolloom.plugins` entry point once; a broken plug-in fails loudly with its name."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()(registries())
        except Exception as e:
            raise RuntimeError(f"toolloom plug-in {ep.name!r} ({ep.value}) failed to load: {e}") from e
