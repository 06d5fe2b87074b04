"""Structural escalation operators (progressive difficulty, DESIGN section 3.3).

Each operator takes an executed chain and returns a harder one, executed again from scratch in one
episode, so the new level's reference answer is a real result; None when it does not apply.

add_hop:        one more call through the API graph, fed by the last call's result;
replace_value:  an explicit argument becomes a lookup: a new first call whose result supplies it
                (a source call that gives the same value is preferred, so the request keeps its meaning);
add_constraint: an optional parameter is set (values the schema, its description or the tool's
                examples document, else the other value of a flag) and must change the result;
describe_value: no new call: the request describes its dates and clock times instead of stating them
                ("the third Monday of May 2026"), so the agent must work the value out
                (`text/descriptions.py`); it needs no graph edge.
add_distractor: no new call: the same chain offered beside tools that are nearly right for one of its
                calls (same call shape, a different result when executed; `near_tools.py`); no graph edge.
branch_on_result: a second request, another task's call, whose arguments depend on a number in the
                chain's result ('If the temperature is above 20, ...; otherwise, ...'; `branching.py`);
                no graph edge.
Putting an unrelated task beside this one (Magnet's merge) makes a request longer, not harder: it
is no operator here; parallel examples come from the tasks stage (`tasks.parallel`).

Steps are `domain.Step`s; bindings map a parameter to {"step": k, "path": "a|b"}, filled from step
k's result when the chain is executed (chains.ChainGraph.execute).
"""

from __future__ import annotations

import calendar
import json
import random
import re
from dataclasses import dataclass, field

from ..domain import Step, Tool
from ..executors.routing import ToolExecutor
from ..registry import ESCALATION_OPERATORS
from ..text.descriptions import describe, named_by_date
from ..text.synthesis import ArgumentSynthesizer
from ..text.values import schema_type
from ..volatile import stable
from .branching import branch_on_result
from .near_tools import MAX_NEW, NearTools, nearly_right
from .chains import ChainGraph, chain_problem, list_width, normalised, stated_values, value_at

# paging and ordering say how many and in which order, not which: no constraint a person asks for
PAGING = re.compile(r"page|page_?size|per_?page|limit|offset|cursor|page_?token|sort(_?by|_?order)?|order_?by", re.I)


@dataclass
class Harder:
    """An operator's level when it changes how the request says a value, beside or instead of the chain."""

    steps: list[Step]
    described: dict[str, str] = field(default_factory=dict)  # a value as the request states it -> said instead
    distractors: list[str] = field(default_factory=list)  # nearly right tools the level must offer


def terminals(steps: list[Step]) -> list[int]:
    """Steps whose result no later step consumes: together they are the request's answer."""
    consumed = {k for s in steps for k in s.reads()}
    return [i for i in range(len(steps)) if i not in consumed]


def reference_answer(steps: list[Step]):
    ends = terminals(steps)
    return steps[ends[0]].result if len(ends) == 1 else [steps[i].result for i in ends]


def shape_of(steps: list[Step]) -> str:
    if len(steps) == 1:
        return "single"
    if len(terminals(steps)) > 1:
        return "parallel" if not any(s.reads() for s in steps) else "merged"
    return "nested" if any(len(s.reads()) > 1 for s in steps) else "multi_hop"


def alternative_answers(steps: list[Step]) -> str | None:
    """Why the request admits a second valid answer, or None. A value taken from a list of several
    ('the city id from step 1' when step 1 lists five cities) could be any of them."""
    for j, step in enumerate(steps):
        for param, b in step.bindings.items():
            width = list_width(steps[b["step"]].result, b["path"])
            if width > 1:
                return (
                    f"step {b['step'] + 1} returns {width} candidates for {b['path'].split('|')[-1]}; "
                    f"the request does not say which one step {j + 1} takes as {param}"
                )
    return None


def looked_up(step: Step, path: str) -> bool:
    """The result gives a value at `path` that the call was not simply given (an echoed argument is no lookup)."""
    value = value_at(step.result, path)
    return value is not None and value not in step.arguments.values()


