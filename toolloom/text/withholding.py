"""A request with one value left out, as a person who forgot it writes it ('Is 2026-05-18 a holiday in my
country?'): what the dialogue stage's ask and recover examples open with."""

from __future__ import annotations

import random
import re

from . import spoken
from ..domain import Task
from ..graph.names import snake
from .tool_names import is_action
from .purposes import ROLES, article
from .template_fit import with_unslotted
from .wording import render_example
from .words import entity_of, tokens

_MINE = {
    "country",
    "city",
    "order",
    "language",
    "currency",
    "region",
    "account",
    "cart",
    "location",
    "address",
    "timezone",
    "home",
}  # what a person who leaves the value out calls their own


def vague(param: str, value, source: str = "") -> str:
    """What a person says for a value they leave out: 'a city', 'a product', 'some' (a number); 'the country of
    my order' where they know what holds it (`source`, the entity a tool can find it from)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "some"
    words = tokens(snake(param))
    noun = next((w for w in reversed(words) if w not in ("id", "ids", "code", "key") and w not in ROLES), words[-1])
    if source and source.split()[-1] != noun:
        return f"the {noun} of my {source.split()[-1]}"
    if noun in _MINE and not set(words) & set(ROLES):  # 'the VAT rate of my country', not 'of a country'
        return "my " + noun
    return article(noun) if noun not in ("date", "day") else "a certain " + noun


# nouns that say nothing left vague ('a country named a name', 'Going by a mode, ...'): such a request drops the
# clause that holds the value, or is worded from the tool's name without it
_BARE_NOUNS = {
    "name",
    "value",
    "query",
    "text",
    "term",
    "keyword",
    "q",
    "input",
    "string",
    "mode",
    "type",
    "kind",
    "method",
    "format",
    "option",
}


def _without_clause(template: str, param: str) -> str | None:
    """The template without the comma-separated clause that holds `{param}`: 'Going by {mode}, how long from {a}
    to {b}?' -> 'How long from {a} to {b}?'; None where no other clause is left."""
    clauses = re.split(r",\s+", template)
    rest = [c for c in clauses if "{" + param + "}" not in c]
    if not rest or len(rest) == len(clauses) or not any("{" in c for c in rest):
        return None
    text = ", ".join(rest)
    return text[0].upper() + text[1:] if text[-1] in ".?!" else None


def withholding_request(task: Task, withheld: str, rng: random.Random, source: str = "") -> str:
    """The request for the task's last call with one value left out, as a person who forgot it writes it:
    a template says 'a city' (or 'the country of my order', `source`) where the value would be; a request
    from the name leaves the argument out."""
    step = task.chain[-1]
    value = step.arguments.get(withheld)
    templates = task.meta.get(step.tool_id, {}).get("utterances") or []
    needing = [t for t in templates if "{" + withheld + "}" in t]
    said, usable = vague(withheld, value, source), needing
    if said.split()[-1] in _BARE_NOUNS:  # 'Going by a mode, how long ...': the clause that would say it goes
        said, usable = "", [c for t in needing if (c := _without_clause(t, withheld))]
    on_a_day = re.compile(r"\s+(?:on|for|at)\s+\{" + re.escape(withheld) + r"\}")
    if said.startswith("a certain") and any(on_a_day.search(t) for t in needing):
        # 'Compare the clocks of Sydney and Berlin.', not '... on a certain day' (a blind read: contrived)
        said, usable = "", [on_a_day.sub("", t) for t in needing if on_a_day.search(t)]
    if usable:
        template, args = spoken.unquoted(rng.choice(usable), step.arguments, skip=(withheld,))
        # a constraint the template has no place for is still said: not 'Which cities in the country of my order
        # do you know about?' for the cities of at least 3,000,000 (a blind read: the call's filter came from nowhere)
        text = with_unslotted(template.format(**{**args, withheld: said}), template, step, args, skip=(withheld,))
        if not said:
            return text
        noun = said.split()[1] if said.startswith("the ") else said.split()[-1]
        text = text.replace(f'"{said}"', said).replace(f"{noun} {said}", said)  # not 'country a country'
        text = re.sub(rf"\bthe {noun} (?:of|named|called) {re.escape(said)}", said, text)  # not 'the city of my city'
        # not 'the language with code my language', 'language code my language'
        text = re.sub(r"\b(?:the )?[a-z]+ (?:with (?:ISO )?)?code " + re.escape(said), said, text)
        text = re.sub(r"\b(?:the|this|that) the ", "the ", text)  # not 'in the the country of my order'
        text = re.sub(r"(?<![-\d])\b(\d+) (?:a|an|some|a certain) ", r"\1 ", text)  # 'add 1 a product', not a date
        return re.sub(r"\b(the|this|that) (a|an|some|a certain|my) ", r"\2 ", text)  # not 'the a city'
    rest = step.planned()
    rest.arguments = {k: v for k, v in step.arguments.items() if k != withheld}
    rest.bindings = {}
    others = [t for t in templates if t not in needing]  # a template that needs the value cannot be used
    meta = {**task.meta, step.tool_id: {**task.meta.get(step.tool_id, {}), "utterances": others}}
    text = render_example(Task(task.task_id, "single", [rest], task.seed, meta), rng)
    if (
        not rest.arguments
        and len(text.split()) <= 3
        and (thing := entity_of(step.name)) != "result"
        and not is_action(step.name)
    ):  # not before a delete: 'I'm looking for a content.'
        return f"I'm looking for {article(thing)}."  # not 'Find countries.': what a person says before naming it
    return text
