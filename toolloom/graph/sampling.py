"""Chain sampling over the API graph (ToolFlow random walks; Magnet-style composition).

single:    one call from a tool's documented example arguments;
multi_hop: a random walk A -> B (-> C): each next call takes one argument from the previous
           result, along a graph edge (output slot -> input slot);
parallel:  two independent calls (Magnet's merge of two tasks into one turn);
nested:    two independent calls whose results both feed a third (fan-in: the distance between
           the capitals of two countries), Magnet's insert of calls into a chain.
Every chain is executed in one episode while it is sampled, so its reference answer is a real
result and a walk that fails at any step is discarded with the reason counted.
"""

from __future__ import annotations

import random
from collections import Counter

from ..domain import Step, Tool
from ..executors.routing import ToolExecutor
from ..llm import run_async
from ..volatile import stable
from .chains import ChainGraph, chain_problem, degenerate_call, list_width, normalised, stated_values, value_at


def _same_subject(args: dict, chain: list[Step], bound: str) -> None:
    """A chain is about one thing: a text argument an earlier step also took (the file `path` a checkpoint
    was made for) takes the value said there, not another example's."""
    for k, v in args.items():
        earlier = next((s.arguments[k] for s in reversed(chain) if k in s.arguments and k not in s.bindings), None)
        if k != bound and isinstance(v, str) and isinstance(earlier, str):
            args[k] = earlier


SAME_SUBJECT_SHARE = 0.9  # of parallel pairs where a second tool can be asked about what the first named


def _takes_alike(example: dict, first: dict) -> bool:
    """Whether a tool's example takes a text value under a name the first call also used (country_code)."""
    return any(isinstance(v, str) and isinstance(first.get(k), str) for k, v in example.items())


