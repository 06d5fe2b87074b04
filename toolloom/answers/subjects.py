"""What a result is about, from its call: the one id it was given ('order ord_1002'), a route's two ends, a
search's bounds, a conversion's amount, and the names earlier results gave ids ('berlin' -> 'Berlin')."""

from __future__ import annotations

import re

from ..text import spoken
from ..text.request_asks import words
from ..text.template_fit import constraint
from ..text.words import entity_of

SUBJECT_KEYS = ("name", "title", "label", "full_name", "display_name")


def id_arguments(arguments: dict) -> list[tuple[str, object]]:
    return [
        (k, v)
        for k, v in arguments.items()
        if isinstance(v, (str, int)) and not isinstance(v, bool) and words(k)[-1:] in (["id"], ["code"])
    ]


def call_subject(arguments: dict, known: dict) -> str:
    """What a result without a name is about, from the one id or code its call was given: 'order ord_1002',
    'DE', or the name an earlier result gave it ('Germany'); '' when the call names no one thing."""
    ids = id_arguments(arguments)  # only the id: a code beside an amount is a parameter ('add VAT for DE')
    if len(ids) != 1 or len(arguments) != 1 or words(ids[0][0])[0] in ("from", "to", "source", "target"):
        return ""
    key, value = ids[0]
    kind = " ".join(words(key)[:-1]) if words(key)[-1] == "id" else ""  # a code says what it is ('DE', 'EUR')
    name = known.get(str(value)) or spoken.said(value, key)
    return name if name and name != value else f"{kind} {value}" if kind else str(value)  # 'Tokyo', 'order ord_1


PLACE_WORDS = {"city", "country", "region", "place", "location", "town", "airport", "station"}


def place_of(arguments: dict, known: dict) -> str:
    """The one place a call with other arguments is about ('Chicago' for local_time(chicago, 23:00)), by name;
    '' when it names no place or several, or only a code (add VAT for DE: a parameter, not the subject)."""
    ids = [(k, v) for k, v in id_arguments(arguments) if set(words(k)) & PLACE_WORDS and words(k)[-1] == "id"]
    if len(ids) != 1 or len(id_arguments(arguments)) != 1 or words(ids[0][0])[0] in ("from", "to"):
        return ""
    key, value = ids[0]
    return known.get(str(value)) or spoken.said(value, key) or str(value)


def route_ends(arguments: dict, known: dict) -> tuple[str, str] | None:
    """The two ends of a call given a from_ and a to_ id of one kind (a distance, a time difference), by name."""
    ids = dict(id_arguments(arguments))
    pairs = [(ids[k], ids["to" + k[4:]]) for k in ids if k.startswith("from_") and "to" + k[4:] in ids]
    if len(pairs) != 1:
        return None
    # 'Mexico City' where a result named it, else as a person says the id ('new_york': New York)
    a, b = (known.get(str(v)) or spoken.said(v, "id") or str(v) for v in pairs[0])
    return a, b


def route(arguments: dict, known: dict) -> str:
    """'from Paris to Berlin'."""
    ends = route_ends(arguments, known)
    return f"from {ends[0]} to {ends[1]}" if ends else ""


def clock_gap(result: dict, keys: list[str], tool: str, arguments: dict, known: dict) -> str:
    """A time difference as people say it: 'New York is 5 hours behind London', not '-5 hours' (the tool counts
    hours from the first place's clock to the second's)."""
    ends = route_ends(arguments, known)
    hours = result.get(keys[0]) if len(keys) == 1 else None
    if (
        not ends
        or "difference" not in words(tool)
        and "offset" not in words(tool)
        or words(keys[0])[-1:] != ["hours"]
        or not isinstance(hours, (int, float))
        or isinstance(hours, bool)
    ):
        return ""
    a, b = ends
    if hours == 0:
        return f"{b} and {a} show the same time"
    n = abs(hours)
    return (
        f"{b} is {int(n) if float(n).is_integer() else n} hour{'s' if n != 1 else ''} "
        + f"{'ahead of' if hours > 0 else 'behind'} {a}"
    )


_PAGING = {"page", "limit", "offset", "cursor", "per", "size", "sort", "order"}
_SEARCH_WORDS = {"query", "q", "keyword", "keywords", "term", "search", "text"}


def limits(arguments: dict, bounds_only: bool = False) -> str:
    """What a search that found nothing was given, as a person adds it: ' with a population of at least
    3,000,000', ' in Asia with language code es'; `bounds_only`: its place and its bounds alone (what a search
    that found something says of its list: ' in Africa with a population of at least 100,000,000')."""
    given = {
        k: v
        for k, v in arguments.items()
        if isinstance(v, (str, int, float)) and not isinstance(v, bool) and not set(words(k)) & _PAGING
    }
    searched = [v for k, v in given.items() if isinstance(v, str) and set(words(k)) & _SEARCH_WORDS]
    given = {k: v for k, v in given.items() if not (isinstance(v, str) and set(words(k)) & _SEARCH_WORDS)}
    places = [
        spoken.said(v, k) or str(v)
        for k, v in given.items()
        if isinstance(v, str) and set(words(k)) & (PLACE_WORDS | {"region", "continent"})
    ]
    said = [
        constraint(
            k,
            f"{v:,}"
            if isinstance(v, int) and abs(v) >= 10000
            # a code as it is: 'language code
            else (None if spoken.code_name(v, k) else spoken.said(v, k)) or str(v),
        )  # es', not 'code Spanish'
        for k, v in given.items()
        if not (isinstance(v, str) and set(words(k)) & (PLACE_WORDS | {"region", "continent"}))
        and (not bounds_only or words(k)[0] in ("min", "max", "minimum", "maximum"))
    ]
    found = f' for "{searched[0]}"' if len(searched) == 1 and not bounds_only else ""  # 'no results for "kites"'
    return (
        found
        + (f" in {' and '.join(places)}" if len(places) == 1 else "")
        + (f" with {' and '.join(said)}" if said else "")
    )


def names_in(result, tool: str = "") -> dict[str, str]:
    """The names a result gives the ids it holds: {'berlin': 'Berlin'} from a city's record or a list of them."""
    items = (
        result
        if isinstance(result, list)
        else [r for v in result.values() if isinstance(v, list) for r in v]
        if isinstance(result, dict)
        else []
    )
    records = ([result] if isinstance(result, dict) else []) + [r for r in items if isinstance(r, dict)]
    entity = (entity_of(tool).split() or [""])[-1] if tool else ""
    out = {}
    for record in records:
        name = next((record[k] for k in SUBJECT_KEYS if isinstance(record.get(k), str)), None)
        ids = [k for k, _ in id_arguments(record)]
        own = (
            [k for k in ids if k in ("id", "code")]
            or [k for k in ids if words(k)[0] == entity]
            or (ids if len(ids) == 1 else [])
        )  # a city's city_id, not its country_code
        if name and own:
            out[str(record[own[0]])] = name
    return out


def converted(arguments: dict) -> str:
    """What a conversion was given, as its amount and unit ('1200 USD', '42.195 km'); '' when it is not one."""
    amounts = [v for v in arguments.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    units = [v for k, v in arguments.items() if isinstance(v, str) and (words(k)[:1] == ["from"] or k in ("base",))]
    if len(amounts) != 1 or len(units) != 1:
        return ""
    return f"{int(amounts[0]) if float(amounts[0]).is_integer() else amounts[0]} {units[0]}"


def given_dates(arguments: dict) -> list[str]:
    """The calendar dates (YYYY-MM-DD) a call was given, in argument order."""
    return [v for v in arguments.values() if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)]
