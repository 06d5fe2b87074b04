"""How one value and one listed record are said: a value in words ('yes', a day), a number with its unit, a record
by its name and a few short facts ('Keanu (2016-09-14)'), and the names a check may find a record said by."""

from __future__ import annotations

import re

from ..text import spoken
from ..text.request_asks import UNITS, label, words
from .subjects import SUBJECT_KEYS
from .texts import quoted


def value_text(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "not known"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and (m := TIMESTAMP.fullmatch(value)):  # 2026-12-04T09:53:34.858Z: to the minute
        if m.group(2) == "00:00" and m.group(3) in (None, "Z", "+00:00"):  # a day given as a timestamp: the day
            return m.group(1)
        return f"{m.group(1)} {m.group(2)}" + (" UTC" if m.group(3) in ("Z", "+00:00") else "")
    return str(value)


TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")


def measure(key: str, value) -> tuple[str, str]:
    """(name, value with its unit) for a number whose field name ends in a unit:
    distance_km -> ('distance', '1149.4 km')."""
    ws = words(key)
    text = value_text(value)
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and float(value).is_integer()
        and abs(value) >= 10000
        and not set(ws) & spoken.NOT_COUNTS
    ):  # 14094034 people: '14,094,034'
        text = f"{int(value):,}"
    elif isinstance(value, float) and abs(value) >= 10000 and not set(ws) & spoken.NOT_COUNTS:  # '45,972.5'
        text = f"{value:,}"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and ws and ws[-1] in UNITS:
        return label("_".join(ws[:-1])), f"{text} {UNITS[ws[-1]]}"
    return label(key), text


def _named(item: dict) -> tuple[list, object, object]:
    """(the record's single values, also those of its one nested record; the value it is named by; that value as
    said: an ISO code by its country, release dates by country: 'Egypt', not 'EG')."""
    scalars = [(k, v) for k, v in item.items() if not isinstance(v, (dict, list))]
    inner = [v[0] for v in item.values() if isinstance(v, list) and len(v) == 1 and isinstance(v[0], dict)]
    scalars += [(k, v) for one in inner for k, v in one.items() if not isinstance(v, (dict, list))]
    head = next((v for k, v in scalars if k in SUBJECT_KEYS), None)
    if head is None:
        head = next((v for k, v in scalars if isinstance(v, str)), scalars[0][1] if scalars else "")
    head_key = next((k for k, v in scalars if v is head), "")
    return scalars, head, spoken.code_name(head, head_key) or head


def record_names(item) -> list[str]:
    """The names an answer may state a listed record by: its name as said, and the code it is named by ('Egypt',
    'EG'); a review by its author."""
    if not isinstance(item, dict):
        return [value_text(item)]
    _, head, said = _named(item)
    return list(dict.fromkeys([value_text(said), value_text(head)]))


def item_name(item) -> str:
    """A listed record as an answer says it: its name with up to three short facts beside it."""
    if not isinstance(item, dict):
        return value_text(item)
    scalars, head, said = _named(item)
    if (quote := quoted(scalars, head)) is not None:
        return quote
    rest = [
        value_text(v) if isinstance(v, str) else " ".join(measure(k, v))
        for k, v in scalars
        if v is not head
        and not k.endswith("_id")
        and k != "id"
        and _aside(v, head)
        and not _QUIET.search(k)
        and not (words(k)[-1:] and words(k)[-1] in CODED and isinstance(v, int))
    ][:3]
    return f"{value_text(said)} ({', '.join(rest)})" if rest else value_text(said)


CODED = {"gender", "type", "kind", "category", "status", "role"}  # a number there is a code: 'its gender is 2'


def _aside(value, head) -> bool:
    """Worth saying beside an item's name: not the name again (a show's `original_name`), nothing empty, unknown
    or a flag ("Growing Pains (, episode count 2)", "(adult no)"), not a text or a link too long for a
    parenthesis, not a score to six decimals ("Doctor Who (Doctor Who, popularity 22.509632)")."""
    if isinstance(value, str):
        said = value.strip()
        return (
            bool(said)
            and said.casefold() != str(head).casefold()
            and len(said) <= ASIDE_CHARS
            and not _LINK.match(said)
        )
    if value is None or isinstance(value, bool):
        return False
    return not (isinstance(value, float) and len(repr(value).split(".")[-1]) > 2)


ASIDE_CHARS = 60
# a poll's figures, a language code and an image's shape: "The Sopranos (vote average 7.87)", "Keanu (en, 2016-09-14)",
# "/x.jpg (aspect ratio 0.68, height 1500)"
_QUIET = re.compile(r"(^|_)(popularity|votes?|vote_(count|average)|language|iso_639_1|aspect_ratio|height|width)$")
_LINK = re.compile(r"(https?://|/)\S*$")
