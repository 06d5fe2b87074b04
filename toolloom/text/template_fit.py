"""Which utterance templates read well with a reference to an earlier result in place of a value, reworded
to fit ('tell me about product {id}' -> 'about {id}'), and which ask for what that result already showed."""

from __future__ import annotations

import json
import re
import string

from ..domain import Task
from ..graph.names import singular, snake
from . import spoken
from .tool_names import NAME_PARAMS
from .words import entity_of, tokens


def asks_known(template: str, step, task: Task) -> bool:
    """Whether a template asks for a field the record its bound value came from already shows ('Name the big cities
    of DE. Then, what's the population of that city?' when the list gave each city's population)."""
    said = set(tokens(re.sub(r"\{[^}]*\}", " ", template)))
    for b in step.bindings.values():
        source = task.chain[b["step"]]
        *through, leaf = b["path"].split("|")
        fields = [
            k
            for k in source_fields(source.result, (task.meta.get(source.tool_id) or {}).get("returns"), through)
            if k != leaf
        ]
        # a field by its head noun: unit_price_eur is a price, country_code a country
        if any((ws := [w for w in tokens(snake(k)) if w not in _NOT_HEADS]) and ws[-1] in said for k in fields):
            return True
    return False


_NOT_HEADS = {"id", "code", "unit", "eur", "usd", "gbp", "km", "mi", "kg", "percent", "pct", "ms", "utc"}


def source_fields(result, schema: dict | None, through: list[str]) -> list[str]:
    """The fields of the record a path's value sits in: from the result where it is known, else from the tool's
    documented result schema ('cities|city_id': city_id, name, population)."""
    node, kind = (result, "value") if result is not None else (schema, "schema")
    for key in through + [None]:
        if kind == "value":
            node = node[0] if isinstance(node, list) and node else node
            node = node.get(key) if key is not None and isinstance(node, dict) else node
        else:
            node = (node or {}).get("items", node) if (node or {}).get("type") == "array" else node
            node = ((node or {}).get("properties") or {}).get(key) if key is not None else node
    if kind == "schema":
        return list(((node or {}).get("properties") or {}))
    return list(node) if isinstance(node, dict) else []


# where a reference to an earlier result reads as a noun phrase: not after an article or a
# quantifier ('the that city', 'one the currency'), nor after a word it must follow ('ISO code that
# country'); followed only by punctuation or one of these (not 'that city VAT is added')
_NOT_BEFORE = {
    "a",
    "an",
    "the",
    "one",
    "many",
    "much",
    "some",
    "x",
    "per",
    "each",
    "this",
    "that",
    "code",
    "id",
    "number",
    "named",
    "called",
    "current",
}
_AFTER = set(
    "in into to from for and or on at by with after before between is are was were will would can could "
    "do does did has have had right now today please come comes cost costs".split()
)
_GENERIC = {"item", "record", "entry"}  # 'details of item {product_id}': the reference names the thing itself


def fit_bound(template: str, step, phrases: dict) -> str | None:
    """The template reworded so that each value from an earlier result reads in place ('tell me about
    product {id}' -> 'about {id}', '{amount} {currency}' -> '{amount} of {currency}', '{days} days' ->
    '{days}' when the reference says 'that many days'), or None where one cannot."""
    out = template
    for k in step.bindings:
        m = re.search(r'"?\{' + k + r'\}"?', out)
        if m is None:
            return None
        pre, post = out[: m.start()], out[m.end() :]
        b, a = re.search(r"(\S+) $", pre), re.match(r" ?([\w/{]+)", post)
        before, after = (b.group(1) if b else ""), (a.group(1) if a else "")
        head = phrases[k].split()[-1]
        entity = [w for w in tokens(snake(k)) if w not in ("id", "ids", "code", "key")][-1:]
        nouns = {singular(head), *map(singular, entity), *_GENERIC}
        if before.startswith("{") and isinstance(step.arguments.get(before.strip("{}")), (int, float)):
            pre += "of "  # '250 of that country's currency'
        elif singular(before.lower()) in nouns:
            pre = re.sub(r"\b(?:the|a|an) $", "", pre[: b.start()])  # 'about (the) product that product'
        elif before.startswith("{") or before.lower() in _NOT_BEFORE:
            return None
        if after and singular(after.lower()) == singular(head):
            post = post[a.end() :]  # 'that many days days'
        elif after and (after[0] in "/{" or after.lower() not in _AFTER):
            return None
        out = pre + "{" + k + "}" + post
    return out


_PART_OF = re.compile(
    r"\bin (?:its|their) names?\b|\bcontains?\b|\bmatching\b"
)  # 'countries with "South" in their name'


def fit_name(templates: list[str], step) -> list[str]:
    """The templates that read well with the name a search is given: for part of a name, those that ask for names
    containing it ('Is there a country named "South"?' read as nonsense), for a whole name the others."""
    code = f"{entity_of(step.name).replace(' ', '_')}_code"
    if code != "country_code":  # only a country's names are known (pycountry): other searches keep every template
        return templates
    partial = any(
        k in NAME_PARAMS and isinstance(v, str) and spoken.partial_name(v, code) for k, v in step.arguments.items()
    )
    return [t for t in templates if bool(_PART_OF.search(t)) == partial] or templates


def in_its_place(text: str, task: Task, step, args: dict) -> str:
    """A place said for its country is 'in' it: 'the VAT in Cape Town', not 'the VAT of Cape Town' (a blind read);
    a country found by its name stays 'the capital of Korea'."""
    for k, b in step.bindings.items():
        said = args.get(k)
        place = entity_of(task.chain[b["step"]].name).split()[-1]
        if "country" in k and place != "country" and isinstance(said, str) and spoken.names(said) == [said]:
            text = text.replace(f" of {said}", f" in {said}")
    return text


def with_unslotted(text: str, template: str, step, args: dict, skip: tuple[str, ...] = ()) -> str:
    """A filled-in template with each argument it has no place for (an optional one, a constraint) said after it:
    '..., with a population of at least 3,000,000'; `skip`: arguments left unsaid (a value the user withholds)."""
    used = {field for _, field, _, _ in string.Formatter().parse(template) if field} | set(skip)
    settings = [spoken.settings_said(v) for k, v in step.arguments.items() if k not in used | set(step.bindings)]
    extra = [
        constraint(k, args[k] if k in step.bindings else spoken.counted(v, k) or spoken.listed(v) or json.dumps(v))
        for k, v in step.arguments.items()
        if k not in used and (k in step.bindings or not spoken.settings_said(v))
    ]
    end = text[-1] if text[-1] in ".?!" else ""
    if extra:
        text = f"{text[: len(text) - len(end)]}, with {' and '.join(extra)}{end}"
    for said in filter(None, settings):  # an object of settings: 'setting autosave interval to 120', not its JSON
        text = f"{text[: len(text) - len(end)]}, {said}{end}"
    return text


def constraint(param: str, said: str) -> str:
    """An argument a template has no place for, as a person adds it: min_population 3000000 -> 'a population of
    at least 3000000', max_price_eur -> 'a price of at most 50 EUR', limit -> 'limit 5'."""
    ws = tokens(snake(param))
    return spoken.bounded(ws, said) or f"{' '.join(ws)} {said}"
