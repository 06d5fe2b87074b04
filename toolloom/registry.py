"""One registry per extension point; built-ins and plug-ins register through the same path.

A component is named in YAML by its registered name or by `module:attr`. Installed packages add
components through the entry-point group `toolloom.plugins`: each entry point is a callable that
is given the registries by name (`plugin(registries)`) and registers what it brings (not under the
test suite, which sets `sys._called_from_test`: an installed plug-in must not change what the tests
see; `toolloom plugins` lists what is installed and what each one adds). Built-ins
register when their module is imported; a registry imports that module the first time it is
asked, so the spec can check names without importing the stages (no import cycle).
"""

from __future__ import annotations

import difflib
import importlib
import sys
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

T = TypeVar("T")
ENTRY_POINT_GROUP = "toolloom.plugins"
_REGISTRIES: dict[str, "Registry"] = {}
_plugins_loaded = False
PLUGINS: dict[str, dict] = {}  # entry point name -> {"value", "distribution", "adds": {kind: [names]}}


class Registry(Generic[T]):
    def __init__(self, kind: str, builtins: str):
        self.kind = kind
        self.builtins = builtins  # the module whose import registers the built-in components
        self._items: dict[str, T] = {}
        self._origins: dict[str, str] = {}  # name -> "entry point NAME (VALUE)"
        self._builtin: set[str] = set()  # the names registered by the built-ins' modules
        _REGISTRIES[kind] = self

    def _load(self) -> None:
        importlib.import_module(self.builtins)
        load_plugins()

    def register(self, name: str, item: T) -> T:
        self._items[name] = item
        return item

    def setdefault(self, name: str, item: T) -> T:
        """The component registered as `name`, registering `item` first when there is none."""
        return self._items.setdefault(name, item)

    def origin(self, name: str) -> str:
        """Where the component `name` comes from: "built-in", "entry point NAME (VALUE)", "registered in code"
        (a `register` call of the project's own) or "import path" (a `module:attr`)."""
        self._load()
        if name in self._origins:
            return self._origins[name]
        if name in self._builtin:
            return "built-in"
        return "registered in code" if name in self._items else "import path" if ":" in name else "unknown"

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def items(self) -> dict[str, T]:
        """Every registered component, in registration order (built-ins first)."""
        self._load()
        return dict(self._items)

    def check(self, name: str, extra: tuple[str, ...] = ()) -> str:
        """`name` when it is registered (or in `extra`, or a `module:attr`); else a ValueError listing the names."""
        if name in extra:
            return name
        if ":" in name:  # imported now: a typo fails when the file is loaded, not when its stage runs
            self.get(name)
            return name
        if name not in self.items():
            known = sorted([*extra, *self.names()])
            close = difflib.get_close_matches(name, known, n=1)
            raise ValueError(
                f"unknown {self.kind} {name!r}{f' (did you mean {close[0]!r}?)' if close else ''}; "
                f"known: {', '.join(known)} (or module:attr)"
            )
        return name

    def get(self, name: str) -> T:
        """The component registered as `name`, or the object at `module:attr`; a clear error otherwise."""
        self._load()
        if name in self._items:
            return self._items[name]
        if ":" in name:
            module, _, attr = name.partition(":")
            try:
                return getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as e:
                raise ValueError(f"{self.kind} {name!r} cannot be imported ({e})") from None
        close = difflib.get_close_matches(name, self.names(), n=1)
        raise ValueError(
            f"unknown {self.kind} {name!r}{f' (did you mean {close[0]!r}?)' if close else ''}; "
            f"known: {', '.join(self.names())} (or module:attr)"
        )


def registries() -> dict[str, Any]:
    return dict(_REGISTRIES)


# every extension point, with the module that registers its built-ins
INGEST_FORMATS: Registry = Registry("ingest format", "toolloom.ingest.collection")
EXECUTORS: Registry = Registry("executor", "toolloom.executors")
PROVIDERS: Registry[dict] = Registry("model provider", "toolloom.agents")  # provider -> {role: factory(ctx)}
FILTER_CHECKS: Registry = Registry("filter check", "toolloom.stages.samples")
EXPORT_FORMATS: Registry = Registry("export format", "toolloom.formats")
ESCALATION_OPERATORS: Registry = Registry("escalation operator", "toolloom.graph.escalation")
STAGES: Registry = Registry("stage", "toolloom.stages.catalog")  # table -> StageAsset


def load_plugins() -> None:
    """Run every `toolloom.plugins` entry point once; a broken plug-in fails loudly with its name."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for reg in list(_REGISTRIES.values()):  # built-ins first: detection tries plug-in formats after them
        importlib.import_module(reg.builtins)
    for reg in _REGISTRIES.values():
        reg._builtin = set(reg._items)
    if getattr(sys, "_called_from_test", False):
        return
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        before = {kind: set(reg._items) for kind, reg in _REGISTRIES.items()}
        try:
            ep.load()(registries())
        except Exception as e:
            raise RuntimeError(f"toolloom plug-in {ep.name!r} ({ep.value}) failed to load: {e}") from e
        adds = {kind: sorted(set(reg._items) - before[kind]) for kind, reg in _REGISTRIES.items()}
        for kind, names in adds.items():
            _REGISTRIES[kind]._origins.update({n: f"entry point {ep.name} ({ep.value})" for n in names})
        PLUGINS[ep.name] = {
            "value": ep.value,
            "distribution": ep.dist.name if ep.dist else None,
            "adds": {kind: names for kind, names in adds.items() if names},
        }


def installed_plugins() -> dict[str, dict]:
    """The plug-ins loaded from entry points, each with the components it registered, by extension point."""
    load_plugins()
    return dict(PLUGINS)
