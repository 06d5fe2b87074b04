"""Names, years, ranks and UTC times a final answer states that nothing in the conversation says: a model assistant's
invention ('directed by John Travolta', 'aired on Netflix in 2015' where no result names a director, a network or a
year; 'the second-largest city' where no result ranks it).

What the conversation says: the user's messages, the calls' arguments, the tool results and the offered tools'
documentation, each value also as people say it (DE as Germany, new_york as New York, USD as US Dollar). A name
counts as said when each of its words (of three letters or more) is; month and weekday names are how dates are
written, and are never invented.
"""

from __future__ import annotations

import calendar
import json
import re

import pycountry

from ..text import spoken
from ..text.values import is_id_name
from ..text.words import tokens

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR = re.compile(r"(?<![\d.,-])(1[89]\d\d|20\d\d)(?![\d,])")
_CALENDAR = {w.lower() for w in [*calendar.month_name[1:], *calendar.month_abbr[1:], *calendar.day_name]}


def _spoken_forms(key: str, value) -> list[str]:
    """A value as the answers and requests may say it besides as given."""
    if not isinstance(value, str):
        return []
    forms = [f for f in (spoken.said(value, key), spoken.code_name(value, key)) if f]
    if re.fullmatch(r"[A-Z]{3}", value) and (currency := pycountry.currencies.get(alpha_3=value)):
        forms.append(currency.name)
    return forms


def known_text(texts: list[str], values: list) -> str:
    """Everything the conversation says, lower-cased: `texts` as written, `values` also as people say them."""
    parts = list(texts)
    for value in values:
        for key, scalar in spoken.scalars("", value):
            parts += [str(scalar), *_spoken_forms(key, scalar)]
    return "\n".join(parts).lower()


_STARTS = re.compile(r"(?:^|[.?!:]\s+|\n[\s`>*-]*)$")  # a sentence's or a line's first word: capitalised anyway


def _inside_a_sentence(name: str, answer: str) -> bool:
    return any(
        not _STARTS.search(answer[: m.start()]) for m in re.finditer(r"(?<!\w)" + re.escape(name) + r"(?!\w)", answer)
    )


def invented(answer: str, known: str) -> list[str]:
    """The names, years, ranks and UTC times `answer` states that `known` (from `known_text`) never says."""
    out = []
    for name in spoken.names(answer):
        if not _inside_a_sentence(name, answer):  # 'Done.', 'Here it is:' after a block
            continue
        words = [w for w in re.split(r"[ -]", name) if len(w) >= 3 and w.lower() not in _CALENDAR]
        if any(w.lower() not in known for w in words):
            out.append(name)
    out += [y for y in _YEAR.findall(answer) if y not in known]
    out += [m[0] for m in _RANK.finditer(answer) if m[0].lower() not in known]
    out += [m[0] for m in _UTC_TIME.finditer(answer) if not re.search(re.escape(m[1]) + _SAID_UTC, known)]
    return list(dict.fromkeys(out))


# a rank is a claim too: 'Munich is the second-largest city' where the result lists Berlin and Munich (a blind read)
_RANK = re.compile(
    r"(?i)\b(?:(?:second|third|fourth|fifth)[- ])?(?:largest|biggest|smallest|highest|lowest|oldest|newest|"
    r"most (?:populous|popular|visited)|least populous)\b"
)


# a time zone is a claim too: '23:30 UTC' where the result gave 23:30 as Tokyo's local time (a blind read); a time
# is UTC where something before the answer says it so ('14:30 UTC', '...T14:30:00Z', '14:30+00:00')
_UTC_TIME = re.compile(r"\b(\d{1,2}:\d\d)(?::\d\d)? ?(?:UTC|GMT)\b")
_SAID_UTC = r"(?::\d\d)?(?:\.\d+)? ?(?:utc|gmt|z\b|\+00:?00)"


def conversation_known(traj: dict) -> str:
    """What a trajectory's conversation says before its final answer (see `known_text`)."""
    texts, values = [], []
    for m in traj["messages"]:
        if m["role"] in ("user", "tool"):
            content = m.get("content") or ""
            texts.append(content)
            try:
                values.append(json.loads(content))
            except (json.JSONDecodeError, TypeError):
                pass
        for call in m.get("tool_calls") or []:
            arguments = call["function"].get("arguments")
            texts.append(arguments if isinstance(arguments, str) else json.dumps(arguments))
            try:
                values.append(json.loads(arguments) if isinstance(arguments, str) else arguments)
            except (json.JSONDecodeError, TypeError):
                pass
    texts += [t["function"].get("description") or "" for t in traj.get("tools_offered") or []]
    return known_text(texts, values)


