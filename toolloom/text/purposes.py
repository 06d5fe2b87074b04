"""What a tool does and what its parameters are, said as a person says them: a purpose from the tool's
documentation or name ('look up a city'), a parameter's phrase ('starting city'), an article."""

from __future__ import annotations

import re

from . import tool_names
from ..graph.names import snake
from .words import LINK_WORDS, entity_of, name_words, tokens


def plain_purpose(description: str, tool_name: str) -> str:
    """What a request asks the tool to do: the documentation's first sentence when it reads as one
    (a short plain sentence), else words from the tool's name ('Find cat by tag')."""
    sentence = first_sentence(description)
    if 2 <= len(sentence.split()) <= 12 and not re.search(r"[<>{}|`]|https?:|\bThe\b.*\bThe\b", sentence):
        return sentence
    words = " ".join(name_words(tool_name)) or tool_name
    return words[:1].upper() + words[1:]


def first_sentence(text: str) -> str:
    """The documentation's first sentence, without markdown links or a trailing period."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", (text or "").strip())
    return re.split(r"(?<=[.!?])\s|\n", text, maxsplit=1)[0].rstrip(". ").strip()


ROLES = {
    "from": "starting",
    "to": "destination",
    "origin": "starting",
    "destination": "destination",
    "source": "source",
    "target": "target",
    "start": "start",
    "end": "end",
}


def param_phrase(param: str) -> str:
    """How a person names a parameter: from_city_id -> 'starting city', product_id -> 'product', day -> 'day'."""
    ws = [w for w in tokens(snake(param)) if w not in ("id", "ids", "uuid", "key")] or tokens(snake(param))
    if len(ws) > 1 and ws[0] in ROLES:
        ws = [ROLES[ws[0]]] + ws[1:]
    return " ".join(ws)


def article(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


DANGLING = re.compile(r"\b(?:" + "|".join(LINK_WORDS) + r"|of week|\w+ing)$")  # 'look up the days between'


def purpose(tool_name: str, parameters: dict | None = None, description: str = "") -> str:
    """What a tool does, said from its name with an article: 'find a country', 'add a product to the cart',
    'look up a city', 'list holidays'; where the name reads as no phrase ('look up the countries speaking'),
    from a short documentation sentence that says it ('list the countries where a language is official')."""
    said = _doc_purpose(description) or _name_purpose(tool_name, parameters)
    said = _ACRONYMS.sub(lambda m: m.group(0).upper(), said)
    return re.sub(r"\b(add|find|get) an? (VAT|URL|API)\b", r"\1 \2", said)  # 'add VAT', not 'add a vat'


_ACRONYMS = re.compile(r"\b(?:vat|url|api|iso|gst|pdf|csv|json|sql|dns)\b")


def _doc_purpose(description: str) -> str:
    """A documentation sentence as a purpose: 'List the countries ...', 'Number of days ...' -> 'count the days
    ...', 'The weekday of a date' -> 'look up the weekday of a date'; '' when it is no short plain sentence."""
    sentence = re.sub(r"\s*\([^)]*\)", "", first_sentence(description))  # no parentheses, one clause
    sentence = re.split(r";|, and\b| and (?:its|gives?|returns?)\b", sentence)[0].strip()
    ws = sentence.split()
    if (
        not 3 <= len(ws) <= 12
        or re.search(r"[<>{}|`:_/\\]|https?:", sentence)
        or sum(w[:1].isupper() and not w.isupper() for w in ws[1:]) > 1
    ):  # 'Get Movie Keywords': a title
        return ""
    if ws[0].lower() in _IMPERATIVES:
        return ws[0].lower() + " " + " ".join(ws[1:])
    if ws[:2] == ["Number", "of"]:
        return "count the " + " ".join(ws[2:])
    if ws[0] == "Whether":
        return "check whether " + " ".join(ws[1:])
    return "look up the " + " ".join(ws[1:]) if ws[0] == "The" else ""


_IMPERATIVES = {
    "get",
    "list",
    "search",
    "find",
    "fetch",
    "show",
    "create",
    "update",
    "delete",
    "add",
    "remove",
    "set",
    "convert",
    "check",
    "compute",
    "calculate",
    "count",
    "cancel",
    "order",
    "put",
    "place",
    "book",
    "send",
    "look",
    "translate",
    "return",
    "retrieve",
    "describe",
    "compare",
    "estimate",
    "track",
}


def _name_purpose(tool_name: str, parameters: dict | None = None) -> str:
    family, verb, obj, _ = tool_names.parse_name(tool_names.words_of(tool_name))
    obj = [w for w in obj if w not in ("id", "ids")]
    ids = [k for k in (parameters or {}).get("required") or [] if tokens(snake(k))[-1:] == ["id"]]
    if obj and obj[0] in LINK_WORDS and ids:  # add_to_cart(product_id): add a product to the cart
        return f"{verb} {article(param_phrase(ids[0]))} {obj[0]} the {' '.join(obj[1:])}"
    thing = " ".join(obj) or entity_of(tool_name)
    many = tool_names.is_plural(thing)
    if family in ("get", "thing"):
        return f"look up {'the' if many or len(obj) != 1 else article(thing).split()[0]} {thing}"
    if family == "search":
        return f"{verb} {'for ' if verb == 'search' else ''}{' '.join(tool_names.plurals(thing.split()))}"
    if family == "list" or many or obj[:1] and obj[0] in LINK_WORDS:
        return f"{verb} {thing}"
    return f"{verb} {'the' if family == 'compute' else article(thing.split()[0]).split()[0]} {thing}"
