"""Whether an answer says what its results say: a value's written forms, grounding and completeness checks.

Used by the filter (execution and completeness checks), the offline judge and the card's figures; the
sentences themselves are written by `answers`.
"""

from __future__ import annotations

import json
import re

from ..text import spoken
from .arguments import parse_arguments
from ..answers.keys import AS_OF
from ..answers.listed import listed_noun
from ..answers.subjects import SUBJECT_KEYS
from ..answers.phrases import LIST_ITEMS, confirms_only, said_text
from ..answers.values import record_names, value_text
from ..graph.names import snake
from ..text.request_asks import DOING, request_parts, requested_fields


def _stated(value, answer: str) -> bool:
    if isinstance(value, (bool, type(None))):
        return True  # yes/no and 'not known' are phrased, not quoted: not checkable by string
    if isinstance(value, list):
        return all(_item_stated(v, answer) for v in value[:LIST_ITEMS])
    if isinstance(value, dict):
        return all(_stated(v, answer) for v in value.values())
    text = answer.lower()
    return any(f in text for f in forms(value)) or _none_said(value, text) or _said_as_direction(value, text)


def _item_stated(item, answer: str) -> bool:
    """A list's item is stated by its name; a dated one (a holiday, an event) also by its date: the 0.5B model
    listed 17 holidays by name alone (a blind read: it drops the key values)."""
    if not isinstance(item, dict):
        return _stated(item, answer)
    named = any(_stated(n, answer) for n in record_names(item))  # 'Egypt' or 'EG'; a review by its author
    return named and ("date" not in item or _stated(item["date"], answer))


def _said_as_direction(value, text: str) -> bool:
    """A signed amount said as people say it: -5 hours as '5 hours behind'."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value == 0:
        return False
    words = ("behind", "earlier", "less", "lower", "below") if value < 0 else ("ahead", "later", "more", "higher")
    return any(f in text for f in forms(abs(value))) and any(re.search(rf"\b{w}\b", text) for w in words)


def _none_said(value, text: str) -> bool:
    """A count of 0 said as people say it: 'it has no kernels'."""
    return value == 0 and not isinstance(value, bool) and re.search(r"\bno\b", text) is not None


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?")


def forms(value) -> set[str]:
    """How an answer may write a value, lower-cased: as given, as this module writes it, with thousands
    separators (14,094,034), an ISO date in words (January 2, 2026; 2 January 2026) and its time of day."""
    out = {str(value).lower(), value_text(value).lower(), str(value).strip().lower()}  # a file's text, as shown
    if isinstance(value, str) and re.fullmatch(r"[a-z]+lled", value.lower()):
        out.add(value.lower()[:-4] + "led")  # cancelled, canceled
    out |= {n.lower() for key in ("country_code", "language_code") if (n := spoken.code_name(value, key))}  # Germany
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 1000:
        out |= {f"{value:,}".lower(), f"{int(value):,}" if float(value).is_integer() else f"{value:,}"}  # 16,108
    m = _ISO.match(value) if isinstance(value, str) else None
    if m and 1 <= int(m.group(2)) <= 12:
        year, month, day = m.group(1), _MONTHS[int(m.group(2)) - 1].lower(), str(int(m.group(3)))
        out |= {f"{month} {day}, {year}", f"{day} {month} {year}", f"{month[:3]} {day}, {year}"}
        if m.group(4):
            hour, minute = int(m.group(4)), m.group(5)
            out |= {f"{hour:02d}:{minute}", f"{(hour - 1) % 12 + 1}:{minute} {'am' if hour < 12 else 'pm'}"}
    return out


def _says(text: str, form: str) -> bool:
    """A short value stated as a word ('DE', not the 'de' of 'code'); a longer one anywhere."""
    return re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text) is not None if len(form) <= 3 else form in text


def _grounding_forms(value) -> set[str]:
    """A value's forms, and a negative number's size ('-5.0' hours: '5 hours behind'; whether behind or ahead is
    the completeness check's business)."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    zero = (
        {"same", "no difference", "zero"} if number and value == 0 else set()
    )  # 'New York and Ottawa show the same time'
    return forms(value) | (forms(-value) if number and value < 0 else set()) | zero


