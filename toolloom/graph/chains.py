"""Chains over the API graph: the graph as chain builders see it (tools with example arguments, the
edges between them), running a chain in one episode, and what makes an executed chain a bad example.
Shared by task sampling (sampling.py) and escalation (escalation.py)."""

from __future__ import annotations

import re
from collections import defaultdict

from ..domain import Step, Tool
from ..executors.routing import ToolExecutor
from ..text import spoken
from ..text.tool_names import parse_name, words_of
from .names import singular
from .slots import ENDS


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


def passes(value, test: str, than: float) -> bool:
    """Whether a branch condition's test holds for the value (graph/branching.py)."""
    return value > than if test == "above" else value < than


def branch_arguments(condition: dict, result) -> dict | None:
    """The arguments of the branch the result picks, or None when the result has no number there."""
    value = value_at(result, condition["path"])
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return dict(condition["then"] if passes(value, condition["test"], condition["than"]) else condition["otherwise"])


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


def stated_values(steps: list[Step]) -> set[str]:
    """Values the request states: every argument not filled from an earlier result."""
    return {normalised(v) for s in steps for k, v in s.arguments.items() if k not in s.bindings}


_ENDS = re.compile(r"(?i)(^|_|(?<=[a-z])(?=[A-Z]))(" + "|".join(sorted(ENDS)) + r")(?=$|_|[A-Z])")


def _slot(name: str) -> str:
    """What an input is, without its end: from_city_id and to_city_id are both 'city_id'."""
    return _ENDS.sub("", name).strip("_").lower()


def equal_ends(arguments: dict) -> tuple[str, str] | None:
    """The two ends of one call given the same value (from_unit and to_unit both 'm'), or None.
    (Equal values of different inputs, a 512 x 512 image, are fine.)"""
    ends = [
        (k, _slot(k))
        for k in arguments
        if _slot(k) != k.lower() and isinstance(arguments[k], str) and arguments[k].strip()
    ]
    for i, (a, slot) in enumerate(ends):
        for b, other in ends[i + 1 :]:
            if slot == other and normalised(arguments[a]) == normalised(arguments[b]):
                return a, b
    return None


def degenerate_call(arguments: dict) -> str | None:
    """Why a call is degenerate (travel time from Tokyo to Tokyo, markdown to markdown), or None."""
    pair = equal_ends(arguments)
    return f"{pair[0]} and {pair[1]} are both {arguments[pair[0]]!r}" if pair else None


def chain_problem(steps: list[Step]) -> tuple[str, str] | None:
    """(reason, detail) when an executed chain would make a bad example, else None:
    degenerate_call (a call whose two inputs are equal, or the same call twice), ambiguous_binding
    (a value taken from a list of several: the request cannot say which), fake_dependency (a value
    an earlier result supplies is already stated in the request, or said by the name the lookup turns into it:
    no real lookup), redundant_lookup (a value
    taken from a step that an earlier step's result already held), circular_lookup
    (the last call only gives back values the chain already had), undone (a call deletes what the chain
    created: nothing is left to show for it), kind_mismatch (an id from an item that says it is another kind of
    thing: a trending movie's id as a person_id)."""
    return _repeated_call(steps) or _binding_problem(steps, stated_values(steps)) or _circular(steps)


def _repeated_call(steps: list[Step]) -> tuple[str, str] | None:
    calls = set()
    for i, s in enumerate(steps):
        problem = degenerate_call(s.arguments)
        if problem:
            return "degenerate_call", f"step {i + 1} ({s.name}): {problem}"
        key = (s.name, repr(sorted(s.arguments.items())))
        if key in calls:
            return "degenerate_call", f"step {i + 1} repeats an earlier call of {s.name} with the same arguments"
        calls.add(key)
    return None


def _binding_problem(steps: list[Step], stated: set[str]) -> tuple[str, str] | None:
    """ambiguous_binding, undone, fake_dependency or redundant_lookup, for the first bound value that has one."""
    for i, s in enumerate(steps):
        for param, b in s.bindings.items():
            width = list_width(steps[b["step"]].result, b["path"])
            if width > 1:
                return "ambiguous_binding", (
                    f"step {b['step'] + 1} returns {width} candidates for {b['path'].split('|')[-1]}; "
                    f"the request cannot say which one step {i + 1} takes as {param}"
                )
            said_kind = kind_mismatch(steps[b["step"]].result, b["path"], param)
            if said_kind:  # TMDB's trending list: a movie's id is no person_id
                return "kind_mismatch", f"step {i + 1} takes {param} from an item of step {b['step'] + 1} {said_kind}"
            source = steps[b["step"]].name
            if _family(s.name) == "delete" and _family(source) == "create":
                return "undone", f"step {i + 1} ({s.name}) deletes what step {b['step'] + 1} ({source}) created"
            if normalised(s.arguments[param]) in stated:
                return "fake_dependency", (
                    f"step {i + 1} takes {param} = {s.arguments[param]!r} from step {b['step'] + 1}, "
                    "but the request already states that value"
                )
            if name := said_by_name(steps[b["step"]].arguments, s.arguments[param], param):
                return "fake_dependency", (  # find_country("Germany") for DE: a right call takes DE at once
                    f"step {i + 1} takes {param} = {s.arguments[param]!r} from step {b['step'] + 1}, "
                    f"but the request states it by its name, {name}"
                )
            earlier = next(
                (
                    k
                    for k in range(b["step"])
                    if normalised(s.arguments[param]) in _scalars(steps[k].result)
                    and not isinstance(s.arguments[param], bool)
                ),
                None,
            )
            if earlier is not None:  # search -> add to cart -> 'the product of that cart': the search named it
                return "redundant_lookup", (
                    f"step {i + 1} takes {param} = {s.arguments[param]!r} from step {b['step'] + 1}, "
                    f"but step {earlier + 1} already returned it"
                )
    return None


