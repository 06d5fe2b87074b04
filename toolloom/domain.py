"""The domain every stage shares: a task is a chain of steps, each a call of one tool.

A step's `bindings` map a parameter to {"step": k, "path": "a|b"}: its value is taken from step k's
result at that path, so the user does not state it and the assistant must make step k first.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Step:
    tool_id: str
    name: str
    description: str
    arguments: dict
    bindings: dict = field(default_factory=dict)  # parameter -> {"step": k, "path": "a|b"}: filled from step k's result


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
