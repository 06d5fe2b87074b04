"""The model simulator (ToolAlpaca's tool executor): a tool with no implementation answered by a model
that is shown the tool's documentation, its response schema and documented example, the call, and
the episode so far, and is held to the response schema by the endpoint's structured output.

A call has passed the tool's schema check before it gets here, so the answer is always a result (a
small model left free to refuse makes up errors for valid calls). A response that is not about the
call (an id the call asked for, contradicted by the response's id field), or that holds stand-ins
instead of values, is asked again once with the problem; then rejected as an error observation
that says why. The consistency layer of the offline simulator then
sets the facts this episode has already seen about the same ids.
"""

from __future__ import annotations

import json
import re

from ..domain import Tool
from ..checks.arguments import schema_errors
from ..executors.catalogue import chosen_item, choices, filled
from ..executors.simulated import contradicted_ids, with_episode_facts
from ..graph.slots import TEXT_KINDS
from ..llm import ModelClient
from ..llm.structured import UnusableAnswer, chat_json
from ..prompts import render
from ..sandbox import Observation, error_observation
from ..text.values import is_id_name, schema_type, stand_ins
from .example_fields import copied_from_example, moved_values, named_records, renamed_records, scalars, unmoved

MAX_FIELDS = 8  # properties of a top-level object a simulated answer fills (the required ones first)
MAX_NESTED_FIELDS = 5
MAX_ITEMS = 3  # items of a simulated list
MIN_ITEMS = 2  # items of a simulated list whose documented example shows several
MAX_TEXT = 320  # characters of a simulated string: a small model's overview otherwise rambles for minutes
_KEEP = ("type", "enum", "const", "format")


_NAMING = re.compile(r"(^|_)(name|title|label)$", re.I)
_ASIDE = re.compile(r"(path|url|uri|href|image|logo|thumbnail|icon)s?$", re.I)


def _field_rank(key: str, schema, named: bool) -> int:
    """Which fields a cut response keeps first: what names the thing, its id, plain values, nested
    ones, and last links and file paths (a list of films without titles answers nothing); where
    nothing names the thing, its link or path comes first (an image is its file path)."""
    if _NAMING.search(key):
        return 0
    if key.lower() == "id" or key.lower().endswith("_id"):
        return 1
    if _ASIDE.search(key):
        return 4 if named else 0
    return 3 if schema_type(schema if isinstance(schema, dict) else {}) in ("object", "array") else 2


def decoding_schema(schema: dict | None, depth: int = 0, prefer: tuple[str, ...] = (), example=None) -> dict:
    """The response schema as a constraint for decoding: each object's properties all present and no
    others (its required ones and those named like `prefer` first, at most MAX_FIELDS), short lists;
    descriptions, examples and patterns left to the prompt. Whatever fits it fits the original.
    `example` (the documented response): a list it shows with several items gets at least MIN_ITEMS,
    since the 0.5B model closed 36 of 44 lists after one item (a list of popular shows holding one show)."""
    if not isinstance(schema, dict) or not schema:
        return {}
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return {"anyOf": [decoding_schema(s, depth, prefer) for s in schema[key] if isinstance(s, dict)]}
    out = {k: schema[k] for k in _KEEP if k in schema}
    typ = schema_type(schema)
    if typ == "object":
        props = schema.get("properties") or {}
        required = [k for k in schema.get("required") or [] if k in props]
        ranked = required + [k for k in props if k in prefer and k not in required]
        named = any(_NAMING.search(k) for k in props)
        ranked += sorted((k for k in props if k not in ranked), key=lambda k: _field_rank(k, props[k], named))
        keep = ranked[: max(len(required), MAX_FIELDS if depth == 0 else MAX_NESTED_FIELDS)]
        out.update(
            type="object",
            additionalProperties=False,
            required=keep,
            properties={k: decoding_schema(props[k], depth + 1, example=_at(example, k)) for k in keep},
        )
        if not props:
            out.pop("additionalProperties")
            out.pop("required")
            out.pop("properties")
    elif typ == "array":
        out["type"] = "array"
        shown = example if isinstance(example, list) else []
        out["items"] = decoding_schema(schema.get("items"), depth + 1, prefer, shown[0] if shown else None)
        out["maxItems"] = min(int(schema.get("maxItems") or MAX_ITEMS), MAX_ITEMS)
        least = max(int(schema.get("minItems") or 0), MIN_ITEMS if len(shown) >= MIN_ITEMS else 0)
        if least:
            out["minItems"] = min(least, out["maxItems"])
    elif typ == "string" and not ({"enum", "const", "format"} & set(out)):
        out["maxLength"] = min(int(schema.get("maxLength") or MAX_TEXT), MAX_TEXT)
    return out


def _at(example, key: str):
    return example.get(key) if isinstance(example, dict) else None


