"""`simulated`: tools answered by a simulator (ToolAlpaca's tool executor), never really run.

The offline simulator is schema-driven and consistent: a repeated call gets the same answer; an
entity is the same wherever it appears (the fields of an object with id X are drawn from X, so
the movie 1234 that a search returned has the same title when another tool is asked about it);
and within an episode later calls see earlier effects (an id's fields set by an earlier call's
arguments or result are what a later call about that id returns). A model simulator
(`agents.simulator.ModelSimulator`) is shown the same episode history.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re

from ..checks.arguments import argument_errors
from ..domain import Tool
from ..sandbox import Observation
from ..graph.names import singular
from ..text.values import ValueFactory, is_id_name, words
from ..text.words import entity_of
from .base import ExecutorConfig
from .catalogue import with_documented_items

_VERBS = {
    "get",
    "fetch",
    "find",
    "search",
    "list",
    "retrieve",
    "calculate",
    "calc",
    "compute",
    "lookup",
    "query",
    "show",
    "check",
    "read",
    "create",
    "add",
    "make",
    "generate",
    "convert",
    "estimate",
    "predict",
    "determine",
    "count",
    "do",
    "run",
    "api",
    "v1",
    "v2",
}
_NUMERIC = {
    "area",
    "total",
    "sum",
    "count",
    "distance",
    "rate",
    "price",
    "probability",
    "average",
    "mean",
    "score",
    "volume",
    "speed",
    "amount",
    "percentage",
    "number",
    "value",
    "cost",
    "interest",
    "velocity",
    "force",
    "energy",
    "density",
    "ratio",
}


class SimulatedConfig(ExecutorConfig):
    """Every tool of the collection is simulated (the `executor` model role, offline: schema-driven)."""

    kind: str = "simulated"


class SimulatedExecutor:
    kind = "simulated"

    def runs(self, tool_name: str) -> bool:
        return False

    async def call(self, tool: Tool, arguments: dict, episode) -> Observation:  # the episode routes to its simulator
        raise NotImplementedError("simulated tools are answered by the episode's simulator")

    def close(self) -> None:
        pass


def default_returns(tool: Tool) -> dict:
    """A response schema for a tool that documents none: its arguments echoed and one result field
    named after what the tool's name says it gives (`calculate_triangle_area` -> `triangle_area`)."""
    parts = [w for w in words(tool["name"].split("__")[-1]) if w not in _VERBS] or ["result"]
    field = "_".join(parts[-3:])
    typ = "number" if set(parts) & _NUMERIC else "string"
    return {"type": "object", "properties": {field: {"type": typ}}}


