"""What the examples teach, measured over an export (part of its data-quality report and card):
answers that state what was asked, dependencies that are real lookups, what each difficulty level
adds, the kinds of example, ToolDial's dialogue actions, and call patterns against a random walk.
Every figure is counted from the exported rows themselves, not taken from the stages' metadata.
"""

from __future__ import annotations

import json
import random
import re
import statistics
from collections import Counter, defaultdict

from ..checks.answers import call_inputs, unstated
from ..checks.focus import unasked_facts
from ..messages import request_of

# ToolDial's 16 actions (8 user, 8 system)
TOOLDIAL_ACTIONS = (
    "inform_intent_clear",
    "inform_intent_clear_add",
    "inform_intent_vague",
    "inform",
    "fail_inform",
    "affirm",
    "negate",
    "user_bye",
    "retriever_call",
    "request",
    "clarify",
    "suggest",
    "call",
    "response",
    "response_fail",
    "system_bye",
)
_FIELD_DUMP = re.compile(r"\b[a-z_]+: [^;]+; [a-z_ ]+: |\b(True|False|None)\b")
# 'the population is ...', "Tokyo's population is ...", 'its population is ...': one field stated, however worded
_CLAUSE = re.compile(r"(?:\b(?:the|its)|'s?) [a-z ]{1,30} (?:is|are) ", re.I)


def _results(row: dict) -> list:
    out = []
    for m in row["messages"]:
        if m["role"] == "tool":
            try:
                out.append(json.loads(m["content"]))
            except (json.JSONDecodeError, TypeError):
                pass
    return out


def _request(row: dict) -> str:
    return request_of(
        row["messages"], json.loads(row["actions"]) if isinstance(row.get("actions"), str) else row.get("actions")
    )


def _chain(row: dict) -> list[dict]:
    return json.loads(row.get("reference_chain") or "[]")


def _mentions(text: str, value) -> bool:
    return re.search(r"(?<![\w-])" + re.escape(str(value).lower()) + r"(?![\w-])", text.lower()) is not None


def answers(rows: list[dict]) -> dict:
    """Final answers: field dumps or Python reprs, and completeness (every field the request names is stated)."""
    answered = [r for r in rows if r.get("reference_answer") and r.get("kind") != "abstain"]
    complete = sum(
        1
        for r in answered
        if not unstated(
            _request(r), json.loads(r["reference_answer"]), r.get("final_answer") or "", call_inputs(r["messages"])
        )
    )
    lengths: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        lengths[r.get("kind") or "single_turn"].append(len(r.get("final_answer") or ""))
    unasked = [
        max((len(unasked_facts(_request(r), res, r.get("final_answer") or "")) for res in _results(r)), default=0)
        for r in answered
    ]
    return {
        "answers": len(answered),
        "complete": complete,
        "field_dumps": sum(1 for r in rows if _FIELD_DUMP.search(r.get("final_answer") or "")),
        "field_lists": sum(
            1
            for r in rows
            if any(len(_CLAUSE.findall(s)) >= 3 for s in re.split(r"(?<=\.) ", r.get("final_answer") or ""))
        ),
        "mean_unasked_facts": round(statistics.mean(unasked), 2) if unasked else 0.0,
        "mean_length_by_kind": {k: round(statistics.mean(v)) for k, v in sorted(lengths.items())},
    }


def dependencies(rows: list[dict]) -> dict:
    """Values bound from an earlier result in multi-call examples, and how many the request leaves unstated."""
    bound = unstated_in_request = 0
    for r in rows:
        chain = _chain(r)
        request = _request(r)
        for step in chain:
            for param in step.get("bindings") or {}:
                bound += 1
                unstated_in_request += not _mentions(request, (step.get("arguments") or {}).get(param, ""))
    return {"bound_values": bound, "absent_from_request": unstated_in_request}


def levels(rows: list[dict]) -> dict:
    """Per difficulty level: examples, mean calls, mean dependent calls, share with a constraint
    (an optional parameter set)."""
    by_level: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        if r.get("kind") in ("single_turn", None):
            by_level[r.get("level") or 0].append(r)
    out = {}
    for level, group in sorted(by_level.items()):
        deps, calls, constrained = [], [], 0
        for r in group:
            chain = _chain(r)
            required = {
                t["function"]["name"]: set((t["function"].get("parameters") or {}).get("required") or [])
                for t in json.loads(r["tools"])
            }
            deps.append(sum(len(s.get("bindings") or {}) + bool(s.get("condition")) for s in chain))
            calls.append(len(chain))
            constrained += any(set(s.get("arguments") or {}) - required.get(s.get("name"), set()) for s in chain)
        out[str(level)] = {
            "examples": len(group),
            "mean_calls": round(statistics.mean(calls), 2),
            "mean_dependent_calls": round(statistics.mean(deps), 2),
            "with_constraint": round(constrained / len(group), 3),
        }
    return out


