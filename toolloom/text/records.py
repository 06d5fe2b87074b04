"""A short list of small records said in a request as a person says them, and read back: MCP's memory server takes
`[{"entityName": "Lea Favre", "contents": ["Speaks French"]}]`, said '(entity name "Lea Favre", contents "Speaks
French")', never pasted as JSON. Only what reads back the same is said so; anything else stays JSON."""

from __future__ import annotations

import json
import re


_KEY = re.compile(r"[A-Za-z]+(?:_[a-z]+){0,3}")
_QUOTED_RUN = r'("[^"]*"(?:(?:, | and )"[^"]*")*)'


def label(key: str) -> str:
    """entityName -> 'entity name', relation_type -> 'relation type'."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key).replace("_", " ").lower()


def _plain(text) -> bool:
    return isinstance(text, str) and bool(text) and '"' not in text


def _said_value(value) -> str:
    items = [json.dumps(v, ensure_ascii=False) for v in (value if isinstance(value, list) else [value])]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def said(value) -> str | None:
    """One to three records of up to three text fields each ('(entity name "Lea Favre", contents "Speaks French")',
    records apart by '; '); None where the list is anything else or would not read back the same."""
    if not isinstance(value, list) or not 1 <= len(value) <= 3 or not all(isinstance(r, dict) for r in value):
        return None
    for record in value:
        if not 1 <= len(record) <= 3 or not all(_KEY.fullmatch(k) for k in record):
            return None
        if not all(
            _plain(v) or isinstance(v, list) and 1 <= len(v) <= 3 and all(map(_plain, v)) for v in record.values()
        ):
            return None
    text = "(" + "; ".join(", ".join(f"{label(k)} {_said_value(v)}" for k, v in r.items()) for r in value) + ")"
    shape = {k: {"type": "array"} if isinstance(v, list) else {"type": "string"} for r in value for k, v in r.items()}
    return text if read(text, shape) == value else None


def read(text: str, properties: dict) -> list[dict] | None:
    """The records a request states for an array of objects with these `properties`: each field's label and its
    quoted value(s), in order; a field said again starts the next record. None where none is stated."""
    found = []
    for key in sorted(properties, key=lambda k: -len(label(k))):  # 'relation type' before 'type'
        for m in re.finditer(rf"\b{re.escape(label(key))} {_QUOTED_RUN}", text, re.I):
            if not any(s <= m.start() < e for s, e, _, _ in found):
                found.append((m.start(), m.end(), key, re.findall(r'"([^"]*)"', m.group(1))))
    records: list[dict] = []
    for _, _, key, values in sorted(found):
        if not records or key in records[-1]:
            records.append({})
        many = (properties[key] or {}).get("type") == "array"
        if not many and len(values) > 1:
            return None
        records[-1][key] = values if many else values[0]
    return [{k: r[k] for k in properties if k in r} for r in records] or None
