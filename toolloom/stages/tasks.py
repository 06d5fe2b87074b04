"""Stage 1b: sample tasks with reference chains and execute them for reference answers.

Single calls use each tool's documented example arguments, else arguments synthesised from its
schema and documentation; multi-hop, parallel and nested chains come from the API graph
(toolloom.graph.sampling). Every chain was executed (or simulated) while sampled.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter

import pyarrow as pa

from ..executors.routing import ToolExecutor
from ..executors.catalogue import documented_records, searched_names
from ..executors.simulated import documented_call
from ..domain import Step, Tool, tools_of
from ..graph.chains import chain_problem
from ..graph.sampling import ChainSampler
from ..ingest import Rejection
from ..agents.base import UserAgent
from ..llm import BudgetExhausted, ModelCallError, run_async
from ..text.synthesis import ArgumentSynthesizer, Unsynthesizable
from ..spec import TasksStage
from . import StageResult
from .asset import StageAsset

TASKS_SCHEMA = pa.schema(
    [
        ("task_id", pa.string()),
        ("shape", pa.string()),
        ("chain", pa.string()),
        ("reference_answer", pa.string()),
        ("seed", pa.int64()),
    ]
)


SINGLES_IN_FLIGHT = 8  # reference calls at once (sandbox workers, MCP servers starting, HTTP requests)


def _task_id(tool_id: str, arguments: dict, seed: int) -> str:
    return "t_" + hashlib.sha256(json.dumps([tool_id, arguments, seed], sort_keys=True).encode()).hexdigest()[:12]


def sample_tasks(
    tools: pa.Table,
    executor: ToolExecutor,
    params: TasksStage,
    edges: list[dict] | None = None,
    user: UserAgent | None = None,
) -> StageResult:
    """Inputs are candidate tasks, plus tools that cannot give any (rejected with the reason).

    Arguments are the spec's examples, then those a model `user` proposes from the documentation
    (ToolAlpaca; checked against the schema; offline none), then ones synthesised from the schema
    (toolloom.text.synthesis). Tools whose inputs an API-graph edge feeds run after the tools that feed
    them, so their id parameters take ids the collection really returned.
    """
    singles = SingleTasks(tools_of(tools), executor, params, edges, user)
    run_async(singles.run())
    rows, rejections, given = singles.rows, singles.rejections, singles.given  # `given`: every candidate task
    graph_failures: Counter = Counter()
    if edges is not None and (params.multi_hop or params.parallel or params.nested):
        tool_rows = [{**t, "examples": singles.argument_sets.get(t["name"], [])} for t in tools_of(tools)]
        sampler = ChainSampler(tool_rows, edges, executor, seed=params.seed)
        for shape, count in (("multi_hop", params.multi_hop), ("parallel", params.parallel), ("nested", params.nested)):
            chains = sampler.sample(shape, count, max_hops=params.max_hops)
            for chain in chains:
                steps = [c.row() for c in chain]
                given.append(tid := _task_id(shape, steps, params.seed))
                answer = [c.result for c in chain] if shape == "parallel" else chain[-1].result
                rows.append(
                    {
                        "task_id": tid,
                        "shape": shape,
                        "chain": json.dumps(steps, ensure_ascii=False),
                        "reference_answer": json.dumps(answer, ensure_ascii=False, sort_keys=True),
                        "seed": params.seed,
                    }
                )
            for k in range(len(chains), count):  # each requested chain the graph could not give
                given.append(f"{shape}#{k}")
                rejections.append(
                    Rejection(
                        "tasks",
                        f"{shape}#{k}",
                        "sampler",
                        "graph_exhausted",
                        f"asked for {count} {shape} chains, the graph gave {len(chains)}",
                    )
                )
        graph_failures = sampler.failures
    metadata = {
        "shapes": dict(Counter(r["shape"] for r in rows)),
        "walk_failures": dict(graph_failures),
        "argument_proposals": dict(singles.proposals),
    }
    return StageResult(pa.Table.from_pylist(rows, schema=TASKS_SCHEMA), rejections, given, "task_id", metadata=metadata)


class SingleTasks:
    """Every tool's single-call tasks: its argument sets, each executed for its reference answer."""

    def __init__(
        self,
        tool_rows: list[Tool],
        executor: ToolExecutor,
        params: TasksStage,
        edges: list[dict] | None,
        user: UserAgent | None,
    ):
        self.tool_rows, self.executor, self.params, self.user = tool_rows, executor, params, user
        self.synth = ArgumentSynthesizer(edges)
        for tool in tool_rows:  # a documented response is one the collection really gave: its ids feed the graph too
            if (tool["meta"] or {}).get("example_response") is not None:
                self.synth.observe(tool["name"], tool["meta"]["example_response"])
        records = documented_records(tool_rows)
        self.searches = set()  # tools whose search parameter takes a documented name
        for tool in tool_rows:
            for param, names in searched_names(tool, records.get(tool.get("collection") or "", [])).items():
                self.synth.offer(tool["name"], param, names)
                self.searches.add(tool["name"])
        self.rows: list[dict] = []
        self.rejections: list[Rejection] = []
        self.given: list[str] = []  # every candidate task, and every tool that could give none
        self.argument_sets: dict[str, list[dict]] = {}
        self.proposals: Counter = Counter()
        self.gate = asyncio.Semaphore(SINGLES_IN_FLIGHT)

    async def run(self) -> None:
        # tools whose inputs an edge feeds run in a second wave, with values the first wave returned;
        # results are recorded in table order, so concurrency never changes what is sampled
        fed = self.synth.fed_by_graph
        for wave in ([t for t in self.tool_rows if not fed(t["name"])], [t for t in self.tool_rows if fed(t["name"])]):
            outcomes = await asyncio.gather(*(self.run_tool(t) for t in wave))
            for tool, outcome in zip(wave, outcomes):
                self.record(tool, outcome)

    async def propose(self, tool: Tool, k: int) -> list[dict]:
        """Argument sets a model user proposes from the documentation, those the schema accepts."""
        if self.user is None or k == 0 or tool["meta"].get("examples") or documented_call(tool) is not None:
            return []  # documented calls come first: a model's guess would stand in for the truth
        if tool["name"] in self.searches:
            return []  # a search for what the documentation holds, not for a title the model made up
        if not (tool.get("parameters") or {}).get("properties"):  # nothing to propose ('GET /api/kernels')
            return []
        try:
            async with self.gate:
                proposed = await self.user.propose_arguments(tool, k, self.synth.hints(tool))
        except (ModelCallError, BudgetExhausted):  # the call is in llm_calls; the schema still gives arguments
            self.proposals["failed"] += 1
            return []
        good, bad = self.synth.valid_proposals(tool, proposed)
        self.proposals["used"] += len(good)
        self.proposals["invalid"] += len(bad)
        return good

    async def run_tool(self, tool: Tool):
        """(argument sets, observations of the first ones) of one tool's single-call tasks, or the Unsynthesizable
        reason. A proposed set the tool refuses (a small model's made-up session id) is followed by a synthesised one,
        so a model user never costs a tool the task synthesis would have given it."""
        k = max(self.params.per_tool, 1)
        proposed = await self.propose(tool, k)
        try:
            sets = self.synth.argument_sets(tool, self.params.seed, k, proposed)
        except Unsynthesizable as e:
            return e
        spare = self.spare_sets(tool, k, sets) if proposed else []
        tried, observations = [], []
        for arguments in sets[: self.params.per_tool]:
            tried.append(arguments)
            observations.append(await self.call(tool, arguments))
            if not observations[-1].ok and arguments in proposed and spare:
                tried.append(spare.pop(0))  # the refused proposal stays a rejected task; this one is another
                observations.append(await self.call(tool, tried[-1]))
        return tried + [s for s in sets if s not in tried], observations

    def spare_sets(self, tool: Tool, k: int, taken: list[dict]) -> list[dict]:
        """Synthesised argument sets beside the proposed ones, for a proposal the tool refuses."""
        try:
            return [a for a in self.synth.argument_sets(tool, self.params.seed, k) if a not in taken]
        except Unsynthesizable:
            return []

    async def call(self, tool: Tool, arguments: dict):
        async with self.gate:
            episode = self.executor.episode()
            try:
                return await episode.call(tool["name"], arguments)
            finally:
                episode.close()

    def record(self, tool: Tool, outcome) -> None:
        """One tool's tasks, or why it gives none."""
        if isinstance(outcome, Unsynthesizable):
            self.reject_tool(tool, f"{tool['name']}: {outcome}")
            return
        sets, observations = outcome
        refused = [a for a, obs in zip(sets, observations) if not obs.ok]
        self.argument_sets[tool["name"]] = [a for a in sets if a not in refused] + refused  # chains take working ones
        if self.params.per_tool and not sets:  # nothing to call it with: said, never a tool that vanishes
            self.reject_tool(tool, f"{tool['name']}: no argument set could be made or was documented")
            return
        for i, (arguments, obs) in enumerate(zip(sets, observations)):
            seed = self.params.seed * 1000 + i
            self.given.append(tid := _task_id(tool["tool_id"], arguments, seed))
            if not obs.ok:
                self.rejections.append(
                    Rejection("tasks", tid, "execution", "reference_call_failed", f"{tool['name']}: {obs.error or ''}")
                )
                continue
            self.synth.observe(tool["name"], obs.content)
            step = Step(tool["tool_id"], tool["name"], tool["description"], arguments, {}, obs.content)
            if problem := chain_problem([step]):  # e.g. the travel time from Tokyo to Tokyo
                self.rejections.append(Rejection("tasks", tid, "sampler", *problem))
                continue
            self.rows.append(
                {
                    "task_id": tid,
                    "shape": "single",
                    "chain": json.dumps([step.row()], ensure_ascii=False),
                    "reference_answer": obs.to_json(),
                    "seed": seed,
                }
            )

    def reject_tool(self, tool: Tool, detail: str) -> None:
        self.given.append(tool["tool_id"])
        self.rejections.append(Rejection("tasks", tool["tool_id"], "sampler", "no_arguments", detail))


def tasks(rt, version: str, log) -> StageResult:
    """Sampled tasks with reference chains (single, multi-hop, parallel, nested), each executed for its answer."""
    tool_table = rt.store.read(rt.pipeline.name, "tools", version)
    edges = rt.store.read(rt.pipeline.name, "api_edges", version).to_pylist()
    return sample_tasks(
        tool_table, rt.executor(tools_of(tool_table)), rt.pipeline.stages.tasks, edges, user=rt.agent("user")
    )


ASSET = StageAsset(
    "tasks",
    "tasks",
    ("api_edges",),
    tasks,
    ("task_id", "shape", "chain", "reference_answer"),
    reads=("tools", "api_edges"),
    roles=lambda pipeline: ("user", "executor"),
)
