"""Judging answers rather than writing them: whether a sentence only repeats the facts said before it, and the
shapes whose reference answer is a list of parts (each part judged on its own)."""

from __future__ import annotations

import re

# shapes whose reference answer is a list: one result per independent part of the request
MULTI_ANSWER_SHAPES = ("parallel", "merged")
_FACT = re.compile(r"\d[\d,.:-]*\d|\d|[A-Z][\w'-]*(?: [A-Z][\w'-]*)*")


def said_before(text: str, out: list[str]) -> bool:
    """Whether every fact of a sentence (its numbers and names) is in the sentences before it: 'The population of
    Berlin is 3,878,100.' after 'There is one city: Berlin (population 3,878,100).'; 'South Africa is in Africa.'
    after 'Cape Town is in South Africa.' says something new."""
    if "```" in text:  # a block of a tool's lines is said before only where the same block is
        return bool(out) and text.split("```", 1)[1].strip() in " ".join(out)
    facts = {f for f in _FACT.findall(text) if f not in ("The", "It", "Its", "There", "Here", "Yes", "No", "I")}
    earlier = set(_FACT.findall(" ".join(out)))  # whole names: 'Africa' is not said by 'South Africa'
    return bool(out) and bool(facts) and facts <= earlier
