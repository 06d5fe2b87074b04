"""Train/test split without leakage: examples that share a call (the same tool with the same
arguments) or have near-duplicate requests always land on the same side.

Examples are joined into groups (union-find) by every call they make and by request similarity
(normalised Indel similarity at least `similarity`; every pair up to GLOBAL_LIMIT examples, beyond
that within the same set of tools called, to stay sub-quadratic);
each group goes to one side by a hash of its first member, so the split is stable across runs.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict

from rapidfuzz import fuzz, process

from .quality import _request_text

GLOBAL_LIMIT = 20_000


def calls_of(traj: dict) -> list[str]:
    out = []
    for m in traj["messages"]:
        for c in m.get("tool_calls") or []:
            try:
                args = json.dumps(json.loads(c["function"]["arguments"] or "{}"), sort_keys=True)
            except json.JSONDecodeError:
                args = c["function"]["arguments"]
            out.append(f"{c['function']['name']}({args})")
    return out


def side(key: str, test_share: float) -> str:
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if bucket < test_share else "train"


def leakage_groups(trajs: list[dict], similarity: float) -> list[int]:
    """A group number per trajectory: equal numbers must share a side."""
    parent = list(range(len(trajs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        parent[find(a)] = find(b)

    first_with: dict[str, int] = {}
    by_tools: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(trajs):
        calls = calls_of(t)
        for call in calls:
            if call in first_with:
                union(i, first_with[call])
            else:
                first_with[call] = i
        block = json.dumps(sorted({c.split("(", 1)[0] for c in calls})) if len(trajs) > GLOBAL_LIMIT else ""
        by_tools[block].append(i)
    for members in by_tools.values():
        if len(members) < 2:
            continue
        texts = [_request_text(trajs[i]) for i in members]
        scores = process.cdist(texts, texts, scorer=fuzz.ratio, score_cutoff=similarity * 100)
        for a, b in zip(*scores.nonzero()):
            if a < b:
                union(members[a], members[b])
    return [find(i) for i in range(len(trajs))]


def assign_splits(trajs: list[dict], test_share: float, similarity: float) -> list[str]:
    groups = leakage_groups(trajs, similarity)
    first: dict[int, str] = {}
    for t, g in zip(trajs, groups):
        first.setdefault(g, t["task_id"])
    return [side(first[g], test_share) for g in groups]


def leakage(rows: list[dict], similarity: float) -> dict:
    """How much of the test side the train side already shows: calls and near-duplicate requests."""
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    train_calls = {c for r in train for c in calls_of(r)}
    test_calls = [c for r in test for c in calls_of(r)]
    shared = sum(c in train_calls for c in test_calls)
    near = 0
    if train and test:
        scores = process.cdist([_request_text(r) for r in test], [_request_text(r) for r in train], scorer=fuzz.ratio,
                               score_cutoff=similarity * 100)
        near = int((scores.max(axis=1) > 0).sum())
    return {"test_calls_seen_in_train": shared, "test_calls": len(test_calls),
            "test_requests_near_duplicate_of_train": near, "test_examples": len(test)}
