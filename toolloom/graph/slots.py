"""Input and output slots of operations, typed by the entity they identify (ToolDial's "entity names").

Input slots are required parameters (paging and credentials dropped); output slots are leaf fields of the
response schema, addressed by an `a|b|c` path (status/message outputs dropped, `allOf`/`anyOf`/`oneOf`
merged). A bare identifier (`id`, `ids`, `uri`, `code`, ...) is qualified by the entity it belongs to:
- an input by the path segment before it (`/albums/{id}` -> `album_id`), else by an entity its
  description names ("Must be a track or an episode uri" -> `track_uri`), else by the operation's noun;
- an output by the record it sits in: the entity whose detail operation (`GET /movie/{movie_id}`) returns
  the most similar record (`cast|id` of a person's movie credits is a `movie_id`), else by its nearest
  named parent (`genres|id` -> `genre_id`), else by the operation's noun (`results|id` of
  `GET /search/movie` -> `movie_id`).
Generic slots (email, url, username, content type, format, language, ...) not qualified by a parent are
marked `generic`: the graph never joins them on the name alone. A top-level output that repeats one of
its own operation's inputs (`id` of `GET /movie/{movie_id}`) passes nothing new and is not a slot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..domain import Tool
from .names import nouns_of, resource_noun, singular, snake
from .schemas import leaves, type_of

ID_KINDS = {"id", "uri", "code", "key", "uuid", "slug", "guid"}
GENERIC_LEAVES = ID_KINDS | {"name", "title", "value", "type", "number"}
GENERIC_SLOTS = {
    "email",
    "url",
    "href",
    "link",
    "username",
    "user_name",
    "content_type",
    "format",
    "language",
    "lang",
    "locale",
    "text",
    "query",
    "q",
    "keyword",
    "keywords",
    "date",
    "time",
    "timestamp",
    "description",
    "callback",
    "mime_type",
    "encoding",
    "country",
    "currency",
    "region",
    "market",
    "image",
    "file",
    "data",
    "body",
    "content",
    "src",
    "source",
    "target",
    "object",
    "item",
    "path",
    "mode",
    "version",
    "method",
    "style",
    "tag",
    "tags",
    "subject",
    "message",
    "label",
    "category",
    "size",
    "color",
    "width",
    "height",
    "amount",
    "quantity",
    "count",
    "result",
    "output",
    "input",
    "search",
    "team",
}
TEXT_KINDS = {"query", "q", "name", "title", "keyword", "keywords", "text", "term", "search", "search_term"}
CONTAINERS = {
    "results",
    "result",
    "data",
    "items",
    "item",
    "list",
    "response",
    "records",
    "entries",
    "hits",
    "objects",
    "content",
    "payload",
    "body",
    "values",
    "rows",
    "docs",
    "documents",
    "elements",
    "nodes",
    "edges",
}
DROP_INPUT = re.compile(
    r"^(page|pages|page_?num(ber)?|page_?size|per_?page|limit|offset|cursor|start|count|size"
    r"|max_?results|page_?token|after|before|since|until|fields|include_\w+|additional_types|sort(_by)?|order(_by)?)$"
    r"|(^|_)(access_?token|token|api_?key|apikey|secret|password|auth|authorization|credentials?)$"
)
DROP_OUTPUT = re.compile(
    r"(^|_)(status|message|msg|error|errors|success|warning|warnings|total|next|previous|offset"
    r"|limit|href)(_|$)|^(page|total_pages|total_results|count)$"
)


@dataclass(frozen=True)
class Slot:
    tool: str
    path: str  # parameter name, or a|b|c in the response
    entity: str  # typed name compared by the name test: movie_id, track_uri, country_code
    type: str  # string, number, integer, boolean, array, object, or "" when untyped
    description: str
    generic: bool = False  # an unqualified generic slot: never joined on its name alone
    record: frozenset = frozenset()  # an output's sibling keys (the record it identifies)


ENDS = {"from", "to", "start", "end", "begin", "source", "target", "src", "dst", "origin", "destination"}  # of a span
ROLES = ENDS | {
    "base",
    "quote",
    "first",
    "second",
    "primary",
    "secondary",
    "home",
    "away",
    "sender",
    "recipient",
    "new",
    "old",
    "other",
}


def without_role(name: str) -> str:
    """The entity a role-named slot identifies: `from_city_id` and `to_city_id` are city ids, `base_currency` a
    currency (a two-city tool is then fed by two city lookups)."""
    head, _, rest = name.partition("_")
    return rest if head in ROLES and rest else name


_PLURAL_KINDS = {
    "ids": "id",
    "uris": "uri",
    "codes": "code",
    "keys": "key",
    "uuids": "uuid",
    "slugs": "slug",
    "names": "name",
    "titles": "title",
    "numbers": "number",
}


def split_kind(entity: str) -> tuple[str, str]:
    """(owner, kind) of a snake name: `movie_ids` -> (movie, id), `id` -> ("", id), `email` -> ("", email)."""
    *head, last = entity.split("_")
    last = _PLURAL_KINDS.get(last, last)
    if last not in GENERIC_LEAVES:
        return "", entity
    return "_".join(head), last


# what a number measures rather than names: a count of days or a quantity is said by the person who wants it, not
# passed on (readers called 'my trip lasts that many days' a puzzle); a year, a season number or an id is passed on
MEASURES = {"quantity", "amount", "count", "total", "price", "rate", "percent", "days", "hours", "minutes", "weeks"}


def measured(slot: Slot) -> bool:
    """Whether an output is a measured amount (`days` of days_between, a cart item's `quantity`)."""
    return slot.type in ("number", "integer") and slot.entity.split("_")[-1] in MEASURES


def _mentioned(description: str, typing: Typing) -> str:
    """The known entity a description names ("a track or an episode uri" -> track): one with a record first."""
    named = [n for n in nouns_of(description) if n in typing.entities]
    return next((n for n in named if n in typing.records), named[0] if named else "")


class Typing:
    """What a collection knows about its entities; empty, slots are typed from names and paths only.
    `entities.EntityIndex` is the real one."""

    entities: frozenset = frozenset()
    records: dict = {}

    def entity_of_record(self, keys: frozenset) -> str:
        return ""


NO_TYPING = Typing()


def input_slots(tool: Tool, typing: Typing = NO_TYPING) -> list[Slot]:
    params = tool["parameters"]
    props = params.get("properties") or {}
    path = (tool.get("meta") or {}).get("path") or ""
    segments = [s for s in path.split("/") if s]
    out = []
    for name in params.get("required") or []:
        schema = props.get(name) if isinstance(props.get(name), dict) else {}
        entity = without_role(snake(name))
        if not entity or DROP_INPUT.match(entity):
            continue
        owner, kind = split_kind(entity)
        description = str(schema.get("description") or "")
        generic = False
        if entity in GENERIC_SLOTS:
            generic = True
        elif owner:
            entity = f"{singular(owner)}_{kind}"
        elif kind in GENERIC_LEAVES:
            before = next((segments[k - 1] for k, s in enumerate(segments) if s == f"{{{name}}}" and k > 0), "")
            noun = (nouns_of(before)[-1:] or [""])[0] if before and not before.startswith("{") else ""
            if kind in ID_KINDS:
                noun = noun or _mentioned(description, typing)
            noun = noun or resource_noun(tool)
            entity = f"{noun}_{kind}".strip("_")
        out.append(Slot(tool["name"], name, entity, type_of(schema), description, generic))
    return out


def nested_depth(slot: Slot) -> int:
    """How many named records an output id sits inside: 0 for `results|id`, `cast|id` and `albums|items|id`
    (the response's own records), 1 for `results|known_for|id`, 2 for `tracks|items|track|album|id`."""
    parts = [singular(snake(p)) for p in slot.path.split("|")[:-1]]
    while parts and _container(parts[-1]):
        parts.pop()
    return sum(1 for p in parts[:-1] if p and not _container(p))


def _container(part: str) -> bool:
    return part in CONTAINERS or part + "s" in CONTAINERS


def parent_of(path: list[str]) -> str:
    """The nearest named parent of a leaf (`genres|id` -> genre), containers such as `results` skipped."""
    return next((singular(snake(p)) for p in reversed(path[:-1]) if snake(p) not in CONTAINERS), "")


def owner_of_id(path: list[str], siblings: frozenset, typing: Typing) -> str:
    """The entity a bare id in a response identifies, from the response alone (empty when it does not say):
    a parent that has its own record, else the record it sits in, else its parent."""
    parent = parent_of(path)
    if parent in typing.records:
        return parent
    return typing.entity_of_record(siblings) or parent


def enum_entities(tool: Tool, typing: Typing) -> list[str]:
    """Entities a parameter chooses between (`media_type: movie | tv | person`, `type: artists | tracks`): the
    operation's own records are then of any of them."""
    found: list[str] = []
    for schema in (tool["parameters"].get("properties") or {}).values():
        values = schema.get("enum") if isinstance(schema, dict) else None
        named = [singular(snake(str(v))) for v in values or [] if singular(snake(str(v))) in typing.entities]
        if len(named) >= 2:
            found += [n for n in named if n not in found]
    return found


def entity_noun(tool: Tool, typing: Typing) -> str:
    """The last noun of an operation's path that is one of the collection's entities (`tv` of `/tv/popular`)."""
    path = (tool.get("meta") or {}).get("path") or ""
    nouns = [n for seg in path.split("/") if seg and not seg.startswith("{") for n in nouns_of(seg)]
    return next((n for n in reversed(nouns) if n in typing.entities), "")


def output_slots(tool: Tool, typing: Typing = NO_TYPING, max_slots: int = 160) -> list[Slot]:
    noun = resource_noun(tool)
    id_noun = entity_noun(tool, typing) or noun
    own_inputs = {s.entity for s in input_slots(tool)}
    chosen = enum_entities(tool, typing)
    out = []
    for path, schema, siblings in leaves(tool.get("returns") or {}, max_slots):
        leaf = without_role(snake(path[-1]))
        if not leaf or DROP_OUTPUT.search(leaf):
            continue
        owner, kind = split_kind(leaf)
        parent = parent_of(path)
        generic = False
        if leaf in GENERIC_SLOTS:
            entity, generic = (f"{parent}_{leaf}", False) if parent else (leaf, True)
        elif owner:
            entity = f"{singular(owner)}_{kind}"
        elif kind in ID_KINDS:
            named = owner_of_id(path, siblings, typing)
            named = named or (_mentioned(str(schema.get("description") or ""), typing) if len(path) == 1 else "")
            entity = f"{named or id_noun}_{kind}".strip("_")
        elif kind in GENERIC_LEAVES:
            entity = f"{parent or noun}_{kind}".strip("_")
        else:
            entity = leaf
        if len(path) == 1 and entity in own_inputs:
            continue  # the operation's own input echoed back
        typed = (
            [f"{e}_{kind}" for e in chosen] if chosen and kind in ID_KINDS and not owner and not parent else [entity]
        )
        out += [
            Slot(
                tool["name"],
                "|".join(path),
                e,
                type_of(schema),
                str(schema.get("description") or ""),
                generic,
                siblings,
            )
            for e in typed
        ]
    return out


_NUMERIC = {"integer", "number"}


def compatible(output_type: str, input_type: str) -> bool:
    """Can a value of the output's type fill the input? Untyped matches anything; numbers may fill strings."""
    if not output_type or not input_type or output_type == input_type:
        return True
    if output_type in _NUMERIC and input_type in _NUMERIC:
        return True
    return output_type in _NUMERIC and input_type == "string"
