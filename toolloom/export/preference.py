"""Preference pairs (the export's `preference` config, TRL's conversational preference layout): the same prompt
and tools, a chosen and a rejected continuation.

chosen:   an accepted example's verified trajectory (the reference chain executed; for an escalated level, the
          replay of its reference, stages/demonstrations.py);
rejected: the frontier agent's failed attempt at that escalated level (source `escalation`), or an episode the
          filter rejected on the same prompt (source `filter`), only for a reason that is the model's fault.
"""

from __future__ import annotations

import json
from collections import Counter

import pyarrow as pa

from ..messages import MESSAGES, MESSAGES_JSON, with_argument_objects

# why a try failed, when it is the model's doing (not a tool's, a server's, the budget's or the split's)
MODEL_FAULTS = frozenset(
    {
        "unknown_tool",
        "invalid_arguments_json",
        "schema_violation",
        "duplicate_tool",
        "called_when_nothing_fits",
        "no_tool_call",
        "no_question",
        "not_recovered",
        "reference_not_reached",
        "reference_call_missing",
        "invented_argument",
        "answer_not_grounded",
        "answer_incomplete",
        "empty_answer",
        "unreadable_tool_call",
        "refused_call",
        "turn_limit",
        "no_final_answer",
    }
)

PREFERENCE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("sample_id", pa.string()),
        ("prompt", MESSAGES_JSON),
        ("chosen", MESSAGES_JSON),
        ("rejected", MESSAGES_JSON),
        ("tools", pa.json_()),
        ("source", pa.string()),
        ("reason", pa.string()),
        ("level", pa.int64()),
        ("split", pa.string()),
    ]
)


PREFERENCE_TEXT = pa.schema(
    [
        f
        if f.type not in (MESSAGES_JSON, pa.json_())
        else pa.field(f.name, MESSAGES if f.type == MESSAGES_JSON else pa.string())
        for f in PREFERENCE_SCHEMA
    ]
)  # as built: JSON as text, cast when written


def _split_at_assistant(messages: list[dict]) -> tuple[list[dict], list[dict]]:
    first = next((i for i, m in enumerate(messages) if m["role"] == "assistant"), len(messages))
    return messages[:first], messages[first:]


def _key(prompt: list[dict]) -> str:
    return json.dumps([(m["role"], m.get("content")) for m in prompt], ensure_ascii=False)


def preference_pairs(
    samples: list[dict], trajectories: list[dict], rejections: list[dict], escalations: list[dict]
) -> list[dict]:
    """Every pair the version holds, in the layout of PREFERENCE_SCHEMA (JSON columns as text)."""
    by_traj = {t["traj_id"]: t for t in trajectories}
    chosen = {}  # task id -> (sample, prompt, continuation, trajectory)
    by_prompt = {}
    for s in samples:
        t = by_traj[s["traj_id"]]
        prompt, rest = _split_at_assistant(t["messages"])
        chosen[s["task_id"]] = (s, prompt, rest, t)
        by_prompt.setdefault(_key(prompt), (s, prompt, rest, t))
    pairs = []

    def pair(source: str, n: int, picked, rejected: list[dict], reason: str) -> None:
        s, prompt, rest, t = picked
        pairs.append(
            {
                "id": f"{source[:2]}_{s['sample_id']}_{n}",
                "sample_id": s["sample_id"],
                "prompt": with_argument_objects(prompt),
                "chosen": with_argument_objects(rest),
                "rejected": with_argument_objects(rejected),
                "tools": t["tools_offered"],
                "source": source,
                "reason": reason,
                "level": s["level"] or 0,
                "split": s["split"],
            }
        )

    for e in escalations:
        if not e.get("kept") or e["task_id"] not in chosen:
            continue
        prompt = chosen[e["task_id"]][1]
        for a in json.loads(e["attempts"] or "[]"):
            if a.get("outcome") == "failed" and a.get("reason") in MODEL_FAULTS and a.get("messages"):
                tried_prompt, rejected = _split_at_assistant(a["messages"])
                if rejected and _key(tried_prompt) == _key(prompt):  # the same system prompt and question
                    pair("escalation", a["attempt"], chosen[e["task_id"]], rejected, a["reason"])
    why = {r["item_id"]: r["reason"] for r in rejections if r["stage"] == "filter"}
    for t in trajectories:
        reason = why.get(t["traj_id"])
        if reason in MODEL_FAULTS:
            prompt, rejected = _split_at_assistant(t["messages"])
            if rejected and _key(prompt) in by_prompt:
                pair("filter", 0, by_prompt[_key(prompt)], rejected, reason)
    return pairs


def card_lines(pairs: list[dict]) -> list[str]:
    """The card's count of pairs per source and reason."""
    counts = Counter((p["source"], p["reason"]) for p in pairs)
    lines = [
        "",
        "## Preference pairs",
        "",
        f"{len(pairs)} pairs (config `preference`): chosen is a verified trajectory, rejected a failed try on "
        "the same prompt, failed for a reason that is the model's.",
        "",
        "| source | reason | pairs |",
        "|---|---|---|",
    ]
    return lines + [f"| {s} | {r} | {n} |" for (s, r), n in sorted(counts.items())]
