"""BFCL (Berkeley Function-Calling Leaderboard) layout: the question / function / ground-truth rows of
BFCL v4's AST categories, so an export can be scored by BFCL's own AST checker.

The category is what the row really is: `simple_python` (one function offered, one call), `multiple`
(several offered, one called), `parallel` (one offered, called several times), `parallel_multiple`
(several offered, several calls), and `irrelevance` (no offered function fits: no call is right).
Only examples whose every call is determined by the question qualify: a call that takes a value
from an earlier tool result cannot be answered from the question alone.
"""

from __future__ import annotations

import json

import pyarrow as pa

from ..domain import Example

BFCL_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("question", pa.string()),
        ("function", pa.string()),
        ("ground_truth", pa.string()),
        ("category", pa.string()),
    ]
)

# JSON Schema type -> BFCL's type names (bfcl_eval.eval_checker.ast_eval.ast_checker.PYTHON_TYPE_MAPPING)
_TYPES = {
    "string": "string",
    "integer": "integer",
    "number": "float",
    "boolean": "boolean",
    "array": "array",
    "object": "dict",
    "null": "any",
}
_OF_VALUE = {str: "string", int: "integer", float: "float", bool: "boolean", list: "array", dict: "dict"}


def category(offered: int, calls: int) -> str:
    if calls == 0:
        return "irrelevance"
    if calls == 1:
        return "simple_python" if offered == 1 else "multiple"
    return "parallel" if offered == 1 else "parallel_multiple"


def _type(schema: dict, value=None) -> str:
    t = schema.get("type")
    if isinstance(t, list):  # ["string", "null"]: the non-null member
        t = next((x for x in t if x != "null"), None)
    if t in _TYPES and t != "null":
        return _TYPES[t]
    if value is not None:  # untyped in the spec: what the verified call passed
        return _OF_VALUE.get(type(value), "any")
    return "string" if "enum" in schema and all(isinstance(e, str) for e in schema["enum"]) else "any"


def bfcl_parameter(schema: dict, value=None) -> dict:
    """One JSON Schema property as BFCL declares it (types renamed, nested items and properties too)."""
    out = {k: v for k, v in schema.items() if k in ("description", "enum", "default")}
    out["type"] = _type(schema, value)
    out.setdefault("description", "")
    if out["type"] == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        sample = value[0] if isinstance(value, list) and value else None
        out["items"] = bfcl_parameter(items, sample)
    elif out["type"] == "dict" and isinstance(schema.get("properties"), dict):
        out["properties"] = {
            k: bfcl_parameter(v, (value or {}).get(k) if isinstance(value, dict) else None)
            for k, v in schema["properties"].items()
        }
    return out


def bfcl_function(function: dict, used: dict | None = None) -> dict:
    """An OpenAI-style function as a BFCL function doc (parameters of type `dict`, BFCL type names)."""
    params = function.get("parameters") or {}
    used = used or {}
    return {
        "name": function["name"],
        "description": function.get("description") or "",
        "parameters": {
            "type": "dict",
            "properties": {
                k: bfcl_parameter(v if isinstance(v, dict) else {}, used.get(k))
                for k, v in (params.get("properties") or {}).items()
            },
            "required": list(params.get("required") or []),
        },
    }


def _allowed(value, schema: dict) -> list:
    if isinstance(value, dict):  # BFCL's dict checker takes each key's allowed values
        props = schema.get("properties") or {}
        return [{k: _allowed(v, props.get(k) or {}) for k, v in value.items()}]
    if isinstance(value, float) and value.is_integer() and schema.get("type") == "integer":
        value = int(value)
    return [value]


def possible_answer(name: str, arguments: dict, function: dict) -> dict:
    """BFCL's ground truth for one call: every parameter with its allowed values; an optional one also
    allows `""` (left out), and one the call left out allows `""` or its documented default."""
    params = function.get("parameters") or {}
    required = set(params.get("required") or [])
    truth = {}
    for p, schema in (params.get("properties") or {}).items():
        schema = schema if isinstance(schema, dict) else {}
        if p in arguments:
            truth[p] = _allowed(arguments[p], schema) + ([""] if p not in required else [])
        elif p not in required:
            truth[p] = [""] + ([schema["default"]] if "default" in schema else [])
    for p in set(arguments) - set(truth):  # passed but undeclared: the schema allows extra keys
        truth[p] = _allowed(arguments[p], {})
    return {name: truth}


def to_bfcl(row: Example) -> dict | None:
    """A single-request, single-turn example whose calls need no earlier result, or an abstain example."""
    users = [m for m in row["messages"] if m["role"] == "user"]
    if row["kind"] not in ("single_turn", "abstain") or len(users) != 1:
        return None
    chain = row["reference_chain"]
    if any(s.get("bindings") for s in chain) or (row["kind"] == "single_turn" and not chain):
        return None
    offered = [t["function"] for t in row["tools"]]
    by_name = {f["name"]: f for f in offered}
    if any(s["name"] not in by_name for s in chain):
        return None
    used: dict[str, dict] = {}
    for s in chain:
        used.setdefault(s["name"], {}).update(s["arguments"])
    truth = [possible_answer(s["name"], s["arguments"], by_name[s["name"]]) for s in chain]
    return {
        "id": row["id"],
        "question": json.dumps([[{"role": "user", "content": users[0]["content"]}]], ensure_ascii=False),
        "function": json.dumps([bfcl_function(f, used.get(f["name"])) for f in offered], ensure_ascii=False),
        "ground_truth": json.dumps(truth, ensure_ascii=False),
        "category": category(len(offered), len(chain)),
    }


def native_files(rows: list[dict]) -> dict[str, list[dict]]:
    """BFCL's own files for the given rows, to drop into bfcl-eval's data folder: `BFCL_v4_<category>.json`
    (id, question, function) and `possible_answer/BFCL_v4_<category>.json` (id, ground_truth), as JSON
    lines; ids are `<category>_<n>` as BFCL reads the category from them (`ids.json` maps them back)."""
    files: dict[str, list[dict]] = {}
    ids: dict[str, str] = {}
    for row in rows:
        cat = row["category"]
        entries = files.setdefault(f"BFCL_v4_{cat}.json", [])
        bfcl_id = f"{cat}_{len(entries)}"
        ids[bfcl_id] = row["id"]
        entries.append(
            {"id": bfcl_id, "question": json.loads(row["question"]), "function": json.loads(row["function"])}
        )
        if cat != "irrelevance":  # BFCL has no possible answers for irrelevance: no call is the answer
            files.setdefault(f"possible_answer/BFCL_v4_{cat}.json", []).append(
                {"id": bfcl_id, "ground_truth": json.loads(row["ground_truth"])}
            )
    if ids:
        files["ids.json"] = [ids]
    return files
