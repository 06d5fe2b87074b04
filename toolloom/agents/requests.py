"""What the model user is asked to write, and when its request cannot stand.

The user writes from what each step is for (a short purpose, never the documentation) and the
values it states; the reply is JSON `{"request": ...}`. A request that leaves out a stated value (a code, an id
or a date may be said as a person says it: Germany for DE, November 24, 2026 for 2026-11-24),
names a tool, or copies a run of the documentation's words is asked again once with the problem.
"""

from __future__ import annotations

import calendar
import functools
import random
import re

import pycountry

from ..domain import Task
from ..prompts import render
from ..text import spoken
from ..text.purposes import plain_purpose
from ..text.wording import bound_phrase, render_example
from ..text.words import entity_of, name_words, tokens

REQUEST_SCHEMA = {
    "type": "object",
    "properties": {"request": {"type": "string", "minLength": 8, "maxLength": 600}},
    "required": ["request"],
    "additionalProperties": False,
}
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TITLE = re.compile(r"[A-Z][\w']*(?: (?:[A-Z][\w']*|a|an|the|of|for|to|by|in|on|and))+")  # 'Get Movie Keywords'
COPIED_WORDS = 8  # this many consecutive words of a tool's documentation in a request is copying


def stated_values(task: Task) -> list[tuple[str, object]]:
    """The values the request must state, with their parameters: every argument not taken from an earlier result."""
    return [
        kv
        for step in task.chain
        for k, a in step.arguments.items()
        if k not in step.bindings
        for kv in spoken.scalars(k, a)
    ]


def _number_texts(value) -> set[str]:
    texts = {str(value)}
    if isinstance(value, float) and value.is_integer():
        texts.add(str(int(value)))
    return texts


def _spoken_forms(key: str, value: str) -> list[str]:
    """How a person states a value instead of its code: DE as Germany, new_york as New York, USD as US dollars,
    2026-11-24 as November 24, 2026 (the assistant then works out the value the tool takes)."""
    forms = [f for f in (spoken.said(value, key),) if f and f != value]
    if re.fullmatch(r"[A-Z]{3}", value) and (currency := pycountry.currencies.get(alpha_3=value)):
        forms.append(currency.name)  # 'US Dollar' (a plural 'US dollars' contains it)
    if day := _DAY.fullmatch(value):
        y, m, d = int(day[1]), int(day[2]), int(day[3])
        if 1 <= m <= 12:
            month = rf"(?:{calendar.month_name[m]}|{calendar.month_abbr[m]}\.?)"
            forms.append(rf"(?:{month} {d}(?:st|nd|rd|th)?,? {y}|{d}(?:st|nd|rd|th)? (?:of )?{month},? {y})")
    return forms


def _states(request: str, key: str, value) -> bool:
    low = request.lower()
    if isinstance(value, (int, float)):
        return any(re.search(r"(?<![\d.])" + re.escape(t) + r"(?![\d])", low) for t in _number_texts(value))
    if str(value).strip().lower() in low:
        return True
    forms = _spoken_forms(key, value) if isinstance(value, str) else []
    patterns = [f if f.startswith("(?:") else r"\b" + re.escape(f.lower()) + r"s?\b" for f in forms]  # 'US dollars'
    return any(re.search(p, low, re.I) for p in patterns)


# the assistant's voice in a user's message: 'Sure! Please provide the information you need to inform me about ...'
ASSISTANT_VOICE = re.compile(
    r"\b(would you like me to|shall i|how (?:can|may) i (?:help|assist)|i (?:can|could) help|let me know if"
    r"|i(?:'m| am) glad (?:i|you)|i (?:found|have found|retrieved)|here (?:is|are) (?:the|your)"
    r"|(?:information|details) you need|i(?: can|'d| would) be happy to)\b|^\W*(?:sure|certainly|of course)\s*[!,.]",
    re.I,
)


