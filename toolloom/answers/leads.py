"""How an answer sentence starts: yes or no, or the result's subject; and the results said whole before any
field is worded (a list, a bare value, a tool's own words, a date's weekday, a search's one find, an order's
shipping status)."""

from __future__ import annotations

import re

from ..text import spoken
from .keys import AnswerDraft
from .phrases import CHANGE, about, capitalised, field_phrase, join_phrases, list_phrase, said_text, value_text
from .subjects import SUBJECT_KEYS, call_subject, given_dates
from ..text.request_asks import ANY_WORDS, requested_fields, words
from ..text.tool_names import is_action, is_plural, plural
from ..text.words import ENTITY_VERBS, GENERIC_WORDS, LINK_WORDS, entity_of, name_words

_COUNTED = {"stock", "available", "availability", "seats", "spots", "left", "remaining"}  # 'is it available?': n > 0
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SHIPPING = re.compile(r"\b(shipped|on (?:its|the) way|dispatched|sent out|been sent|delivered|arrived)\b", re.I)
_UNDERWAY = {"shipped", "dispatched", "in_transit", "out_for_delivery", "delivered"}
_CONSTRAINT = re.compile(r"\bwith (?:a|an) [a-z ]+? of at (?:least|most) [\d,.]+")  # a bound, not what is asked


def early_answer(result, request: str, arguments: dict, tool: str | None, yes_no: bool) -> str:
    """A result said whole before any field is chosen: a list, a bare value, a tool's own words, an empty
    settings section; '' for a result with fields to choose from."""
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
    one_text = len(result) == 1 and isinstance(text := next(iter(result.values())), str)
    if one_text and (said := said_text(text, shown_as(request, text))):
        return said  # a tool that answers in words (MCP's text content): 'Switched to branch 'main'.'
    if not result and len(arguments) == 1 and not is_action(tool or ""):  # a settings section with none set
        return f"The {entity_of(tool or '')} {value_text(next(iter(arguments.values())))} is empty."
    return ""


_NOT_ONE = re.compile(r'[.?!;] |"|\band (?:the|an?|my|its)\b')  # a clarification after it; two things asked
_SHOW = re.compile(r"(?:(?:can|could) you )?(?:show me|give me|display|list|what (is|are)) (.+?)[?.!]?", re.I)


def shown_as(request: str, text: str = "") -> str:
    """What a tool's block of lines is, from the request that asked to be shown it ('Show me the working tree
    status.': 'Here is the working tree status:'); a diff an edit gives back is the change; else 'Here it is:'."""
    if not (m := _SHOW.fullmatch(request.strip())) or _NOT_ONE.search(re.sub(r'"[^"]*"', "", m.group(2))):
        if re.search(r"^@@ .* @@", text, re.M):
            return CHANGE
        return "Here is what I found:" if re.search(r"\b(?:search|find|look for)\b", request, re.I) else "Here it is:"
    # 'a recursive tree view of a commit': the one shown, outside the values it quotes
    thing = "".join(
        p if i % 2 else re.sub(r"\b[Aa]n? ", "the ", p) for i, p in enumerate(re.split(r'("[^"]*")', m.group(2)))
    )
    head = re.split(r" (?:that|which|who|with|matching|between|of|in|on|for|from|to|at|and)\b", thing)[0]
    many = m.group(1).lower() == "are" if m.group(1) else is_plural(head.strip())
    return f"Here {'are' if many else 'is'} {thing}:"


def _weekday_and_date(result: dict, keys: list[str]) -> str:
    """'Saturday, 2026-01-03' for a result that is a date and its weekday (what a date calculation gives)."""
    date_key = next((k for k in keys if words(k)[-1:] == ["date"] and isinstance(result[k], str)), None)
    weekday = next((result[k] for k in ("weekday", "day_of_week") if isinstance(result.get(k), str)), None)
    rest = set(keys) - {date_key, "weekday", "day_of_week"}
    return f"{weekday}, {result[date_key]}" if date_key and weekday and not rest else ""