def ended_text(value):
    """Free text the decoding limit cut (MAX_TEXT characters) ended at its last full sentence."""
    if isinstance(value, dict):
        return {k: ended_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [ended_text(v) for v in value]
    if isinstance(value, str) and len(value) >= MAX_TEXT:
        end = max(value.rfind(". "), value.rfind("! "), value.rfind("? "))
        return value[: end + 1] if end > 0 else value.rstrip(" ,;:") + "…"
    return value


def response_schema(tool: Tool, arguments: dict) -> dict:
    """What a simulated answer may be: the tool's result (its response schema, or any object when it
    documents none). Never an error: the call has passed the schema check, and a small model asked
    to judge a valid call refuses it with made-up errors (6 of the first 11 TMDB calls in one run)."""
    example = (tool.get("meta") or {}).get("example_response")
    if any(k.lower() in TEXT_KINDS for k in arguments):
        example = None  # a search may find one match; a listing's one item answers nothing, and a chain cannot go on
    return decoding_schema(tool.get("returns"), prefer=tuple(arguments), example=example) or {"type": "object"}


def documented_lists(schema: dict, tool: Tool, arguments: dict) -> dict:
    """Where the collection's documentation holds records of the kind a list of the response holds (the top
    level, or a field of the top object): the list's items become a choice among them by name (`catalogue`),
    in `schema`, and the returned `{field or "": (item, offered)}` fills the choices in afterwards."""
    records = tool.get("documented_records") or []
    query = next((v for k, v in arguments.items() if k.lower() in TEXT_KINDS and isinstance(v, str)), "")
    returns = tool.get("returns") or {}
    spots = [("", schema, returns)] + [
        (k, s, (returns.get("properties") or {}).get(k) or {}) for k, s in (schema.get("properties") or {}).items()
    ]
    found = {}
    for key, node, documented in spots:
        if not records or not isinstance(node, dict) or node.get("type") != "array":
            continue
        item = node.get("items") or {}
        offered = choices(item, documented.get("items") or {}, key, records, arguments, query, salt=tool["name"])
        if len(offered) >= (1 if query else max(MIN_ITEMS, int(node.get("minItems") or 0))):
            found[key] = (item, offered)
            node["items"] = chosen_item(item, offered)
            node["maxItems"] = min(node.get("maxItems") or MAX_ITEMS, len(offered))
            node["minItems"] = min(node.get("minItems") or 0, node["maxItems"])
    return found


def with_documented(value, lists: dict):
    """`value` with the chosen items of each documented list filled from the documentation."""
    for key, (item, offered) in lists.items():
        holder = value if key == "" else value.get(key) if isinstance(value, dict) else None
        if isinstance(holder, list):
            holder[:] = filled(holder, item, offered)
    return value


def without_repeats(arguments: dict, value):
    """`value` with each list's repeated records and the asked record itself dropped, where others remain (the
    0.5B model's shows similar to a show were that show, twice, once lists had to hold two items; asked again,
    it wrote the same): what is left is the model's own answer, as a real page of results would be."""
    asked = {str(v) for k, v in arguments.items() if is_id_name(k) and isinstance(v, (int, str))}
    for items in list(_lists(value)):
        seen, kept = set(asked), []
        for item in items:
            key = str(item.get("id")) if isinstance(item.get("id"), (int, str)) else None
            if key is None or key not in seen:
                kept.append(item)
                seen.add(key)
        if kept and len(kept) < len(items):
            items[:] = kept
    return value


def repeated_records(arguments: dict, value) -> str:
    """A list that holds one record twice, or the asked record itself, where nothing else is left to keep."""
    asked = {str(v): k for k, v in arguments.items() if is_id_name(k) and isinstance(v, (int, str))}
    for items in _lists(value):
        ids = [str(i["id"]) for i in items if isinstance(i, dict) and isinstance(i.get("id"), (int, str))]
        if twice := next((i for i in ids if ids.count(i) > 1), None):
            return f"the list holds the record with id {twice} twice; give each item its own record"
        if mine := next((i for i in ids if i in asked), None):
            return f"the list holds the asked {asked[mine]} {mine} itself; list other records"
    return ""


def _lists(value):
    """The lists of records of a response (top level and one level down)."""
    for v in [value] + (list(value.values()) if isinstance(value, dict) else []):
        if isinstance(v, list) and v and all(isinstance(i, dict) for i in v):
            yield v


def unmatched_search(arguments: dict, value) -> str:
    """A search's named results of which none shares a word with what it searched for ('The Dark Knight' answered
    with Game of Thrones, once the documented id had to keep its documented name)."""
    query = next((v for k, v in arguments.items() if k.lower() in TEXT_KINDS and isinstance(v, str)), "")
    if query.startswith("<") and query.endswith(">"):
        return ""  # a placeholder query (offline, nothing documented it): no words to match
    wanted = {w for w in re.findall(r"\w+", query.lower()) if len(w) > 2 and w not in _SMALL_WORDS}
    names = [n for items in _lists(value) for _, n in named_records(items)]
    if not wanted or not names or any(wanted & set(re.findall(r"\w+", n.lower())) for n in names):
        return ""
    return f"none of the results ({', '.join(names[:3])}) matches the search for {query!r}; give results that match it"


_SMALL_WORDS = frozenset({"the", "and", "for", "with", "from", "that", "this", "about", "what", "which"})


def counted_totals(value) -> None:
    """A total count below the items listed is raised to them (a page of 2 shows with `total_results: 1`); the
    only page of a list holds all of it (`total_pages: 1` with 2 shows listed is 2 results, not 133)."""
    if isinstance(value, dict):
        listed = max((len(v) for v in value.values() if isinstance(v, list)), default=0)
        whole = value.get("total_pages") == 1 and value.get("page", 1) == 1
        for key in ("total_results", "total", "count"):
            if isinstance(value.get(key), int) and not isinstance(value[key], bool) and (value[key] < listed or whole):
                value[key] = listed


def counting_ids(value) -> list[int]:
    """The ids of a list's items when they count up by one (1000, 1001, 1002): a model's invention."""
    for node in [value] + [v for v in (value.values() if isinstance(value, dict) else []) if isinstance(v, list)]:
        items = node if isinstance(node, list) else []
        ids = [i.get("id") for i in items if isinstance(i, dict)]
        if (
            len(ids) >= 3
            and all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
            and all(b - a == 1 for a, b in zip(ids, ids[1:]))
        ):
            return ids
    return []


def problems(tool: Tool, arguments: dict, value) -> str:
    """Why a simulated answer cannot stand: it contradicts the call, breaks the tool's response schema,
    or holds placeholders; "" when it can."""
    wrong = contradicted_ids(value, arguments)
    if wrong:
        return (
            f"the response is not about the call {json.dumps(arguments, ensure_ascii=False)}: "
            + "; ".join(wrong[:3])
            + ". Answer about exactly what the call asks for."
        )
    if tool.get("returns"):
        errors = schema_errors(tool["returns"], value)
        if errors:
            return "it does not fit the response schema: " + "; ".join(errors[:3])
    copied = copied_from_example(tool, arguments, value)
    if copied:
        return (
            "the response copies the documented example, which is about another entity: "
            + "; ".join(copied[:3])
            + ". Write this entity's own values."
        )
    renamed = renamed_records(tool, value)
    if renamed:
        return "; ".join(renamed[:3]) + ". Give each record its own id."
    moved = moved_values(tool, value)
    if moved:
        return "these values are in the wrong fields: " + "; ".join(moved[:3]) + ". Put each value in its own field."
    repeated = repeated_records(arguments, value) or unmatched_search(arguments, value)
    if repeated:
        return repeated
    counting = counting_ids(value)
    if counting:
        return f"the ids {counting} count up by one, as no real service's ids do; give each its own id"
    fake = stand_ins(value, allowed={v for _, v in scalars(arguments) if not isinstance(v, (dict, list))})
    if fake:
        return (
            "these fields hold stand-ins, not values a real service would give: "
            + "; ".join(fake[:5])
            + ". Write real-looking specific values instead (real names, real domains, ids of the service's size)."
        )
    return ""


class ModelSimulator:
    """Simulates a tool with no implementation through the model (see the module docstring)."""

    def __init__(self, client: ModelClient, prompts_root, stage: str = "simulate"):
        self.client, self.prompts_root, self.stage = client, prompts_root, stage
        self.name = f"{client.spec.model}"

    async def respond(self, tool: Tool, arguments: dict, history: list[dict]) -> Observation:
        schema = response_schema(tool, arguments)
        lists = documented_lists(schema, tool, arguments)
        prompt = render(
            "simulate/executor.j2",
            self.prompts_root,
            name=tool["name"],
            description=tool.get("description") or "",
            parameters=tool["parameters"],
            returns=schema,
            chosen=bool(lists),
            example=(tool.get("meta") or {}).get("example_response"),
            arguments=arguments,
            history=[{k: h[k] for k in ("name", "arguments", "response")} for h in history],
        )
        try:
            value = await chat_json(
                self.client,
                [{"role": "user", "content": prompt}],
                schema,
                name="response",
                stage=self.stage,
                role="executor",
                prompts_root=self.prompts_root,
                check=lambda v: problems(tool, arguments, v),
                tidy=lambda v: without_repeats(arguments, with_documented(unmoved(tool, v), lists)),
            )
        except UnusableAnswer as e:
            return error_observation(502, f"the simulated response was unusable: {e}"[:400])
        value = ended_text(value)
        counted_totals(value)
        with_episode_facts(value, history)
        return Observation(True, value)
