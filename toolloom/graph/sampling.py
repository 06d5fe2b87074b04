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
import re
from collections import Counter, defaultdict

from ..executor import ToolExecutor
from .slots import ENDS
from ..llm import run_async


def value_at(result, path: str):
    """The value at an `a|b|c` output path; through a list it takes the first element."""
    node = result
    for key in path.split("|"):
        while isinstance(node, list):
            if not node:
                return None
            node = node[0]
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return None if isinstance(node, (dict, list)) else node


def list_width(result, path: str) -> int:
    """The most elements of any list the path passes through (1 when it passes none)."""
    node, widest = result, 1
    for key in path.split("|"):
        while isinstance(node, list):
            if not node:
                return widest
            widest = max(widest, len(node))
            node = node[0]
        if not isinstance(node, dict) or key not in node:
            return widest
        node = node[key]
    return widest


def normalised(value) -> str:
    return str(value).strip().lower() if isinstance(value, str) else repr(value)


def stated_values(steps: list[dict]) -> set[str]:
    """Values the request states: every argument not filled from an earlier result."""
    return {normalised(v) for s in steps for k, v in s["arguments"].items() if k not in (s.get("bindings") or {})}


_ENDS = re.compile(r"(?i)(^|_|(?<=[a-z])(?=[A-Z]))(" + "|".join(sorted(ENDS)) + r")(?=$|_|[A-Z])")


def _slot(name: str) -> str:
    """What an input is, without its end: from_city_id and to_city_id are both 'city_id'."""
    return _ENDS.sub("", name).strip("_").lower()


def equal_ends(arguments: dict) -> tuple[str, str] | None:
    """The two ends of one call given the same value (from_unit and to_unit both 'm'), or None.
    (Equal values of different inputs, a 512 x 512 image, are fine.)"""
    ends = [(k, _slot(k)) for k in arguments if _slot(k) != k.lower() and isinstance(arguments[k], str) and arguments[k].strip()]
    for i, (a, slot) in enumerate(ends):
        for b, other in ends[i + 1:]:
            if slot == other and normalised(arguments[a]) == normalised(arguments[b]):
                return a, b
    return None


def degenerate_call(arguments: dict) -> str | None:
    """Why a call is degenerate (travel time from Tokyo to Tokyo, markdown to markdown), or None."""
    pair = equal_ends(arguments)
    return f"{pair[0]} and {pair[1]} are both {arguments[pair[0]]!r}" if pair else None


def chain_problem(steps: list[dict]) -> tuple[str, str] | None:
    """(reason, detail) when an executed chain would make a bad example, else None:
    degenerate_call (a call whose two inputs are equal, or the same call twice), ambiguous_binding
    (a value taken from a list of several: the request cannot say which), fake_dependency (a value
    an earlier result supplies is already stated in the request: no real lookup), circular_lookup
    (the last call only gives back values the chain already had)."""
    calls = set()
    for i, s in enumerate(steps):
        problem = degenerate_call(s["arguments"])
        if problem:
            return "degenerate_call", f"step {i + 1} ({s.get('name') or s.get('tool')}): {problem}"
        name = s.get("name") or s.get("tool")
        key = (name, repr(sorted(s["arguments"].items())))
        if key in calls:
            return "degenerate_call", f"step {i + 1} repeats an earlier call of {name} with the same arguments"
        calls.add(key)
    stated = stated_values(steps)
    for i, s in enumerate(steps):
        for param, b in (s.get("bindings") or {}).items():
            width = list_width(steps[b["step"]]["result"], b["path"])
            if width > 1:
                return "ambiguous_binding", (f"step {b['step'] + 1} returns {width} candidates for {b['path'].split('|')[-1]}; "
                                             f"the request cannot say which one step {i + 1} takes as {param}")
            if normalised(s["arguments"][param]) in stated:
                return "fake_dependency", (f"step {i + 1} takes {param} = {s['arguments'][param]!r} from step {b['step'] + 1}, "
                                           "but the request already states that value")
    if len(steps) > 1:
        known = stated | {normalised(v) for s in steps for v in s["arguments"].values()}
        last = _scalars(steps[-1]["result"])
        if last and all(v in known for v in last):  # get_country(IN) -> find_country('India') -> IN
            return "circular_lookup", f"the last call ({steps[-1].get('name') or steps[-1].get('tool')}) only returns values the chain started from"
    return None


