"""A request that names a value by where it comes from ('Convert 250 EUR into the currency of Japan', 'the local
time in the capital city of Australia') read as the calls it needs: first the lookup the phrase names
(get_country for Japan), then the request with that phrase as a reference to its result ("that country's
currency"), which `reading` resolves. The offline assistant plans its turns with it."""

from __future__ import annotations

import calendar
import functools
import re

from rank_bm25 import BM25Plus

from ..text import spoken
from ..graph.names import singular, snake
from ..text.tool_names import NAME_PARAMS
from ..text.wording import ALSO_SPLIT, ASKS_SEARCH, ORDINALS, SEARCHES, THEN_SPLIT, name_nouns
from ..text.words import STOPWORDS, entity_of, tokens
from .reading import fill_arguments

# 'the currency of Japan', 'the country of order ord_1002', 'the capital city of the United States'
_SUBJECT = (
    r'(?:the )?(?:[a-z]+ )?"[^"]+"|[a-z]+ ' + spoken.ID_TOKENS.pattern + r"|(?:the )?[A-Z][a-z]+(?: [A-Z][a-z]+)*"
)
_SECOND = r"(?:code|name|rate|zone|time|number|city|date)"  # "Japan's calling code", not "currency come"
_RELATES = r"[a-z]+s (?:to|from|in|at|for|with)"  # 'ships to', 'belongs to', 'lives in'


@functools.cache
def _nested(searched: str = "") -> re.Pattern:
    """Nested phrases; with `searched` (an entity a name search finds first) also 'the capital city of that
    country'."""
    subject = _SUBJECT + (f"|that {re.escape(searched)}" if searched else "")
    return re.compile(
        r"\bthe ((?:[a-z]+ ){0,2}?[a-z]+) of (" + subject + r")(?![\w'])"
        r"|\bthe ((?:[a-z]+ )?[a-z]+) (" + _SUBJECT + r") is in\b"  # 'the country Tokyo is in'
        r"|\b(?!(?:What|That|It|Here|There|Let|Who|Where|How|He|She)'s)"
        r"((?:the )?[A-Z][a-z]+(?: [A-Z][a-z]+)*)'s ([a-z]+(?: " + _SECOND + r")?)\b"
        r"|\bthe ((?:[a-z]+ )?[a-z]+) ([a-z]+ " + spoken.ID_TOKENS.pattern + r") " + _RELATES + r"\b"
    )  # 'the country order ord_1002 ships to' (wording.nestable, from the result field's documentation)


def _leaf(m: re.Match) -> str:
    """What a nested phrase asks of its subject: 'currency' in 'the currency of Japan'."""
    return m.group(1) or m.group(3) or m.group(6) or m.group(7)


Turn = list[tuple[str, str | None]]  # the texts to read a call from, each with the one tool it must be (or None)


def plan(request: str, tools: list[dict]) -> list[Turn]:
    """The request's turns: its parts ('Then, ' separates them, 'Also, ' calls made together), each part that
    names values by where they come from preceded by the lookups that find them."""
    turns: list[Turn] = []
    for group in THEN_SPLIT.split(request):
        parts = ALSO_SPLIT.split(group)
        group = placed(group, tools) if len(parts) == 1 else group
        searched = searched_name(group, tools) if len(parts) == 1 else None
        if searched:  # 'the capital of Korea': which country Korea is, first; then 'the capital of that country'
            name, search, entity = searched
            turns.append([(f'"{name}"', search)])
            group = re.sub(rf"(?<![\w\"]){re.escape(name)}(?![\w\"])", f"that {entity}", group)
            parts = [group]
        lookups, rest = unnest(group, tools, searched[2] if searched else "") if len(parts) == 1 else ([], group)
        if lookups:
            turns += [lookups, [(rest, None)]]
        else:
            turns.append([(p, None) for p in parts])
    return turns


_CALENDAR = {*calendar.day_name, *calendar.month_name} - {""}
_PLACE_KINDS = ("city", "town", "place", "location", "airport")


