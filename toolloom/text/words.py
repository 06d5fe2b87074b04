"""Plain words of requests and tool names: tokens, stopwords, and what a tool's result is about, from its
name (`entity_of`)."""

from __future__ import annotations

import re

from ..graph.names import VERBS, singular, snake
from .tool_names import HTTP_METHODS

_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = {
    "a",
    "an",
    "the",
    "of",
    "in",
    "on",
    "to",
    "for",
    "and",
    "or",
    "is",
    "it",
    "what",
    "which",
    "me",
    "my",
    "i",
    "do",
    "does",
    "how",
    "from",
    "that",
    "this",
    "with",
    "at",
    "by",
    "be",
    "you",
    "your",
    "can",
    "get",
    "give",
    "tell",
}


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("_", " "))


ENTITY_VERBS = VERBS | {
    "look",
    "up",
    "convert",
    "check",
    "compute",
    "calculate",
    "describe",
    "is",
    "count",
    "resolve",
    "place",
    "cancel",
    "make",
    "view",
    "display",
}
GENERIC_WORDS = {"status", "info", "details", "detail", "data", "speaking", "lookup", "result", "results"}
LINK_WORDS = {"by", "for", "of", "to", "from", "in", "into", "between", "on", "at", "with"}


def name_words(tool_name: str) -> list[str]:
    """The words of a tool's own name, without its collection prefix: Cataas__findCatByTag -> find cat by tag."""
    return tokens(snake(tool_name.rsplit("__", 1)[-1] or tool_name))


def entity_of(tool_name: str) -> str:
    """What a tool's result is about, from its name: get_order_status -> 'order', list_cities -> 'city'."""
    method, _, path = tool_name.rpartition("__")
    if method.rsplit("__", 1)[-1].lower() in HTTP_METHODS:  # get__api_contents_path_checkpoints:
        ws = [w for w in tokens(snake(path)) if w not in ("api", "id", "ids") and not re.fullmatch(r"v?\d+", w)]
        while len(ws) > 1 and ws[-1] in ("path", "name", "uuid", "key"):  # the path's last noun, not a parameter
            ws = ws[:-1]
        return singular(ws[-1]) if ws else "result"
    ws = [w for w in name_words(tool_name) if w not in ENTITY_VERBS and w not in GENERIC_WORDS]
    cut = next((i for i, w in enumerate(ws) if w in LINK_WORDS), None)  # list_countries_by_region -> countries
    ws = [w for w in (ws[:cut] if cut else ws) if w not in LINK_WORDS]
    if not ws:
        return "result"
    return " ".join(ws[:-1] + [singular(ws[-1])])
