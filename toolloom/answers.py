"""Final answers in sentences (issue: data a model can learn from).

Offline, the assistant's final answer is written here from the tool results: one sentence per
result, its phrasing derived from the result's shape (a subject, its fields, its lists), the
fields the request names first (`request_asks`), said of what the result is about. No field dump,
no Python repr (True, None).
"""

from __future__ import annotations

import json
import re

from .arguments import parse_arguments
from .graph.slots import singular
from .offline_requests import plural
from .request_asks import ANY_WORDS, action_said, is_action, is_yes_no, label, request_parts, requested_fields, words
from .answer_phrases import (
    AMOUNTS,
    PREPOSITIONS,
    about,
    capitalised,
    field_phrase,
    join_phrases,
    list_phrase,
    measure,
    said_text,
    value_text,
)
from .answer_subjects import (
    PLACE_WORDS,
    SUBJECT_KEYS,
    call_subject,
    clock_gap,
    converted,
    limits,
    names_in,
    place_of,
    route,
)
from . import spoken
from .wording import ENTITY_VERBS, GENERIC_WORDS, LINK_WORDS, entity_of, name_words, the_names

# shapes whose reference answer is a list: one result per independent part of the request
MULTI_ANSWER_SHAPES = ("parallel", "merged")
OTHER_FIELDS = 2  # fields stated when the request names none (a lookup: the subject and two facts)
OPEN_FIELDS = 4  # ... and when it asks for everything ('What can you tell me about BR?', 'Details on ...')
_OPEN = re.compile(
    r"\b(tell me about|what can you tell|details|overview|describe|summari[sz]e|facts|information)\b", re.I
)
NOTHING = "There is nothing to report."  # a result with nothing to say ({})
_COUNTED = {"stock", "available", "availability", "seats", "spots", "left", "remaining"}  # 'is it available?': n > 0
_LATER = {"latitude", "longitude", "lat", "lon", "lng", "url", "href", "image", "path", "created", "updated"}
_PAGING = {"page", "pages", "offset", "limit", "cursor", "next", "previous", "total_pages", "total_results"}


def _weekday_and_date(result: dict, keys: list[str]) -> str:
    """'Saturday, 2026-01-03' for a result that is a date and its weekday (what a date calculation gives)."""
    date_key = next((k for k in keys if words(k)[-1:] == ["date"] and isinstance(result[k], str)), None)
    weekday = next((result[k] for k in ("weekday", "day_of_week") if isinstance(result.get(k), str)), None)
    rest = set(keys) - {date_key, "weekday", "day_of_week"}
    return f"{weekday}, {result[date_key]}" if date_key and weekday and not rest else ""


_SHIPPING = re.compile(r"\b(shipped|on (?:its|the) way|dispatched|sent out|been sent|delivered|arrived)\b", re.I)
_UNDERWAY = {"shipped", "dispatched", "in_transit", "out_for_delivery", "delivered"}


def on_its_way(request: str, result: dict, subject: str = "") -> str:
    """'Is my order on its way?' answered from its status: 'No, order ord_1002 is still processing'; '' when
    the request does not ask whether something shipped or the result has no status."""
    status = next(
        (v for k, v in result.items() if words(k)[-1:] in (["status"], ["state"]) and isinstance(v, str)), None
    )
    if status is None or not _SHIPPING.search(request):
        return ""
    said, it = status.replace("_", " "), subject or "it"
    return (
        f"Yes, {it} is {said}"
        if status.lower() in _UNDERWAY
        else f"No, {it} is still {said}"
        if status.lower() in ("processing", "pending", "placed", "confirmed", "new")
        else f"No, {it} is {said}"
    )


_CONSTRAINT = re.compile(r"\bwith (?:a|an) [a-z ]+? of at (?:least|most) [\d,.]+")  # a bound, not what is asked


def _one_found(items, request: str) -> str:
    """A search that found one record, said by the fields the request names: "Mexico's country code is MX"."""
    if not (isinstance(items, list) and len(items) == 1 and isinstance(items[0], dict)):
        return ""
    item = items[0]
    name = next((item[k] for k in SUBJECT_KEYS if isinstance(item.get(k), str)), None)
    asked = [
        k
        for k in requested_fields(_CONSTRAINT.sub("", request), item)
        if k not in SUBJECT_KEYS and item[k] is not None and not isinstance(item[k], (list, dict))
    ]
    if not name or not asked:
        return ""
    phrases = [field_phrase(k, item[k]) for k in asked]
    if phrases[0].startswith("it "):  # 'Cast iron skillet costs 54.5 EUR', not "Cast iron skillet's it costs"
        return capitalised(about(name, phrases))
    return capitalised(f"{name}'s " + join_phrases([p.removeprefix("the ") for p in phrases]))