def request_problems(task: Task, request: str) -> str:
    """Why a model user's request cannot stand; "" when it can."""
    if ASSISTANT_VOICE.search(request):
        return "the request speaks as the assistant; write the message the person sends, asking for what they want"
    missing = [v for k, v in stated_values(task) if not _states(request, k, v)]
    if missing:
        shown = ", ".join(repr(v) for v in missing[:4])
        return f"the request must state these values exactly as given: {shown}"
    named = [
        s.name
        for s in task.chain
        if re.search(r"[_A-Z]", s.name.split("__")[-1]) and s.name.split("__")[-1].lower() in request.lower()
    ]
    if named:
        return f"the request names a tool ({named[0]}); say what you want instead"
    titles = [
        t for s in task.chain if _TITLE.fullmatch(t := str((task.meta.get(s.tool_id) or {}).get("summary") or ""))
    ]
    opens = [t for t in titles if len(t.split()) > 1 and request.lower().startswith(t.lower())]  # 'Get similar TV ...'
    if any(t in request for t in titles) or opens:  # 'Get Reviews Get the user reviews for movie 297761.' (0.5B)
        return "the request copies the tool's title; write what a person would ask, in your own words"
    words = tokens(request)
    grams = {tuple(words[i : i + COPIED_WORDS]) for i in range(len(words) - COPIED_WORDS + 1)}
    whole = len(words)  # a short request that is a run of the documentation ('Get the most newly created TV show.')
    for step in task.chain:
        doc = tokens(step.description)
        if any(tuple(doc[i : i + COPIED_WORDS]) in grams for i in range(len(doc) - COPIED_WORDS + 1)) or (
            4 <= whole < COPIED_WORDS and any(tuple(doc[i : i + whole]) == tuple(words) for i in range(len(doc)))
        ):
            return "the request copies the tool's documentation; write what a person would ask, in your own words"
    # 'Values the person states: ...', 'List cities in Germany. Values the country code as 'DE'.' (the 0.5B model)
    if re.search(
        r"[{}]|\bvalues( the person states)?:|(?:^|[.?!]\s)(?-i:Values)\b|\b[a-z_]+=\S", request, re.I
    ) or _copies_instructions(words):
        return "the request holds JSON or words of these instructions; write the message a person would type"
    return ""


INSTRUCTION_WORDS = 5  # this many consecutive words of the prompt's own instructions ('values are the names, codes')


@functools.cache
def _instruction_grams() -> frozenset:
    """Runs of words of the user prompt's fixed text (its rules, not a task's purposes or values)."""
    words = tokens(render("simulate/user.j2", steps=[], example=""))
    return frozenset(tuple(words[i : i + INSTRUCTION_WORDS]) for i in range(len(words) - INSTRUCTION_WORDS + 1))


def _copies_instructions(words: list[str]) -> bool:
    grams = _instruction_grams()
    return any(tuple(words[i : i + INSTRUCTION_WORDS]) in grams for i in range(len(words) - INSTRUCTION_WORDS + 1))


def step_views(task: Task) -> list[dict]:
    """Each step as the user prompt shows it: its purpose, the values to state, the values that come
    from an earlier step (described, never stated)."""
    views = []
    for i, step in enumerate(task.chain):
        earlier = {
            k: bound_phrase(b, i, task.chain[b["step"]].name, names=[s.name for s in task.chain], param=k)
            for k, b in step.bindings.items()
        }
        stated = {k: v for k, v in step.arguments.items() if k not in step.bindings}
        named = (task.meta.get(step.tool_id) or {}).get("named") or {}
        views.append(
            {
                "purpose": plain_purpose(step.description, step.name),
                "about": entity_of(step.name) if name_words(step.name) else "",
                "stated": stated,
                "names": {stated[k]: n for k, n in named.items() if k in stated},
                "from_earlier": earlier,
            }
        )
    return views


def user_prompt(task: Task, prompts_root) -> str:
    return render(
        "simulate/user.j2",
        prompts_root,
        steps=step_views(task),
        example=render_example(task, random.Random(f"{task.task_id}:{task.seed}")),
    )
