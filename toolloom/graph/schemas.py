"""Walking JSON schemas: an object's type, its properties and items (`allOf`/`anyOf`/`oneOf` parts merged),
and the leaves of a response schema."""

from __future__ import annotations

from collections import deque

from .names import snake


def type_of(schema: dict) -> str:
    t = schema.get("type", "")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "")
    return t if isinstance(t, str) else ""


def properties(schema: dict) -> dict:
    """Properties of an object schema, those of its allOf/anyOf/oneOf parts merged in."""
    props = dict(schema.get("properties") or {}) if isinstance(schema.get("properties"), dict) else {}
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or []:
            if isinstance(part, dict):
                props.update(properties(part))
    return props


def items_of(schema: dict) -> dict | None:
    if isinstance(schema.get("items"), dict):
        return schema["items"]
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or []:
            if isinstance(part, dict) and (found := items_of(part)) is not None:
                return found
    return None


def leaves(schema, max_slots: int = 160) -> list[tuple[list[str], dict, frozenset]]:
    """(path, leaf schema, sibling keys) of a response schema's leaves, shallow ones first, arrays walked
    through; at most `max_slots` (a search returning seven kinds of record keeps each kind's ids)."""
    found: list = []
    queue = deque([(schema, [])])
    while queue and len(found) < max_slots:
        node, path = queue.popleft()
        if not isinstance(node, dict) or len(path) > 8:
            continue
        while type_of(node) == "array" or (not type_of(node) and items_of(node) is not None):
            node = items_of(node)
            if not isinstance(node, dict):
                break
        props = properties(node) if isinstance(node, dict) else {}
        if props:
            keys = frozenset(snake(k) for k in props)
            for key, sub in props.items():
                sub = sub if isinstance(sub, dict) else {}
                if properties(sub) or items_of(sub) is not None:
                    queue.append((sub, path + [key]))
                elif len(found) < max_slots:
                    found.append((path + [key], sub, keys - {snake(key)}))
        elif path and isinstance(node, dict):
            found.append((path, node, frozenset()))
    return found
