"""Requests for a tool whose one argument is a few records of a shape people say as a sentence, and the reader that
takes them back: MCP's memory server's relations ('Add to the knowledge graph that "Lea Favre" guides the route to
"Mont Fort hut".'), observations ('Remove the observation "In Switzerland" from "Trient hut".') and entities ('Add to
the knowledge graph the person "Lea Favre", noting "Mountain guide".'), a file's edits ('Change "three weeks" to
"four weeks" in the file "notes.txt".'). Only a request that reads back the same is used; any other list of records
is said by its field labels (`records.said`)."""

from __future__ import annotations

import random
import re

from ..graph.names import singular
from .records import label
from .tool_names import FAMILY, parse_name, words_of

RELATION = {"from": ("from", "source", "subject"), "rel": ("relationType", "relation_type", "relation", "predicate")}
RELATION["to"] = ("to", "target", "object")
NOTES = {"name": ("entityName", "entity_name", "entity", "name")}  # and one list of strings: what is noted
ENTITY = {"name": ("name", "entityName", "entity_name"), "type": ("entityType", "entity_type", "type")}
ENTITY["notes"] = ("observations", "notes", "facts")
EDIT = {"old": ("oldText", "old_text", "old_str", "old", "find", "search"), "new": ("newText", "new_text", "new_str")}
EDIT["new"] += ("new", "replace", "replacement")
_GENERIC_ITEMS = {"contents": "note", "content": "note", "texts": "note", "values": "value", "items": "item"}
_Q = r'"([^"\n]+)"'
_RUN = r'("[^"\n]+"(?:(?:, | and )"[^"\n]+")*)'
_CONTEXT = re.compile(r"\b(?:in|to|from|into|of) (the (?:[a-z]+ )?(?:graph|memory|notes|store|database))\b")
FILE_KEYS = {"path", "file", "filename", "filepath", "file_path"}


def _roles(keys, roles: dict) -> dict | None:
    """Which key plays each role, where the keys are exactly the roles' (one each)."""
    found = {r: next((k for k in keys if k in names), None) for r, names in roles.items()}
    return found if all(found.values()) and len(set(keys)) == len(roles) else None


def shape(properties: dict) -> tuple[str, dict] | None:
    """The shape a record's fields make ('relation', 'notes', 'entity', 'edit') and which field is which."""
    keys = set(properties)
    for kind, roles in (("relation", RELATION), ("entity", ENTITY), ("edit", EDIT)):
        if found := _roles(keys, roles):
            return kind, found
    name = _roles(keys - {k for k in keys if (properties[k] or {}).get("type") == "array"}, NOTES)
    many = [k for k in keys if (properties[k] or {}).get("type") == "array"]
    return ("notes", {**name, "notes": many[0]}) if name and len(many) == 1 and len(keys) == 2 else None


def item_noun(key: str) -> str:
    """What one value of a list field is called: observations -> observation, contents -> note."""
    return _GENERIC_ITEMS.get(key.lower()) or singular(label(key).split()[-1])


def _quoted(values: list[str]) -> str:
    q = [f'"{v}"' for v in values]
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + " and " + q[-1]


def _clause(kind: str, roles: dict, record: dict, noun: str) -> str:
    if kind == "relation":
        return f'"{record[roles["from"]]}" {record[roles["rel"]]} "{record[roles["to"]]}"'
    if kind == "edit":
        return f'"{record[roles["old"]]}" to "{record[roles["new"]]}"'
    notes = record[roles["notes"]]
    noun = (noun or item_noun(roles["notes"])) + ("s" if len(notes) > 1 else "")
    if kind == "entity":
        return f'the {record[roles["type"]]} "{record[roles["name"]]}", noting {_quoted(notes)}'
    return f'the {noun} {_quoted(notes)} {{link}} "{record[roles["name"]]}"'


def _plain(value) -> bool:
    if isinstance(value, list):
        return 1 <= len(value) <= 3 and all(map(_plain, value))
    return isinstance(value, str) and 0 < len(value) <= 120 and not re.search(r'["\n]', value)


