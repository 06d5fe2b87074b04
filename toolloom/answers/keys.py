"""Which fields of a result an answer says, and in what order; `AnswerDraft` carries them to the wording.

The fields the request names come first; when it names none, the result's name and two facts (status first,
coordinates, links and paging last); never the values the call itself was given.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .phrases import AMOUNTS, PREPOSITIONS, field_phrase
from .values import CODED
from .subjects import SUBJECT_KEYS, converted
from .texts import ABOUT_KEYS
from ..text.request_asks import requested_fields, words
from ..text.tool_names import is_action

OTHER_FIELDS = 2  # fields stated when the request names none (a lookup: the subject and two facts)
OPEN_FIELDS = 4  # ... and when it asks for everything ('What can you tell me about BR?', 'Details on ...')
_OPEN = re.compile(
    r"\b(tell me about|what can you tell|details|overview|describe|summari[sz]e|facts|information)\b", re.I
)
_WHOLE = re.compile(r"\b(entire|whole|everything|all of (?:it|them|the))\b", re.I)
_LATER = {"latitude", "longitude", "lat", "lon", "lng", "url", "href", "image", "path", "created", "updated"}
_PAGING = {"page", "pages", "offset", "limit", "cursor", "next", "previous", "total_pages", "total_results"}
_WHEN = {"release", "released", "air", "birthday", "birth", "founded", "premiere"}
_COORDINATES = (("latitude", "longitude"), ("lat", "lon"), ("lat", "lng"))


@dataclass
class AnswerDraft:
    """One result's sentence in the making: its call, the fields chosen to say, and how the sentence starts."""

    result: dict
    request: str
    arguments: dict
    tool: str | None
    known: dict  # names earlier results gave ids and codes
    yes_no: bool  # the request asks a yes/no question
    given: set[str] = field(default_factory=set)  # the call's own values (as JSON): never said back
    subject_key: str | None = None  # the field naming what the result is (its name, title)
    made: bool = False  # a create or update: what it made is named by its id
    wanted: list[str] = field(default_factory=list)  # the fields the request names
    others: list[str] = field(default_factory=list)  # the other fields worth saying, status first
    lists: list[str] = field(default_factory=list)  # ... those that are lists
    scalars: list[str] = field(default_factory=list)  # ... and those that are single values
    keys: list[str] = field(default_factory=list)  # the fields said
    flags: list[str] = field(default_factory=list)  # yes/no fields the request asks for: said first
    unit: str = ""  # the currency or unit of the result's amount
    qualifier: str = ""  # ' (as of 2026-01-02)': what qualifies every fact, said last
    lead: str = ""  # how the sentence starts: 'Yes', 'No, it is not ...', the subject's name
    phrases: list[str] = field(default_factory=list)  # the said fields, worded

    def gave(self, key: str) -> bool:
        """Whether a field's value is one the call was given."""
        return json.dumps(self.result[key], sort_keys=True) in self.given


def draft_of(result: dict, request: str, arguments: dict, tool: str | None, known: dict, yes_no: bool, feeds):
    """A result's draft with the fields the request names (`wanted`) and the others worth saying."""
    draft = AnswerDraft(result, request, arguments, tool, known, yes_no)
    draft.given = {json.dumps(v, sort_keys=True) for v in arguments.values()}
    draft.subject_key = next((k for k in SUBJECT_KEYS if isinstance(result.get(k), str)), None)
    draft.made = is_action(tool or "")  # what a create or update made is named by its id: the id comes first
    draft.wanted = _asked(draft, feeds)
    draft.others, draft.lists, draft.scalars = _others(draft)
    return draft


def _asked(draft: AnswerDraft, feeds: tuple[str, ...]) -> list[str]:
    """The fields the request names, less the call's own values and the subject's name."""
    result, request = draft.result, draft.request
    wanted = [k for k in requested_fields(request, result) if not draft.gave(k)]
    if feeds:  # a lookup inside a longer request: what it gave the next call, and what the request names outright
        named = requested_fields(request, result, asks=False)  # ('how many km' asks nothing of an order)
        wanted = [k for k in wanted if k in named] + [k for k in feeds if k in result and k not in named]
    wanted = [k for k in wanted if k != draft.subject_key]  # 'Name the capital of AU': the subject is what is named
    if draft.made:  # 'Update content path ...' names what to change, and a field it left empty is nothing to report
        wanted = [k for k in wanted if result[k] is not None]
    return wanted


def _others(draft: AnswerDraft) -> tuple[list[str], list[str], list[str]]:
    """The fields worth saying that the request does not name (status first), and of those the lists and the
    single values."""
    result = draft.result
    others = [
        k
        for k in result
        if k not in draft.wanted
        and k != draft.subject_key
        and result[k] is not None
        and result[k] != ""  # "its homepage is ." (Fight Club's documented homepage is "")
        and (draft.made and k == "id" or not k.endswith("_id") and k != "id")
        and not draft.gave(k)
        and not _unsaid(k, result[k])
        and not (draft.subject_key and result[k] == result[draft.subject_key])  # an original title the same
    ]
    # a search's or a listing's items are what it was asked for; otherwise status first, coordinates and links last
    others = [k for k in others if k not in _PAGING and not (set(words(k)) & {"page", "pages"})]
    lists = [k for k in others if isinstance(result[k], list)]
    scalars = [k for k in others if k not in lists and not isinstance(result[k], dict)]
    prose = next((k for k in others if k in ABOUT_KEYS and isinstance(result[k], str) and ". " in result[k]), None)
    others = sorted(
        others,
        key=lambda k: (
            -1  # what the record is: a movie's overview, a person's biography (a blind read: 'its budget is ...')
            if k == prose
            else 0
            if words(k)[-1:] in (["status"], ["state"])
            else 0.5
            if set(words(k)) & _WHEN and isinstance(result[k], str)  # when it came out, when they were born
            else 2
            if set(words(k)) & _LATER or isinstance(result[k], (list, dict))
            else 1.5
            if words(k)[-1:] == ["code"] and "country" not in words(k)  # Brazil's capital before its calling code
            else 1
        ),
    )
    return others, lists, scalars