def given_forms(arguments: dict) -> set[str]:
    """A call's argument values as the answers may write them: what the call was given, not what it found."""
    return {f for _, value in spoken.scalars("", arguments or {}) for f in forms(value)}


def grounded(result, answer: str, given: set[str] | None = None) -> bool:
    """The answer states something the result says: one of its values (as given, or as this module
    writes it, and not a form of a value the call was given, `given_forms`: 'Germany is the ISO code for
    Germany.' states no code), its yes/no, or that a list came back empty."""
    text, given = answer.lower(), given or set()
    if confirms_only(result):  # {"success": true, "message": "Entities deleted"}: 'I deleted ...' is grounded
        return not re.search(r"\b(not|error|failed|unable)\b", text)
    stack, said = [result], False  # said: the result says anything at all (an empty one grounds any answer)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if not node and re.search(r"\b(no|none|nothing)\b", text):  # an empty map said as found empty
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            said = said or not node
            if not node and re.search(r"\b(no|none|nothing)\b", text):
                return True
            stack.extend(node)
        elif isinstance(node, bool):
            said = True
            if re.search(r"\b(yes|no|not)\b", text):
                return True
        elif node not in (None, ""):
            said = True
            if any(_says(text, f) for f in _grounding_forms(node) - given if f) or _none_said(node, text):
                return True
            if isinstance(node, str) and _text_said(node, text):
                return True
    return not said


def _text_said(node: str, text: str) -> bool:
    """A tool's own text said as the answers module says it: its first lines (a long text), its sentence
    ('There are no staged changes.' for 'Staged changes:'), or a path it names ('Successfully created /a/b')."""
    if node.count("\n") >= 3 and "\n".join(node.split("\n")[:3]).lower() in text:
        return True
    own = said_text(node, heading="").lower()  # the block, whatever heads it
    return bool(own and own in text) or any(
        p.lower() in text for p in re.findall(r"(?<!\S)/[\w.-]+(?:/[\w.-]+)+", node)
    )


def call_inputs(messages: list[dict]) -> list:
    """Every argument value the conversation's calls were given (arguments as JSON text, or as exported: objects)."""
    out = []
    for m in messages:
        for c in m.get("tool_calls") or []:
            args, _ = parse_arguments(c["function"].get("arguments"))
            out += list(args.values()) if args else []
    return out


_COMPUTES = re.compile(r"\s*(?:please\s+)?(?:convert|calculate|compute|work out)\b", re.I)
_OUTPUTS = ("converted", "result", "amount", "value", "total")


def computed_field(request: str, record: dict) -> list[str]:
    """What a computing request asks for without naming it ('Convert 250 EUR to JPY': the converted amount): the
    result's first numeric output field."""
    if not _COMPUTES.match(request):
        return []
    found = next((k for k in _OUTPUTS if type(record.get(k)) in (int, float)), None)
    return [found] if found else []


def action_status(request: str, record: dict) -> list[str]:
    """What a request that acts asks without naming it ('Cancel order ORD-1': that it is cancelled): the
    result's status or state when it says what was done (one word in -ed: cancelled, created, booked;
    'ok' or 'processing' is no confirmation an answer must repeat)."""
    first = re.match(r"\s*(?:please\s+)?([A-Za-z]+)", request)
    if not first or first.group(1).lower() not in DOING:
        return []
    done = [k for k in ("status", "state") if isinstance(v := record.get(k), str) and re.fullmatch(r"[a-z]+ed", v)]
    return done[:1]


def unstated(request: str, reference, answer: str, inputs: list = ()) -> list[str]:
    """Fields of the reference answer that the request names and the answer leaves out (a field
    whose value the request itself states is not asked for: 'the countries of Asia' gives the region;
    nor is one whose value went into a call, `inputs`: 'the holidays in the country code of that
    city' names the country code as what a call takes)."""
    given = {json.dumps(v, sort_keys=True) for v in inputs}
    results = reference if isinstance(reference, list) else [reference]
    parts = request_parts(request)  # one part of the request per result: 'the distance' asks the first alone
    asked = parts if isinstance(reference, list) and len(parts) == len(results) else [request] * len(results)
    missing = []
    for result, request in zip(results, asked):
        records = result if isinstance(result, list) else [result]
        for record in records[:LIST_ITEMS]:
            if not isinstance(record, dict):
                continue
            missing += [
                k
                for k in dict.fromkeys(
                    requested_fields(request, record) + computed_field(request, record) + action_status(request, record)
                )
                if not _stated(record[k], answer)
                and not _stated(record[k], request)
                and k not in missing
                and json.dumps(record[k], sort_keys=True) not in given
            ]
    return missing


