"""What a tool's name says: its verb family (get, list, search, create, ...) and the thing it is about, the
words of its parameters, and the plural forms requests say them in (offline_requests, summary_requests)."""

from __future__ import annotations

import re

from ..graph.names import singular, snake

FAMILY = {
    verb: family
    for family, verbs in (
        ("get", "get fetch retrieve show read view lookup obtain describe"),
        ("list", "list"),
        ("set", "set"),
        ("search", "search find query locate discover"),
        ("create", "create add post new register insert make generate"),
        ("update", "update put patch edit modify change rename"),
        ("delete", "delete remove cancel revoke clear del"),
        ("compute", "convert calculate calc compute estimate predict solve"),
    )
    for verb in verbs.split()
}  # verb families
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head"}  # patch__api_contents_path: an OpenAPI operation
SAID = {
    "post": "create",
    "new": "create",
    "put": "update",
    "patch": "update",
    "del": "delete",
    "calc": "calculate",
    "lookup": "look up",
    "query": "search",
}
# a tool named for what it is ('variant_getter', 'Distance_Calculator') does what the verb does
AGENTS = {
    "getter": "get",
    "fetcher": "fetch",
    "retriever": "retrieve",
    "finder": "find",
    "searcher": "search",
    "generator": "generate",
    "converter": "convert",
    "calculator": "calculate",
    "checker": "check",
    "validator": "validate",
    "translator": "translate",
    "counter": "count",
    "analyzer": "analyze",
}
OTHER_VERBS = set(
    "send upload download save follow unfollow skip pause start stop play resume verify validate check translate "
    "parse extract analyze analyse detect count encode decode apply import export run execute open close move copy "
    "login logout subscribe unsubscribe book reserve buy transfer publish share assign authenticate standardize "
    "summarize scan track schedule submit approve reject resize upscale trim write build classify identify recommend "
    "resolve refresh reset enable disable activate deactivate lock unlock sort filter merge split compare mark "
    "geocode swap plot draw render capture navigate click fill select hover evaluate install initiate configure "
    "embed synchronize manage research crawl scrape shorten compress ping print tokenize paraphrase rewrite chat "
    "ask invite join accept archive restore connect disconnect signup confirm notify transcribe reverse "
    "replace recognize tag like reply simulate optimize forecast rank match format".split()
)
VERBS = set(FAMILY) | OTHER_VERBS
# a verb after the first word is a verb only when it cannot be a noun there ('blog_post' is not a post)
LATER_VERBS = {
    "get",
    "fetch",
    "retrieve",
    "search",
    "find",
    "create",
    "add",
    "update",
    "delete",
    "remove",
    "convert",
    "calculate",
    "compute",
    "generate",
    "list",
    "lookup",
    "recommend",
    "translate",
} | set(AGENTS)
DROPPED = {
    "a",
    "an",
    "the",
    "api",
    "apis",
    "json",
    "xml",
    "rest",
    "endpoint",
    "mcp",
    "http",
    "https",
    "several",
    "multiple",
    "specific",
    "given",
    "single",
    "particular",
    "certain",
}
LINKS = {"by", "for", "of", "to", "from", "in", "into", "on", "at", "with", "about"}
NAMING = {"name", "title"}
ADJECTIVES = {
    "latest",
    "newest",
    "popular",
    "upcoming",
    "similar",
    "recent",
    "random",
    "top",
    "rated",
    "now",
    "playing",
    "nearby",
    "closest",
    "nearest",
    "custom",
    "best",
}
UNCOUNTED = {"news", "series", "species", "information", "data", "details", "lyrics", "weather", "status", "music"}
_HASH = re.compile(r"_(?=[0-9a-f]*\d)[0-9a-f]{6,8}$")  # ingestion's suffix for a renamed or shortened name


