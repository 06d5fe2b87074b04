"""BFCL compatibility: the single-request export in BFCL's question / function / ground-truth layout,
and an AST-style matcher of calls against ground truth (a re-implementation of BFCL's checker idea:
function name, required parameters, no unexpected parameters, each value among the allowed ones)."""
from __future__ import annotations

import json

import pyarrow as pa

BFCL_SCHEMA = pa.schema([("id", pa.string()), ("question", pa.string()), ("function", pa.string()), ("ground_truth", pa.string()),
                         ("category", pa.string())])
_CATEGORY = {"single": "simple", "parallel": "parallel"}


def to_bfcl(row: dict) -> dict | None:
    """Single-request, single-turn examples whose calls need no earlier result (BFCL's simple/parallel)."""
    users = [m for m in row["messages"] if m["role"] == "user"]
    chain = json.loads(row["reference_chain"])
    if row["kind"] != "single_turn" or len(users) != 1 or row["shape"] not in _CATEGORY or any(s.get("bindings") for s in chain):
        return None
    truth = [{s["name"]: {k: [v] for k, v in s["arguments"].items()}} for s in chain]
    return {"id": row["id"], "question": json.dumps([[{"role": "user", "content": users[0]["content"]}]], ensure_ascii=False),
            "function": json.dumps([t["function"] for t in json.loads(row["tools"])], ensure_ascii=False),
            "ground_truth": json.dumps(truth, ensure_ascii=False), "category": _CATEGORY[row["shape"]]}


def _same(value, allowed) -> bool:
    for a in allowed:
        if isinstance(a, str) and isinstance(value, str):
            if a.strip().lower() == value.strip().lower():
                return True
        elif isinstance(a, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool):
            if float(a) == float(value):
                return True
        elif a == value:
            return True
    return False


def match_call(call: dict, truth: dict, functions: dict) -> str | None:
    """None when `call` ({name: args}) matches `truth` ({name: {param: [allowed]}}), else why not."""
    (name, args), = call.items()
    (true_name, params), = truth.items()
    if name != true_name:
        return f"wrong function: {name} instead of {true_name}"
    required = set((functions.get(name) or {}).get("parameters", {}).get("required", []))
    for p in required - set(args):
        return f"missing required parameter {p}"
    for p, value in args.items():
        if p not in params:
            return f"unexpected parameter {p}"
        if not _same(value, params[p]):
            return f"{p}={value!r} is not among {params[p]!r}"
    return None


def match_calls(calls: list[dict], truths: list[dict], functions: dict) -> str | None:
    """Order-free matching of several calls (BFCL's parallel categories)."""
    if len(calls) != len(truths):
        return f"{len(calls)} calls where {len(truths)} are expected"
    left = list(truths)
    for call in calls:
        hit = next((t for t in left if match_call(call, t, functions) is None), None)
        if hit is None:
            return f"no expected call matches {json.dumps(call)}: {match_call(call, left[0], functions) if left else ''}"
        left.remove(hit)
    return None
