"""The `branch_on_result` escalation operator: a second request that depends on the first's result.

'Is p102 in stock, and what does it cost? If the price is below 50 EUR, add 2 of p102 to my cart.
Otherwise, add 1 of p102 to my cart.' The second request is a call about something the first names,
with two argument sets that give different results; which one is right depends on a number in the
first request's result, so the agent must read that result before it makes the second call. No graph
edge is needed (sparse collections such as RapidAPI have few), and the level stays verifiable: the
chain is executed, the condition is evaluated on the executed result, and calling the other branch is
a failure (`wrong_branch`).

A branched step carries `condition`: {"step": k, "path": "a|b", "test": "above" | "below",
"than": T, "then": arguments, "otherwise": arguments}; its own `arguments` are the branch taken.
"""

from __future__ import annotations

import json
import math
import random
import re

from ..domain import Step
from ..text.spoken import UNIT_WORDS
from ..text.values import schema_type
from ..volatile import stable
from .chains import passes, value_at

# numbers that name a thing rather than measure it: no threshold a person would ask about
NAMING = re.compile(
    r"(?i)(^|_|\b)(id|ids|code|zip|postcode|phone|number|no|index|version|epoch|timestamp)$|Id$"
    r"|^(lat|lon|lng|latitude|longitude)$"  # a place's coordinates: no threshold a person sets
    r"|^(hours|days|minutes|seconds|years)_"  # 'days_until': no noun to say it by
)
MAX_PATHS = 4  # numeric fields tried per chain
MAX_STEPS = 1  # chains branched on at most this long: more parts before a condition read as glued-on requests
TIME_UNITS = {"hours": "hours", "days": "days", "minutes": "minutes", "seconds": "seconds", "years": "years"}
ACRONYMS = {"utc", "vat", "gdp", "eur", "usd"}
GENERIC = {"value": "result"}  # 'If the result is above 25 mi', not 'the value'
UNIT_KEYS = ("unit", "units", "currency", "currency_code")
MEASURES = {"value", "amount", "total", "price", "cost", "result", "sum"}  # said with the unit beside them
MAX_OTHERS = 6  # argument sets tried for the second request's other branch