def _scalars(result) -> set[str]:
    """The string and number values of a result (not yes/no or null), normalised."""
    out: set[str] = set()
    stack = [result]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, (str, int, float)) and not isinstance(node, bool):
            out.add(normalised(node))
    return out


class ChainSampler:
    def __init__(self, tools: list[dict], edges: list[dict], executor: ToolExecutor, seed: int):
        self.tools = {t["name"]: t for t in tools}
        self.examples = {t["name"]: t["examples"] for t in tools if t.get("examples")}
        self.executor = executor
        self.rng = random.Random(seed)
        self.out_edges: dict[str, list[dict]] = defaultdict(list)
        self.in_edges: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for e in edges:
            if e.get("llm_verdict") == "invalid":  # a validator said this call makes no sense
                continue
            if e["src_tool"] in self.examples and e["dst_tool"] in self.examples:
                self.out_edges[e["src_tool"]].append(e)
                self.in_edges[e["dst_tool"]][e["dst_slot"]].append(e)
        self.failures: Counter = Counter()
        self.accepted_targets: Counter = Counter()  # nested chains kept, by the call they feed
        self.tried_targets: Counter = Counter()

    async def _walk(self, hops: int) -> list[dict] | None:
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
        chain = [{"tool": name, "arguments": args, "bindings": {}, "result": obs.content}]
        for _ in range(hops):
            options = [e for e in self.out_edges[chain[-1]["tool"]] if e["dst_tool"] not in {c["tool"] for c in chain}]
            self.rng.shuffle(options)
            for edge in options:
                value = value_at(chain[-1]["result"], edge["src_slot"])
                if value is None:
                    continue
                if normalised(value) in stated_values(chain) or list_width(chain[-1]["result"], edge["src_slot"]) > 1:
                    self.failures["not_a_lookup"] += 1  # an echo of a stated value, or one of several
                    continue
                args = dict(self.rng.choice(self.examples[edge["dst_tool"]]))
                args[edge["dst_slot"]] = value
                if degenerate_call(args):
                    self.failures["degenerate_call"] += 1
                    continue
                obs = await episode.call(edge["dst_tool"], args)
                if obs.ok:
                    chain.append({"tool": edge["dst_tool"], "arguments": args, "result": obs.content,
                                  "bindings": {edge["dst_slot"]: {"step": len(chain) - 1, "path": edge["src_slot"]}}})
                    break
            else:
                break
        if len(chain) < 2:
            self.failures["dead_end"] += 1
            return None
        return chain

    async def _parallel(self) -> list[dict] | None:
        names = sorted(self.examples)
        if len(names) < 2:
            self.failures["too_few_tools"] += 1
            return None
        episode = self.executor.episode()
        chain = []
        for name in self.rng.sample(names, 2):
            args = dict(self.rng.choice(self.examples[name]))
            obs = await episode.call(name, args)
            if not obs.ok:
                self.failures["step_failed"] += 1
                return None
            chain.append({"tool": name, "arguments": args, "bindings": {}, "result": obs.content})
        return chain

    async def _nested(self) -> list[dict] | None:
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
            options = [a for a in self.examples[edge["src_tool"]] if (edge["src_tool"], repr(sorted(a.items()))) not in used]
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
            chain.append({"tool": edge["src_tool"], "arguments": args, "bindings": {}, "result": obs.content})
            bound[param] = (len(chain) - 1, edge["src_slot"], value)
        args = dict(self.rng.choice(self.examples[target]))
        args.update({p: v for p, (_, _, v) in bound.items()})
        obs = await episode.call(target, args)
        if not obs.ok:
            self.failures["step_failed"] += 1
            return None
        chain.append({"tool": target, "arguments": args, "result": obs.content,
                      "bindings": {p: {"step": k, "path": path} for p, (k, path, _) in bound.items()}})
        return chain

    def sample(self, shape: str, count: int, max_hops: int = 2, attempts_per_task: int = 8) -> list[list[dict]]:
        """Up to `count` distinct chains of a shape; fewer when the graph cannot give them."""

        async def run() -> list[list[dict]]:
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
                key = repr([(c["tool"], sorted(c["arguments"].items())) for c in chain])
                if key in seen:
                    self.failures["duplicate"] += 1
                    continue
                seen.add(key)
                chains.append(chain)
                if shape == "nested":
                    self.accepted_targets[chain[-1]["tool"]] += 1
            return chains

        return run_async(run())
