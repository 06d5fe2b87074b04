"""The domain every stage shares: tools (rows of the `tools` table, decoded once when read), and tasks,
each a chain of steps that call one tool each.

A step's `bindings` map a parameter to {"step": k, "path": "a|b"}: its value is taken from step k's
result at that path, so the user does not state it and the assistant must make step k first.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, TypedDict

import pyarrow as pa


class Tool(TypedDict, total=False):
    """A row of the `tools` table (stages/tools.py) with its JSON columns decoded."""

    tool_id: str  # collection.name
    collection: str
    name: str
    description: str
    parameters: dict  # JSON Schema of the arguments
    returns: dict | None  # JSON Schema of the result, when the spec has one
    source_format: str
    source_file: str
    spec_hash: str
    executable: bool
    execution: str  # how calls are answered: python, simulated, mcp, http, or a plug-in's executor
    meta: dict  # examples, utterance templates, HTTP method and path, ...
    documented_records: list[dict]  # given to a simulator: the records its collection's examples show
    docs_version: str  # as agents are shown it: the earlier version whose refined text `description` is ("" = source)


def tool_of(row: dict) -> Tool:
    """A stored tools row as a Tool (a row already decoded is returned as it is)."""
    if not isinstance(row.get("parameters"), str):
        return row  # type: ignore[return-value]
    returns = row.get("returns")
    return {
        **row,
        "parameters": json.loads(row["parameters"] or "{}"),
        "returns": json.loads(returns) if returns else None,
        "meta": json.loads(row.get("meta") or "{}"),
    }  # type: ignore[typeddict-item]


def wording_meta(tool: Tool) -> dict:
    """What a task keeps of a tool for wording its requests: the tool's meta and its documented result schema."""
    return {**tool["meta"], "returns": tool.get("returns")}


def tools_of(table: pa.Table) -> list[Tool]:
    """Every row of a tools table, decoded: what stages, agents and executors are given."""
    return [tool_of(row) for row in table.to_pylist()]


@dataclass
class Step:
    """One call of a chain. Planned, it has the arguments the request states (bound ones are filled
    when the chain runs); executed, `arguments` holds what was sent and `result` what came back."""

    tool_id: str
    name: str
    description: str
    arguments: dict
    bindings: dict = field(default_factory=dict)  # parameter -> {"step": k, "path": "a|b"}: filled from step k's result
    result: Any = None
    # the step is asked only if step k's value at path passes a test (graph/branching.py); else `otherwise`'s call
    condition: dict | None = None

    def row(self, with_result: bool = False) -> dict:
        """The step as stored in a `chain` column (tasks, escalations)."""
        out = {"tool_id": self.tool_id, "name": self.name, "arguments": self.arguments, "bindings": self.bindings}
        if self.condition:
            out["condition"] = self.condition
        return {**out, "result": self.result} if with_result else out

    def reads(self) -> set[int]:
        """The earlier steps this one needs the results of: its bound values' sources and its condition's."""
        return {b["step"] for b in self.bindings.values()} | ({self.condition["step"]} if self.condition else set())

    @classmethod
    def from_row(cls, row: dict, description: str = "") -> "Step":
        return cls(
            row["tool_id"],
            row["name"],
            description,
            dict(row["arguments"]),
            dict(row.get("bindings") or {}),
            row.get("result"),
            copy.deepcopy(row.get("condition")),
        )

    def planned(self) -> "Step":
        """A copy to change and run again: the same call, its result not yet known."""
        return Step(
            self.tool_id,
            self.name,
            self.description,
            copy.deepcopy(self.arguments),
            copy.deepcopy(self.bindings),
            condition=copy.deepcopy(self.condition),
        )


@dataclass
class Task:
    task_id: str
    shape: str
    chain: list[Step]
    seed: int
    meta: dict = field(default_factory=dict)  # per-tool metadata: utterance templates


