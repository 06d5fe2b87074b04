"""The tool executor agent: the sandbox for executable tools, schema-driven responses for the rest.

The offline simulator answers with JSON that fits the tool's response schema, derived from a hash
of the call so the same call always gets the same answer (within an episode and across runs), and
with an API-style error for arguments that break the parameter schema.
"""
from __future__ import annotations

import hashlib
import json
import random

from .arguments import argument_errors
from .sandbox import Observation, Sandbox, error_observation


def _fake_value(schema: dict | None, rng: random.Random, name: str = "value", depth: int = 0):
    schema = schema or {}
    if "enum" in schema and schema["enum"]:
        return rng.choice(schema["enum"])
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), None)
    if typ == "object" or (typ is None and "properties" in schema):
        if depth > 4:
            return {}
        return {k: _fake_value(v, rng, k, depth + 1) for k, v in (schema.get("properties") or {}).items()}
    if typ == "array":
        return [_fake_value(schema.get("items"), rng, name, depth + 1) for _ in range(rng.randint(1, 3))] if depth <= 4 else []
    if typ == "integer":
        return rng.randint(1, 1000)
    if typ == "number":
        return round(rng.uniform(1, 1000), 2)
    if typ == "boolean":
        return rng.random() < 0.5
    if name.endswith("id"):
        return f"{name}_{rng.randint(1000, 9999)}"
    return f"{name} {rng.randint(1, 99)}"


class ToolExecutor:
    def __init__(self, sandbox: Sandbox, tools: list[dict]):
        """`tools`: rows of the tools table (dicts with collection, name, parameters, returns, executable)."""
        self.sandbox = sandbox
        self.by_name = {t["name"]: t for t in tools}

    def execute(self, name: str, arguments: dict) -> Observation:
        tool = self.by_name.get(name)
        if tool is None:
            return error_observation(404, f"unknown tool '{name}'")
        params = json.loads(tool["parameters"]) if isinstance(tool["parameters"], str) else tool["parameters"]
        if tool.get("executable"):
            return self.sandbox.execute(tool["collection"], name, arguments, params)
        problems = argument_errors(params, arguments)
        if problems:
            return error_observation(400, "invalid arguments: " + "; ".join(problems))
        returns = json.loads(tool["returns"]) if isinstance(tool.get("returns"), str) else tool.get("returns")
        seed = hashlib.sha256(json.dumps([name, arguments], sort_keys=True).encode()).digest()
        return Observation(True, _fake_value(returns or {"type": "object", "properties": {"result": {"type": "string"}}},
                                             random.Random(seed)))