def words_of(name: str) -> list[str]:
    """Plain words of a tool's name without its collection prefix (nor the prefix said again:
    playwright__playwright_select), versions, digits and filler."""
    prefix, _, base = _HASH.sub("", name).rpartition("__")

    def plain(text: str) -> list[str]:
        text = snake(re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", text))  # PDFToText -> pdf_to_text
        return [w for w in re.findall(r"[a-z0-9]+", text) if w not in DROPPED and not re.fullmatch(r"v?\d+", w)]

    ws, said = plain(base or name), plain(prefix)
    ws = ws[len(said) :] if said and ws[: len(said)] == said and len(ws) > len(said) else ws
    if (method := prefix.rsplit("__", 1)[-1].lower()) in HTTP_METHODS and ws[:1] != [method]:
        ws = [method] + ws
    for n in (3, 2, 1):  # LongWeekendLongWeekend, movie-movie_id: said once
        i = 0
        while i + 2 * n <= len(ws):
            twice = [singular(w) for w in ws[i : i + n]] == [singular(w) for w in ws[i + n : i + 2 * n]]
            del ws[i : i + n if twice else 0]
            i += not twice
    return ws


def param_words(key: str) -> list[str]:
    """A parameter's words, a number kept on the word before it (zipcode_2 -> zipcode2, never a value)."""
    return re.findall(r"\d*[a-z][a-z0-9]*", re.sub(r"_(?=\d)", "", snake(key)))


def plural(word: str) -> str:
    if word in UNCOUNTED or singular(word) != word or word in ("people", "person"):
        return "people" if word == "person" else word
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "x", "z", "ch", "sh")) else "s")


def plurals(ws: list[str]) -> list[str]:
    """The words with their head made plural: vegan restaurant nearby -> vegan restaurants nearby."""
    head = max((i for i, w in enumerate(ws) if w not in ADJECTIVES | LINKS), default=None)
    head = next((i - 1 for i, w in enumerate(ws) if i and w in LINKS), head)
    return ws if head is None else ws[:head] + [plural(ws[head])] + ws[head + 1 :]


def is_plural(phrase: str) -> bool:
    """Whether a thing is many: its head, the word before any 'by', 'of', ... ('employees by date')."""
    ws = phrase.split()
    word = next((ws[i - 1] for i, w in enumerate(ws) if i and w in LINKS), ws[-1] if ws else "")
    return word == "people" or word not in UNCOUNTED and singular(word) != word


def shown(ws: list[str]) -> str:
    return " ".join(ws[:-1] + [{"tv": "tv show", "tvs": "tv shows"}.get(ws[-1], ws[-1])]) if ws else ""


def join(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def parse_name(ws: list[str]) -> tuple[str, str, list[str], list[str]]:
    """(family, verb as said, object words, all name words): 'sports db find athlete' -> ('search',
    'find', ['athlete'], ...); a name without a verb is ('thing', '', its words, ...)."""
    if len(ws) == 1 and ws[0] in ("post", "put", "patch", "delete", "head"):  # playwright_post: an HTTP request
        return "other", f"send a {ws[0]} request", [], ws
    for i, w in enumerate(ws[:4]):
        if i and w not in LATER_VERBS:
            continue
        if w in AGENTS or (i and i == len(ws) - 1):  # 'variant_getter', 'summoner_search': the thing comes first
            verb = AGENTS.get(w, w)
            rest = [x for x in ws[:i] + ws[i + 1 :] if x != verb]  # resistance_calculator_calculate
            return FAMILY.get(verb, "other"), SAID.get(verb, verb), rest, ws
        if w in VERBS:
            rest = ws[i + 1 :]
            if w in ("get", "post") and rest and rest[0] in ("search", "find", "query", "list", "discover"):
                w, rest = rest[0], rest[1:]  # GET_search-movie searches
            while rest[1:] and rest[0] != "new" and FAMILY.get(rest[0], "") == FAMILY.get(w):  # search_find_closest
                rest = rest[1:]
            if i and set(rest) <= ADJECTIVES:  # vegan_restaurant_find_nearby
                rest = ws[:i] + rest
            return FAMILY.get(w, "other"), SAID.get(w, w), rest, ws
    return "thing", "", ws, ws


_ACTION = re.compile(
    r"(?:.*__|(?!(?:get|list|search|find|read|show|fetch)_)[a-z]+_)??"  # a namespace: git_add, git_commit
    r"(add|create|update|delete|remove|cancel|place|book|set|send|post|put|patch|commit|stage|move|rename|"
    r"edit|reset)(?:_|-|$)",
    re.I,
)
_COMPUTED = {"vat", "tax", "taxes", "days", "hours", "minutes", "time", "duration", "interest", "margin", "fee", "fees"}


def is_action(tool: str) -> bool:
    """A call that changes something (add_to_cart, cancel_order), not one that computes (add_vat, add_days)."""
    m = _ACTION.match(tool)
    rest = tool[m.end() :].lower().replace("-", "_").split("_") if m else []
    return bool(m) and not (m.group(1).lower() in ("add", "set") and rest[:1] and rest[0] in _COMPUTED)


QUERY_PARAMS = ("query", "q", "keyword", "keywords", "term", "search", "search_term", "text")  # what a search looks for
NAME_PARAMS = ("name", *QUERY_PARAMS)  # a search by (part of) a thing's name
