"""How a person writes a value in a request, and how the offline assistant reads it back.

A slug id is said as the name it stands for ('new_york' -> New York), a name or a short id (ord_1002, p300)
needs no quotes; anything else keeps the quotes a template gives it (a search query, a file path). The
assistant reads names back into the id form of an `..._id` parameter (New York -> new_york).
"""

from __future__ import annotations

import json
import re

import pycountry

from . import records

_SLUG = re.compile(r"^[a-z]+(?:_[a-z]+)*$")
_NAME = re.compile(r"^[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*$")
_SHORT_ID = re.compile(r"^[a-z]{1,4}_?\d+$")
_PLAIN = re.compile(r"^(?:\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?)?|[A-Z]{2,3})$")  # a date, a code
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})$")  # 2026-12-31T23:00 is written 2026-12-31 23:00
# a date and time as written in a request, either way; the offline assistant reads it back
DATETIMES = re.compile(r"\b(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})\b")
# capitalised word runs; the first word of a sentence is not a name by its capital alone
_NAMES = re.compile(r"(?<![\w\"'])[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*(?![\w\"]|'(?!s\b))")  # "Japan's" names Japan
_SENTENCE_START = re.compile(r"(?:^|[.?!]\s+)$")
_ALONE = re.compile(r"^(?:[,.?!]|'s\b|$)")  # 'Tokyo, please.', "Tokyo's population?": a name, though first
_LEADING = {
    "for",
    "in",
    "at",
    "on",
    "from",
    "to",
    "the",
    "a",
    "an",
    "and",
    "or",
    "with",
    "by",
    "of",
    "into",
    "is",
    "what",
    "which",
    "how",
    "where",
    "when",
    "give",
    "tell",
    "show",
    "find",
    "get",
    "list",
    "look",
    "please",
    "between",
    "compare",
    "near",
    "around",
    "via",
    "after",
    "before",
    "if",
    "but",
    "so",
    "since",
    "until",
}
_EXAMPLES = re.compile(
    r"(?:such as|e\.g\.|like|for example|example:?)\s+[\"'`]?([\w-]+)(?:\s+or\s+([\w-]+))?", re.IGNORECASE
)
CODED = re.compile(r"\bcode ([a-z]{2,3})\b")  # a lowercase code where the text says it is one: 'code es'
ID_TOKENS = re.compile(r"(?<![\w\"'])[a-z]{1,4}_?\d+(?![\w\"'])")
NOT_NAMES = {
    "I",
    "Also",
    "Then",
    "Next",
    "After",
    "Afterwards",
    "Separately",
    "Additionally",
    "Please",
    "Thanks",
    "Oh",
    "Sure",
    "Yes",
    "No",
    "Sorry",
    "Great",
    "Perfect",
    "Hi",
    "Hello",
    "Ok",
    "Okay",
}


def scalars(key: str, value):
    """Each (field name, value) of a nested value: a list's items under the list's name; no booleans or nulls."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from scalars(k, v)
    elif isinstance(value, list):
        for v in value:
            yield from scalars(key, v)
    elif not isinstance(value, bool) and value is not None:
        yield key, value


def is_id_key(key: str) -> bool:
    return key == "id" or key.endswith("_id")


def said(value, key: str) -> str | None:
    """The value as a person writes it without quotes, or None where it keeps its quotes."""
    if not isinstance(value, str):
        return None
    if m := _DATETIME.match(value):
        return f"{m.group(1)} {m.group(2)}"
    if name := code_name(value, key):  # DE: 'Germany', es: 'Spanish'
        return name
    if key.endswith("code") and re.fullmatch(r"[a-z]{2,3}", value):  # 'language code es' (templates say 'code')
        return value
    if is_id_key(key) and _SLUG.match(value):
        return " ".join(w.capitalize() for w in value.split("_"))
    if _NAME.match(value) or _SHORT_ID.match(value):
        return value
    return None


def listed(value) -> str | None:
    """A list of strings as a person lists them ('"a.md", "b.md" and "c.md"'); None for any other value."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v and '"' not in v for v in value):
        return None
    items = [json.dumps(v, ensure_ascii=False) for v in value]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def written(value, key: str) -> str:
    """The value in a sentence: as said (`said`), a number, date or code as it is, a list of strings listed, a few
    small records by their fields (`records`), anything else in quotes."""
    form = said(value, key) or listed(value) or records.said(value)
    if form is not None:
        return form
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number or isinstance(value, str) and _PLAIN.match(value):
        return counted(value, key) or str(value)
    return json.dumps(value, ensure_ascii=False)


NOT_COUNTS = {"id", "code", "year", "zip", "postal", "phone", "number", "isbn", "port", "pin"}  # numbers that name