def _walk_objects(value):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk_objects(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk_objects(v)


def _id_of(node: dict):
    for k, v in node.items():
        if is_id_name(k) and isinstance(v, (str, int)) and not isinstance(v, bool):
            return v
    return None


class SchemaSimulator:
    """Offline: JSON fitting the response schema, consistent by call, by entity and within an episode."""

    name = "offline-schema-simulator"

    def __init__(self, values: ValueFactory | None = None):
        self.values = values or ValueFactory()

    async def respond(self, tool: Tool, arguments: dict, history: list[dict]) -> Observation:
        seed = hashlib.sha256(json.dumps([tool["name"], arguments], sort_keys=True, default=str).encode()).digest()
        returns = tool.get("returns") or default_returns(tool)
        value = self.values.value(returns, "result", random.Random(seed), topic=entity_of(tool["name"]))
        if not tool.get("returns") and isinstance(value, dict):
            value = {**{k: v for k, v in arguments.items() if not isinstance(v, (dict, list))}, **value}
        about_the_asked_entity(value, arguments)
        for node in _walk_objects(value):
            self._same_entity_everywhere(node)
        with_documented_items(value, tool.get("returns"), tool.get("documented_records") or [], arguments)
        as_asked(value, arguments)
        with_episode_facts(value, history)
        return Observation(True, value)

    def _same_entity_everywhere(self, node: dict) -> None:
        entity = _id_of(node)
        if entity is None:
            return
        for k, v in node.items():
            if is_id_name(k) or isinstance(v, (dict, list, bool)) or v is None:
                continue
            schema = {"type": "integer" if isinstance(v, int) else "number" if isinstance(v, float) else "string"}
            node[k] = self.values.value(schema, k, random.Random(f"entity:{entity}:{k}"))


def about_the_asked_entity(value, arguments: dict) -> None:
    """A call about id X answers about X: the top object's id field takes the asked value."""
    asked = [
        (k, v) for k, v in arguments.items() if is_id_name(k) and isinstance(v, (str, int)) and not isinstance(v, bool)
    ]
    top = value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else value
    if not asked or not isinstance(top, dict):
        return
    # a season of show 1399 has its own id: a call that also names a numbered part is about that part
    part = any(re.search(r"(^|_)number$", k.lower()) for k in arguments)
    for key in list(top):
        if not is_id_name(key) or (key == "id" and part):
            continue
        same = next(
            (v for k, v in asked if k == key or re.sub(r"[_-]?id$", "", k.lower()) in key.lower() or key == "id"),
            None,
        )
        if same is not None and type(same) is type(top[key]):
            top[key] = same
            return


def contradicted_ids(value, arguments: dict) -> list[str]:
    """'movie_id is 550, the call asked for 24428': the ids of a response that are not the ones asked for
    (a mock server's one example for every call, a simulator that answered about something else)."""
    asked = copy.deepcopy(value)
    about_the_asked_entity(asked, arguments)
    top, fixed = (x[0] if isinstance(x, list) and x and isinstance(x[0], dict) else x for x in (value, asked))
    if not isinstance(top, dict):
        return []
    return [f"{k} is {top[k]!r}, the call asked for {fixed[k]!r}" for k in top if top[k] != fixed.get(k)]


def as_asked(value, arguments: dict) -> None:
    """A call for season 5, page 2 answers with season 5, page 2: the top object's field named like a
    scalar argument, of its type, takes the asked value (ids are matched by `_about_the_asked_entity`)."""
    top = value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else value
    if not isinstance(top, dict):
        return
    for k, v in arguments.items():
        if not is_id_name(k) and k in top and type(v) is type(top[k]) and not isinstance(v, (dict, list)):
            top[k] = v


def without_defaults(parameters: dict, arguments: dict) -> dict:
    """The call without the arguments that say their parameter's documented default (`page: 1`): the same
    call to the service, so a simulator answers it as it answered the call without them."""
    props = (parameters or {}).get("properties") or {}
    return {
        k: v
        for k, v in arguments.items()
        if not (isinstance(props.get(k), dict) and "default" in props[k] and props[k]["default"] == v)
    }


def with_episode_facts(value, history: list[dict]) -> None:
    """What this episode already set or saw about an id overrides what a new answer says about it."""
    known = _episode_entities(history)
    for node in _walk_objects(value):
        facts = known.get(str(_id_of(node)))
        if facts:
            node.update({k: v for k, v in facts.items() if k in node and type(v) is type(node[k])})


def _episode_entities(history: list[dict]) -> dict[str, dict]:
    """id -> fields this episode has set or seen: arguments of calls about it, then results that show it."""
    known: dict[str, dict] = {}
    for h in history:
        args = h.get("arguments") or {}
        scalars = {k: v for k, v in args.items() if not is_id_name(k) and not isinstance(v, (dict, list))}
        for k, v in args.items():
            if is_id_name(k) and isinstance(v, (str, int)):
                known.setdefault(str(v), {}).update(scalars)
        for node in _walk_objects(h.get("response")):
            entity = _id_of(node)
            if entity is not None:
                facts = known.setdefault(str(entity), {})
                for k, v in node.items():
                    if not isinstance(v, (dict, list)):
                        facts.setdefault(k, v)
    return known


DOCUMENTED_ITEMS = 5  # a documented list is answered by its first items (Fight Club's credits run to 33,000 characters)


def documented_call(tool: Tool) -> dict | None:
    """The call a tool's documented example response answers: the tool's one required parameter, an id, set to the
    example's top-level id (`movie_id: 550` for TMDB's example about Fight Club), or no arguments where it requires
    none; None where it shows no such call."""
    meta, schema = (
        json.loads(v) if isinstance(v, str) else v or {} for v in (tool.get("meta"), tool.get("parameters"))
    )
    example = meta.get("example_response")
    required = schema.get("required") or []
    if not required and example is not None:
        return {}  # a tool about nothing in particular (popular shows): its example answers the call naming nothing
    value = example.get("id") if isinstance(example, dict) else None
    if len(required) != 1 or not is_id_name(required[0]) or type(value) not in (int, str):
        return None
    call = {required[0]: value}
    return call if not argument_errors(schema, call) else None


def documented_response(tool: Tool, arguments: dict):
    """The documented example response where the call is the one it answers (lists cut to their first items), else
    None: what the documentation shows is the truth a simulator would otherwise have to make up."""
    if documented_call(tool) != arguments:
        return None
    meta = tool["meta"] if isinstance(tool["meta"], dict) else json.loads(tool["meta"])
    return _first_items(copy.deepcopy(meta["example_response"]))


def _first_items(value):
    if isinstance(value, list):
        return [_first_items(v) for v in value[:DOCUMENTED_ITEMS]]
    if isinstance(value, dict):
        return {k: _first_items(v) for k, v in value.items()}
    return value


def documented_entities(tools) -> dict[tuple[str, str], dict]:
    """(entity word, id) -> the object a tool's documented example response shows for that id, at its
    top or in a top-level list (`movie` 550 -> {"id": 550, "title": "Fight Club", ...}); the entity
    word is one of the documenting tool's name words, so a genre 18 never answers for a movie 18."""
    found: dict[tuple[str, str], dict] = {}
    for tool in tools:
        example = (tool.get("meta") or {}).get("example_response")
        tops = example if isinstance(example, list) else [example]
        nodes = [
            n
            for t in tops
            if isinstance(t, dict)
            for n in [t, *(i for v in t.values() if isinstance(v, list) for i in v[:20] if isinstance(i, dict))]
        ]
        for word in {singular(w) for w in words(tool["name"])}:
            for node in nodes:
                entity = node.get("id")
                if isinstance(entity, (str, int)) and not isinstance(entity, bool):
                    facts = found.setdefault((word, str(entity)), {})
                    facts.update({k: v for k, v in node.items() if not isinstance(v, (dict, list)) or k == "id"})
    return found


def documented_about(entities: dict[tuple[str, str], dict], arguments: dict) -> list[dict]:
    """History entries for what the documentation shows about the ids a call names (`movie_id: 550`),
    so a simulator answers about a documented entity the way its documentation does."""
    out = []
    for k, v in arguments.items():
        word = singular(re.sub(r"[_-]?ids?$", "", re.sub(r"([a-z])([A-Z])", r"\1_\2", k)).lower().split("_")[-1] or "")
        facts = entities.get((word, str(v))) if is_id_name(k) and word else None
        if facts and len(facts) > 1:
            out.append({"name": f"documented {word}", "arguments": {k: v}, "response": facts})
    return out


def documented_names(entities: dict[tuple[str, str], dict], arguments: dict) -> dict[str, str]:
    """parameter -> the documented name of what its id names (`movie_id: 550` -> "Fight Club"): a
    person asking about it knows it by that name."""
    out = {}
    for seen in documented_about(entities, arguments):
        (param,) = seen["arguments"]
        facts = seen["response"]
        name = next(
            (
                facts[f]
                for f in ("title", "name", "original_title", "original_name")
                if isinstance(facts.get(f), str) and facts[f].strip()
            ),
            None,
        )
        if name:
            out[param] = name
    return out
