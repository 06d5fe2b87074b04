"""A simulated response read against the tool's documented example: a value the example has in another field
(a cast's name and character the wrong way round), a record renamed under a documented id, or the example's own
facts about another entity passed off as the asked one's."""

from __future__ import annotations

from ..domain import Tool
from ..text import spoken
from ..text.values import is_id_name


def scalars(value, path: str = ""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from scalars(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from scalars(v, f"{path}[{i}]")
    else:
        yield path, value


COPY_MIN = 8  # characters of a string that, repeated from the example about another entity, is a copy


def copied_from_example(tool: Tool, arguments: dict, value) -> list[str]:
    """Fields of a response about the id a call names that repeat what the tool's documented example
    says about its own, other entity (Brad Pitt's biography for person 1223786)."""
    example = (tool.get("meta") or {}).get("example_response")
    if not isinstance(example, dict) or not isinstance(value, dict) or "id" not in example:
        return []
    asked = [v for k, v in arguments.items() if is_id_name(k) and not isinstance(v, (dict, list))]
    if not asked or str(example["id"]) in {str(v) for v in asked}:
        return []
    theirs = {v for k, v in example.items() if isinstance(v, str) and len(v) >= COPY_MIN}
    copied = [f"{k}: {v[:60]!r}" for k, v in value.items() if isinstance(v, str) and v in theirs]
    said = [(k, v) for k, v in _texts(value) if len(v) >= COPY_MIN]
    documented = {v for _, v in _texts(example)}
    if not copied and said and all(v in documented for _, v in said):  # all it says is the example's: its keywords
        copied = [f"{k}: {v[:60]!r}" for k, v in said]
    return copied


def renamed_records(tool: Tool, value) -> list[str]:
    """Records of a response that carry the id of a record of the documented example under another name: the
    0.5B model's TV search for "The Dark Knight" gave back Game of Thrones' id 1399 named "The Dark Knight"."""
    names = {str(r["id"]): n for r, n in named_records((tool.get("meta") or {}).get("example_response"))}
    return [
        f"id {r['id']} is {names[str(r['id'])]!r} in the documentation, not {n!r}"
        for r, n in named_records(value)
        if str(r["id"]) in names and names[str(r["id"])] != n
    ]


def named_records(value):
    """(record, its name) for each record with an id and a name or title in a nested value."""
    if isinstance(value, list):
        for v in value:
            yield from named_records(v)
    elif isinstance(value, dict):
        name = next((value[k] for k in ("name", "title") if isinstance(value.get(k), str)), None)
        if name and isinstance(value.get("id"), (int, str)) and not isinstance(value.get("id"), bool):
            yield value, name
        for v in value.values():
            if isinstance(v, (dict, list)):
                yield from named_records(v)


def moved_values(tool: Tool, value) -> list[str]:
    """Values of a response that sit in another field than the documented example has them in: the 0.5B model
    gave a season's cast as name "Jon Snow", character "Kit Harington" where the example says the reverse."""
    fields = _documented_fields(tool)
    return [
        f"{key}: {v[:40]!r} (the example has it as {sorted(fields[v])[0]})"
        for key, v in _texts(value)
        if v in fields and key not in fields[v]
    ]


def _texts(value):
    """(field, text) for each text of three characters or more in a nested value."""
    return [(k, v) for k, v in spoken.scalars("", value) if k and isinstance(v, str) and len(v) >= 3]


def unmoved(tool: Tool, value):
    """`value` with each record's two values that the documented example has the other way round swapped back:
    the 0.5B simulator wrote a cast as name "Daenerys Targaryen", character "Emilia Clarke", and wrote it again
    the same way when told; one value alone in another field is left for `moved_values` to refuse."""
    fields = _documented_fields(tool)
    for record in _records(value):
        texts = [(k, v) for k, v in record.items() if isinstance(v, str) and v in fields]
        for i, (a, va) in enumerate(texts):
            for b, vb in texts[i + 1 :]:
                if b in fields[va] and a in fields[vb] and a not in fields[va] and b not in fields[vb]:
                    record[a], record[b] = vb, va
    return value


def _documented_fields(tool: Tool) -> dict[str, set[str]]:
    """Each text of the documented example, and the fields it is in."""
    fields: dict[str, set[str]] = {}
    for key, v in _texts((tool.get("meta") or {}).get("example_response")):
        fields.setdefault(v, set()).add(key)
    return fields


def _records(value):
    """Each object in a nested value."""
    if isinstance(value, dict):
        yield value
        value = list(value.values())
    if isinstance(value, list):
        for v in value:
            if isinstance(v, (dict, list)):
                yield from _records(v)