_IMAGE = re.compile(r"\.(?:png|jpe?g|gif|svg|webp)$", re.I)


def _unsaid(key: str, value) -> bool:
    """Not worth saying unasked: a bare flag ('Adult: no'; `is_`/`has_` flags read as sentences) or a category
    given as a number code."""
    if isinstance(value, bool):
        return not key.startswith(("is_", "has_"))
    if isinstance(value, str) and words(key)[-1:] == ["path"] and len(words(key)) > 1 and _IMAGE.search(value):
        return True  # an image's file path ('its logo path is /o86Db.png')
    return isinstance(value, int) and bool(words(key)[-1:]) and words(key)[-1] in CODED


def _alike_lists(draft: AnswerDraft) -> list[str]:
    """A listing's list, and the other lists of records like its own: a show's images are its backdrops and its
    posters (a blind read: 'show me the images' answered with the backdrops alone)."""
    first, result = draft.lists[0], draft.result
    shape = lambda k: set(result[k][0]) if result[k] and isinstance(result[k][0], dict) else None  # noqa: E731
    return [first] + [k for k in draft.lists[1:] if shape(first) and shape(k) == shape(first) and not draft.scalars]


def keys_to_say(draft: AnswerDraft, said_done: bool) -> list[str]:
    """The fields a sentence says: those the request names, else a listing's list or the first others; an
    update's values it set, unless `said_done` said them."""
    result, wanted = draft.result, draft.wanted
    keys = (
        wanted
        or (
            (draft.lists if _WHOLE.search(draft.request) else _alike_lists(draft))  # 'the entire knowledge graph'
            if draft.lists and len(draft.scalars) <= 2
            else draft.others[: OPEN_FIELDS if _OPEN.search(draft.request) else OTHER_FIELDS]
        )
    )
    amount = next((k for k in AMOUNTS if k in result and not isinstance(result[k], bool)), None)
    if (
        not wanted
        and amount
        and any(isinstance(result.get(k), str) for k in ("currency", "unit"))
        and converted(draft.arguments)
    ):  # 'Convert 250 EUR into JPY.': '250 EUR is 45,972.5 JPY', not the rate too
        keys = [amount]
    set_to = [
        k
        for k in result
        if draft.made
        and k != draft.subject_key
        and not k.endswith("_id")
        and k != "id"
        and result[k] is not None
        and draft.gave(k)
    ]
    # an update says what it set ('the path ... is notes/done.md'), unless `said_done` said it ('I renamed ...')
    return keys if wanted or not set_to else [] if said_done else set_to[:2]


def settle_keys(draft: AnswerDraft) -> None:
    """The said fields in their order: coordinates both or neither, a status where it answers a yes/no question,
    the flags asked for first; 'as of ...' fields become the qualifier and the unit goes with its amount."""
    result, keys, wanted = draft.result, draft.keys, draft.wanted
    for pair in _COORDINATES:  # coordinates both or neither
        if len(set(pair) & set(keys)) == 1 and not set(pair) & set(wanted):
            keys = [k for k in keys if k not in pair]
    status = [k for k in draft.others if words(k)[-1:] in (["status"], ["state"]) and isinstance(result[k], str)]
    if draft.yes_no and not wanted and status:
        keys = status[:1]  # 'Is my order on its way?': its status says it, and nothing else does
    draft.flags = [k for k in wanted if isinstance(result[k], bool)]  # a yes/no the request asks for comes first
    flags = [k for k in result if isinstance(result[k], bool)]
    if draft.yes_no and not draft.flags and len(flags) == 1 and not wanted:  # 'a day off?': the one flag answers
        draft.flags = flags
    dated = _dated(draft, keys)
    unit_key = next(
        (k for k in ("currency", "unit") if isinstance(result.get(k), str) and any(a in result for a in AMOUNTS)), None
    )
    draft.unit = result[unit_key] if unit_key else ""
    draft.keys = draft.flags + [k for k in keys if k not in draft.flags and k not in dated and k != unit_key]
    draft.qualifier = f" ({', '.join(field_phrase(k, result[k]) for k in dated)})" if dated else ""


AS_OF = ("as_of", "as_of_date")  # a result's values hold on that date (a reference rate): always said


def _dated(draft: AnswerDraft, keys: list[str]) -> list[str]:
    """The fields that qualify the rest ('as of ...'), said last."""
    result = draft.result
    dated = [
        k
        for k in result
        if words(k)[:1]
        and words(k)[0] in PREPOSITIONS
        and k not in keys
        and not isinstance(result[k], bool)  # in_production is no 'as of': '(in production: yes)'
        and (draft.wanted or draft.lists or k in AS_OF)  # a conversion too: '250 EUR is 45,972.5 JPY (as of ...)'
        and not draft.gave(k)
    ]  # 'as of ...' qualifies the rest: it goes last
    return dated + [k for k in keys if words(k)[:1] and words(k)[0] in PREPOSITIONS]