def planned(steps: list[Step], shift: int = 0) -> list[Step]:
    """The chain to change and run again; `shift` moves its bindings when steps are put before it."""
    out = [s.planned() for s in steps]
    for s in out:
        for b in [*s.bindings.values(), *([s.condition] if s.condition else [])]:
            b["step"] += shift
    return out


MONTHS = {m.lower() for m in calendar.month_name if m}


def gives_away(description: str, results: str) -> bool:
    """A description that names what a result says ('the last Friday of ...' for a weekday lookup)
    hands over the answer: words of 6+ letters, other than month names, found in the results."""
    return any(w in results for w in re.findall(r"[a-z]{6,}", description.lower()) if w not in MONTHS)


class ChainEscalator:
    """Harder chains from executed ones (tools: decoded rows with `examples`)."""

    def __init__(self, tools: list[Tool], edges: list[dict], executor: ToolExecutor):
        self.graph = ChainGraph(tools, edges, executor)
        self.examples, self.out_edges, self.in_edges = self.graph.examples, self.graph.out_edges, self.graph.in_edges
        self.params = {t["name"]: t["parameters"] for t in tools}
        self.execute = self.graph.execute
        self.synthesizer = ArgumentSynthesizer(edges)
        self.near = NearTools(self.graph.tools)  # add_distractor's candidates, by retrieval

    async def apply(
        self, operator: str, steps: list[Step], rng: random.Random, other: list[Step] | None = None
    ) -> list[Step] | Harder | None:
        """The chain made harder by a registered operator (None when it does not apply here)."""
        return await ESCALATION_OPERATORS.get(operator)(self, steps, rng, other)

    async def add_hop(self, steps: list[Step], rng: random.Random) -> list[Step] | None:
        last, used = steps[-1], {s.name for s in steps}
        if last.condition:  # a call fed by one of two branches would be said for both
            return None
        options = [e for e in self.out_edges[last.name] if e["dst_tool"] not in used]
        rng.shuffle(options)
        stated = stated_values(steps)
        for edge in options:
            if (
                not looked_up(last, edge["src_slot"])
                or list_width(last.result, edge["src_slot"]) > 1
                or normalised(value_at(last.result, edge["src_slot"])) in stated
            ):
                continue  # no lookup, one of several, or a value the request states: not worth executing
            args = dict(rng.choice(self.examples[edge["dst_tool"]]))
            new = planned(steps) + [
                self.graph.step(
                    edge["dst_tool"], args, {edge["dst_slot"]: {"step": len(steps) - 1, "path": edge["src_slot"]}}
                )
            ]
            done, _ = await self.execute(new)
            if done and not chain_problem(done):  # one of several, or a value the request states, is no lookup
                return done
        return None

    async def replace_value(self, steps: list[Step], rng: random.Random) -> list[Step] | None:
        used = {s.name for s in steps}
        spots = [
            (i, p)
            for i, s in enumerate(steps)
            for p in s.arguments
            if p not in s.bindings and not s.condition and self.in_edges[s.name].get(p)
        ]  # a branch's values are its condition's, not a lookup's
        rng.shuffle(spots)
        for i, param in spots:
            edges = [e for e in self.in_edges[steps[i].name][param] if e["src_tool"] not in used]
            rng.shuffle(edges)
            fallback = None
            for edge in edges:
                for args in rng.sample(
                    self.examples[edge["src_tool"]], k=min(12, len(self.examples[edge["src_tool"]]))
                ):
                    new = [self.graph.step(edge["src_tool"], dict(args))] + planned(steps, shift=1)
                    new[i + 1].bindings[param] = {"step": 0, "path": edge["src_slot"]}
                    done, _ = await self.execute(new)
                    if not done or not looked_up(done[0], edge["src_slot"]) or chain_problem(done):
                        continue
                    if done[i + 1].arguments[param] == steps[i].arguments[param]:
                        return done  # the lookup gives the value the request used to state
                    fallback = fallback or done
            if fallback:
                return fallback
        return None

    def _constraint_values(self, name: str, param: str, prop: dict) -> list:
        """Values a constraint may set: documented ones (enum, examples, the description's, the tool's
        examples), else the flag's non-default side; never the default (it constrains nothing)."""
        values = [ex[param] for ex in self.examples.get(name, []) if param in ex]
        values += self.synthesizer.candidates(name, param, prop)  # enum, examples, the description's values
        default = json.dumps(prop.get("default"), sort_keys=True)
        out = [v for v in dict.fromkeys(json.dumps(v, sort_keys=True) for v in values) if v != default]
        if (
            not out and schema_type(prop) == "boolean"
        ):  # a flag's documented default is no constraint: its other side is
            out = [json.dumps(not prop.get("default", False))]
        return out

    async def add_constraint(self, steps: list[Step], rng: random.Random) -> list[Step] | None:
        spots = []
        for i, s in enumerate(steps):
            if s.condition:
                continue  # a branch's arguments are its condition's to pick
            schema = self.params.get(s.name) or {}
            required = set(schema.get("required") or [])
            for p, prop in (schema.get("properties") or {}).items():
                if p not in required and p not in s.arguments and p not in s.bindings and not PAGING.fullmatch(p):
                    spots.append((i, p, self._constraint_values(s.name, p, prop)))
        rng.shuffle(spots)
        for i, param, values in spots:
            rng.shuffle(values)
            for value in values:
                new = planned(steps)
                new[i].arguments[param] = json.loads(value)
                done, _ = await self.execute(new)
                # a constraint that changes nothing is none (a live service's fresh timestamps are no change)
                if done and stable(done[i].result) != stable(steps[i].result):
                    return done
        return None

    async def describe_value(self, steps: list[Step], rng: random.Random) -> Harder | None:
        """The same chain, run again, with one stated date or clock time described, not stated: one a person would
        describe (not a span's ends, not the first or last of a month: readers called those puzzles)."""
        results = json.dumps([s.result for s in steps], ensure_ascii=False).lower()
        said = [{v: describe(v) for p, v in s.arguments.items() if p not in s.bindings and describe(v)} for s in steps]
        described = {
            v: text
            for one in said
            if len(one) == 1  # a step taking two dates (days_between) keeps both stated
            for v, text in one.items()
            if not gives_away(text, results) and not named_by_date(v)
        }
        if not described:
            return None
        value = rng.choice(sorted(described))
        described = {value: described[value]}
        done, _ = await self.execute(planned(steps))
        return Harder(done, described) if done else None

    async def add_distractor(self, steps: list[Step], rng: random.Random) -> Harder | None:
        """The same chain, run again, with nearly right tools to offer beside it (more than a level
        adds: the ladder keeps those its previous level did not offer)."""
        names = await nearly_right(self, self.near, steps, rng, limit=2 * MAX_NEW)
        if not names:
            return None
        done, _ = await self.execute(planned(steps))
        return Harder(done, distractors=names) if done else None


