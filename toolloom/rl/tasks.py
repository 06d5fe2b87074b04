"""The tasks an environment serves: a version's accepted examples, offered as their export offers them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..export.rows import with_docs
from ..messages import to_openai

# kinds whose user turns do not depend on what the assistant said (a dialogue's user answers its scripted turns)
SERVED_KINDS = ("single_turn", "abstain", "ask", "recover")


@dataclass(frozen=True)
class EnvTask:
    task_id: str  # the example's sample id
    kind: str
    shape: str
    level: int
    split: str
    prompt: list[dict]  # the system prompt and the user's request: what comes before the assistant's first turn
    replies: list[str]  # what the user answers the assistant's clarifying questions, in order (ask tasks)
    tools: list[dict]  # the offer of the example (distractors included), with its refined documentation
    chain: str  # the verified reference calls (JSON), as the filter reads them
    reference_answer: str | None
    reference: list[dict]  # the example's whole conversation: the verified trajectory


def env_task(sample: dict, traj: dict, docs: dict[str, str]) -> EnvTask | None:
    """The task of one accepted example, None when its kind cannot be served (a multi-turn dialogue)."""
    kind = traj.get("kind") or "single_turn"
    if kind not in SERVED_KINDS:
        return None
    messages = [to_openai(m) for m in traj["messages"]]
    first = next(i for i, m in enumerate(messages) if m["role"] == "assistant")
    first_tool = next((i for i, m in enumerate(messages) if m["role"] == "tool"), len(messages))
    replies = [m["content"] for m in messages[first:first_tool] if m["role"] == "user"]
    return EnvTask(
        sample["sample_id"],
        kind,
        sample["shape"],
        sample["level"] or 0,
        sample["split"],
        messages[:first],
        replies,
        json.loads(with_docs(traj["tools_offered"], docs)),
        traj["chain"],
        traj["reference_answer"],
        messages,
    )


def load_tasks(
    samples: list[dict], trajectories: list[dict], docs: dict[str, str], split: str = "all"
) -> tuple[list[EnvTask], dict[str, int]]:
    """Every servable task of the split, and how many examples were left out, by kind."""
    by_traj = {t["traj_id"]: t for t in trajectories}
    tasks, left_out = [], {}
    for s in samples:
        if split != "all" and s["split"] != split:
            continue
        task = env_task(s, by_traj[s["traj_id"]], docs)
        if task is None:
            kind = by_traj[s["traj_id"]].get("kind") or "single_turn"
            left_out[kind] = left_out.get(kind, 0) + 1
        else:
            tasks.append(task)
    return tasks, left_out