def dialogue_actions(rows: list[dict]) -> dict:
    """How often each of ToolDial's 16 actions occurs in the multi-turn dialogues, and the scenarios."""
    counts: Counter = Counter()
    scenarios: Counter = Counter()
    for r in rows:
        if r.get("kind") == "multi_turn" and r.get("actions"):
            plan = json.loads(r["actions"])
            scenarios[plan["scenario"]] += 1
            counts.update(a[1] for a in plan["actions"])
    return {
        "actions": {a: counts.get(a, 0) for a in TOOLDIAL_ACTIONS},
        "scenarios": dict(scenarios),
        "other_actions": {a: n for a, n in counts.items() if a not in TOOLDIAL_ACTIONS},
    }


def _pattern(row: dict) -> tuple[str, ...]:
    return tuple(c["function"]["name"] for m in row["messages"] for c in (m.get("tool_calls") or []))


def random_walk_patterns(rows: list[dict], tools: list[str], edges: list[dict], seed: int = 0) -> int:
    """Distinct call patterns of random walks over the same API graph, one walk per example, each as
    long as that example's calls: what chance alone would give."""
    out_edges: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        out_edges[e["src_tool"]].append(e["dst_tool"])
    rng, patterns = random.Random(seed), set()
    for r in rows:
        n = len(_pattern(r))
        if not n or not tools:
            continue
        walk = [rng.choice(tools)]
        while len(walk) < n:
            walk.append(rng.choice(out_edges.get(walk[-1]) or tools))
        patterns.add(tuple(walk))
    return len(patterns)


def example_quality(rows: list[dict], tools: list[dict], edges: list[dict] | None) -> dict:
    called = [r for r in rows if _pattern(r)]
    return {
        "kinds": dict(Counter(r.get("kind") or "single_turn" for r in rows)),
        "answers": answers(rows),
        "dependencies": dependencies(rows),
        "levels": levels(rows),
        "dialogues": dialogue_actions(rows),
        "call_patterns": {
            "distinct": len({_pattern(r) for r in called}),
            "examples_with_calls": len(called),
            "random_walk_baseline": random_walk_patterns(called, [t["name"] for t in tools], edges or []),
        },
    }


def card_lines(q: dict) -> list[str]:
    a, d, cp, dl = q["answers"], q["dependencies"], q["call_patterns"], q["dialogues"]
    lines = [
        "### What the examples teach",
        "",
        "Kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(q["kinds"].items())) + ".",
        "",
        f"Answers: {a['complete']} of {a['answers']} state every value the request asks for; {a['field_dumps']} read "
        f"as a field dump or hold a Python repr; {a['field_lists']} have a sentence that is a field list (three or "
        f"more 'the X is Y'); on average an answer states {a['mean_unasked_facts']} facts of a result that nobody "
        "asked for. Mean answer length in characters: "
        + ", ".join(f"{k} {n}" for k, n in a["mean_length_by_kind"].items())
        + ".",
        "",
        f"Dependencies: {d['absent_from_request']} of {d['bound_values']} values taken from an earlier result are not "
        "stated in the request (a real lookup).",
        "",
        f"Call patterns: {cp['distinct']} distinct among {cp['examples_with_calls']} examples with calls; random "
        "walks of the "
        f"same lengths over the same API graph give {cp['random_walk_baseline']}.",
        "",
        "| level | examples | mean calls | mean dependent calls | with a constraint |",
        "|---|---|---|---|---|",
    ]
    for level, s in q["levels"].items():
        lines.append(
            f"| {level} | {s['examples']} | {s['mean_calls']} | {s['mean_dependent_calls']} | {s['with_constraint']} |"
        )
    lines += [
        "",
        "ToolDial actions in the dialogues (scenarios: "
        + ", ".join(f"{k} {n}" for k, n in sorted(dl["scenarios"].items()))
        + "):",
        "",
        "| action | count |",
        "|---|---|",
    ]
    lines += [f"| {action} | {n} |" for action, n in dl["actions"].items()]
    return lines + [""]
