"""Input and output slots of operations, with the short entity names ToolDial compares.

Input slots are required parameters (page/limit-like and credential inputs dropped); output slots are leaf fields
of the response schema, addressed by an `a|b|c` path (status/message-like outputs dropped). A
generic leaf name such as `id` is qualified by the entity it belongs to: `results|id` of
`GET /search/movie` is `movie_id`, so it can meet a `movie_id` input.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

GENERIC_LEAVES = {"id", "name", "code", "key", "uuid", "slug", "title", "value", "type"}
CONTAINERS = {"results", "result", "data", "items", "item", "list", "response", "records", "entries", "hits", "objects",
              "content", "payload", "body", "values", "rows", "docs", "documents"}
VERBS = {"get", "list", "search", "find", "fetch", "show", "query", "create", "update", "delete", "add", "remove", "set",
         "post", "put", "patch", "retrieve", "lookup", "read", "api", "v1", "v2", "v3", "v4"}
DROP_INPUT = re.compile(r"^(page|pages|page_?num(ber)?|page_?size|per_?page|limit|offset|cursor|start|count|size|max_?results|page_?token)$"
                        r"|(^|_)(access_?token|token|api_?key|apikey|secret|password|auth|authorization|credentials?)$")
DROP_OUTPUT = re.compile(r"(^|_)(status|message|msg|error|errors|success|warning|warnings)(_|$)")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", _CAMEL.sub("_", name).lower()).strip("_")


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def resource_noun(tool: dict) -> str:
    """The entity an operation is about: from its path, else from its name, verbs skipped."""
    path = (tool.get("meta") or {}).get("path") or ""
    parts = [snake(p) for p in path.split("/") if p and not p.startswith("{")]
    parts += [p for p in snake(tool["name"]).split("_") if p]
    for part in parts:
        for word in part.split("_"):
            if word and word not in VERBS and not word.isdigit():
                return singular(word)
    return ""


@dataclass(frozen=True)
class Slot:
    tool: str
    path: str  # parameter name, or a|b|c in the response
    entity: str  # short entity name compared by the name test
    type: str  # string, number, integer, boolean, array, object, or "" when untyped
    description: str


def _type(schema: dict) -> str:
    t = schema.get("type", "")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "")
    return t if isinstance(t, str) else ""


def input_slots(tool: dict) -> list[Slot]:
    params = tool["parameters"]
    props = params.get("properties") or {}
    out = []
    for name in params.get("required") or []:
        schema = props.get(name) if isinstance(props.get(name), dict) else {}
        entity = snake(name)
        if not entity or DROP_INPUT.match(entity):
            continue
        if entity in GENERIC_LEAVES:
            entity = f"{resource_noun(tool)}_{entity}".strip("_")
        out.append(Slot(tool["name"], name, entity, _type(schema), str(schema.get("description") or "")))
    return out


def output_slots(tool: dict, max_slots: int = 64) -> list[Slot]:
    out: list[Slot] = []
    noun = resource_noun(tool)

    def walk(schema, path: list[str], depth: int) -> None:
        if len(out) >= max_slots or depth > 6 or not isinstance(schema, dict):
            return
        t = _type(schema)
        if t == "array" or (not t and "items" in schema):
            walk(schema.get("items"), path, depth + 1)
            return
        props = schema.get("properties")
        if isinstance(props, dict) and props:
            for key, sub in props.items():
                walk(sub, path + [key], depth + 1)
            return
        if not path:
            return
        leaf = snake(path[-1])
        if not leaf or DROP_OUTPUT.search(leaf):
            return
        entity = leaf
        if leaf in GENERIC_LEAVES:
            owner = next((singular(snake(p)) for p in reversed(path[:-1]) if snake(p) not in CONTAINERS), noun)
            entity = f"{owner}_{leaf}".strip("_")
        out.append(Slot(tool["name"], "|".join(path), entity, t, str(schema.get("description") or "")))

    walk(tool.get("returns") or {}, [], 0)
    return out


_NUMERIC = {"integer", "number"}


def compatible(output_type: str, input_type: str) -> bool:
    """Can a value of the output's type fill the input? Untyped matches anything; numbers may fill strings."""
    if not output_type or not input_type or output_type == input_type:
        return True
    if output_type in _NUMERIC and input_type in _NUMERIC:
        return True
    return output_type in _NUMERIC and input_type == "string"
