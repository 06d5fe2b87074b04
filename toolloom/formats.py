"""Export formats besides OpenAI chat messages: ShareGPT/Hermes function calling and APIGen/xLAM."""
from __future__ import annotations

import json

import pyarrow as pa

SHAREGPT_SCHEMA = pa.schema([("id", pa.string()), ("conversations", pa.list_(pa.struct([("from", pa.string()), ("value", pa.string())]))),
                             ("tools", pa.string()), ("kind", pa.string()), ("shape", pa.string())])
XLAM_SCHEMA = pa.schema([("id", pa.string()), ("query", pa.string()), ("answers", pa.string()), ("tools", pa.string()),
                         ("shape", pa.string())])
_ROLES = {"system": "system", "user": "human", "assistant": "gpt", "tool": "tool"}


def to_sharegpt(row: dict) -> dict:
    """Hermes function-calling layout: tool calls as <tool_call> JSON in `gpt` turns, results as
    <tool_response> in `tool` turns, the tool signatures in the system turn inside <tools>."""
    tools = [t["function"] for t in json.loads(row["tools"])]
    turns = []
    for m in row["messages"]:
        if m["role"] == "system":
            value = f"{m['content'] or ''}\n<tools>\n{json.dumps(tools, ensure_ascii=False)}\n</tools>".strip()
        elif m["role"] == "assistant" and m.get("tool_calls"):
            calls = [f"<tool_call>\n{json.dumps({'name': c['function']['name'], 'arguments': json.loads(c['function']['arguments'] or '{}')}, ensure_ascii=False)}\n</tool_call>"
                     for c in m["tool_calls"]]
            value = "\n".join(([m["content"]] if m.get("content") else []) + calls)
        elif m["role"] == "tool":
            value = f"<tool_response>\n{json.dumps({'name': m.get('name'), 'content': json.loads(m['content'])}, ensure_ascii=False)}\n</tool_response>"
        else:
            value = m.get("content") or ""
        turns.append({"from": _ROLES[m["role"]], "value": value})
    return {"id": row["id"], "conversations": turns, "tools": json.dumps(tools, ensure_ascii=False), "kind": row["kind"], "shape": row["shape"]}


def to_xlam(row: dict) -> dict | None:
    """APIGen/xLAM: one query, the calls that answer it, the tools. Single-request examples only."""
    users = [m for m in row["messages"] if m["role"] == "user"]
    if row["kind"] != "single_turn" or len(users) != 1:
        return None
    answers = [{"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"] or "{}")}
               for m in row["messages"] for c in (m.get("tool_calls") or [])]
    return {"id": row["id"], "query": users[0]["content"], "answers": json.dumps(answers, ensure_ascii=False),
            "tools": json.dumps([t["function"] for t in json.loads(row["tools"])], ensure_ascii=False), "shape": row["shape"]}


from .bfcl import BFCL_SCHEMA, to_bfcl  # noqa: E402
from .registry import Registry  # noqa: E402

# export config name -> (row converter (default-config row -> row, or None to leave it out), Arrow schema);
# `openai` is the default config, always written
EXPORT_FORMATS: Registry = Registry("export format")
EXPORT_FORMATS.register("sharegpt", (to_sharegpt, SHAREGPT_SCHEMA))
EXPORT_FORMATS.register("xlam", (to_xlam, XLAM_SCHEMA))
EXPORT_FORMATS.register("bfcl", (to_bfcl, BFCL_SCHEMA))
