"""The tool executor agent: the sandbox for executable tools, a simulator for the rest (DESIGN 3.2).

An `Episode` carries what one conversation needs: the state of stateful tools (fresh per episode)
and the history of calls, so a repeated call gets the answer it got before.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import random
from typing import Protocol

from .arguments import argument_errors
from .sandbox import Observation, Sandbox, error_observation
from .llm import run_async


class Simulator(Protocol):
    name: str

    async def respond(self, tool: dict, arguments: dict, history: list[dict]) -> Observation: ...


def fake_value(schema: dict | None, rng: random.Random, name: str = "value", depth: int = 0):
    """A value that fits `schema`, drawn from `rng` (enum members, typed numbers, id-like strings)."""
    schema = schema or {}
    if schema.get("enum"):
        return rng.choice(schema["enum"])
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), None)
    if typ == "object" or (typ is None and "properties" in schema):
        props = schema.get("properties") or {}
        return {k: fake_value(v, rng, k, depth + 1) for k, v in props.items()} if depth <= 4 else {}
    if typ == "array":
        return [fake_value(schema.get("items"), rng, name, depth + 1) for _ in range(rng.randint(1, 3))] if depth <= 4 else []
    if typ == "integer":
        return rng.randint(schema.get("minimum", 1), max(schema.get("minimum", 1), schema.get("maximum", 1000)))
    if typ == "number":
        return round(rng.uniform(schema.get("minimum", 1), schema.get("maximum", 1000)), 2)
    if typ == "boolean":
        return rng.random() < 0.5
    if typ == "null":
        return None
    return f"{name}_{rng.randint(1000, 9999)}" if name.endswith("id") else f"{name} {rng.randint(1, 99)}"


class SchemaSimulator:
    """Offline: JSON fitting the response schema, seeded by the call, so equal calls agree."""

    name = "offline-schema-simulator"

    async def respond(self, tool: dict, arguments: dict, history: list[dict]) -> Observation:
        seed = hashlib.sha256(json.dumps([tool["name"], arguments], sort_keys=True).encode()).digest()
        returns = tool.get("returns") or {"type": "object", "properties": {"result": {"type": "string"}}}
        return Observation(True, fake_value(returns, random.Random(seed)))


def _loads(value):
    return json.loads(value) if isinstance(value, str) else value


class ToolExecutor:
    def __init__(self, sandbox: Sandbox, tools: list[dict], simulator: Simulator | None = None):
        """`tools`: rows of the tools table (collection, name, description, parameters, returns, executable)."""
        self.sandbox = sandbox
        self.simulator = simulator or SchemaSimulator()
        self.by_name = {t["name"]: {**t, "parameters": _loads(t["parameters"]), "returns": _loads(t.get("returns"))} for t in tools}

    def episode(self) -> "Episode":
        return Episode(self)

    def execute(self, name: str, arguments: dict) -> Observation:
        """One call in a fresh episode (for reference chains of one step and for tests)."""
        return run_async(self.episode().call(name, arguments))


class Episode:
    def __init__(self, executor: ToolExecutor):
        self.executor = executor
        self.state: dict[str, dict] = {}  # collection -> state of its stateful tools
        self.history: list[dict] = []

    async def call(self, name: str, arguments: dict, validate: bool = True) -> Observation:
        """`validate=False` lets an executable tool see arguments its schema forbids (exploration
        asks what the tool really does); a simulated tool only knows its schema, so it always checks."""
        tool = self.executor.by_name.get(name)
        if tool is None:
            return error_observation(404, f"unknown tool '{name}'")
        problems = argument_errors(tool["parameters"], arguments) if validate or not tool.get("executable") else []
        if problems:
            obs = error_observation(400, "invalid arguments: " + "; ".join(problems))
        elif tool.get("executable"):
            coll = tool["collection"]
            obs = await asyncio.to_thread(self.executor.sandbox.execute, coll, name, arguments, None, self.state.get(coll, {}))
            self.state[coll] = obs.state
        else:
            earlier = next((h for h in self.history if h["name"] == name and h["arguments"] == arguments), None)
            obs = earlier["observation"] if earlier else await self.executor.simulator.respond(tool, arguments, self.history)
        self.history.append({"name": name, "arguments": arguments, "response": obs.content, "observation": obs})
        return obs
