"""What a found list is called in an answer: a list under a field that names nothing ('results') is said by the
noun the request gives it ('I found 3 similar TV shows'), and a page of a longer list says the whole list's size."""

from __future__ import annotations

import re

from ..graph.names import singular
from ..text.request_asks import label
from ..text.tool_names import plural
from ..text.words import entity_of, tokens

GENERIC_LISTS = {"results", "items", "data", "records", "entries", "hits", "list", "values", "docs", "objects"}
_TOTALS = ("total_results", "total_count", "total", "count", "total_items")
# words before a noun that are not its modifiers: 'Show me the popular TV shows' -> 'popular TV shows'
_NOT_MODIFIERS = set(
    "a an the me my our your their its of for all any some what which who are is be get show find list give tell "
    "search see look with and or to in on at about those these that this by from please can could would you i "
    "there do does did up date".split()
)
_ACRONYMS = {"tv": "TV", "usa": "USA", "uk": "UK", "id": "ID", "api": "API"}
MODIFIERS = 2  # words before the noun kept with it: 'now playing movies', 'similar tv shows'


def _nouns(tool: str | None) -> list[set[str]]:
    """The singular nouns a tool's list may be called by, its entity's first: GET_tv-tv_id-recommendations lists
    recommendations before TV shows ('tv' stands for a TV show)."""
    entity = entity_of(tool or "")
    last = entity.split()[-1] if entity and entity != "result" else ""
    words = {singular(w) for w in tokens(tool or "")} | ({last} if last else set())
    words |= {"show", "series", "program"} if "tv" in words else set()
    return [{last} - {"tv"}, words]


def listed_noun(request: str, tool: str | None) -> str:
    """The plural noun phrase the request calls the tool's list by ('similar TV shows', 'reviews'), or ''; the last
    one a dialogue's turns say ('For that tv show, what are the recommendations?')."""
    ws = re.findall(r"[A-Za-z][A-Za-z'-]*", request)
    at = None
    for nouns in _nouns(tool):
        plurals = {plural(n) for n in nouns} - nouns  # 'movies', not 'series' said of one
        at = next((i for i in reversed(range(len(ws))) if ws[i].lower() in plurals), None)
        if at is not None:
            break
    if at is None:
        return ""
    start = at
    while start > 0 and at - start < MODIFIERS and ws[start - 1].lower() not in _NOT_MODIFIERS:
        start -= 1
    return " ".join(_ACRONYMS.get(w.lower(), w.lower() if not w.isupper() else w) for w in ws[start : at + 1])


def one_of(word: str) -> str:
    """The singular a plural is made from ('movies' -> 'movie', not 'movy')."""
    return next((c for c in (word[:-1], singular(word), word[:-2]) if plural(c) == word), singular(word))


def named_count(phrase: str, key: str, noun: str) -> str:
    """'there are 3 results: ...' said with the request's noun: 'there are 3 similar TV shows: ...'."""
    if not noun or label(key) not in GENERIC_LISTS:
        return phrase
    said = re.escape(label(key))
    phrase = re.sub(rf"^there are (\d+|no) {said}\b", rf"there are \1 {noun}", phrase)
    one = " ".join(noun.split()[:-1] + [one_of(noun.split()[-1])])
    return re.sub(rf"^there is one {re.escape(singular(label(key)))}\b", f"there is one {one}", phrase)


def whole_count(phrase: str, result: dict, key: str) -> str:
    """A page of a longer list says how many there are in all and that these are the first: 'there are 649 now
    playing movies; the first 5: ...' (a reader took '5 results' for the whole list)."""
    shown = result.get(key)
    total = next((result[k] for k in _TOTALS if isinstance(result.get(k), int) and k != key), None)
    if not isinstance(shown, list) or not shown or not total or total <= len(shown):
        return phrase
    m = re.match(r"^there (?:are \d+|is (one)) ([^:]+): ", phrase)
    if not m:
        return phrase
    noun = m.group(2).split()
    noun[-1] = plural(noun[-1]) if m.group(1) else noun[-1]
    first = f"the first {len(shown)}" if len(shown) > 1 else "the first"
    return f"there are {total:,} {' '.join(noun)}; {first}: " + phrase[m.end() :]