def _has_items(result) -> bool:
    """Whether a result found anything: a non-empty list, or an object whose lists are not all empty."""
    if isinstance(result, list):
        return bool(result)
    lists = [v for v in result.values() if isinstance(v, list)] if isinstance(result, dict) else []
    return any(lists) if lists else True


def topic_of(tool: str | None, arguments: dict) -> str:
    """What a one-value result is, from its tool's name: capital_of(DE) -> 'the capital of DE',
    time_difference -> 'the time difference'; '' when the name says nothing but a verb."""
    ws = [w for w in name_words(tool or "") if w not in ENTITY_VERBS and w not in GENERIC_WORDS]
    given = [v for v in arguments.values() if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
    if ws and ws[-1] in LINK_WORDS:  # capital_of: of what the one argument names
        ws = ws + [str(given[0])] if len(given) == 1 else ws[:-1]
    elif (
        ws
        and len(arguments) == 1
        and len(given) == 1
        and words(key := next(iter(arguments)))[-1:] in (["code"], ["id"])
    ):
        ws = ws + ["of", spoken.code_name(given[0], key) or str(given[0])]  # 'the capital city of Australia'
    return "the " + " ".join(ws) if ws and ws[0] not in LINK_WORDS else ""


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


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _inside(tool: str | None, key: str) -> str:
    """Where an empty list was looked for, when the tool names a container other than the list: ' in the cart'."""
    holder = entity_of(tool or "")
    return f" in the {holder}" if tool and holder not in ("result", singular(label(key))) and " " not in holder else ""


def _count_asked(result: dict, wanted: list[str]):
    """The count a yes/no question about availability asks for (stock, seats left), if the result has one."""
    return next(
        (
            result[k]
            for k in wanted
            if set(words(k)) & _COUNTED and isinstance(result[k], (int, float)) and not isinstance(result[k], bool)
        ),
        None,
    )


def sentence(
    result,
    request: str,
    arguments: dict | None = None,
    tool: str | None = None,
    known: dict | None = None,
    said_done: bool = False,
    feeds: tuple[str, ...] = (),
) -> str:
    """One sentence answering a result: yes or no first for a yes/no question; the fields the request
    names (and none other), or, when it names none, the result's name and two facts; never the
    values the call itself was given. A result with no name of its own is said of what its call named
    (`known`: names earlier results gave the ids and codes, 'berlin' -> 'Berlin'). A result the request asks
    nothing of says the fields that later calls took (`feeds`): 'the currency of Japan' is 'JPY'."""
    arguments, known = arguments or {}, known or {}
    if isinstance(result, dict) and "error" in result:
        err = result["error"]
        return f"The service answered with an error: {err.get('message') if isinstance(err, dict) else err}."
    yes_no = is_yes_no(request)
    if isinstance(result, list):
        thing = entity_of(tool or "")  # get__api_kernels -> [] : 'There are no kernels'
        text = "I found " + re.sub(
            r"^there (?:is|are) ", "", list_phrase(plural(thing) if tool and thing != "result" else "results", result)
        )
        return (
            ("Yes, " if result else "No, ") + text[0].lower() + text[1:]
            if yes_no and ANY_WORDS.search(request)
            else text
        ) + "."
    if not isinstance(result, dict):
        return f"The result is {value_text(result)}."
    if len(result) == 1 and isinstance(text := next(iter(result.values())), str) and (said := said_text(text)):
        return said  # a tool that answers in words (MCP's text content): 'Switched to branch 'main'.'

    if not result and len(arguments) == 1 and not is_action(tool or ""):  # a settings section with none set
        return f"The {entity_of(tool or '')} {value_text(next(iter(arguments.values())))} is empty."
    given = {json.dumps(v, sort_keys=True) for v in arguments.values()}
    wanted = [k for k in requested_fields(request, result) if json.dumps(result[k], sort_keys=True) not in given]
    if feeds:  # a lookup inside a longer request: what it gave the next call, and what the request names outright
        named = requested_fields(request, result, asks=False)  # ('how many km' asks nothing of an order)
        wanted = [k for k in wanted if k in named] + [k for k in feeds if k in result and k not in named]
    subject_key = next((k for k in SUBJECT_KEYS if isinstance(result.get(k), str)), None)
    wanted = [k for k in wanted if k != subject_key]  # 'Name the capital of AU': the subject is what is named
    made = is_action(tool or "")  # what a create or update made is named by its id: the id comes first
    if made:  # 'Update content path ...' names what to change, and a field it left empty is nothing to report
        wanted = [k for k in wanted if result[k] is not None]
    others = [
        k
        for k in result
        if k not in wanted
        and k != subject_key
        and result[k] is not None
        and (made and k == "id" or not k.endswith("_id") and k != "id")
        and json.dumps(result[k], sort_keys=True) not in given
    ]
    # a search's or a listing's items are what it was asked for; otherwise status first, coordinates and links last
    others = [k for k in others if k not in _PAGING and not (set(words(k)) & {"page", "pages"})]
    lists = [k for k in others if isinstance(result[k], list)]
    scalars = [k for k in others if k not in lists and not isinstance(result[k], dict)]
    others = sorted(
        others,
        key=lambda k: (
            0
            if words(k)[-1:] in (["status"], ["state"])
            else 2
            if set(words(k)) & _LATER or isinstance(result[k], (list, dict))
            else 1
        ),
    )
    keys = wanted or (
        lists[:1] if lists and len(scalars) <= 2 else others[: OPEN_FIELDS if _OPEN.search(request) else OTHER_FIELDS]
    )
    amount = next((k for k in AMOUNTS if k in result and not isinstance(result[k], bool)), None)
    if (
        not wanted
        and amount
        and any(isinstance(result.get(k), str) for k in ("currency", "unit"))
        and converted(arguments)
    ):  # 'Convert 250 EUR into JPY.': '250 EUR is 45,972.5 JPY', not the rate too
        keys = [amount]
    set_to = [
        k
        for k in result
        if made
        and k != subject_key
        and not k.endswith("_id")
        and k != "id"
        and result[k] is not None
        and json.dumps(result[k], sort_keys=True) in given
    ]
    # an update says what it set ('the path ... is notes/done.md'), unless `said_done` said it ('I renamed ...')
    keys = keys if wanted or not set_to else [] if said_done else set_to[:2]
    if said_done and not keys:
        return NOTHING
    for pair in (("latitude", "longitude"), ("lat", "lon"), ("lat", "lng")):  # coordinates both or neither
        if len(set(pair) & set(keys)) == 1 and not set(pair) & set(wanted):
            keys = [k for k in keys if k not in pair]
    status = [k for k in others if words(k)[-1:] in (["status"], ["state"]) and isinstance(result[k], str)]
    if yes_no and not wanted and status:
        keys = status[:1]  # 'Is my order on its way?': its status says it, and nothing else does
    flags = [k for k in wanted if isinstance(result[k], bool)]  # a yes/no the request asks for comes first
    dated = [
        k
        for k in result
        if words(k)[:1]
        and words(k)[0] in PREPOSITIONS
        and k not in keys
        and (wanted or lists)
        and json.dumps(result[k], sort_keys=True) not in given
    ]  # 'as of ...' qualifies the rest: it goes last
    dated += [k for k in keys if words(k)[:1] and words(k)[0] in PREPOSITIONS]
    unit_key = next(
        (k for k in ("currency", "unit") if isinstance(result.get(k), str) and any(a in result for a in AMOUNTS)), None
    )
    unit = result[unit_key] if unit_key else ""
    keys = flags + [k for k in keys if k not in flags and k not in dated and k != unit_key]
    qualifier = f" ({', '.join(field_phrase(k, result[k]) for k in dated)})" if dated else ""
    if (day := _weekday_and_date(result, keys)) and not yes_no and not subject_key:  # 'That is Saturday, 2026-01-03.'
        return f"That is {day}{qualifier}."
    dated_as = next((v for k, v in result.items() if words(k)[-1:] == ["date"] and isinstance(v, str)), None)
    if keys and keys == [k for k in keys if k in ("weekday", "day_of_week")] and dated_as:
        named = [w for w in _WEEKDAYS if w in set(words(request))]  # 'Is it a Friday?', not 'a Monday, a Friday or'
        lead = ("Yes, " if named[0] == str(result[keys[0]]).lower() else "No, ") if yes_no and len(named) == 1 else ""
        return f"{lead}{dated_as} is a {result[keys[0]]}{qualifier}."  # 'What day is 2026-12-25?': '... is a Friday.'
    if len(keys) == 1 and (found := _one_found(result[keys[0]], request)):  # "Mexico's country code is MX"
        return ("Yes, " if yes_no and ANY_WORDS.search(request) else "") + found + qualifier + "."
    lead = ""
    if flags:
        lead = ("Yes, " if result[flags[0]] else "No, ") + field_phrase(flags[0], result[flags[0]])
        lead += f" ({result[subject_key]})" if subject_key else ""
        keys = keys[1:]
    elif yes_no and lists and ANY_WORDS.search(request):  # 'Do you sell anything for ...?': what the search found
        lead = "Yes" if _has_items(result) else "No"
    elif yes_no and (n := _count_asked(result, wanted)) is not None:
        lead = "Yes" if n > 0 else "No"  # 'Is p101 available?': 'Yes, the stock is 12'
    elif yes_no and (
        said := [
            k
            for k, v in result.items()
            if words(k)[-1:] in (["status"], ["state"]) and isinstance(v, str) and v.lower() in set(words(request))
        ]
    ):
        lead, keys = "Yes", said[:1]  # 'Has order ord_1001 shipped yet?' and the status is shipped: that alone
    elif yes_no and (way := on_its_way(request, result, call_subject(arguments, known))):  # and it is processing
        return way + qualifier + "."
    elif subject_key:
        topic = topic_of(tool, arguments)
        lead = (
            result[subject_key]
            if keys
            else f"{topic} is {result[subject_key]}"
            if topic
            else f"It is {result[subject_key]}"
        )
    if not keys:
        return capitalised(lead + qualifier) + "." if lead else NOTHING
    topic = topic_of(tool, arguments) if not lead else ""  # a nameless field (hours) is what the tool computes
    pair = tuple(result.get(f"{side}_currency") or result.get(side) for side in ("from", "to"))
    pair = pair if all(isinstance(p, str) for p in pair) else ()  # an exchange rate's currencies
    named = "code" not in words(request)  # 'what is its code?' asks for MX, not Mexico
    phrases = [field_phrase(k, result[k], unit, topic, pair, names=named) for k in keys]
    phrases = [
        p + (limits(arguments) or _inside(tool, k)) if isinstance(result[k], list) and not result[k] else p
        for k, p in zip(keys, phrases)
    ]  # 'there are no cities with a population of at least 3,000,000'
    bounds = "" if subject_key else limits(arguments, bounds_only=True)  # 'there is one country in Africa with ...'
    phrases = [
        re.sub(r"^(there (?:is|are) [^:]+):", lambda m: m.group(1) + bounds + ":", p)
        if isinstance(result[k], list) and result[k]
        else p
        for k, p in zip(keys, phrases)
    ]
    if not subject_key and not made:  # what a search or a listing found, not what the world holds: 'I found 4 ...'
        phrases = [
            re.sub(r"^there (?:is|are) ", "I found ", _named_list(p, k)) if isinstance(result[k], list) else p
            for k, p in zip(keys, phrases)
        ]
    holder = entity_of(tool or "")
    if made and holder != "result" and " " not in holder and keys == lists[:1] and result[keys[0]]:
        total = next((k for k in scalars if set(words(k)) & {"total", "subtotal"}), None)  # what a cart holds now
        phrases = [
            re.sub(r"^there (?:is|are) ", f"the {holder} now has ", phrases[0])
            + (f"; {field_phrase(total, result[total], unit)}" if total else "")
        ]
    if not lead and not any(isinstance(result[k], (list, dict)) for k in keys):
        if subject := call_subject(arguments, known):  # 'the status of order ord_1002 is processing'
            in_place = any(set(words(k)) & PLACE_WORDS for k in arguments)  # 'the standard rate in DE is 19 percent'
            text = about(subject, phrases, inside=in_place) + qualifier
            return capitalised(text) + ("" if "\n" in text else ".")
        if gap := clock_gap(result, keys, tool or "", arguments, known):  # 'New York is 5 hours behind London'
            return capitalised(gap + qualifier) + "."
        if way := route(arguments, known):  # 'the distance from Paris to Berlin is 877.5 km'
            at = next((i for i, p in enumerate(phrases) if p.startswith("the ") and " is " in p), None)
            if at is not None:  # said once, in the first fact that reads with it
                phrases[at] = phrases[at].replace(" is ", f" {way} is ", 1)
        elif (place := place_of(arguments, known)) and all(p.startswith("the ") for p in phrases):
            text = about(place, phrases, inside=True) + qualifier  # 'the local time in Chicago is ...'
            return capitalised(text) + ("" if "\n" in text else ".")
    if lead and not flags and lead not in ("Yes", "No"):  # facts about the result's subject, said of it
        text = about(lead, phrases, placed=True) + qualifier
        return capitalised(text) + ("" if "\n" in text else ".")
    if not lead and len(keys) == 1 and keys[0] in AMOUNTS and unit and (given_amount := converted(arguments)):
        phrases = [f"{given_amount} is {measure(keys[0], result[keys[0]])[1]} {unit}"]  # '1200 USD is 891.54 GBP'
    phrases = [
        p[7:] if i and p.startswith("it has ") and phrases[i - 1].startswith("it has ") else p
        for i, p in enumerate(phrases)
    ]  # 'it has no connections and no kernels'
    parts = join_phrases(phrases)
    joint = ", " if lead in ("Yes", "No") else ": "  # 'Yes, there is one result: ...', not two colons
    text = f"{lead}{joint}{parts}" if lead and not flags else f"{lead}; {parts}" if lead else parts
    return capitalised(text + qualifier) + ("" if "\n" in text else ".")


_FACT = re.compile(r"\d[\d,.:-]*\d|\d|[A-Z][\w'-]*(?: [A-Z][\w'-]*)*")


def said_before(text: str, out: list[str]) -> bool:
    """Whether every fact of a sentence (its numbers and names) is in the sentences before it: 'The population of
    Berlin is 3,878,100.' after 'There is one city: Berlin (population 3,878,100).'"""
    facts = {f for f in _FACT.findall(text) if f not in ("The", "It", "Its", "There", "Yes", "No", "I")}
    earlier = " ".join(out)
    return (
        bool(out)
        and bool(facts)
        and all(re.search(r"(?<![\w,.])" + re.escape(f) + r"(?![\w,])", earlier) for f in facts)
    )


def fed(result, later_arguments: list[dict]) -> tuple[str, ...]:
    """The top-level fields of a result whose values later calls were given."""
    given = {json.dumps(v) for args in later_arguments for v in args.values() if not isinstance(v, (dict, list))}
    return (
        tuple(
            k
            for k, v in result.items()
            if not isinstance(v, (dict, list)) and json.dumps(v) in given and words(k)[-1:] != ["id"] and k != "id"
        )
        if isinstance(result, dict)
        else ()
    )


def answer_from(messages: list[dict]) -> str:
    """The final answer to a conversation: a sentence for each tool result, in call order."""
    request = " ".join(m.get("content") or "" for m in messages if m["role"] == "user")
    arguments, names = {}, {}
    for m in messages:
        for c in m.get("tool_calls") or []:
            names[c.get("id")] = c["function"]["name"]
            arguments[c.get("id")] = parse_arguments(c["function"]["arguments"])[0] or {}
    results = [m for m in messages if m["role"] == "tool"]
    order = {m.get("tool_call_id"): i for i, m in enumerate(results)}
    arguments = {c: a for c, a in arguments.items() if c in order}
    parts = request_parts(request)
    out, known = [], {}
    for i, m in enumerate(results):
        part = parts[i] if len(parts) == len(results) else request  # one part of the request per result
        try:
            result = json.loads(m["content"])
        except (json.JSONDecodeError, TypeError):
            out.append(f"The service answered: {str(m['content'])[:300]}")
            continue
        tool = names.get(m.get("tool_call_id")) or m.get("name") or ""
        # a call that changes something: say it was done ('I deleted the checkpoint "c".', where the request
        # says what), then what it shows (if anything: not the values it was given, which that sentence said)
        acted = is_action(tool) and not (isinstance(result, dict) and "error" in result)
        done = (action_said(part) or "Done.") if acted else ""
        # a lookup the request named by what it gives ('the currency of Japan'): what a later call took from it
        feeds = () if part is not request else fed(result, [a for c, a in arguments.items() if order[c] > i])
        text = sentence(
            result, part, arguments.get(m.get("tool_call_id")), tool, known, done not in ("", "Done."), feeds
        )
        known.update(names_in(result, tool))
        if acted:
            # the tool's own confirmation ('Successfully created directory ...') says again what `done` said
            text = (
                done if text == NOTHING or (done != "Done." and text.startswith("Successfully ")) else f"{done} {text}"
            )
        text = the_names(text)  # 'in the United States'
        if (
            text not in out
            and not (text == "Done." and any(o.startswith("Done.") for o in out))
            and (acted or not said_before(text, out))
        ):  # said once; what was done is always said
            out.append(text)
    if not out:
        return "I could not find anything."
    # a sentence ending in a block of the tool's own lines is set apart, or the next one would join its fence
    return "".join(t if not i else ("\n\n" if "\n" in out[i - 1] or "\n" in t else " ") + t for i, t in enumerate(out))
