"""The records a collection's documentation shows (TMDB's examples hold some 60 real films and 20 real shows),
as what a model simulator lists from.

A small model asked to write a list of films invents them: in the TMDB blind reads of the 0.5B model, shows
similar to a show were that show, twice; a search for "The Dark Knight" found Game of Thrones; a documented id
came back under another name. Where the documentation holds records of the kind a list holds, the list is
the model's choice among them, by name (decoding is held to those names), and each chosen record is filled
from the documentation; the model still writes what the documented records lack (a cast member's character).
"""

from __future__ import annotations

import random
import re

from ..graph.slots import CONTAINERS, TEXT_KINDS
from ..text.values import is_id_name

THIN = 3  # fields of a record too few to tell its kind by (genres, keywords and companies are all id and name)
SAME_KIND = 0.5  # Jaccard of a record's fields and a list item's documented fields: a record of the item's kind
MAX_CHOICES = 24  # names offered for one list (each is prompt text the model reads)
_SMALL_WORDS = frozenset({"the", "and", "for", "with", "from", "that", "this", "about", "what", "which", "of"})


def naming_key(properties) -> str | None:
    """The field that names a record of this shape: `title` or `name`, else none."""
    return next((k for k in ("title", "name") if k in (properties or {})), None)


def documented_records(tools) -> dict[str, list[tuple[str, dict]]]:
    """collection -> every record (an object with an id and a title or name) that the documented example
    responses of its tools about no particular thing (popular shows, a search) show, once each, with the
    name of the list field it was in. A record
    in the example of a tool about one thing is bound to it: Brad Pitt's TV credits give each show his
    character, which is not another person's."""
    found: dict[str, dict[tuple, tuple[str, dict]]] = {}
    for tool in tools:
        if any(is_id_name(k) for k in (tool.get("parameters") or {}).get("required") or []):
            continue
        example = (tool.get("meta") or {}).get("example_response")
        records = found.setdefault(tool.get("collection") or "", {})
        for field, node in _records(example, ""):
            key = (field, frozenset(node), str(node["id"]))
            records.setdefault(key, (field, {k: v for k, v in node.items() if v is not None}))
    return {collection: list(records.values()) for collection, records in found.items()}


def _records(value, field: str):
    """(the list field it is in, record) for each record of a nested value."""
    if isinstance(value, list):
        for v in value:
            yield from _records(v, field)
    elif isinstance(value, dict):
        name = naming_key(value)
        if name and isinstance(value[name], str) and value[name].strip() and _plain_id(value.get("id")):
            yield field, value
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                yield from _records(v, k)


def _plain_id(value) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def choices(
    item: dict,
    documented: dict,
    field: str,
    records: list[tuple[str, dict]],
    arguments: dict,
    query: str = "",
    salt: str = "",
) -> list[dict]:
    """The documented records a list `field` with items of decoding schema `item` (`documented`: the item's
    schema in the tool's response schema) may hold for this call: records of the item's kind (its naming
    field, mostly its fields, and where it has THIN fields or fewer a list of the same name), not the record
    the call asks about, and for a search (`query`) only those whose name holds its words; in an order
    seeded by the call (and `salt`: the model simulator's tool name, so that a show's similar shows and its
    recommendations are not offered in one order, which the 0.5B model answered with the same first three)."""
    props = item.get("properties") or {} if isinstance(item, dict) else {}
    name = naming_key(props)
    kind = set((documented.get("properties") or {}) if isinstance(documented, dict) else {})
    if not name or "id" not in props or not kind:
        return []
    asked = {str(v) for k, v in arguments.items() if is_id_name(k) and _plain_id(v)}
    thin = len(kind) <= THIN
    fit = [
        r
        for listed, r in records
        if (not thin or (listed == field and field not in CONTAINERS))
        and isinstance(r.get(name), str)
        and str(r.get("id")) not in asked
        and len(kind & set(r)) >= SAME_KIND * len(kind | set(r))
    ]
    if query:  # every word of it: a search for "The Dark Knight" does not find "Dark Matter"
        wanted = _words(query)
        fit = [r for r in fit if wanted and wanted <= _words(r[name])]
    unique = list({r[name]: r for r in fit}.values())  # one record a name: the model chooses by name
    order = sorted(arguments.items(), key=str)
    random.Random(repr((salt, order) if salt else order)).shuffle(unique)
    return unique[:MAX_CHOICES]


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) > 2 and w not in _SMALL_WORDS}


def chosen_item(item: dict, offered: list[dict]) -> dict:
    """The decoding schema of a list item chosen among `offered`: its name one of theirs, and the fields some
    of them lack still written by the model."""
    props = item["properties"]
    name = naming_key(props)
    missing = {k: s for k, s in props.items() if k not in (name, "id") and not all(k in r for r in offered)}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [name, *missing],
        "properties": {name: {"type": "string", "enum": [r[name] for r in offered]}, **missing},
    }


def filled(items: list, item: dict, offered: list[dict]) -> list:
    """The model's chosen items, each the documented record it names, cut to the item's fields, with the
    model's own value only where the record has none."""
    props = item["properties"]
    name = naming_key(props)
    by_name = {r[name]: r for r in offered}
    out = []
    for chosen in items:
        record = by_name.get(chosen.get(name)) if isinstance(chosen, dict) else None
        if record is None:
            out.append(chosen)
            continue
        out.append({k: record[k] if k in record else chosen.get(k) for k in props if k in record or k in chosen})
    return out


def with_documented_items(value, returns: dict | None, records: list[tuple[str, dict]], arguments: dict) -> None:
    """Offline: each list of a generated response (the top level, or a field of the top object) whose kind the
    documentation shows holds documented records instead of generated ones, in the call's seeded order, each
    keeping a generated value only for a field its record lacks."""
    if not records or not isinstance(returns, dict):
        return
    query = next((v for k, v in arguments.items() if k.lower() in TEXT_KINDS and isinstance(v, str)), "")
    props = returns.get("properties") or {}
    spots = [("", value, returns)] + [
        (k, v, props.get(k) or {}) for k, v in (value.items() if isinstance(value, dict) else [])
    ]
    for field, items, schema in spots:
        item = schema.get("items") if isinstance(schema, dict) else None
        if not isinstance(items, list) or not items or not isinstance(item, dict):
            continue
        offered = choices(item, item, field, records, arguments, query)
        keys = set(item.get("properties") or {})
        items[:] = [
            {**made, **{k: v for k, v in record.items() if k in keys}} if isinstance(made, dict) else made
            for made, record in zip(items, offered)
        ] or items


def searched_names(tool, records: list[tuple[str, dict]]) -> dict[str, list[str]]:
    """Required search parameter (`query`) -> the names of documented records of the kind the tool's results
    list: what a person searches for is something the service holds ("Fight Club", not a made-up title)."""
    params = tool.get("parameters") or {}
    text = [k for k in params.get("required") or [] if k.lower() in TEXT_KINDS]
    returns = tool.get("returns") or {}
    spots = [("", returns)] + list((returns.get("properties") or {}).items()) if text else []
    for field, schema in spots:
        item = schema.get("items") if isinstance(schema, dict) else None
        found = choices(item, item, field, records, {}) if isinstance(item, dict) else []
        if found:
            name = naming_key(item["properties"])
            return {k: [r[name] for r in found[:8]] for k in text}
    return {}