class ChainSampler:
    """Chains of one shape, each executed while it is sampled (tools: rows with `examples`)."""

    def __init__(self, tools: list[Tool], edges: list[dict], executor: ToolExecutor, seed: int):
        self.graph = ChainGraph(tools, edges, executor)
        self.examples, self.out_edges, self.in_edges = self.graph.examples, self.graph.out_edges, self.graph.in_edges
        self.executor = executor
        self.rng = random.Random(seed)
        self.failures: Counter = Counter()
        self.accepted_targets: Counter = Counter()  # nested chains kept, by the call they feed
        self.tried_targets: Counter = Counter()

    async def _walk(self, hops: int) -> list[Step] | None:
        starts = sorted(n for n in self.out_edges if self.out_edges[n])
        if not starts:
            self.failures["no_edges"] += 1
            return None
        name = self.rng.choice(starts)
        episode = self.executor.episode()
        args = dict(self.rng.choice(self.examples[name]))
        obs = await episode.call(name, args)
        if not obs.ok:
            self.failures["step_failed"] += 1
            return None
        chain = [self.graph.step(name, args, result=obs.content)]
        for _ in range(hops):
            options = [e for e in self.out_edges[chain[-1].name] if e["dst_tool"] not in {c.name for c in chain}]
            self.rng.shuffle(options)
            for edge in options:
                value = value_at(chain[-1].result, edge["src_slot"])
                if value is None:
                    continue
                if normalised(value) in stated_values(chain) or list_width(chain[-1].result, edge["src_slot"]) > 1:
                    self.failures["not_a_lookup"] += 1  # an echo of a stated value, or one of several
                    continue
                args = dict(self.rng.choice(self.examples[edge["dst_tool"]]))
                args[edge["dst_slot"]] = value
                _same_subject(args, chain, edge["dst_slot"])
                if degenerate_call(args):
                    self.failures["degenerate_call"] += 1
                    continue
                obs = await episode.call(edge["dst_tool"], args)
                if obs.ok:
                    bindings = {edge["dst_slot"]: {"step": len(chain) - 1, "path": edge["src_slot"]}}
                    chain.append(self.graph.step(edge["dst_tool"], args, bindings, obs.content))
                    break
            else:
                break
        if len(chain) < 2:
            self.failures["dead_end"] += 1
            return None
        return chain

    async def _parallel(self) -> list[Step] | None:
        names = sorted(self.examples)
        if len(names) < 2:
            self.failures["too_few_tools"] += 1
            return None
        episode = self.executor.episode()
        chain = []
        first = self.rng.choice(names)
        # two requests a person makes in one breath are about one thing: the second tool from the first's spec file
        # (the demo's money, dates, geo, ...) where it has others; one big spec (most real collections): any
        topic = self.graph.tools[first].get("source_file")
        near = [n for n in names if n != first and self.graph.tools[n].get("source_file") == topic]
        first_args = dict(self.rng.choice(self.examples[first]))
        # ... and, where another tool takes a value of the same name, mostly about the same subject: 'What is the
        # VAT rate in Sweden, and which languages are spoken there?', not two unrelated questions glued together
        pool = near or [n for n in names if n != first]
        alike = [n for n in pool if any(_takes_alike(ex, first_args) for ex in self.examples[n])]
        second = self.rng.choice(alike if alike and self.rng.random() < SAME_SUBJECT_SHARE else pool)
        for name in (first, second):
            args = first_args if name == first else dict(self.rng.choice(self.examples[name]))
            if name != first and name in alike:
                args = {k: first_args.get(k, v) if isinstance(v, str) else v for k, v in args.items()}
            obs = await episode.call(name, args)
            if not obs.ok:
                self.failures["step_failed"] += 1
                return None
            chain.append(self.graph.step(name, args, result=obs.content))
        if not await self._order_free(chain):
            self.failures["order_dependent"] += 1  # moving a file and listing its folder: not two parallel calls
            return None
        return chain

    async def _order_free(self, chain: list[Step]) -> bool:
        """Whether two calls made in one turn answer the same in the other order (each in a fresh episode), so
        that neither depends on the other's effect; a simulated call cannot tell, and passes."""
        if any(self.graph.tools[s.name].get("execution", "simulated") == "simulated" for s in chain):
            return True
        episode = self.executor.episode()
        try:
            for step in reversed(chain):
                obs = await episode.call(step.name, step.arguments)
                if not obs.ok or stable(obs.content) != stable(step.result):
                    return False
            return True
        finally:
            episode.close()

    async def _nested(self) -> list[Step] | None:
        targets = sorted(t for t, slots in self.in_edges.items() if len(slots) >= 2)
        if not targets:
            self.failures["no_fan_in"] += 1
            return None

        # the target with the fewest chains kept so far (a failed try counts a fifth of one): one easy
        # target (two currencies) must not fill the whole shape while others (two cities) need more tries
        def load(t: str) -> float:
            return self.accepted_targets[t] + 0.2 * (self.tried_targets[t] - self.accepted_targets[t])

        fewest = min(load(t) for t in targets)
        target = self.rng.choice([t for t in targets if load(t) == fewest])
        self.tried_targets[target] += 1
        episode = self.executor.episode()
        chain, bound, used = [], {}, set()
        for param in self.rng.sample(sorted(self.in_edges[target]), 2):
            edge = self.rng.choice(self.in_edges[target][param])
            options = [
                a for a in self.examples[edge["src_tool"]] if (edge["src_tool"], repr(sorted(a.items()))) not in used
            ]
            if not options:
                self.failures["no_distinct_source"] += 1
                return None
            args = dict(self.rng.choice(options))
            used.add((edge["src_tool"], repr(sorted(args.items()))))
            obs = await episode.call(edge["src_tool"], args)
            value = value_at(obs.content, edge["src_slot"]) if obs.ok else None
            if value is None:
                self.failures["step_failed"] += 1
                return None
            chain.append(self.graph.step(edge["src_tool"], args, result=obs.content))
            bound[param] = (len(chain) - 1, edge["src_slot"], value)
        args = dict(self.rng.choice(self.examples[target]))
        args.update({p: v for p, (_, _, v) in bound.items()})
        obs = await episode.call(target, args)
        if not obs.ok:
            self.failures["step_failed"] += 1
            return None
        chain.append(
            self.graph.step(
                target, args, {p: {"step": k, "path": path} for p, (k, path, _) in bound.items()}, obs.content
            )
        )
        return chain

    def sample(self, shape: str, count: int, max_hops: int = 2, attempts_per_task: int = 8) -> list[list[Step]]:
        """Up to `count` distinct chains of a shape; fewer when the graph cannot give them."""

        async def run() -> list[list[Step]]:
            chains, seen = [], set()
            for _ in range(count * attempts_per_task):
                if len(chains) >= count:
                    break
                if shape == "multi_hop":
                    chain = await self._walk(self.rng.randint(1, max_hops))
                else:
                    chain = await (self._nested() if shape == "nested" else self._parallel())
                if chain is None:
                    continue
                problem = chain_problem(chain)
                if problem:
                    self.failures[problem[0]] += 1
                    continue
                key = repr([(c.name, sorted(c.arguments.items())) for c in chain])
                if key in seen:
                    self.failures["duplicate"] += 1
                    continue
                seen.add(key)
                chains.append(chain)
                if shape == "nested":
                    self.accepted_targets[chain[-1].name] += 1
            return chains

        return run_async(run())
