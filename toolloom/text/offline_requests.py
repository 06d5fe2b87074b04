"""Requests for a tool without utterance templates (every real collection), worded from its name and arguments, never
its documentation: GET_movie-movie_id-keywords(movie_id=914298) -> 'What are the keywords of movie 914298?'. The name
gives a verb (get, list, search, create, update, set, delete, convert/calculate, another imperative; without one, a
thing to ask for), the thing asked about and the entity an identifying argument names ('of movie 914298', 'named
"Ann"'); the others follow as 'with <parameter words> <value>', or as a bound ('a price of at most 60 EUR'). Values
are spelled, and ordered, as the offline assistant reads them back (agents/offline.py). A value from an earlier step
is the reference `render_example` made ('For that movie, what are the keywords?')."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass

from . import spoken
from ..graph.names import singular, snake
from ..graph.slots import ID_KINDS
from .tool_names import (
    FAMILY,
    ADJECTIVES,
    LINKS,
    NAMING,
    UNCOUNTED,
    is_action,
    is_plural,
    join,
    param_words,
    parse_name,
    plural,
    plurals,
    shown,
    words_of,
)

PLACES = {"timezone", "time zone", "language", "lang", "locale", "country", "region", "market", "city", "location"}
KINDS = ID_KINDS | {"number", "num"} | NAMING
BARE = ID_KINDS - {"key"}  # a bare 'key' is an API key or a musical key, not whose record it is
QUERIES = {
    "query",
    "q",
    "keyword",
    "keywords",
    "term",
    "search",
    "search_term",
    "search_query",
    "text",
    "search_text",
    "query_text",
    "search_string",
    "query_string",
}
ONE_OF = {"latest", "newest", "random", "current"}  # 'the latest movie', but 'the popular movies'


def _split_kind(pw: list[str]) -> tuple[list[str], str]:
    """(entity, kind) of an identifying parameter: movie_id -> (['movie'], 'id'), username -> (['user'], 'name')."""
    if pw and pw[-1] in KINDS:
        return pw[:-1], pw[-1]
    if len(pw) == 1 and pw[0] in ("username", "userid"):
        return ["user"], pw[0][4:]
    return pw, ""


def _find(seq: list[str], part: list[str]) -> int:
    """Where `part` starts in `seq` (singular and plural alike), or -1."""
    n, s, p = len(part), [singular(w) for w in seq], [singular(w) for w in part]
    return next((i for i in range(len(seq) - n + 1) if n and s[i : i + n] == p), -1)


@dataclass
class Ident:
    """An argument that says which record the request is about: 'movie 914298' in 'the keywords of movie 914298'."""

    key: str
    entity: list[str]
    link: str  # the word the name puts before it (applyWatermarkOnFolder: 'on'), or ''
    is_id: bool  # an identifier (movie_id), not a parameter the name spells out (get_weather_for_city: city)


def _spelled_out(obj: list[str], pws: dict) -> None:
    """A parameter the name spells out is said once: get_movie_movie_id_keywords -> movie keywords."""
    for pw in pws.values():
        entity, kind = _split_kind(pw)
        at = _find(obj, pw)
        if at >= 0 and len(pw) > 1:
            obj[at : at + len(pw)] = entity if kind else []
            if kind and at > 0 and _find(obj[at - 1 : at], entity[-1:]) == 0:
                del obj[at : at + len(entity)]  # movie movie -> movie


def _bare_entity(key: str, kind: str, obj: list[str], path: str) -> list[str]:
    """Whose a bare identifier is: /artists/{id}/albums is an artist's, EncodeRawID's a raw id, else
    the record after a link word (reviews_for_product) or the first noun (albums_tracks)."""
    seg = re.search(r"([A-Za-z_-]+)/\{" + re.escape(key) + r"\}", path)
    if seg:
        return [singular(w) for w in param_words(seg.group(1))]
    at = _find(obj, [kind])
    if at > 0 and obj[at - 1] not in LINKS:
        return obj[: at + 1]
    cut = next((i for i, w in enumerate(obj) if w in LINKS), None)
    return obj[cut + 1 :][-1:] if cut is not None else obj[:1] if len(obj) > 1 else obj[-1:]


def _identifiers(
    step, meta: dict, family: str, obj: list[str], all_words: list[str], pws: dict, skip: str | None
) -> list[Ident]:
    """The identifying arguments, their entity words taken out of `obj` (the thing asked about)."""
    idents, bare_done = [], False

    def in_path(k: str) -> bool:  # an OpenAPI path parameter: /movie/{movie_id}
        return ((meta.get("params") or {}).get(k) or [""])[0] == "path"

    for k in step.arguments:
        if k == skip:
            continue
        entity, kind = _split_kind(pws[k])
        if not entity and kind in BARE and not bare_done:
            bare_done = True
            entity = _bare_entity(k, kind, obj, str(meta.get("path") or ""))
        elif not kind or not entity:  # get_weather_for_city(city="Paris"), not chord_progression(chords=22)
            number = isinstance(step.arguments[k], (int, float)) and k not in step.bindings
            entity = pws[k] if _find(obj, pws[k]) >= 0 and not number and len(obj) > len(pws[k]) else []
            kind = ""
        at = _find(obj, entity) if entity else -1
        if at >= 0:
            n = len(entity)
            if at + n == len(obj) and at and not set(obj[:at]) & LINKS:  # retention policy "1542"
                at, n = 0, len(obj)
            entity, link = [singular(w) for w in obj[at : at + n]], ""
            if not (family in ("create", "search") and kind in NAMING):  # 'a role named "Ann"' keeps the role
                link = obj[at - 1] if at > 0 and obj[at - 1] in LINKS else ""
                del obj[at - (1 if link else 0) : at + n]
            idents.append(Ident(k, entity, link, bool(kind)))
        elif entity and kind and (_find(all_words, entity) >= 0 or in_path(k)):  # properties_get-tour-insights
            idents.append(Ident(k, entity, "", True))
    return idents


def _adjective(word: str) -> bool:
    """A word said before its noun: 'top rated movies', 'the unstaged git diff' (git_diff_unstaged)."""
    return word in ADJECTIVES or bool(re.fullmatch(r"[a-z]{3,}ed", word))


def _tidy(family: str, obj: list[str], pws: dict, idents: list[Ident]) -> tuple[str, list[str]]:
    """The thing's words as said: 'my' for the asking user, no dangling link words, adjectives first
    (movie top rated -> top rated movies), 'all fruits' listed."""
    if not any("user" in w for pw in pws.values() for w in pw):
        text = re.sub(r"(?<=\ws) (current )?users?$", "", " ".join(obj))  # remove-albums-user: albums
        obj = re.sub(r"\b(current )?users?\b(?= \w)", "my", text).split()  # get-users-saved-tracks: my saved tracks
    while obj and (obj[-1] in LINKS or obj[0] in LINKS):  # 'countries by' once the region is said apart
        obj = obj[:-1] if obj[-1] in LINKS else obj[1:]
    if obj and _adjective(obj[-1]):
        cut = max((i for i, w in enumerate(obj) if not _adjective(w)), default=-1) + 1
        adj, head = obj[cut:], obj[:cut] or [singular(w) for e in idents[:1] for w in e.entity]
        if head and adj[0] not in ONE_OF and adj[0] in ADJECTIVES and family in ("get", "list", "thing"):
            head[-1] = plural(singular(head[-1]))
        obj = adj + head
    if len(obj) == 3 and obj[-1] == "list" and family in ("get", "thing"):  # genre tv list: tv genres
        family, obj = "list", obj[1:-1] + [plural(singular(obj[0]))]
    if obj[:1] == ["all"] and family in ("get", "thing", "list"):  # getAllFruits: all fruits
        family, obj = "list", obj[1:]
    return family, obj


class _Request:
    """One step's request: the parts worked out from the name and the arguments, and how each verb
    family puts them in a sentence."""

    def __init__(self, step, meta: dict, said: dict, rng: random.Random, promote: bool):
        self.rng, self.said = rng, said
        self.named = meta.get("named") or {}  # movie_id 550 -> "Fight Club": what a person knows it by
        self.family, self.verb, obj, self.all_words = parse_name(words_of(meta.get("renamed_from") or step.name))
        obj = list(obj)
        self.pws = pws = {k: param_words(k) for k in step.arguments}
        _spelled_out(obj, pws)
        named = [w for w in obj if w not in LINKS]
        self.query = (
            next((k for k in step.arguments if snake(k) in QUERIES and self.family == "search"), None)
            if promote
            else None
        )
        self.idents = _identifiers(step, meta, self.family, obj, self.all_words, pws, self.query) if promote else []
        self.family, self.obj = _tidy(self.family, obj, pws, self.idents)
        self.thing = shown(self.obj)
        if not self.thing and self.family not in ("get", "thing") and any(e.key in step.bindings for e in self.idents):
            self.thing = shown(named)  # 'For that dashboard, delete the dashboard.'
        self.the = "" if self.thing.startswith("my ") or not self.thing else "the "
        bound_idents = {e.key for e in self.idents if e.key in step.bindings}
        self.unbound = [e for e in self.idents if e.key not in step.bindings]
        ident_keys = {e.key for e in self.idents}
        self.query = self.query if self.query not in step.bindings else None
        self.rest = [k for k in step.arguments if k not in step.bindings and k != self.query and k not in ident_keys]
        # a bound identifier that reads as the record ('that movie') is said as it is, another with its name
        self.front = [
            said[k] if k in bound_idents and self.entity_form(k) else f"{self.words(k)} {said[k]}"
            for k in step.arguments
            if k in step.bindings
        ]
        self.order = [e.key for e in self.unbound] + ([self.query] if self.query else []) + self.rest

    def entity_form(self, k: str) -> bool:
        return " of " not in self.said[k] and "'s " not in self.said[k]

    def words(self, k: str) -> str:
        return " ".join(self.pws[k])

    def item(self, k: str) -> str:
        return spoken.bounded(self.pws[k], self.said[k]) or f"{self.words(k)} {self.said[k]}"

    def idents_text(self, link_default: str | None) -> str:
        """' of tv show 347685, season 8 and episode 13'; `link_default` None: no link word."""
        parts = []
        for n, e in enumerate(self.unbound):
            if self.family in ("create", "search") and _split_kind(self.pws[e.key])[1] in NAMING:
                parts.append(f"named {self.said[e.key]}")
                continue
            link = e.link or (link_default if e.is_id else "for") if self.thing else e.link
            link = "" if link_default is None or n else link
            which = f"{shown(e.entity)} {self.said[e.key]}"
            which = f"{self.named[e.key]} ({which})" if e.is_id and self.named.get(e.key) else which
            parts.append(f"{link + ' ' if link else ''}{which}")  # 'of Fight Club (movie 550)'
        return " " + join(parts) if parts else ""

    def with_text(self, word: str = "with") -> str:
        if not self.rest:
            return ""
        if self.family == "set" and len(self.rest) == 1:  # 'Set the volume to 51.'
            k = self.rest[0]
            return f" to {self.said[k]}" if set(self.pws[k]) & set(self.thing.split()) else f" to {self.item(k)}"
        rest = self.rest
        where = f" in {self.item(rest[0])}" if self.words(rest[0]) in PLACES else ""  # in market "ES"
        rest = rest[1:] if where else rest
        return where + (f" {word} {join([self.item(k) for k in rest])}" if rest else "")

    def say(self, lead: str, link: str | None = "of", word: str = "with", ask: bool = False) -> tuple[str, bool]:
        return f"{lead}{self.idents_text(link)}{self.with_text(word)}", ask

    def what(self, word: str = "with") -> tuple[str, bool]:
        return self.say(f"what {'are' if is_plural(self.thing) else 'is'} {self.the}{self.thing}", word=word, ask=True)

    def sentence(self) -> tuple[str, bool]:
        """The request's words after any 'For <earlier value>, ', and whether it is a question."""
        family, verb, thing, the, rng = self.family, self.verb, self.thing, self.the, self.rng
        if family in ("get", "thing"):
            if thing.endswith("trending") and not self.unbound:
                return f"what is trending{' on ' + thing[:-9] if thing != 'trending' else ''}{self.with_text()}", True
            if thing and family == "thing" and self.obj[0] == "random" and len(self.obj) > 1:
                return self.say(f"give me a random {shown(self.obj[1:-1] + [singular(self.obj[-1])])}")
            if thing:
                return self.what() if rng.random() < 0.5 else self.say(f"show me {the}{thing}")
            if self.unbound:
                ask = rng.random() < 0.5
                return self.say(f"{'what are' if ask else 'show me'} the details of", None, ask=ask)
            if self.idents:  # only a value from an earlier result: 'For that movie, show me its details.'
                e = self.idents[0]
                whose = "its" if self.entity_form(e.key) else f"the {shown(e.entity)}"
                return f"show me {whose} details{self.with_text()}", False
            if family == "get" and self.rest:  # fetch(url=...): 'Fetch url "https://..."'
                return f"{verb} {join([self.item(k) for k in self.rest])}", False
            return self.say(f"{'show me' if family == 'get' else 'use'} {' '.join(self.all_words) or 'this tool'}")
        if family == "list":
            things = thing if not self.obj or is_plural(thing) else shown(plurals(self.obj))
            lead = ("all " if "all" in self.all_words else the) if things else ""
            return self.say(f"{rng.choice(('list', 'show me'))} {lead}{things or 'everything'}")
        if family == "search":
            things = shown(plurals(self.obj))
            if self.query:
                if rng.random() < 0.5 or not things:
                    lead = f"search for {things + ' matching ' if things else ''}"
                else:
                    lead = f"find {things} matching "
                return self.say(f"{lead}{self.said[self.query]}", "in")
            return self.say(f"{'search for' if verb == 'search' else verb} {things or 'results'}", "by")
        if family == "create":
            countable = thing and not is_plural(thing) and thing.split()[-1] not in UNCOUNTED
            article = ("an " if re.match(r"[aeio]|u(?!s|ni|ti)", thing) else "a ") if countable else ""
            return self.say(f"{verb} {article}{thing}", "to" if verb == "add" else "for")
        if family in ("update", "set", "delete"):
            return self.say(f"{verb} {the}{thing}", ("from" if verb == "remove" else "of") if thing else "")
        if family == "compute":
            return self.compute()
        return self.say(f"{verb}{' ' + thing if thing else ''}", "of" if thing else "")

    def compute(self) -> tuple[str, bool]:
        """'Convert 5 from "USD" to "GBP".', 'Calculate the bmi for height 1.8 and weight 70.'"""
        sources, targets = ("from", "source", "src", "base", "input"), ("to", "target", "dest", "destination", "output")
        roles = {
            k: "from" if self.pws[k][0] in sources else "to" for k in self.rest if self.pws[k][0] in sources + targets
        }
        if self.verb == "convert" and len(self.rest) == 3 and sorted(roles.values()) == ["from", "to"]:
            value = next(k for k in self.rest if k not in roles)
            self.order = [e.key for e in self.unbound] + [value] + [k for k in self.rest if k in roles]
            ends = "".join(f" {roles[k]} {self.said[k]}" for k in self.rest if k in roles)
            return f"convert {self.said[value]}{ends}{self.idents_text('of')}", False
        if self.verb in ("calculate", "compute") and self.thing and self.rng.random() < 0.5:
            return self.what(word="for")
        if self.verb == "convert":
            return self.say(f"convert {self.thing}")
        return self.say(f"{self.verb} {self.the}{self.thing}", word="for")