class StructuralVerifier:
    """The offline verifier, also the first check of the model verifier: a request whose reference
    admits a second answer, or whose chain does not give the same answer twice, is dropped."""

    name = "structural-verifier"

    def __init__(self, chains: ChainEscalator):
        self.chains = chains

    async def verify(self, question: str, steps: list[Step], reference) -> str | None:
        reason = alternative_answers(steps)
        if reason:
            return f"alternative_answer: {reason}"
        problem = chain_problem(steps)
        if problem:
            return f"{problem[0]}: {problem[1]}"
        again, error = await self.chains.execute(steps)
        if again is None:
            return f"not_reproducible: {error}"
        if stable(reference_answer(again)) != stable(reference):  # a live service stamps each execution anew
            return "nondeterministic: executing the chain again gave a different answer"
        return None


def _builtin_operator(name: str):
    """The `ChainBuilder` method `name` as an operator (contracts.EscalationOperator)."""

    async def operator(chains, steps: list[Step], rng: random.Random, other) -> list[Step] | Harder | None:
        return await getattr(chains, name)(steps, rng)

    operator.__name__ = operator.__qualname__ = name
    return operator


# operator name -> async fn(chains, steps, rng, other task's steps) -> harder steps | None; plug-ins add theirs
for _name in ("add_hop", "replace_value", "add_constraint", "describe_value", "add_distractor"):
    ESCALATION_OPERATORS.register(_name, _builtin_operator(_name))
ESCALATION_OPERATORS.register("branch_on_result", branch_on_result)  # combines: it takes the other task's call
