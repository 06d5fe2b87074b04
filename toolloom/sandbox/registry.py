"""How tool code declares itself: `@tool(name)` registers a function; the sandbox worker imports the
collection's modules (toolloom.sandbox.worker.Precompiled) and finds them here."""

from __future__ import annotations

from typing import Callable

REGISTERED: list[tuple[str, str, Callable]] = []  # (module, tool name, function), in import order


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
        REGISTERED.append((fn.__module__, name, fn))
        return fn

    return register
