"""How one part of a result is said in an answer: a value, a measure with its unit, a list, one field,
and facts said of a named subject ('The population of Tokyo is 14,094,034 and its timezone is Asia/Tokyo')."""

from __future__ import annotations

import re

from ..text import record_requests, spoken
from .texts import long_prose, opening
from .values import TIMESTAMP, item_name, measure, value_text
from ..graph.names import singular
from ..text.request_asks import label, words

LIST_ITEMS = 25  # items of a list an answer names (a listing request gets its list); the rest are counted
_PROSE_KEYS = ("note", "message", "summary", "explanation", "remark")  # a sentence of its own, stated as it is


_EVENTS = {"created", "updated", "modified", "deleted", "published", "released", "started", "finished", "closed"}


def relation(item) -> str:
    """A relation record said as the fact it is ('Lea Favre works with Chamonix guides office'), or ''."""
    found = record_requests.shape({k: {} for k in item}) if isinstance(item, dict) else None
    if not found or found[0] != "relation" or not all(isinstance(item[k], str) for k in found[1].values()):
        return ""
    roles = found[1]
    return f"{item[roles['from']]} {item[roles['rel']]} {item[roles['to']]}"


def join_phrases(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def list_phrase(key: str, values: list) -> str:
    if not values:
        return f"there are no {label(key)}"
    shown = [
        x
        for x in (
            (spoken.code_name(v, key) if isinstance(v, str) else None) or relation(v) or item_name(v)
            for v in values[:LIST_ITEMS]
        )
        if x.strip()
    ]  # languages ["ja"]: Japanese
    if not shown:  # items with nothing to name ([{}, {}])
        return f"there are {len(values)} {label(key)}" if len(values) > 1 else f"there is one {singular(label(key))}"
    more = f" and {len(values) - LIST_ITEMS} more" if len(values) > LIST_ITEMS else ""
    return (
        f"there are {len(values)} {label(key)}: {join_phrases(shown)}{more}"
        if len(values) > 1
        else f"there is one {singular(label(key))}: {shown[0]}{_notes(values[0])}"
    )


def _notes(item) -> str:
    """What one found record notes in words ('Lea Favre (person), with observations "Mountain guide for the
    tour" and ...'): a list of a few short sentences is its content, not codes or tags."""
    if not isinstance(item, dict):
        return ""
    for k, v in item.items():
        if (
            isinstance(v, list)
            and 1 <= len(v) <= 4
            and all(isinstance(x, str) and 2 <= len(x.split()) <= 14 for x in v)
        ):
            return f", with {label(k)} " + join_phrases([f'"{x}"' for x in v])
    return ""


PREPOSITIONS = ("as", "at", "on", "in", "per", "from", "to", "by", "since", "until")


AMOUNTS = ("amount", "value", "total", "price", "net_amount", "gross_amount", "converted", "result")
STOCK_KEYS = ("stock", "in_stock", "quantity_available", "available_quantity", "inventory")


def field_phrase(key: str, value, unit: str = "", topic: str = "", pair: tuple = (), names: bool = False) -> str:
    """How one field is said; `names`: a country or language code by its name ('the country is Germany')."""
    if isinstance(value, bool):
        return _flag_phrase(key, value)
    if isinstance(value, list):
        return list_phrase(key, value)
    if isinstance(value, dict):
        inner = [field_phrase(k, v) for k, v in list(value.items())[:3]]
        return f"the {label(key)}: {join_phrases(inner)}"
    if (said := _worded_phrase(key, value, pair)) is not None:
        return said
    return _measured_phrase(key, value, unit, topic, names)


def _flag_phrase(key: str, value: bool) -> str:
    """A yes/no field: 'it is landlocked', 'it has no parking'."""
    if key.startswith("is_"):
        return f"it is {'' if value else 'not '}{article(label(key[3:]))}"
    if key.startswith("has_"):
        return f"it has {'' if value else 'no '}{label(key[4:])}"
    return f"{label(key)}: {value_text(value)}"


def _worded_phrase(key: str, value, pair: tuple) -> str | None:
    """A field said in words of its own rather than as a measure (a rate, a note, a file's text, stock, a
    category); None for any other."""
    if key == "rate" and pair and isinstance(value, (int, float)):  # 'the rate is 9.19': of what into what
        return f"1 {pair[0]} is {value_text(value)} {pair[1]}"
    if key in _PROSE_KEYS and isinstance(value, str) and value.strip():
        return value.strip().rstrip(".")
    if isinstance(value, str) and long_prose(key, value):  # a biography: its first sentence
        return f'the {label(key)} is "{opening(value)}"'
    if isinstance(value, str) and "\n" in value.strip():  # a file's text: shown as it is, below the sentence
        return f"the {label(key)} is:\n\n{value.strip()}"
    if key in STOCK_KEYS and value == 0:
        return "it is out of stock"
    if key in STOCK_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return f"there {'is' if value == 1 else 'are'} {value} in stock"
    if key in ("category", "genre", "type") and isinstance(value, str) and len(value.split()) <= 3:
        return f"it is in the {value} {label(key)}"  # 'the category of X is sports': a field read out
    return None


def _measured_phrase(key: str, value, unit: str, topic: str, names: bool) -> str:
    """A field said as its name and value with its unit: 'it costs 54.5 EUR', 'the distance is 1149.4 km'."""
    name, text = measure(key, value)
    if name in ("price", "cost") and not isinstance(value, bool) and isinstance(value, (int, float)):
        return f"it costs {text}{' ' + unit if unit and key in AMOUNTS else ''}"
    if unit and isinstance(value, (int, float)) and key in AMOUNTS:
        text = f"{text} {unit}"
    if (
        words(key)[:1]
        and words(key)[0] in ("days", "hours", "minutes", "weeks")
        and set(words(key)[1:]) & {"until", "left", "remaining", "away", "to"}
    ):  # days_until: 'it is 5 days away'
        return f"it is {value_text(value)} {words(key)[0]} away"
    if not name:  # days: 'the time difference is -5 hours' (what the tool computes), 'there are 364 days'
        if topic and words(topic)[-1:] != words(key)[-1:]:
            return f"{topic} is {text}"
        if isinstance(value, (int, float)) and value == 1 and text.endswith("s"):
            text = f"{value_text(value)} {singular(text.split(' ', 1)[1])}" if " " in text else text  # '1 day'
        return f"there are {text}" if isinstance(value, (int, float)) and value > 1 else f"it is {text}"
    if words(name)[:1] and words(name)[0] in PREPOSITIONS:  # as_of -> 'as of 2026-01-02'
        return f"{name} {text}"
    return _named_phrase(key, value, name, text, names)


def _named_phrase(key: str, value, name: str, text: str, names: bool) -> str:
    """A named field read out: an event's time, a code by its name, a count of a plural, or 'the name is value'."""
    event = [w for w in words(key) if w not in ("at", "on", "date", "time", "timestamp")]
    if event and event[-1] in _EVENTS and isinstance(value, str) and TIMESTAMP.match(value):
        return f"it was {' '.join(event)} on {text}"  # last_modified: 'it was last modified on 2026-12-04 09:53 UTC'
    if names and words(key)[-1:] == ["code"] and len(words(key)) > 1 and (said := spoken.code_name(value, key)):
        return f"the {' '.join(words(key)[:-1])} is {said}"  # country_code DE: 'the country is Germany'
    if names and words(key)[-1:] in (["country"], ["language"]) and (said := spoken.code_name(value, key)):
        return spoken.the_names(f"the {name} is {said}")  # 'the origin country is the United States'
    head = words(name)[-1]
    if isinstance(value, (int, float)) and head.endswith("s") and singular(head) != head and len(words(name)) == 1:
        return f"it has {text if value else 'no'} {name}"  # 'it has 13 million speakers', not 'the speakers is'
    return f"the {name} is {text}"


def article(word: str) -> str:
    """'a holiday', but 'landlocked', 'open': adjectives take none."""
    if re.search(r"(ed|ful|able|ible|al|ive|ous|ic|less|open|closed|active|valid)$", word):
        return word
    return ("an " if word[:1] in "aeiou" else "a ") + word


PLACES = ("country code", "country", "region", "continent", "state", "province")  # where a named thing is


_SAID_IN = {"time", "rate", "price", "tax", "vat", "offset", "temperature", "weather", "cost", "amount", "vat"}


def about(subject: str, phrases: list[str], placed: bool = False, inside: bool = False) -> str:
    """Facts about a named subject as people say them: 'The population of Tokyo is 14,094,034 and its timezone is
    Asia/Tokyo', "New Year's Day is on 2027-01-01", 'Swedish has 13 million speakers'; `placed` (a place or a
    thing by its name, not an order by its id): 'Tokyo is in JP', 'France is in Europe'; `inside` (facts of a
    call about a place): 'the local time in Chicago is ...'."""
    out: list[str] = []
    for p in phrases:
        who = subject if not out else "it"
        place = next((k for k in PLACES if p.startswith(f"the {k} is ")), None) if placed else None
        if place:
            where = p[len(f"the {place} is ") :]
            p = f"{who} is in {spoken.code_name(where) or where}"  # 'Tokyo is in Japan', not in JP
        elif p.startswith("the date is "):
            p = f"{who} is on {p[len('the date is ') :]}"
        elif p.startswith("the ") and (" is " in p or " is:" in p):
            name, _, rest = p[4:].partition(" is")  # ' is 5', or ' is:' and a text below
            where = "in" if inside and name.split()[-1] in _SAID_IN else "of"  # the local time in, the capital of
            p = (
                f"the {name} {where} {subject} is{rest}"
                if not out
                else f"{'the ' + name + ' there' if inside else 'its ' + name} is{rest}"
            )
        elif p.startswith("it ") and not out:
            p = f"{subject} {p[3:]}"
        # 'Brazil has one language: Portuguese', not 'there is one language', which says not where
        elif m := re.match(r"there (?:is|are) (?=(?:one|no|\d+) (?!in |left)[a-z])", p):
            p = f"{who} has {p[m.end() :]}"
        out.append(p)
    return join_phrases(out)


CHANGE = "Here is the change:"  # the heading of the diff an edit gives back
BLOCK_LINES, BLOCK_HEAD = 60, 25  # a tool's text longer than this is shown by its first lines


def _without_tool_hints(text: str) -> str:
    """A sentence after the first that names a tool ('git_status shows what is modified') speaks to the model that
    calls tools, not to the person: left out of a one-line answer."""
    if "\n" in text:
        return text
    first, *rest = re.split(r"(?<=[.!?]) (?=[A-Za-z])", text)
    return " ".join([first] + [s for s in rest if not re.search(r"\b[a-z]+_[a-z_]+\b", s)])


def said_text(text: str, heading: str = "Here it is:") -> str:
    """A tool's own words as the answer: a sentence as it is, several lines below `heading` (what they are:
    'Here is the working tree status:'); '' for a value."""
    text = _without_tool_hints(text.strip())
    if m := re.fullmatch(r"([A-Z][a-z]+(?: [a-z]+){0,3}):", text):  # a heading over nothing: 'Staged changes:'
        return f"There are no {m.group(1).lower()}."
    if m := re.fullmatch(r"\* ([\w./-]+)", text):  # git's one branch, the current one: '* main'
        return f"There is one branch, {m.group(1)}, and it is checked out."
    lines = text.split("\n")
    if len(lines) > BLOCK_LINES:  # a whole spec or log pasted into an answer is no answer: its start, and its size
        head = "\n".join(lines[:BLOCK_HEAD])
        return f"It is {len(lines):,} lines long; here are the first {BLOCK_HEAD}:\n\n```\n{head}\n```"
    if "\n" in text:  # a tool's output (a diff, a log, a spec) as a block, fenced once ('```diff' comes fenced)
        if re.match(r"[A-Z][\w ./'-]{0,60}:\n", text):  # the server's own heading ('Unstaged changes:') says again
            text = text.split("\n", 1)[1]  # what the sentence above the block says
        fenced = text if re.fullmatch(r"```[\w-]*\n.*\n```", text, re.S) else f"```\n{text}\n```"
        # an edit's own diff is 'the change' its sentence already said; another diff is said by what it changes
        heading = f"{changed} Here is the diff:" if heading != CHANGE and (changed := diff_summary(text)) else heading
        return f"{heading}\n\n{fenced}".lstrip()
    if re.match(r"[A-Z][a-z]+ \w", text) and len(text.split()) >= 3:  # 'No matches found', not 'Paris'
        return text if text[-1] in ".!?" else text + "."
    return ""


def diff_summary(text: str) -> str:
    """What a unified diff changes, file by file ('One file changed, README.md: 2 lines added.'), or ''."""
    files: dict[str, list[int]] = {}
    current, old = None, None
    for line in text.split("\n"):
        if m := re.match(r"--- (?:a/)?(\S+)", line):
            old = m.group(1)
        elif m := re.match(r"\+\+\+ (?:b/)?(\S+)", line):  # a deleted file is new as /dev/null: its old name
            current = files.setdefault(old if m.group(1) == "/dev/null" and old else m.group(1), [0, 0])
        elif current is not None and line[:1] in "+-" and not line.startswith(("---", "+++")):
            current[line[:1] == "-"] += 1
    said = {
        name: ", ".join(f"{n} line{'s' * (n != 1)} {how}" for n, how in zip(counts, ("added", "removed")) if n)
        for name, counts in files.items()
        if any(counts)
    }
    if not said:
        return ""
    if len(said) == 1:
        ((name, what),) = said.items()
        return f"One file changed, {name}: {what}."
    listed = [f"{name} ({what})" for name, what in said.items()]
    return f"{len(said)} files changed: {', '.join(listed[:-1])} and {listed[-1]}."


def capitalised(text: str) -> str:
    """The sentence's first letter in capitals, unless its first word is a name as written (todo.md, p300)."""
    return text if re.match(r"[^\s:]*[._/@\d]", text) else text[:1].upper() + text[1:]


CONFIRMING = {"success", "ok", "message", "status", "detail", "result"}


def refused(result) -> bool:
    """A result whose own flag says the change did not happen ({"success": false, ...})."""
    return isinstance(result, dict) and any(result.get(k) is False for k in ("success", "ok"))


def short_confirmation(text) -> bool:
    """A tool's few words that only say a change was made ('Files staged successfully.', 'All staged changes
    reset.'): no number, quote, path or line of its own."""
    if not isinstance(text, str) or not 2 <= len(text.split()) <= 6 or re.search(r"[\d/'\"\n]|:$", text):
        return False
    return bool(re.search(r"\b(?:\w+ed|successfully|done|reset)\b", text, re.I))


def confirms_only(result) -> bool:
    """A result that only confirms the change ({"success": true, "message": "Entities deleted successfully"}):
    'I deleted the entity "Champex".' says all of it."""
    if isinstance(result, dict) and len(result) == 1 and short_confirmation(next(iter(result.values()))):
        return True  # MCP's text content: {"text": "Files staged successfully."}
    if not isinstance(result, dict) or not result or not set(result) <= CONFIRMING:
        return False
    flags = [v for v in result.values() if isinstance(v, bool)]
    texts = [v for v in result.values() if isinstance(v, str)]
    return (
        bool(flags)
        and all(flags)
        and len(flags) + len(texts) == len(result)
        and all(len(t.split()) <= 8 for t in texts)
    )