# 'What are the details of person 287?' answered with the birthday alone (blind reads of the 0.5B on TMDB, twice)
_DETAILS = re.compile(r"(?i)\b(?:details|overview|(?:more |some )?information)\b|\btell me (?:all |more )?about\b")
DETAILS_AT_LEAST = 2  # of a record's plain values, for a request that asks for its details


def details_unsaid(request: str, result, answer: str, inputs: list = ()) -> int | None:
    """For a request that asks for a record's details ('the details of movie 550', 'tell me about ...'): how many
    of the record's plain values (text and numbers; not ids, its name nor the call's own) the answer states, where
    that is fewer than DETAILS_AT_LEAST (or than all it has); None otherwise."""
    if not _DETAILS.search(request) or not isinstance(result, dict) or len(request_parts(request)) > 1:
        return None  # (a request of several parts: its details may be an earlier call's)
    given = {json.dumps(v, sort_keys=True) for v in inputs}
    plain = [
        v
        for k, v in result.items()
        if isinstance(v, (str, int, float))
        and not isinstance(v, bool)
        and not k.lower().endswith("id")
        and k not in SUBJECT_KEYS  # the subject: what it is, not a detail
        and json.dumps(v, sort_keys=True) not in given
        and str(v).strip()
    ]
    said = sum(_stated(v, answer) for v in plain)
    return said if said < min(DETAILS_AT_LEAST, len(plain)) else None


def undated(result, answer: str) -> str | None:
    """The date a result's values hold on (`as_of`), where the answer states one of its values but not that date:
    the 0.5B model called a reference rate of 2026-01-02 'today's rate' (two blind reads)."""
    if not isinstance(result, dict) or not (key := next((k for k in AS_OF if result.get(k)), None)):
        return None
    values = [v for k, v in result.items() if k != key and isinstance(v, (int, float)) and not isinstance(v, bool)]
    if any(_stated(v, answer) for v in values) and not _stated(result[key], answer):
        return str(result[key])
    return None


def unlisted(tool: str, result, answer: str, request: str = "") -> list[str]:
    """The found items a search's answer, or a listing request's ('Show me the popular TV shows'), leaves out (up to
    LIST_ITEMS, by name): 'Find the countries whose name contains South' answered 'South Korea' where South Africa
    was found too; three of five popular shows said as the list (blind reads: misreports the result)."""
    name = snake(tool.split("__")[-1])
    searched = name.startswith(("search_", "find_")) or re.match(r"get_search_", name)  # RestBench GET_search-tv
    listing = bool(request) and bool(_LISTING.match(request)) and bool(listed_noun(request, tool))
    if not (searched or listing) or not isinstance(result, dict):
        return []
    lists = [v for v in result.values() if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)]
    if len(lists) != 1:
        return []
    return [record_names(i)[0] for i in lists[0][:LIST_ITEMS] if not _item_stated(i, answer)]


_LISTING = re.compile(r"\W*(?:please\s+)?(?:show|list|get|give|find|search|what are|tell me|i want|i'd like)\b", re.I)


def unnamed_pick(result, answer: str) -> str | None:
    """A value that only one of a result's several records has, said without that record's name, as if it were the
    only one: 'the release date of movie 550' answered with Egypt's date of five countries' (two blind reads: bad)."""
    lists = [
        v
        for v in (result.values() if isinstance(result, dict) else [result])
        if isinstance(v, list) and len(v) >= 2 and all(isinstance(i, dict) for i in v)
    ]
    if len(lists) != 1:
        return None
    own = [[v for _, v in spoken.scalars("", i) if _telling(v)] for i in lists[0]]
    for item, values in zip(lists[0], own):
        names = record_names(item)  # 'Egypt' or 'EG'
        name = names[0]
        alone = [v for v in values if sum(v in others for others in own) == 1 and _stated(v, answer)]
        if alone and name and not any(_stated(n, answer) for n in names):
            return f"{value_text(alone[0])} is {name}'s, one of {len(lists[0])} records, and the answer does not say so"
    return None