def placed(text: str, tools: list[dict]) -> str:
    """A place named where its country is meant, said as such: 'Which holidays does Toronto have in 2027?' reads
    'the country Toronto is in' where the text names no country (a city is none: pycountry), asks what a tool
    that takes a country code is named for (holidays, VAT, an order) and not the place's own facts, and another
    tool finds a place's country."""
    finder = next(
        (
            t
            for t in tools
            if len(req := (t["function"].get("parameters") or {}).get("required") or []) == 1
            and req[0].split("_")[0] in _PLACE_KINDS
            and "country" in _docs(t)
        ),
        None,
    )
    names = [n for n in spoken.names(text) if n not in _CALENDAR]
    if finder is None or len(names) != 1 or spoken.code_for(names[0], "country_code"):
        return text  # 'from Madrid to the capital city of Germany': the country is named
    if spoken.partial_name(names[0], "country_code"):  # 'the capital of Korea': a search finds it
        return text
    own = {singular(w) for w in tokens(text)} - STOPWORDS - {singular(w) for w in _docs(finder)}
    wanted = any(
        "country_code" in ((t["function"].get("parameters") or {}).get("required") or [])
        and own & name_nouns(t["function"]["name"])
        for t in tools
    )
    return (
        re.sub(rf"(?<![\w\"]){re.escape(names[0])}(?![\w\"])", f"the country {names[0]} is in", text, 1)
        if wanted
        else text
    )


def searched_name(text: str, tools: list[dict]) -> tuple[str, str, str] | None:
    """(name, search tool, what it finds) for a part of a name that a name search must resolve before another tool
    can take its code ('the capital of Korea': find_country first); None where the text asks the search itself
    ('What is the ISO code for Korea?')."""
    for search in tools:
        f = search["function"]
        required = (f.get("parameters") or {}).get("required") or []
        if not (snake(f["name"]).startswith(SEARCHES) and len(required) == 1 and required[0] in NAME_PARAMS):
            continue
        entity = entity_of(f["name"]).replace(" ", "_")
        keys = {
            k
            for t in tools
            if t is not search
            for k in (t["function"].get("parameters") or {}).get("required") or []
            if k in (f"{entity}_code", f"{entity}_id")
        }
        name = next((n for n in spoken.names(text) for k in keys if spoken.partial_name(n, k)), None)
        if name is None or ASKS_SEARCH.search(text):
            continue
        docs = [tokens(f"{t['function']['name']} {t['function'].get('description') or ''}") or ["_"] for t in tools]
        scores = BM25Plus(docs).get_scores(tokens(text))
        if max(range(len(tools)), key=lambda i: scores[i]) != tools.index(search):
            return name, f["name"], entity.replace("_", " ")
    return None


def _docs(tool: dict) -> set[str]:
    f = tool["function"]
    return set(tokens(f"{snake(f['name'])} {f.get('description') or ''}"))


def _about(params: dict, name: str) -> set[str]:
    """The words a parameter is named and documented with, singular."""
    doc = str((params.get("properties") or {}).get(name, {}).get("description") or "")
    return {singular(w) for w in tokens(snake(name)) + tokens(doc)}


def _takes(tool: dict, head: str, taken: list[str]) -> str | None:
    """The required parameter of `tool` (not yet `taken`) a value named `head` goes into ('currency': to_currency)."""
    params = tool["function"].get("parameters") or {}
    free = [n for n in params.get("required") or [] if n not in taken]
    return next((n for n in free if head in {singular(w) for w in tokens(snake(n))}), None) or next(
        (n for n in free if head in _about(params, n)), None
    )  # by name first: not 'amount in the currency'


