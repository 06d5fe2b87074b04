"""OpenAI chat messages as an Arrow list of structs (the `messages` column everywhere)."""
from __future__ import annotations

import pyarrow as pa

TOOL_CALL = pa.struct([("id", pa.string()), ("type", pa.string()),
                       ("function", pa.struct([("name", pa.string()), ("arguments", pa.string())]))])
MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string()), ("tool_calls", pa.list_(TOOL_CALL)),
                     ("tool_call_id", pa.string()), ("name", pa.string())])
MESSAGES = pa.list_(MESSAGE)


def normalise(message: dict) -> dict:
    """Every message with every field (None where absent), so rows share one Arrow type."""
    return {"role": message["role"], "content": message.get("content"), "tool_calls": message.get("tool_calls") or None,
            "tool_call_id": message.get("tool_call_id"), "name": message.get("name")}


def to_openai(message: dict) -> dict:
    """Back to the minimal dict an OpenAI-compatible endpoint accepts."""
    out = {"role": message["role"], "content": message.get("content")}
    for key in ("tool_calls", "tool_call_id", "name"):
        if message.get(key):
            out[key] = message[key]
    return out