def counted(value, key: str) -> str | None:
    """A large count as people write it (3000000 -> '3,000,000'); None for other values and for numbers that are
    names (an id, a year, a postal code)."""
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and abs(value) >= 10000
        and not set(re.findall(r"[a-z]+", key.lower())) & NOT_COUNTS
    ):
        return f"{value:,}"
    return None


def unquoted(template: str, arguments: dict, skip=()) -> tuple[str, dict]:
    """A template and its values with each value that a person writes without quotes said so ('the city
    "{city_id}"' with tokyo: 'the city Tokyo'); `skip`: arguments said another way (a reference)."""
    values = dict(arguments)
    for k, v in arguments.items():
        coded = re.search(r"\bcode:? \"?\{" + re.escape(k) + r"\}", template)  # 'ISO code {country_code}': a code
        if k not in skip and (form := code_name(v, k)) is not None and coded:
            template = template.replace(f'"{{{k}}}"', f"{{{k}}}")
        elif k not in skip and (form := said(v, k)) is not None:
            template, values[k] = template.replace(f'"{{{k}}}"', f"{{{k}}}"), form
        elif k not in skip and (form := counted(v, k)) is not None:
            values[k] = form
        elif k not in skip and (form := listed(v)) is not None:  # its items carry their own quotes
            template, values[k] = template.replace(f'"{{{k}}}"', f"{{{k}}}"), form
    return template, values


def takes_datetime(doc: str) -> bool:
    """Whether a parameter's documentation asks for a date and time as 2026-03-01T14:30 (YYYY-MM-DDTHH:MM)."""
    return bool(re.search(r"YYYY-MM-DDTHH|\d{4}-\d{2}-\d{2}T\d{2}", doc))


def names(text: str) -> list[str]:
    """Names written in a request (Tokyo, New York), in order; not a sentence's first word, nor a capitalised
    word before one ('In Chicago, ...' is Chicago)."""
    found = []
    for m in _NAMES.finditer(text):
        run, start = m.group(0), m.start()
        while " " in run and run.split(" ", 1)[0].lower() in _LEADING:
            start += len(run.split(" ", 1)[0]) + 1
            run = run.split(" ", 1)[1]
        if run in NOT_NAMES or run.lower() in _LEADING:
            continue
        if not _SENTENCE_START.search(text[:start]) or _ALONE.match(text[m.end() :]):
            found.append(run)
    return found


def documented_examples(doc: str) -> list[str]:
    """The example values a parameter's documentation gives: 'such as paris or new_york' -> [paris, new_york]."""
    return [x for pair in _EXAMPLES.findall(doc) for x in pair if x]


def fits(value: str, doc: str) -> bool:
    """Whether a value has the shape of the examples a parameter's documentation gives ('such as paris or
    new_york': letters, no digits), or the documentation gives none."""
    examples = documented_examples(doc)
    return not examples or any(bool(re.search(r"\d", x)) == bool(re.search(r"\d", value)) for x in examples)


def as_argument(name: str, key: str) -> str:
    """A name read back for parameter `key`: the slug an id parameter takes (New York -> new_york)."""
    return re.sub(r"[ -]+", "_", name.lower()) if is_id_key(key) else name


_BOUNDS = {"min": "at least", "minimum": "at least", "max": "at most", "maximum": "at most"}
UNIT_WORDS = {
    "eur": "EUR",
    "usd": "USD",
    "gbp": "GBP",
    "jpy": "JPY",
    "chf": "CHF",
    "km": "km",
    "kg": "kg",
    "mi": "mi",
    "cm": "cm",
    "percent": "percent",
    "pct": "percent",
}


def bounded(param_words: list[str], said: str) -> str | None:
    """A bound as a person adds it to a request: max price eur, 60 -> 'a price of at most 60 EUR', min_population
    -> 'a population of at least 3,000,000'; None for a parameter that is no bound."""
    if len(param_words) < 2 or param_words[0] not in _BOUNDS:
        return None
    unit = UNIT_WORDS.get(param_words[-1]) if len(param_words) > 2 else None
    noun = param_words[1:-1] if unit else param_words[1:]
    return f"{'an' if noun[0][:1] in 'aeiou' else 'a'} {' '.join(noun)} of {_BOUNDS[param_words[0]]} {said}" + (
        f" {unit}" if unit else ""
    )


def _kind(key: str, value: str) -> str:
    ws = set(re.findall(r"[a-z]+", key.lower())) | ({"country"} if "3166" in key else set())  # iso_3166_1: US
    ws |= {"language"} if "639" in key else set()  # iso_639_1: en
    if re.fullmatch(r"[A-Z]{2}", value) and ("country" in ws or not ws - {"code"}):
        return "country"
    if re.fullmatch(r"[a-z]{2}", value) and ws & {"language", "languages", "lang", "locale"}:
        return "language"
    return ""