def numeric_paths(result, prefix: str = "") -> list[str]:
    """Paths ('a|b') to the numbers of a result's objects (not through lists: one of several is no condition)."""
    if not isinstance(result, dict):
        return []
    out = []
    for key, value in result.items():
        path = f"{prefix}|{key}" if prefix else str(key)
        if isinstance(value, dict):
            out += numeric_paths(value, path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            if not NAMING.search(str(key)):  # a negative offset ('below -4.5') reads as a puzzle
                out.append(path)
    return out


def round_thresholds(value: float) -> list[float]:
    """Round numbers either side of `value` (23.4 -> 20, 25, 30; 10 -> 5, 15, 20), never the value itself."""
    if value == 0 or not math.isfinite(value):
        return []
    unit = 10 ** math.floor(math.log10(abs(value)))
    low = math.floor(value / unit) * unit
    out = {low, low + unit / 2, low + unit} | ({low - unit / 2} if low == value else set())
    if isinstance(value, int) and unit == 1:  # a count: 5 or 7 items, not 5.5
        out = {value - 1, value + 1} - {0}
    out = {round(t, 9) for t in out}  # 0.1 * 3 is 0.30000000000000004
    return sorted(t if t != int(t) else int(t) for t in out if t != value)


def said_number(value: float) -> str:
    return f"{value:,}" if abs(value) >= 10000 else str(value)


def condition_phrase(condition: dict) -> str:
    """'the subtotal is above 55 EUR' for the condition's path and test (a unit the field name ends in, or
    that the result names beside the number, is said after it)."""
    leaf = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", condition["path"].split("|")[-1])
    words = re.sub(r"[_\-]+", " ", leaf).strip().lower().split()
    named = (UNIT_WORDS.get(words[-1]) or TIME_UNITS.get(words[-1])) if len(words) > 1 else None
    if not named and words[-1] in TIME_UNITS:
        named = TIME_UNITS[words[-1]]  # 'hours' alone: 'it is above 5 hours'
    unit = named or (condition.get("unit") if words[-1] in MEASURES else None)  # else the unit beside it
    said = f"{condition['test']} {said_number(condition['than'])}" + (f" {unit}" if unit else "")
    noun = " ".join(w.upper() if w in ACRONYMS else w for w in (words[:-1] if named else words))
    return f"the {GENERIC.get(noun, noun)} is {said}" if noun else f"it is {said}"


def sibling_unit(result, path: str) -> str | None:
    """The unit or currency the number's own object names beside it ({"value": 26.2, "unit": "mi"})."""
    parent = value_at_object(result, path.split("|")[:-1])
    for key in UNIT_KEYS:
        if isinstance(parent, dict) and isinstance(parent.get(key), str) and 0 < len(parent[key]) <= 12:
            return parent[key]
    return None


def value_at_object(result, keys: list[str]):
    node = result
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def branch_problem(steps: list[Step], calls: list[dict]) -> tuple[str, str] | None:
    """('wrong_branch', detail) when an episode made the call of a branch its condition did not take."""
    for step in steps:
        cond = step.condition
        if not cond:
            continue
        untaken = cond["otherwise"] if stable(step.arguments) == stable(cond["then"]) else cond["then"]
        for call in calls:
            try:
                args = json.loads(call["arguments"]) if isinstance(call["arguments"], str) else call["arguments"]
            except json.JSONDecodeError:
                continue
            if call["name"] == step.name and stable(args) == stable(untaken):
                return "wrong_branch", f"called {step.name} as the branch that {condition_phrase(cond)} did not take"
    return None


async def branch_on_result(chains, steps: list[Step], rng: random.Random, other: list[Step] | None):
    """The chain, then a call about what it was about whose arguments depend on a number in its last result (None
    when no such number, related call, or second argument set with a different result exists). `other`, another
    task's chain, is not taken: an unrelated request under a condition reads as a puzzle."""
    if len(steps) > MAX_STEPS or any(s.condition for s in steps):
        return None
    last = len(steps) - 1
    given = steps[last].arguments.values()  # an echoed argument is no result to read
    paths = [p for p in numeric_paths(steps[last].result) if value_at(steps[last].result, p) not in given]
    rng.shuffle(paths)
    seconds = related_calls(chains, steps)
    rng.shuffle(seconds)
    seconds.sort(key=lambda c: -c[2])  # most about what the chain names first: 'by train from Paris to Berlin'
    for path in paths[:MAX_PATHS]:
        for second, other_args, _ in seconds[:MAX_OTHERS]:
            branched = await _branched(chains, steps, second, path, value_at(steps[last].result, path), other_args, rng)
            if branched:
                return branched
    return None


def related_calls(chains, steps: list[Step]) -> list[tuple[Step, dict, float]]:
    """Calls of other tools about what the last call was about (they take each of its names and codes, by the
    same parameter), each with a second argument set that differs in a choice or a count ('by train' or 'by
    car', 'add 2' or 'add 1'), and how well it fits. A condition reads as a reason only there: readers marked
    every branch flawed where it picked another city, date or currency pair ('If the population is below
    70,000,000, ... by train')."""
    subject = {p: v for p, v in steps[-1].arguments.items() if isinstance(v, str)}
    used, out = {s.name for s in steps}, []
    for name, examples in sorted(chains.examples.items()):
        props = (chains.params.get(name) or {}).get("properties") or {}
        if name in used or not subject or not set(subject) <= set(props):
            continue
        for args in (e for e in examples if set(subject) <= set(e)):
            args = {**args, **subject}  # the example's call, about the same thing
            for param in sorted(p for p in set(args) - set(subject) if _choice_or_count(p, props.get(p) or {})):
                for v in dict.fromkeys(json.dumps(e[param], sort_keys=True) for e in examples if param in e):
                    if json.loads(v) != args[param]:
                        score = len(subject) + 0.5 * ("enum" in props[param])  # a choice of few ways reads best
                        out.append((chains.graph.step(name, dict(args)), {**args, param: json.loads(v)}, score))
    return out


COUNTS = re.compile(
    r"(?i)quantity|qty|count|pieces|units|people|persons|guests|adults|children|nights|seats|tickets|rooms"
)


def _choice_or_count(param: str, prop: dict) -> bool:
    """A parameter a condition can decide: one of few ways (an enum), or how many (not which year or page)."""
    return "enum" in prop or (schema_type(prop) == "integer" and bool(COUNTS.search(param)))


def _strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


async def _branched(chains, steps, second: Step, path: str, value, other_args: dict, rng: random.Random):
    """The chain with the second call on the branch the result takes, when the other branch's call runs and
    gives a different result."""
    thresholds = round_thresholds(value)
    if not thresholds:
        return None
    than, test = rng.choice(thresholds), rng.choice(("above", "below"))
    taken, untaken = dict(second.arguments), other_args
    then, otherwise = (taken, untaken) if passes(value, test, than) else (untaken, taken)
    condition = {"step": len(steps) - 1, "path": path, "test": test, "than": than, "then": then, "otherwise": otherwise}
    if unit := sibling_unit(steps[-1].result, path):
        condition["unit"] = unit
    new = [s.planned() for s in steps] + [
        Step(second.tool_id, second.name, second.description, dict(taken), condition=condition)
    ]
    done, _ = await chains.execute(new)
    if not done:
        return None
    alone, _ = await chains.execute([chains.graph.step(second.name, dict(untaken))])
    if not alone or stable(alone[0].result) == stable(done[-1].result):
        return None  # the condition would change nothing the answer says
    return done