def said_by_name(lookup_args: dict, value, param: str) -> str:
    """The name a lookup was given when all it does is turn that name into the code it gives ('Germany' -> DE);
    '' otherwise."""
    name = spoken.code_name(value, param)
    given = {v.strip().lower() for v in lookup_args.values() if isinstance(v, str)}
    return name if name and name.lower() in given else ""


KIND_FIELDS = ("media_type", "entity_type", "kind", "type", "object")  # what an item of a mixed list says it is


def kind_mismatch(result, path: str, param: str) -> str:
    """Where the item holding the value says it is another kind of thing than the parameter names ('media_type':
    'movie' for a person_id): 'that is a movie, not a person'; '' otherwise."""
    words = [w for w in re.split(r"_|(?<=[a-z])(?=[A-Z])", param) if w]
    if len(words) < 2 or words[-1].lower() not in ("id", "ids", "code", "key", "uuid"):
        return ""
    wanted = singular(words[-2].lower())
    item, keys = result, path.split("|")
    for key in keys[:-1]:
        while isinstance(item, list) and item:
            item = item[0]
        item = item.get(key) if isinstance(item, dict) else None
    while isinstance(item, list) and item:
        item = item[0]
    said = next((item[k] for k in KIND_FIELDS if isinstance(item, dict) and isinstance(item.get(k), str)), "")
    said = singular(said.lower()) if re.fullmatch(r"[A-Za-z]+", said) else ""
    return f"that is a {said}, not a {wanted}" if said and said != wanted else ""


def _circular(steps: list[Step]) -> tuple[str, str] | None:
    """circular_lookup: the last call only gives back what the chain started from."""
    if len(steps) < 2:
        return None
    known = stated_values(steps) | {normalised(v) for s in steps for v in s.arguments.values()}
    last = _scalars(steps[-1].result)
    if last and all(v in known for v in last):  # get_country(IN) -> find_country('India') -> IN
        return "circular_lookup", f"the last call ({steps[-1].name}) only returns values the chain started from"
    # an inverse: the last call takes its source's inputs with one swapped for the source's output, and gives
    # back the other input (days_between(a, b) -> add_days(a, that many) -> b)
    last, own = steps[-1], {normalised(v) for v in steps[-1].arguments.values()}
    source_inputs = {normalised(v) for b in last.bindings.values() for v in steps[b["step"]].arguments.values()}
    fields = last.result.items() if isinstance(last.result, dict) and own & source_inputs else []
    back = [
        v
        for k, v in fields
        if k not in ("name", "title", "label")
        and isinstance(v, (str, int, float))
        and not isinstance(v, bool)
        and normalised(v) in source_inputs - own
    ]
    if back:
        return "circular_lookup", f"the last call ({steps[-1].name}) gives back {back[0]!r}, which the request states"
    return None


def _family(tool_name: str) -> str:
    return parse_name(words_of(tool_name))[0]


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


class ChainGraph:
    """The API graph's edges between tools that have example arguments (an edge a validator called
    invalid is left out), indexed both ways, and the executor that runs chains over it."""

    def __init__(self, tools: list[Tool], edges: list[dict], executor: ToolExecutor):
        self.tools = {t["name"]: t for t in tools}
        self.examples = {t["name"]: t["examples"] for t in tools if t.get("examples")}
        self.executor = executor
        self.out_edges: dict[str, list[dict]] = defaultdict(list)
        self.in_edges: dict[str, dict[str, list[dict]]] = defaultdict(
            lambda: defaultdict(list)
        )  # tool -> slot -> edges
        for e in edges:
            if (
                e.get("llm_verdict") == "invalid"
                or e["src_tool"] not in self.examples
                or e["dst_tool"] not in self.examples
            ):
                continue
            self.out_edges[e["src_tool"]].append(e)
            self.in_edges[e["dst_tool"]][e["dst_slot"]].append(e)

    def step(self, name: str, arguments: dict, bindings: dict | None = None, result=None) -> Step:
        tool = self.tools[name]
        return Step(tool["tool_id"], name, tool.get("description") or "", arguments, bindings or {}, result)

    async def execute(self, steps: list[Step]) -> tuple[list[Step] | None, str]:
        """Run the chain in one fresh episode, filling bound arguments from earlier results; the
        executed steps, or None and why a step could not run."""
        episode = self.executor.episode()
        done: list[Step] = []
        try:
            for i, step in enumerate(steps):
                args = dict(step.arguments)
                if step.condition:  # the branch the earlier result picks (graph/branching.py)
                    args = branch_arguments(step.condition, done[step.condition["step"]].result)
                    if args is None:
                        return None, f"step {i + 1}: no number at {step.condition['path']} to branch on"
                for param, b in step.bindings.items():
                    value = value_at(done[b["step"]].result, b["path"])
                    if value is None:
                        return None, f"step {i + 1}: no {b['path']} in the result of step {b['step'] + 1}"
                    args[param] = value
                obs = await episode.call(step.name, args)
                if not obs.ok:
                    return None, f"step {i + 1} ({step.name}) failed: {obs.error}"
                ran = step.planned()
                ran.arguments, ran.result = args, obs.content
                done.append(ran)
        finally:
            episode.close()
        return done, ""