def said(records: list, verb: str, context: str, rng: random.Random, noun: str = "") -> str | None:
    """The request for one to three records (without its file), or None where no sentence says them; `noun` is what
    one noted value is called where the tool's name says it (add_observations' contents: an observation)."""
    if not isinstance(records, list) or not 1 <= len(records) <= 3 or not all(isinstance(r, dict) for r in records):
        return None
    found = shape({k: {"type": "array" if isinstance(v, list) else "string"} for k, v in records[0].items()})
    if not found or any(set(r) != set(records[0]) or not all(map(_plain, r.values())) for r in records):
        return None
    kind, roles = found
    if kind == "entity" and not re.fullmatch(r"[a-z]+(?: [a-z]+)?", str(records[0][roles["type"]])):
        return None  # 'the person "Lea Favre"': a type said as one or two plain words
    family = FAMILY.get(verb, "other")
    clauses = [_clause(kind, roles, r, noun) for r in records]
    if kind == "edit":
        return f"Change {' and '.join(clauses)}"
    if family not in ("create", "delete") or kind == "entity" and family != "create":
        return None
    if kind == "relation":
        many = "relations" if len(records) > 1 else "relation"
        facts = " and that ".join(clauses)
        if family == "create":
            return f"In {context}, add the {many} that {facts}"
        return rng.choice([f"Remove the {many} that {facts}", f"Delete the {many} that {facts}"])
    if kind == "entity":
        return f"In {context}, add {', and '.join(clauses)}" if context else None
    link = "to" if family == "create" else "from"
    start = "Add" if family == "create" else rng.choice(["Remove", "Delete"])
    return start + " " + ", and ".join(c.replace("{link}", link) for c in clauses)


def request(step, meta: dict, rng: random.Random) -> str | None:
    """The whole request for a step whose one unbound argument (besides a file) is records said as a sentence."""
    if step.bindings:
        return None
    listed = [k for k, v in step.arguments.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
    files = [k for k in step.arguments if k.lower() in FILE_KEYS and isinstance(step.arguments[k], str)]
    if len(listed) != 1 or set(step.arguments) - set(listed) - set(files[:1]):
        return None
    family, verb, obj, _ = parse_name(words_of(step.name))
    context = _CONTEXT.search(((meta.get("summary") or "").split(".")[0]).lower())
    noun = singular(obj[-1]) if obj and re.fullmatch(r"[a-z]+", obj[-1]) else ""
    records = step.arguments[listed[0]]
    text = said(records, verb if family != "other" else "", context.group(1) if context else "", rng, noun)
    if text is None or files and not text.startswith("Change"):
        return None
    if files:  # 'Change "a" to "b" in the file "notes.txt".'
        text += f' in the file "{step.arguments[files[0]]}"'
    return text + "." if read(text, _properties(records)) == records else None


def _properties(records: list[dict]) -> dict:
    return {k: {"type": "array" if isinstance(v, list) else "string"} for k, v in records[0].items()}


def read(text: str, properties: dict) -> list[dict] | None:
    """The records a request says as sentences for an array of objects with these `properties`, or None."""
    found = shape(properties)
    if not found:
        return None
    kind, roles = found
    if kind == "relation":
        pattern = rf'\bthat {_Q} ([a-z][^"\n]*?) {_Q}'
        out = [{roles["from"]: a, roles["rel"]: r, roles["to"]: b} for a, r, b in re.findall(pattern, text)]
    elif kind == "edit":
        out = [{roles["old"]: a, roles["new"]: b} for a, b in re.findall(rf"\b(?:[Cc]hange|and) {_Q} to {_Q}", text)]
    elif kind == "entity":
        matches = re.findall(rf"\bthe ([a-z]+(?: [a-z]+)?) {_Q}, noting {_RUN}", text)
        out = [{roles["name"]: n, roles["type"]: t, roles["notes"]: _values(run)} for t, n, run in matches]
    else:
        matches = re.findall(rf"\bthe [a-z]+ {_RUN} (?:to|from) {_Q}", text)  # 'the observation(s)', 'the note(s)'

        out = [{roles["name"]: name, roles["notes"]: _values(run)} for run, name in matches]
    return [{k: r[k] for k in properties if k in r} for r in out] or None


def _values(run: str) -> list[str]:
    return re.findall(r'"([^"]*)"', run)
