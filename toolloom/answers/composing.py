"""Wording an answer's chosen fields into its sentence: their phrases (what a search found, what a cart now
holds), said of what the call named (an id, a clock gap, a route, a place) or of the result's subject, and
joined after the lead."""

from __future__ import annotations

import re

from .keys import AnswerDraft
from .leads import topic_of
from .listed import listed_noun, named_count, whole_count
from .phrases import AMOUNTS, about, capitalised, field_phrase, join_phrases, measure
from .subjects import PLACE_WORDS, call_subject, clock_gap, converted, given_dates, limits, place_of, route
from ..graph.names import singular
from ..text.request_asks import label, words
from ..text.words import entity_of


def closed(text: str) -> str:
    """A sentence capitalised and ended; one ending in a block of the tool's own lines takes no full stop."""
    return capitalised(text) + ("" if "\n" in text else ".")


def _named_list(phrase: str, key: str) -> str:
    """A list whose field is no noun ('resolved') said as results: 'there is one result: data/huts.csv'."""
    said = label(key)
    if not re.search(r"(ed|ing)$", said):
        return phrase
    return re.sub(
        r"^(there is one|there are \d+) " + re.escape(said),
        lambda m: m.group(1) + (" result" if "one" in m.group(1) else " results"),
        phrase,
    )


def _inside(tool: str | None, key: str) -> str:
    """Where an empty list was looked for, when the tool names a container other than the list: ' in the cart'."""
    holder = entity_of(tool or "")
    return f" in the {holder}" if tool and holder not in ("result", singular(label(key))) and " " not in holder else ""


def field_phrases(draft: AnswerDraft) -> list[str]:
    """The said fields' phrases; an empty list says where it was searched and a list found its search's bounds."""
    result, keys, arguments = draft.result, draft.keys, draft.arguments
    # a nameless field (hours) is what the tool computes
    topic = topic_of(draft.tool, arguments) if not draft.lead else ""
    pair = tuple(result.get(f"{side}_currency") or result.get(side) for side in ("from", "to"))
    pair = pair if all(isinstance(p, str) for p in pair) else ()  # an exchange rate's currencies
    named = "code" not in words(draft.request)  # 'what is its code?' asks for MX, not Mexico
    phrases = [field_phrase(k, result[k], draft.unit, topic, pair, names=named) for k in keys]
    phrases = [
        p + (limits(arguments) or _inside(draft.tool, k)) if isinstance(result[k], list) and not result[k] else p
        for k, p in zip(keys, phrases)
    ]  # 'there are no cities with a population of at least 3,000,000'
    bounds = "" if draft.subject_key else limits(arguments, bounds_only=True)  # 'there is one country in Africa ...'
    phrases = [
        re.sub(r"^(there (?:is|are) [^:]+):", lambda m: m.group(1) + bounds + ":", p)
        if isinstance(result[k], list) and result[k]
        else p
        for k, p in zip(keys, phrases)
    ]
    noun = listed_noun(draft.request, draft.tool)
    phrases = [
        whole_count(named_count(p, k, noun), result, k) if isinstance(result[k], list) else p
        for k, p in zip(keys, phrases)
    ]  # 'there are 649 now playing movies; the first 5: ...', not '5 results'
    return _found_or_held(draft, _from_the_given_day(phrases, arguments))


def _from_the_given_day(phrases: list[str], arguments: dict) -> list[str]:
    """'it is 5 days away' counts from the day the call was given, not from today: 'it is 5 days after 2026-12-27'."""
    day = next(iter(given_dates(arguments)), None)
    if not day:
        return phrases
    return [re.sub(r"^it is (\S+ (?:days|weeks|hours|minutes)) away$", rf"it is \1 after {day}", p) for p in phrases]


def _found_or_held(draft: AnswerDraft, phrases: list[str]) -> list[str]:
    """A search's lists said as what it found; a change's one list as what its holder (a cart) now has."""
    result, keys = draft.result, draft.keys
    # what a search or a listing found, not what the world holds: 'I found 4 ...'
    if not draft.subject_key and not draft.made:
        phrases = [
            re.sub(r"^there (?:is|are) ", "I found ", _named_list(p, k)) if isinstance(result[k], list) else p
            for k, p in zip(keys, phrases)
        ]
    holder = entity_of(draft.tool or "")
    if draft.made and holder != "result" and " " not in holder and keys == draft.lists[:1] and result[keys[0]]:
        total = next((k for k in draft.scalars if set(words(k)) & {"total", "subtotal"}), None)  # what a cart holds now
        phrases = [
            re.sub(r"^there (?:is|are) ", f"the {holder} now has ", phrases[0])
            + (f"; {field_phrase(total, result[total], draft.unit)}" if total else "")
        ]
    return phrases


