"""OpenAI chat messages as an Arrow list of structs (the `messages` column everywhere)."""

from __future__ import annotations

import pyarrow as pa


def _messages(arguments: pa.DataType) -> pa.DataType:
    call = pa.struct(
        [
            ("id", pa.string()),
            ("type", pa.string()),
            ("function", pa.struct([("name", pa.string()), ("arguments", arguments)])),
        ]
    )
    return pa.list_(
        pa.struct(
            [
                ("role", pa.string()),
                ("content", pa.string()),
                ("tool_calls", pa.list_(call)),
                ("tool_call_id", pa.string()),
                ("name", pa.string()),
            ]
        )
    )


# as exported for trainers: each call's arguments are a JSON object (Arrow's json type, which `datasets` loads as
# its Json feature), so a chat template renders them as an object, not as a quoted string
MESSAGES_JSON = _messages(pa.json_())
MESSAGES = _messages(pa.string())  # in the pipeline's tables: arguments as the model wrote them


def normalise(message: dict) -> dict:
    """Every message with every field (None where absent), so rows share one Arrow type."""
    return {
        "role": message["role"],
        "content": message.get("content"),
        "tool_calls": message.get("tool_calls") or None,
        "tool_call_id": message.get("tool_call_id"),
        "name": message.get("name"),
    }


def to_openai(message: dict) -> dict:
    """Back to the minimal dict an OpenAI-compatible endpoint accepts."""
    out = {"role": message["role"], "content": message.get("content")}
    for key in ("tool_calls", "tool_call_id", "name"):
        if message.get(key):
            out[key] = message[key]
    return out


def with_argument_objects(messages: list[dict]) -> list[dict]:
    """Messages for the json-typed export columns: every call's arguments JSON text of an object ({} for none)."""
    out = []
    for m in map(normalise, messages):
        calls = [
            {**c, "function": {**c["function"], "arguments": c["function"]["arguments"] or "{}"}}
            for c in m["tool_calls"] or []
        ]
        out.append({**m, "tool_calls": calls or None})
    return out


REQUEST = "request"  # a dialogue action's detail marking the user turn that the final answer answers


def request_of(messages: list[dict], actions=None) -> str:
    """What the user asked: in a dialogue, the turn its plan marked as the request (not the turns that only gave a
    value, 'It's order ord_1001.', nor a request given up on); elsewhere every user turn."""
    plan = actions.get("actions") if isinstance(actions, dict) else actions
    said = [a for a in plan or [] if a[0] == "user"]
    users = [m.get("content") or "" for m in messages if m["role"] == "user"]
    marked = [text for a, text in zip(said, users) if len(a) > 2 and a[2] == REQUEST]
    return marked[-1] if marked and len(said) == len(users) else " ".join(users)
