"""ShareGPT conversations in the Hermes function-calling layout (NousResearch Hermes 2 Pro and later,
the layout vLLM's `hermes` tool parser reads).

The system turn states the call format and lists the tools, each wrapped as
`{"type": "function", "function": {...}}`, inside `<tools></tools>`; an assistant (`gpt`) turn calls
tools as `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`; a `tool` turn answers with
`<tool_response>{"name": ..., "content": ...}</tool_response>`.
"""

from __future__ import annotations

import json
import re

import pyarrow as pa

from ..domain import Example

from ..prompts import render

SHAREGPT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("conversations", pa.list_(pa.struct([("from", pa.string()), ("value", pa.string())]))),
        ("tools", pa.string()),
        ("kind", pa.string()),
        ("shape", pa.string()),
    ]
)
_ROLES = {"system": "system", "user": "human", "assistant": "gpt", "tool": "tool"}
# vLLM's Hermes2ProToolParser reads calls with this expression, then json.loads each
TOOL_CALL = re.compile(r"<tool_call>(.*?)</tool_call>|<tool_call>(.*)", re.DOTALL)
TOOLS = re.compile(r"<tools>\s*(\[.*?\])\s*</tools>", re.DOTALL)  # the list, not the "<tools></tools> XML tags" mention


def _call(c: dict) -> str:
    call = {"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"] or "{}")}
    return f"<tool_call>\n{json.dumps(call, ensure_ascii=False)}\n</tool_call>"


def _result(content: str):
    try:
        return json.loads(content)
    except (TypeError, ValueError):
        return content


def to_sharegpt(row: Example) -> dict:
    tools = [{"type": "function", "function": t["function"]} for t in row["tools"]]
    tools_json = json.dumps(tools, ensure_ascii=False)
    instructions = next((m["content"] for m in row["messages"] if m["role"] == "system"), None)
    turns = [
        {
            "from": "system",
            "value": render(
                "export/hermes_system.j2", tools=tools_json, instructions=(instructions or "").strip()
            ).strip(),
        }
    ]
    for m in row["messages"]:
        if m["role"] == "system":
            continue
        if m["role"] == "assistant" and m.get("tool_calls"):
            value = "\n".join(([m["content"]] if m.get("content") else []) + [_call(c) for c in m["tool_calls"]])
        elif m["role"] == "tool":
            response = {"name": m.get("name"), "content": _result(m["content"])}
            value = f"<tool_response>\n{json.dumps(response, ensure_ascii=False)}\n</tool_response>"
        else:
            value = m.get("content") or ""
        turns.append({"from": _ROLES[m["role"]], "value": value})
    return {"id": row["id"], "conversations": turns, "tools": tools_json, "kind": row["kind"], "shape": row["shape"]}


def hermes_problems(row: dict) -> list[str]:
    """What a Hermes consumer could not read in one exported row (empty when it reads all of it)."""
    turns = row["conversations"]
    problems = []
    if not turns or turns[0]["from"] != "system":
        return ["the first turn is not the system turn"]
    found = TOOLS.search(turns[0]["value"])
    if not found or "<tool_call>" not in turns[0]["value"]:
        return ["the system turn does not list <tools> and state the <tool_call> format"]
    try:
        tools = json.loads(found.group(1))
        names = {t["function"]["name"] for t in tools if t.get("type") == "function"}
        assert len(names) == len(tools)
    except (ValueError, KeyError, TypeError, AssertionError):
        return ['<tools> is not a JSON list of {"type": "function", "function": {...}}']
    for i, t in enumerate(turns[1:], 1):
        if t["from"] == "gpt":
            for m in TOOL_CALL.finditer(t["value"]):
                try:
                    call = json.loads(m.group(1) or m.group(2))
                except ValueError:
                    problems.append(f"turn {i}: a <tool_call> is not JSON")
                    continue
                if (
                    not isinstance(call, dict)
                    or call.get("name") not in names
                    or not isinstance(call.get("arguments"), dict)
                ):
                    problems.append(f"turn {i}: a <tool_call> names no offered tool or has no arguments object")
        elif t["from"] == "tool" and not re.fullmatch(r"<tool_response>\n.*\n</tool_response>", t["value"], re.DOTALL):
            problems.append(f"turn {i}: a tool turn is not one <tool_response>")
    return problems
