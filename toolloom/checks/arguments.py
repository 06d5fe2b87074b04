"""JSON Schema checks of tool-call arguments, worded as a real API would answer."""

from __future__ import annotations

import json
from functools import lru_cache

from jsonschema import Draft7Validator, FormatChecker


@lru_cache(maxsize=4096)
def _validator(schema_json: str) -> Draft7Validator:
    return Draft7Validator(json.loads(schema_json), format_checker=FormatChecker())


def argument_errors(schema: dict | str, arguments: object) -> list[str]:
    """Human-readable problems of `arguments` against a tool's parameter schema (empty when valid)."""
    if not isinstance(arguments, dict):
        return [f"arguments must be a JSON object, got {type(arguments).__name__}"]
    return schema_errors(schema, arguments)


def schema_errors(schema: dict | str, value: object) -> list[str]:
    """Problems of any JSON value against a JSON Schema, each prefixed by where it is."""
    schema_json = schema if isinstance(schema, str) else json.dumps(schema, sort_keys=True)
    errors = []
    for e in sorted(_validator(schema_json).iter_errors(value), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in e.path)
        errors.append(f"{where}: {e.message}" if where else e.message)
    return errors


def parse_arguments(raw: str | dict | None) -> tuple[dict | None, str | None]:
    """Tool-call arguments arrive as a JSON string; returns (value, error)."""
    if isinstance(raw, dict):
        return raw, None
    if raw in (None, ""):
        return {}, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        return None, f"arguments are not valid JSON ({e.msg} at character {e.pos})"
    if not isinstance(value, dict):
        return None, f"arguments must be a JSON object, got {type(value).__name__}"
    return value, None
