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


# an operation named by its method and its path's segments (RestBench: GET_movie-movie_id-keywords), its path
# parameters' segments (movie_id, season_number, media_type), and the path's words that rank or act, not name a thing
_PATH_NAME = re.compile(r"(?i)(?:get|post|put|patch|delete)_([a-z0-9_]+(?:-[a-z0-9_]+)+)")
_PATH_PARAM = re.compile(r"_(?:id|ids|number|type|window|key|code)$")
_RANKINGS = {"latest", "popular", "top_rated", "upcoming", "now_playing", "on_the_air", "airing_today", "list"}
_ACTIONS = {"playing", "currently", "search"}


def entity_of(tool_name: str) -> str:
    """What a tool's result is about, from its name: get_order_status -> 'order', list_cities -> 'city'."""
    method, _, path = tool_name.rpartition("__")
    if method.rsplit("__", 1)[-1].lower() in HTTP_METHODS:  # get__api_contents_path_checkpoints:
        ws = [w for w in tokens(snake(path)) if w not in ("api", "id", "ids") and not re.fullmatch(r"v?\d+", w)]
        while len(ws) > 1 and ws[-1] in ("path", "name", "uuid", "key"):  # the path's last noun, not a parameter
            ws = ws[:-1]
        return singular(ws[-1]) if ws else "result"
    if m := _PATH_NAME.fullmatch(tool_name):  # RestBench's GET_tv-tv_id-season-season_number: the path's last noun
        segments = [g for g in m.group(1).split("-") if g != "id" and not _PATH_PARAM.search(g)]
        while len(segments) > 1 and segments[-1] in _RANKINGS | _ACTIONS:  # /tv/popular: a tv show
            segments.pop()
        ws = tokens(snake(segments[-1])) if segments else []
        if ws:
            return " ".join(ws[:-1] + [singular(ws[-1])])
    ws = [w for w in name_words(tool_name) if w not in ENTITY_VERBS and w not in GENERIC_WORDS]
    cut = next((i for i, w in enumerate(ws) if w in LINK_WORDS), None)  # list_countries_by_region -> countries
    ws = [w for w in (ws[:cut] if cut else ws) if w not in LINK_WORDS]
    if not ws:
        return "result"
    return " ".join(ws[:-1] + [singular(ws[-1])])
