"""The domain every stage shares: a task is a chain of steps, each a call of one tool.

A step's `bindings` map a parameter to {"step": k, "path": "a|b"}: its value is taken from step k's
result at that path, so the user does not state it and the assistant must make step k first.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


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

    def row(self, with_result: bool = False) -> dict:
        """The step as stored in a `chain` column (tasks, escalations)."""
        out = {"tool_id": self.tool_id, "name": self.name, "arguments": self.arguments, "bindings": self.bindings}
        return {**out, "result": self.result} if with_result else out

    @classmethod
    def from_row(cls, row: dict, description: str = "") -> "Step":
        return cls(row["tool_id"], row["name"], description, dict(row["arguments"]), dict(row.get("bindings") or {}),
                   row.get("result"))

    def planned(self) -> "Step":
        """A copy to change and run again: the same call, its result not yet known."""
        return Step(self.tool_id, self.name, self.description, copy.deepcopy(self.arguments), copy.deepcopy(self.bindings))


@dataclass
class Task:
    task_id: str
    shape: str
    chain: list[Step]
    seed: int
    meta: dict = field(default_factory=dict)  # per-tool metadata: utterance templates


def known_values(task: Task) -> dict:
    """What the user can tell: every stated argument (values that come from earlier steps are not theirs)."""
    return {k: v for step in task.chain for k, v in step.arguments.items() if k not in step.bindings}
