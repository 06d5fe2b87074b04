"""The `add_distractor` escalation operator: the same chain, offered beside a nearly right tool.

A nearly right tool for one of the chain's calls is another tool of the collection that retrieval
ranks close to it, that takes the same call (every argument the step was given is one of its
parameters, and it requires none the step lacks), and that, executed in its place after the same
earlier steps, succeeds with a different result: the request's words still point to one tool, but
a tool that answers the call does not answer the request. It needs no graph edge, so it applies
to collections whose API graph leaves no hop to add (a RapidAPI slice). The level offers these
tools whatever the episode's own distractors are (escalations' `distractors` column).
"""

from __future__ import annotations

import random

from ..domain import Step
from ..retrieval import SparseBM25
from ..text.words import tokens
from ..volatile import stable

NEAREST = 8  # the closest tools by retrieval that are tried as stand-ins for one call
MAX_NEW = 2  # nearly right tools a level adds


def takes_call(schema: dict, arguments: dict) -> bool:
    """`schema` (a tool's parameters) accepts a call with exactly these argument names."""
    props = (schema or {}).get("properties") or {}
    required = set((schema or {}).get("required") or [])
    return bool(arguments) and set(arguments) <= set(props) and required <= set(arguments)


class NearTools:
    """The collection's tools ranked by BM25 similarity of name and documentation to one tool."""

    def __init__(self, tools: dict[str, dict]):
        self.names = sorted(tools)
        docs = [tokens(f"{n} {tools[n].get('description') or ''}") or ["_"] for n in self.names]
        self.index = SparseBM25(docs) if docs else None
        self.tools = tools

    def nearest(self, name: str, skip: set[str], k: int) -> list[str]:
        if not self.index:
            return []
        scores = self.index.get_scores(tokens(f"{name} {self.tools[name].get('description') or ''}"))
        ranked = sorted(range(len(self.names)), key=lambda i: (-scores[i], self.names[i]))
        return [self.names[i] for i in ranked if self.names[i] not in skip and scores[i] > 0][:k]


async def nearly_right(chains, near: NearTools, steps: list[Step], rng: random.Random, limit: int) -> list[str]:
    """Names of up to `limit` tools, none of them called by the chain, each nearly right for one step."""
    used, found = {s.name for s in steps}, []
    order = list(range(len(steps)))
    rng.shuffle(order)
    for i in order:
        step = steps[i]
        for name in near.nearest(step.name, used, NEAREST):
            if not takes_call(chains.graph.tools[name].get("parameters"), step.arguments):
                continue
            stated = {k: v for k, v in step.arguments.items() if k not in step.bindings}
            stand_in = chains.graph.step(name, stated, {k: dict(b) for k, b in step.bindings.items()})
            done, _ = await chains.execute([s.planned() for s in steps[:i]] + [stand_in])
            if done and stable(done[-1].result) != stable(step.result):
                found.append(name)
                used.add(name)
                if len(found) == limit:
                    return found
    return found
