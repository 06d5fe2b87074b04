"""APIGen / xLAM layout (Salesforce `xlam-function-calling-60k`): `id` (int), `query`, `answers` (a JSON
string: [{"name", "arguments"}]) and `tools` (a JSON string: [{"name", "description", "parameters":
{name: {"description", "type", "default"}}}], Python type names, ", optional" on optional parameters, and
"default" on every parameter ("" when the schema has none), as every published row has it).

xLAM rows are answered from the query alone, so only examples whose every call is determined by
the request qualify: none takes a value from an earlier tool result.
"""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa

from ..domain import Example

XLAM_SCHEMA = pa.schema([("id", pa.int64()), ("query", pa.string()), ("answers", pa.string()), ("tools", pa.string())])
_TYPES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "object": "dict",
    "array": "List",
    "null": "None",
}


def xlam_type(schema: dict) -> str:
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    if t == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return f"List[{xlam_type(items)}]" if items.get("type") else "List"
    if t == "object":
        return "Dict[str, Any]"
    return _TYPES.get(t, "Any")


def xlam_tool(function: dict) -> dict:
    params = function.get("parameters") or {}
    required = set(params.get("required") or [])
    out = {}
    for name, schema in (params.get("properties") or {}).items():
        schema = schema if isinstance(schema, dict) else {}
        entry = {
            "description": schema.get("description") or "",
            "type": xlam_type(schema) + ("" if name in required else ", optional"),
        }
        if "enum" in schema and "default" not in schema:
            entry["description"] = (entry["description"] + f" One of: {', '.join(map(str, schema['enum']))}.").strip()
        entry["default"] = schema.get("default", "")  # every published parameter carries one, "" when none
        out[name] = entry
    return {"name": function["name"], "description": function.get("description") or "", "parameters": out}


def xlam_id(sample_id: str) -> int:
    """A stable integer id (xLAM's ids are integers) from the sample id."""
    return int(hashlib.sha256(sample_id.encode()).hexdigest()[:13], 16)


def to_xlam(row: Example) -> dict | None:
    users = [m for m in row["messages"] if m["role"] == "user"]
    chain = row["reference_chain"]
    if row["kind"] != "single_turn" or len(users) != 1 or not chain or any(s.get("bindings") for s in chain):
        return None
    answers = [
        {"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"] or "{}")}
        for m in row["messages"]
        for c in (m.get("tool_calls") or [])
    ]
    return {
        "id": xlam_id(row["id"]),
        "query": users[0]["content"],
        "answers": json.dumps(answers, ensure_ascii=False),
        "tools": json.dumps([xlam_tool(t["function"]) for t in row["tools"]], ensure_ascii=False),
    }


def xlam_problems(row: dict) -> list[str]:
    """Where one exported row departs from the published xLAM layout."""
    if set(row) != {"id", "query", "answers", "tools"} or not isinstance(row["id"], int):
        return ["fields are not exactly id (int), query, answers, tools"]
    try:
        answers, tools = json.loads(row["answers"]), json.loads(row["tools"])
    except (TypeError, ValueError):
        return ["answers or tools is not a JSON string"]
    problems = []
    offered = {}
    for t in tools:
        if set(t) != {"name", "description", "parameters"} or not isinstance(t["parameters"], dict):
            problems.append(f"tool {t.get('name')!r} is not {{name, description, parameters}}")
            continue
        offered[t["name"]] = t["parameters"]
        for p, spec in t["parameters"].items():
            if not isinstance(spec, dict) or set(spec) != {"type", "description", "default"}:
                problems.append(f"tool {t['name']!r} parameter {p!r} is not {{type, description, default}}")
    for a in answers:
        if set(a) != {"name", "arguments"} or a["name"] not in offered:
            problems.append(f"answer {a.get('name')!r} is not a call of an offered tool")
            continue
        required = {p for p, s in offered[a["name"]].items() if not str(s.get("type", "")).endswith(", optional")}
        if missing := required - set(a["arguments"]):
            problems.append(f"answer {a['name']!r} lacks required {sorted(missing)}")
    return problems