def _telling(value) -> bool:
    """A value that tells its record apart: a text of six characters or more, or a fraction."""
    return (isinstance(value, str) and len(value) >= 6) or (isinstance(value, float) and not value.is_integer())


_COUNTS = frozenset({"page", "total_pages", "total_results", "count", "total"})


def lists_unsaid(request: str, result, answer: str) -> list[str]:
    """The lists of a result made of lists (a show's images: backdrops and posters; credits: cast and crew) that
    the answer says nothing of, by their name or an item, among those the request names (all where it names
    none): the 0.5B model gave five posters as a show's images and left out its backdrops (a blind read)."""
    if not isinstance(result, dict):
        return []
    lists = {k: v for k, v in result.items() if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)}
    rest = [k for k in result if k not in lists]
    if len(lists) < 2 or not all(k.lower() in _COUNTS or k.lower() == "id" or k.lower().endswith("_id") for k in rest):
        return []
    words = lambda k: {snake(k).replace("_", " "), snake(k).replace("_", " ").rstrip("s")}  # noqa: E731
    asked = [k for k in lists if any(re.search(rf"(?i)\b{re.escape(w)}", request) for w in words(k))] or list(lists)
    return [
        k
        for k in asked
        if not any(re.search(rf"(?i)\b{re.escape(w)}", answer) for w in words(k))
        and not any(_item_stated(i, answer) for i in lists[k][:LIST_ITEMS])
    ]


_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+(.+?)\s*$", re.M)


def listed_twice(result, answer: str) -> str | None:
    """An item the answer's list names twice where the result names it once (the 0.5B model listed a show's
    `name` and its `original_name` as two recommendations)."""
    names = [re.sub(r"\s*\([^)]*\)\s*$", "", m.group(1)).strip(" *\"'.").lower() for m in _ITEM.finditer(answer)]
    for name in {n for n in names if n and names.count(n) > 1}:
        if _records_named(result, name) < names.count(name):
            return name
    return None


def _records_named(node, name: str) -> int:
    """How many records (objects) of a result have `name` as one of their own values."""
    if isinstance(node, list):
        return sum(_records_named(v, name) for v in node)
    if not isinstance(node, dict):
        return 0
    own = any(isinstance(v, str) and v.strip().lower() == name for v in node.values())
    return own + sum(_records_named(v, name) for v in node.values() if isinstance(v, (dict, list)))


_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:x|×|by)\s*(\d+(?:\.\d+)?)(?![\d.])", re.I)


def wrong_size(result, answer: str) -> str | None:
    """A size 'W x H' the answer states that no record of the result has as its width and height (the 0.5B model
    said a 1000 x 268 logo as '268x268 pixel', and an aspect ratio as a width)."""
    sizes, stack = set(), [result]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            w, h = node.get("width"), node.get("height")
            if isinstance(w, (int, float)) and isinstance(h, (int, float)):
                sizes.add((float(w), float(h)))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    # a size in pixels where no record has one: Lucasfilm's 'logo is a 86x64 pixel image' (a blind read: bad)
    said = [m for m in _SIZE.finditer(answer) if sizes or _PIXELS.match(answer, m.end())]
    return next((m.group(0) for m in said if (float(m[1]), float(m[2])) not in sizes), None)


_PIXELS = re.compile(r"[\s-]*(?:px|pixels?)\b", re.I)


def listed_as_subject(result, answer: str) -> str | None:
    """A record of a result's list named as what the list is for ('The recommendations for "The Big Bang Theory"
    are: 1. The Big Bang Theory', a follow-up's shows recommended for You Can Do Better)."""
    for name in _listed_names(result):
        subject = rf"\b(?:for|of|to|like)\s+[\"'“]?{re.escape(name)}[\"'”]?\s*(?:are|is|include|:)"
        if re.search(subject, answer, re.I):
            return name
    return None


def _listed_names(node, in_list: bool = False):
    if isinstance(node, list):
        for v in node:
            yield from _listed_names(v, True)
    elif isinstance(node, dict):
        name = next((node[k] for k in ("title", "name") if isinstance(node.get(k), str) and node[k].strip()), None)
        if in_list and name:
            yield name
        for v in node.values():
            if isinstance(v, (dict, list)):
                yield from _listed_names(v)