def _days_from(arguments: dict) -> str:
    """'120 days after 2026-11-24' for a call given one date and a number of days; '' otherwise."""
    dates = given_dates(arguments)
    days = [
        v for k, v in arguments.items() if words(k)[-1:] == ["days"] and isinstance(v, int) and not isinstance(v, bool)
    ]
    if len(dates) != 1 or len(days) != 1 or len(arguments) != 2:
        return ""
    n = days[0]
    return f"{abs(n)} day{'s' * (abs(n) != 1)} {'after' if n >= 0 else 'before'} {dates[0]}"


def dated_answer(draft: AnswerDraft) -> str:
    """A date and its weekday said whole: 'That is Saturday, 2026-01-03.', '2026-12-25 is a Friday.'; '' for
    any other result."""
    result, keys, qualifier, yes_no = draft.result, draft.keys, draft.qualifier, draft.yes_no
    if (day := _weekday_and_date(result, keys)) and not yes_no and not draft.subject_key:
        counted = _days_from(draft.arguments)  # '120 days after 2026-11-24 is Wednesday, 2027-03-24.'
        return f"{counted} is {day}{qualifier}." if counted else f"That is {day}{qualifier}."
    dated_as = next((v for k, v in result.items() if words(k)[-1:] == ["date"] and isinstance(v, str)), None)
    if keys and keys == [k for k in keys if k in ("weekday", "day_of_week")] and dated_as:
        # 'Is it a Friday?', not 'a Monday, a Friday or'
        named = [w for w in _WEEKDAYS if w in set(words(draft.request))]
        lead = ("Yes, " if named[0] == str(result[keys[0]]).lower() else "No, ") if yes_no and len(named) == 1 else ""
        return f"{lead}{dated_as} is a {result[keys[0]]}{qualifier}."  # 'What day is 2026-12-25?': '... is a Friday.'
    return ""


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


def one_found_answer(draft: AnswerDraft) -> str:
    """A search's one find said whole: "Mexico's country code is MX."; '' for any other result."""
    if len(draft.keys) == 1 and (found := _one_found(draft.result[draft.keys[0]], draft.request)):
        return ("Yes, " if draft.yes_no and ANY_WORDS.search(draft.request) else "") + found + draft.qualifier + "."
    return ""


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


def _has_items(result) -> bool:
    """Whether a result found anything: a non-empty list, or an object whose lists are not all empty."""
    if isinstance(result, list):
        return bool(result)
    lists = [v for v in result.values() if isinstance(v, list)] if isinstance(result, dict) else []
    return any(lists) if lists else True


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


def settle_lead(draft: AnswerDraft) -> str:
    """How the sentence starts (`draft.lead`): yes or no first for a yes/no question, else the result's subject.
    A status that says whether something is on its way answers whole: that answer is returned, else ''."""
    result, request, yes_no = draft.result, draft.request, draft.yes_no
    if draft.flags:
        flag = draft.flags[0]
        draft.lead = ("Yes, " if result[flag] else "No, ") + field_phrase(flag, result[flag])
        draft.lead += f" ({result[draft.subject_key]})" if draft.subject_key else ""
        draft.keys = draft.keys[1:]
    elif yes_no and draft.lists and ANY_WORDS.search(request):  # 'Do you sell anything for ...?': what it found
        draft.lead = "Yes" if _has_items(result) else "No"
    elif yes_no and (n := _count_asked(result, draft.wanted)) is not None:
        draft.lead = "Yes" if n > 0 else "No"  # 'Is p101 available?': 'Yes, the stock is 12'
    elif yes_no and (
        said := [
            k
            for k, v in result.items()
            if words(k)[-1:] in (["status"], ["state"]) and isinstance(v, str) and v.lower() in set(words(request))
        ]
    ):
        # 'Has order ord_1001 shipped yet?' and the status is shipped: that alone
        draft.lead, draft.keys = "Yes", said[:1]
    elif yes_no and (way := on_its_way(request, result, call_subject(draft.arguments, draft.known))):
        return way  # and it is processing: 'No, order ord_1002 is still processing'
    elif draft.subject_key:
        topic = topic_of(draft.tool, draft.arguments)
        subject = result[draft.subject_key]
        draft.lead = subject if draft.keys else f"{topic} is {subject}" if topic else f"It is {subject}"
    return ""