_COUNT_OF_TIME = re.compile(r"(?:there (?:is|are)|it is) [\d,.-]+ (?:days?|weeks?|months?|years?)")


def _between_dates(phrase: str, arguments: dict) -> str:
    """A count of days said with the two dates the call was given: 'there are 82 days from 2026-11-24 to ...'."""
    dates = given_dates(arguments)
    if len(dates) != 2 or not _COUNT_OF_TIME.fullmatch(phrase):
        return phrase
    return f"{phrase} from {dates[0]} to {dates[1]}"


def said_of_the_call(draft: AnswerDraft) -> str:
    """The facts of a result with no lead said of what its call named: its id ('the status of order ord_1002 is
    processing'), a clock gap, a place; '' otherwise. A route is put into the first fact that reads with it."""
    result, keys, phrases, arguments, known = draft.result, draft.keys, draft.phrases, draft.arguments, draft.known
    if draft.lead or any(isinstance(result[k], (list, dict)) for k in keys):
        return ""
    if subject := call_subject(arguments, known):  # 'the status of order ord_1002 is processing'
        in_place = any(set(words(k)) & PLACE_WORDS for k in arguments)  # 'the standard rate in DE is 19 percent'
        return closed(about(subject, phrases, inside=in_place) + draft.qualifier)
    if gap := clock_gap(result, keys, draft.tool or "", arguments, known):  # 'New York is 5 hours behind London'
        return capitalised(gap + draft.qualifier) + "."
    if way := route(arguments, known):  # 'the distance from Paris to Berlin is 877.5 km'
        at = next((i for i, p in enumerate(phrases) if p.startswith("the ") and " is " in p), None)
        if at is not None:  # said once, in the first fact that reads with it
            phrases[at] = phrases[at].replace(" is ", f" {way} is ", 1)
    elif (place := place_of(arguments, known)) and all(p.startswith("the ") for p in phrases):
        return closed(about(place, phrases, inside=True) + draft.qualifier)  # 'the local time in Chicago is ...'
    return ""


def composed(draft: AnswerDraft) -> str:
    """The sentence: the facts said of the result's subject, or joined after the lead ('Yes, ...', 'No, it is
    not ...; ...')."""
    lead, keys, result, phrases, unit = draft.lead, draft.keys, draft.result, draft.phrases, draft.unit
    if lead and not draft.flags and lead not in ("Yes", "No"):  # facts about the result's subject, said of it
        return closed(about(lead, phrases, placed=True) + draft.qualifier)
    if not lead and len(keys) == 1 and keys[0] in AMOUNTS and unit and (given_amount := converted(draft.arguments)):
        phrases = [f"{given_amount} is {measure(keys[0], result[keys[0]])[1]} {unit}"]  # '1200 USD is 891.54 GBP'
    phrases = [
        p[7:] if i and p.startswith("it has ") and phrases[i - 1].startswith("it has ") else p
        for i, p in enumerate(phrases)
    ]  # 'it has no connections and no kernels'
    phrases = [_between_dates(p, draft.arguments) for p in phrases]  # 'there are 82 days from ... to ...'
    listed = [i for i, p in enumerate(phrases) if ": " in p]  # lists of their own: 'I found 3 entities: ...; and 2 ...'
    if len(listed) > 1:
        phrases = [re.sub(r"^I found ", "", p) if i in listed[1:] else p for i, p in enumerate(phrases)]
    parts = "; ".join(phrases[:-1]) + "; and " + phrases[-1] if len(listed) > 1 else join_phrases(phrases)
    joint = ", " if lead in ("Yes", "No") else ": "  # 'Yes, there is one result: ...', not two colons
    text = f"{lead}{joint}{parts}" if lead and not draft.flags else f"{lead}; {parts}" if lead else parts
    return capitalised(text + draft.qualifier) + ("" if "\n" in text else ".")