class Episode(TypedDict, total=False):
    """What one simulated conversation produced (an agent's episode, a dialogue, a recovery or a replayed
    reference chain), before it becomes a row of `trajectories`."""

    messages: list[dict]  # OpenAI chat messages, normalised (messages.normalise)
    calls: list[dict]  # every call made, in order: name, arguments (JSON text), ok, error
    final_answer: str | None
    outcome: str  # answered, or why not: tool_error, max_turns, budget_exhausted, model_error, ...
    error: str
    actions: list[list]  # multi-turn dialogues: [speaker, ToolDial action, detail] per turn
    scenario: str  # multi-turn dialogues: the scenario played
    task: Task  # multi-turn dialogues: the task the final call answered
    answer_asked: bool  # the assistant was asked for its answer without tools (it repeated answered calls)
    answer_repaired: bool  # its answer misreported the results; asked again, the new one does not
    user_agent: str  # who wrote the request, where not the run's user agent (a refused model request's plain wording)
    assistant_agent: str  # who answered, where not the run's assistant alone (a misreporting answer's plain wording)


def known_values(task: Task) -> dict:
    """What the user can tell: every stated argument (values that come from earlier steps are not theirs)."""
    return {k: v for step in task.chain for k, v in step.arguments.items() if k not in step.bindings}


class Trajectory(TypedDict, total=False):
    """A row of `trajectories` as a filter check gets it (`trajectory_of`): every JSON column decoded."""

    traj_id: str
    task_id: str
    kind: str  # single_turn, multi_turn, abstain, recovery, ...
    shape: str  # the task's: single, multi_hop, parallel, nested
    messages: list[dict]  # OpenAI chat messages; a tool call's `arguments` stays JSON text, as the API has it
    tools_offered: list[dict]  # OpenAI tool definitions offered to the assistant
    chain: list[dict] | None  # the reference chain (Step.row with results); None where the row has none
    reference_answer: str | None  # the last reference call's result, as the tool's JSON text
    final_answer: str | None
    outcome: str
    error: str
    calls: list[dict]  # every call made, in order: name, arguments (JSON text), ok, error, answered_by
    actions: list[list] | None  # multi-turn dialogues: [speaker, ToolDial action, detail] per turn
    level: int
    execution: str
    answer_asked: bool
    answer_repaired: bool


def trajectory_of(row: dict) -> Trajectory:
    """A stored trajectories row as a Trajectory; a column already decoded is kept as it is."""

    def decoded(column: str, empty):
        value = row.get(column)
        return (json.loads(value) if value else empty) if isinstance(value, str) or value is None else value

    return {
        **row,
        "calls": decoded("calls", []),
        "tools_offered": decoded("tools_offered", []),
        "chain": decoded("chain", None),
        "actions": decoded("actions", None),
    }  # type: ignore[typeddict-item]


class Example(TypedDict, total=False):
    """An exported example as an export format's `convert` gets it (`export.examples`): JSON decoded."""

    id: str  # the sample id
    messages: list[dict]  # OpenAI chat messages; a tool call's `arguments` stays JSON text
    tools: list[dict]  # OpenAI tool definitions offered (with refined documentation where the run has it)
    split: str  # train or test
    kind: str  # single_turn, multi_turn, abstain, ...
    actions: list[list] | None
    shape: str
    level: int  # escalation level (0: a seed task)
    execution: str
    num_calls: int
    content: str  # filled or placeholder
    provenance: str  # real, mock, simulated or none: how the calls were answered, by the weakest
    answered_by: list[str]  # how each call was answered, in order
    reference_chain: list[dict]  # the reference calls: name, arguments, bindings, result
    reference_answer: str | None  # the last reference call's result, as the tool's JSON text
    final_answer: str | None


def example_of(row: dict) -> Example:
    """An export row (the default config's, JSON columns as text) as an Example."""
    decoded = {
        k: json.loads(row[k]) if isinstance(row.get(k), str) else row.get(k)
        for k in ("tools", "actions", "answered_by", "reference_chain")
    }
    return {**row, **decoded, "reference_chain": decoded["reference_chain"] or []}  # type: ignore[typeddict-item]