def code_name(value, key: str = "country_code") -> str | None:
    """The name a person says for an ISO code (pycountry): DE -> Germany, KR -> South Korea, es -> Spanish, for a
    country or language parameter or field; None for anything else or a name too formal to say ('Korea, Republic
    of' is said by its common name; one with a comma and no common name is left a code)."""
    kind = _kind(key, value) if isinstance(value, str) else ""
    if not kind:
        return None
    record = (pycountry.countries if kind == "country" else pycountry.languages).get(
        alpha_2=value.upper() if kind == "country" else value
    )
    name = record and (getattr(record, "common_name", None) or record.name)
    return name if name and "," not in name and "(" not in name else None


def code_for(name: str, key: str) -> str | None:
    """The ISO code a parameter takes for a name a person wrote (Germany -> DE, Spanish -> es), or None."""
    ws = set(re.findall(r"[a-z]+", key.lower()))
    table = pycountry.countries if "country" in ws else pycountry.languages if ws & {"language", "lang"} else None
    try:
        record = table.lookup(name) if table is not None else None
    except LookupError:
        return None
    code = getattr(record, "alpha_2", None)
    return (code.upper() if table is pycountry.countries else code.lower()) if code else None


def partial_name(name: str, key: str) -> bool:
    """Whether a name is part of a country's name but no whole one (Korea, Kingdom), so a search finds which
    country it means before its code can be taken (`key`: the code parameter, country_code)."""
    if "country" not in re.findall(r"[a-z]+", key.lower()) or code_for(name, key):
        return False
    said = set(name.lower().split())
    return any(
        said <= set(re.findall(r"[a-z]+", str(getattr(c, attr, "")).lower()))
        for c in pycountry.countries
        for attr in ("name", "common_name", "official_name")
    )


_SETTING = re.compile(
    r"(?:\bsetting|\band) ((?:[a-z]+ ){0,3}?[a-z]+) to (\"[^\"]*\"|-?\d+(?:\.\d+)?(?!\w|\.\d)|[a-z][\w-]*)"
)


def settings_read(text: str) -> dict:
    """The object a request states as settings: 'setting autosave interval to 120' -> {"autosave_interval": 120}."""
    at = text.find("setting ")
    pairs = _SETTING.findall(text[at:]) if at >= 0 else []
    return {k.replace(" ", "_"): json.loads(v) if v[0] in '"-0123456789' else v for k, v in pairs}


def settings_said(value) -> str | None:
    """A small object of plain settings as a person says it ({"autosave_interval": 120} -> 'setting autosave interval
    to 120'); None where it would not read back the same (said as JSON then)."""
    if not isinstance(value, dict) or not 1 <= len(value) <= 3:
        return None
    if not all(re.fullmatch(r"[a-z]+(?:_[a-z]+){0,3}", k) and type(v) in (str, int, float) for k, v in value.items()):
        return None
    text = "setting " + " and ".join(
        f"{k.replace('_', ' ')} to {json.dumps(v, ensure_ascii=False)}" for k, v in value.items()
    )
    return text if settings_read(text) == value else None


_AMOUNT_OF = re.compile(r"\b(\d[\d.,]*) of the ([a-z]+) of ((?:the )?[A-Z][\w.-]*(?: [A-Z][\w.-]*)*)")


def amounts_owned(text: str) -> str:
    """'250 of the currency of Brazil' said as a person does: '250 of Brazil's currency' (a blind read: stiff)."""
    return _AMOUNT_OF.sub(lambda m: f"{m[1]} of {m[3]}{chr(39) if m[3].endswith('s') else chr(39) + 's'} {m[2]}", text)


# names said with 'the' inside a sentence ('Which countries are in the Americas?', 'I'm visiting the United States')
_NAMES_WITH_THE = (
    r"(Americas|Netherlands|Philippines|United States|United Kingdom|Bahamas|Maldives|Caribbean|Middle East|Balkans|"
    r"Baltics|United Arab Emirates|Czech Republic|Dominican Republic)\b"
)
_THE_NAMES = re.compile(r"(?<=[a-z,;:] )(?<!the )(?<!The )" + _NAMES_WITH_THE)
_THE_NAMES_FIRST = re.compile(r"(^|[.!?] )" + _NAMES_WITH_THE)  # 'United States has ...' starting a sentence


def the_names(text: str) -> str:
    """'in United States' -> 'in the United States'; a sentence's first word too: 'The United States has ...'."""
    return _THE_NAMES_FIRST.sub(r"\1The \2", _THE_NAMES.sub(r"the \1", text))