def compose(step, meta: dict, said: dict, rng: random.Random, promote: bool = True) -> tuple[str, list[str]]:
    """The request for one step, and the unbound arguments in the order it states them. `promote`:
    identifying arguments and the search query come first ('the keywords of movie 914298')."""
    r = _Request(step, meta, said, rng, promote)
    main, ask = r.sentence()
    main = re.sub(r"\s+", " ", main).strip()
    text = f"For {', '.join(r.front)}, {main}" if r.front else main[:1].upper() + main[1:]
    return text + ("?" if ask else "."), r.order


def names_a_thing(step, meta: dict) -> bool:
    """Whether the tool's name alone says what an argument-less call shows, in two words or more ('the unstaged git
    diff', 'the allowed directories'): then the request is worded from the name, not recited from a summary ('Show
    me the changes in the working directory that are not yet staged', read as copied documentation)."""
    if step.arguments or is_action(step.name):  # not 'Show me the git reset.'
        return False
    named = _Request(step, meta, {}, random.Random(0), True)
    # not 'Show me the git show.': a name that is a verb says no thing
    return named.family in ("get", "list", "thing") and len(named.obj) >= 2 and not set(named.obj) & set(FAMILY)


def value_classes(value) -> set:
    """What the offline assistant finds a value as: a quoted string, a number (or both, in a list)."""
    text = "" if isinstance(value, bool) or value is None else json.dumps(value)
    return {c for c, found in (("quoted", '"' in text), ("number", re.search(r"\d", text.replace('"', "")))) if found}


def in_reading_order(step, order: list[str]) -> bool:
    """Whether `order` states the values of each kind in argument order, the order the offline assistant reads them."""
    kind = {k: value_classes(v) for k, v in step.arguments.items() if k not in step.bindings}
    return all([k for k in order if c in kind[k]] == [k for k in kind if c in kind[k]] for c in ("quoted", "number"))


def request(step, meta: dict, said: dict, rng: random.Random) -> str:
    """The request for a step whose tool has no utterance templates; `said`: each argument as said (its JSON, or the
    reference to an earlier result). Where identifying values first would break reading order, nothing is moved."""
    state = rng.getstate()
    text, order = compose(step, meta, said, rng)
    if in_reading_order(step, order):
        return text
    rng.setstate(state)
    return compose(step, meta, said, rng, promote=False)[0]