def invented_ids(traj: dict) -> list[str]:
    """The ids a successful call took that nothing before it says: not the user's messages, not an earlier
    result (a small model calls a show's credits with tv_id 1234567890, and the simulator answers about it)."""
    return _unsaid_arguments(traj, lambda key, value, default: is_id_name(key) and not isinstance(value, float))


def unasked_values(traj: dict) -> list[str]:
    """The text values a successful call took that nothing before it says and that are not the parameter's
    default: the 0.5B model adds `region: "US"` to 'Show me the upcoming movies.', which narrows the answer."""
    chain = traj.get("chain") or []
    asked = {s.get("name") for s in (json.loads(chain) if isinstance(chain, str) else chain)}
    # the calls the request asks for: an unrelated one is overuse's business
    return _unsaid_arguments(traj, _checked_text, asked if asked - {None} else None)


def _checked_text(key: str, value, default) -> bool:
    """A text argument that the conversation must have said: not an id, a date or the default; or a year (people
    write years in digits): the 0.5B model's `year: 2023` on a search for a 1942 film."""
    if isinstance(value, int) and not isinstance(value, bool) and "year" in tokens(key) and value != default:
        return 1000 <= value <= 2999
    return (
        isinstance(value, str)
        and len(value) > 1
        and value != default
        and not is_id_name(key)
        and not _DATE.match(value)  # 'the second Tuesday of July 2026' says 2026-07-14
    )


def unstated_optional(arguments: dict, parameters: dict, known: str) -> list[str]:
    """The optional parameters of a call whose text value nothing in `known` (`known_text` of the conversation so
    far) says, as `unasked_values` finds them afterwards: the 0.5B model's `region: "US"` on a plain search."""
    props, required = parameters.get("properties") or {}, set(parameters.get("required") or [])
    return [
        key
        for key, value in arguments.items()
        if key not in required
        and _checked_text(
            key, value, (props.get(key) or {}).get("default") if isinstance(props.get(key), dict) else None
        )
        and not _said(key, value, known)
    ]


def _said(key: str, value, known: str) -> bool:
    forms = [str(value), *_spoken_forms(key, value)]
    return any(re.search(rf"(?<![\w.-]){re.escape(f.lower())}(?![\w-])", known) for f in forms)


def _unsaid_arguments(traj: dict, checked, tools: set | None = None) -> list[str]:
    """`name: key value` for each argument of a successful call that `checked(key, value, default)` picks and that
    neither the user's messages nor an earlier result says, as given or as people say it."""
    seen, out = [], []
    results = {m.get("tool_call_id"): m for m in traj["messages"] if m["role"] == "tool"}
    defaults = {
        (t.get("function", t).get("name"), k): p.get("default")
        for t in traj.get("tools_offered") or []
        for k, p in ((t.get("function", t).get("parameters") or {}).get("properties") or {}).items()
        if isinstance(p, dict)
    }
    for m in traj["messages"]:
        if m["role"] == "user":
            seen.append(m.get("content") or "")
        for call in m.get("tool_calls") or []:
            answered = results.get(call.get("id")) or {}
            if '"error"' in (answered.get("content") or "")[:40]:  # a refused call is the execution check's business
                continue
            known, name = known_text(seen, []), call["function"]["name"]
            if tools is not None and name not in tools:
                continue
            arguments = call["function"].get("arguments")
            try:
                args = json.loads(arguments) if isinstance(arguments, str) else arguments or {}
            except json.JSONDecodeError:
                continue
            for key, value in spoken.scalars("", args):
                if not checked(key, value, defaults.get((name, key))):
                    continue
                if not _said(key, value, known):
                    out.append(f"{name}: {key} {value}")
        if m["role"] == "tool":
            content = m.get("content") or ""
            try:
                seen.append(known_text([content], [json.loads(content)]))
            except json.JSONDecodeError:
                seen.append(content)
    return out