def unnest(text: str, tools: list[dict], searched: str = "") -> tuple[Turn, str]:
    """The lookups a text's nested phrases need, and the text with each phrase said as a reference to the lookup's
    result; ([], text) where it names no value that way. A phrase is nested only where a tool finds it from its
    subject alone and another tool (the one the rest of the text asks for) needs it: 'What is the capital of
    France?' is one call."""
    found = []
    for m in _nested(searched).finditer(text):
        leaf = _leaf(m)
        source = _lookup(m.group(0), leaf, tools, searched)
        if source is not None:
            found.append((m, source))
    if not found:
        return [], text
    rest, plain = text, text
    for k, (m, source) in sorted(enumerate(found), key=lambda p: -p[1][0].start()):
        which = "that" if len(found) == 1 else f"the {ORDINALS[min(k, 4)]}"
        entity, leaf = entity_of(source["function"]["name"]), _leaf(m)
        same = singular(leaf.split()[-1]) == singular(entity.split()[-1])  # 'the capital city of ...': that city
        rest = rest[: m.start()] + (f"{which} {entity}" if same else f"{which} {entity}'s {leaf}") + rest[m.end() :]
        plain = plain[: m.start()] + " " + plain[m.end() :]
    heads = [singular(_leaf(m).split()[-1]) for m, _ in found]
    if not _served(plain, heads, tools, {s["function"]["name"] for _, s in found}):
        return [], text
    return [(m.group(0), s["function"]["name"]) for m, s in found], rest


def _lookup(phrase: str, leaf: str, tools: list[dict], searched: str = "") -> dict | None:
    """The tool that finds `leaf` of `subject` ('the currency of Japan': get_country), ranked by the phrase; of
    'that country' (`searched`, found by a name search first), one that takes that country's code."""
    found = f"that {searched}" if searched and phrase.endswith(f" of that {searched}") else ""
    head = singular(leaf.split()[-1])
    docs = [tokens(f"{t['function']['name']} {t['function'].get('description') or ''}") or ["_"] for t in tools]
    scores = BM25Plus(docs).get_scores(tokens(phrase))
    for i in sorted(range(len(tools)), key=lambda i: -scores[i]):
        tool = tools[i]
        names = {singular(w) for w in _docs(tool)} | {singular(w) for w in entity_of(tool["function"]["name"]).split()}
        params = tool["function"].get("parameters") or {}
        if found:  # the code the search will find fills its parameter; the phrase states the rest
            key = f"{searched.replace(' ', '_')}_"
            taken = [k for k in params.get("required") or [] if k in (key + "code", key + "id")]
            if len(taken) != 1:
                continue
            params = {**params, "required": [k for k in params["required"] if k not in taken]}
            params["properties"] = {k: v for k, v in (params.get("properties") or {}).items() if k not in taken}
        args = fill_arguments(phrase.replace(found, " ") if found else phrase, params)
        # a lookup of the subject: not a tool that needs no input (list_currencies), nor one whose input is the
        # thing asked for ('the country Cape Town is in' is no country's name for find_country)
        # ... where its documentation names what is asked for, or the phrase names what the tool looks up ('the
        # country of order ord_1001': get_order_status, though its documentation does not say it has a country)
        named = head in names or entity_of(tool["function"]["name"]).split()[-1] in tokens(phrase.split(" of ")[-1])
        if named and (args or (found and args is not None)) and not any(head in _about(params, k) for k in args):
            return tool
    return None


def _served(plain: str, heads: list[str], tools: list[dict], sources: set[str]) -> bool:
    """Whether a tool other than the lookups takes each looked-up value as a required input and finds its other
    inputs in the text without the nested phrases (`plain`)."""
    for tool in tools:
        f = tool["function"]
        if f["name"] in sources:
            continue
        params = f.get("parameters") or {}
        taken: list[str] = []
        for h in heads:
            taken += [p] if (p := _takes(tool, h, taken)) else []
        if len(taken) != len(heads):
            continue
        left = {
            **params,
            "properties": {k: v for k, v in (params.get("properties") or {}).items() if k not in taken},
            "required": [k for k in params.get("required") or [] if k not in taken],
        }
        if fill_arguments(plain, left) is not None:
            return True
    return False
