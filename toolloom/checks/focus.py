"""Answers that answer: facts a final answer states that nobody asked for.

A request names what it wants ('the population of ZA'); an answer that also recites the calling
code, the capital and the coordinates teaches a model to dump fields. A fact counts as unasked when
the answer states the value of a result field that the request does not name, that the user did
not give, and that is not the result's name (the subject) or an id. The `focus` filter check
rejects answers that state more than `stages.filter.max_unasked_fields` of them about any one result, and
answers that narrate their calls by the tools' names (a small model's 'I called the `find_country` function').
"""

from __future__ import annotations

import json
import re

from ..answers.phrases import LIST_ITEMS, value_text
from ..messages import request_of
from ..text.request_asks import is_yes_no, request_parts, requested_fields

_SUBJECTS = ("name", "title", "label", "full_name", "display_name")


def _records(result) -> list[dict]:
    """The records a result holds: itself, its items, the items of its lists (a search's results)."""
    if isinstance(result, list):
        return [r for r in result[:LIST_ITEMS] if isinstance(r, dict)]
    if not isinstance(result, dict):
        return []
    out = [result]
    for v in result.values():
        if isinstance(v, list):
            out += [r for r in v[:LIST_ITEMS] if isinstance(r, dict)]
    return out


def _said(value, text: str) -> bool:
    """The answer states the value (as given or as answers are written), as a word of its own."""
    if isinstance(value, bool) or value is None:
        return False  # yes/no and 'not known' are phrased, not quoted
    if isinstance(value, (int, float)) and abs(value) < 10:
        return False  # small numbers occur in any text (a date, a count)
    forms = {str(value), value_text(value)}
    return any(len(f) >= 2 and re.search(r"(?<![\w.-])" + re.escape(f.lower()) + r"(?![\w-])", text) for f in forms)


def unasked_facts(request: str, result, answer: str) -> list[str]:
    """Names of the fields of one result whose values the answer states though the request never asked for them."""
    text, asked_text = (answer or "").lower(), request.lower()
    found: list[str] = []
    for record in _records(result):
        named = set(requested_fields(request, record))
        for key, value in record.items():
            if isinstance(value, (dict, list)) or key in named or key in _SUBJECTS or key in found:
                continue
            if key == "id" or key.endswith(("_id", "Id", "_ids")) or _said(value, asked_text):
                continue
            if _said(value, text):
                found.append(key)
    return found


def named_tools(answer: str, offered: list[str], results: str = "") -> list[str]:
    """The offered tools an answer names ('I called the `get_capital_city` function'): a name a person would not
    write (snake_case, camelCase or in backticks), as a word of its own, and that no tool result says."""
    return [
        n
        for n in offered
        if n not in results
        and (
            f"`{n}`" in answer
            or (re.search(r"[_A-Z]", n) and re.search(r"(?<![\w.])" + re.escape(n) + r"(?![\w])", answer))
        )
    ]


# an answer about the exchange rather than the facts (Qwen2.5-Coder-0.5B: 'The answer to your request is: ...
# This answer is provided by the tool response you provided.')
ABOUT_THE_EXCHANGE = re.compile(
    r"^\W*the answer is\b"  # 'The answer is 81.6466 kg.': a template, not a reply (a blind read: 6 of 20 flawed)
    r"|\bthe answer (?:to (?:your|the) (?:request|question)\b[^.:\n]*?)?is:"
    r"|\bthe answer to (?:your|the|this) (?:request|question)\b"  # 'The answer to the question "..." is 25.0%.'
    r"|\bthe tool(?:'s)? (?:response|output|result)s?\b"
    r"|\bthe tools? (?:returned|gave|says|said|shows?|showed)\b"  # 'The tool returned 82 days between ...'
    r"|\bthe (?:response|result|output) (?:you|the tool) (?:provided|returned|gave)\b",
    re.I,
)


# 'Can you express 42.195 km as mi?', 'Do you know the capital of Australia?': a request, not a yes/no question
_POLITE = re.compile(r"\W*(?:(?:can|could|would|will) you\b|do you (?:know|happen to know)\b)", re.I)
_CHOICE = re.compile(r"\bor (?!not\b)", re.I)  # 'Is it a Monday, a Friday, or something else?' asks which
_YES_OR_NO = re.compile(r"\W*(?:yes|no)\b", re.I)  # 'Yes, ...', 'No. ...' ('Victoria Day is ...' was read flawed)


def raw_result(answer: str) -> bool:
    """The answer is a JSON object or list, fenced or not (the 0.5B model answers with the result it got)."""
    text = re.sub(r"^```\w*\s*|\s*```$", "", answer.strip())
    if not text.startswith(("{", "[")):
        return False
    try:
        return isinstance(json.loads(text), (dict, list))
    except json.JSONDecodeError:
        return False


def check_focus(traj: dict, params) -> tuple[str, str] | None:
    """The final answer answers the request: it narrates no tool calls, and states at most
    `params.max_unasked_fields` facts the request did not ask for."""
    if traj.get("kind") == "abstain" or not traj.get("final_answer"):
        return None
    said = [m.get("content") or "" for m in traj["messages"] if m["role"] == "tool"]
    offered = [t["function"]["name"] for t in traj.get("tools_offered") or []]
    if named := named_tools(traj["final_answer"], offered, "\n".join(said)):
        return "names_tools", f"the answer tells how it was found, naming {', '.join(named[:3])}, not what was asked"
    if raw_result(traj["final_answer"]):
        return "raw_result", "the answer is a JSON value (the result pasted back), not sentences for a person"
    if talk := ABOUT_THE_EXCHANGE.search(traj["final_answer"]):
        return "talks_about_the_exchange", f"the answer talks about the exchange ('{talk.group(0)}'), not the facts"
    request = request_of(traj["messages"], traj.get("actions"))
    yes_no = is_yes_no(request) and not (_POLITE.match(request) or _CHOICE.search(request))
    yes_no = yes_no and len(request_parts(request)) == 1
    if yes_no and not _YES_OR_NO.match(traj["final_answer"]):
        return "yes_no_unsaid", "a yes/no question whose answer does not start with yes or no"
    results = []
    for content in said:
        try:
            results.append(json.loads(content))
        except (json.JSONDecodeError, TypeError):
            continue
    extra = max((unasked_facts(request, r, traj["final_answer"]) for r in results), key=len, default=[])
    if len(extra) > params.max_unasked_fields:
        return (
            "unasked_facts",
            f"the answer states {len(extra)} facts of one result that nobody asked for "
            f"({', '.join(extra[:6])}); at most {params.max_unasked_fields} a result",
        )
    return None
