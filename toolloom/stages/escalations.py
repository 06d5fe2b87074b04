"""Stage 3: progressive difficulty, after "Synthesizing Agentic Data for Web Agents with Progressive
Difficulty Enhancement Mechanisms" (2025): each seed task is made harder until the frontier agent fails.

Per seed, level 0 is the task itself. While the frontier agent solves the current level and the cap
is not reached, an operator (graph/escalation.py, drawn by weight) makes the chain harder and
executes it for the new reference answer; the escalator phrases the request; the verifier drops a
level that is not factual or admits a second answer, and the next operator is tried. An attempt
succeeds when its calls reach the executed reference answer and its answer states it (the filter's
format and execution checks); a level is solved when any of its attempts succeeds.

The kept item of a seed is the first level its frontier agent failed, when that level is 1 or more:
the hardest level still verified, with the level below solved. Every level is a row of
`escalations`, with its attempts and, on the seed's last row, why escalation stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable

import pyarrow as pa

from ..agents.base import AssistantAgent
from ..domain import Step, Task, tools_of, wording_meta
from ..agents.offline import TemplateUser
from ..graph.escalation import ChainEscalator, reference_answer, shape_of
from ..ingest import Rejection
from ..llm import BudgetExhausted, ModelCallError, run_async
from ..spec import EscalateStage
from ..synthesis import ArgumentSynthesizer, Unsynthesizable
from . import StageResult
from .. import progress
from .asset import WHOLE, Shard, StageAsset
from ..prompts import render, template_hash
from .inputs import documented_tools
from .samples import check_execution, check_format
from .episodes import EPISODES_IN_FLIGHT, Distractors, run_episode

ESCALATIONS_SCHEMA = pa.schema(
    [
        ("task_id", pa.string()),
        ("parent_id", pa.string()),
        ("seed_id", pa.string()),
        ("level", pa.int64()),
        ("operator", pa.string()),
        ("question", pa.string()),
        ("shape", pa.string()),
        ("chain", pa.string()),
        ("reference_answer", pa.string()),
        ("outcome", pa.string()),
        ("reason", pa.string()),
        ("attempts", pa.string()),
        ("stop_reason", pa.string()),
        ("kept", pa.bool_()),
        ("frontier", pa.string()),
        ("escalator", pa.string()),
        ("prompt_hash", pa.string()),
    ]
)


class QuestionUser(TemplateUser):
    """Asks the level's fixed question; answers clarifying questions with the values it states."""

    name = "escalation-question"

    def __init__(self, question: str):
        self.question = question

    async def instruction(self, task: Task) -> str:
        return self.question


def resample(agent: AssistantAgent, k: int) -> AssistantAgent:
    return agent.resampled(k) if k and hasattr(agent, "resampled") else agent


def chain_steps(chain_json: str, by_id: dict[str, dict]) -> list[Step]:
    """A tasks-table chain as steps, each with its tool's (shown) documentation."""
    return [Step.from_row(s, by_id[s["tool_id"]]["description"]) for s in json.loads(chain_json)]


def _operator_order(weights: dict[str, float], rng: random.Random) -> list[str]:
    """Operators in a weighted random order without replacement (Efraimidis-Spirakis keys)."""
    keyed = [(rng.random() ** (1.0 / w), op) for op, w in sorted(weights.items()) if w > 0]
    return [op for _, op in sorted(keyed, reverse=True)]


def task_arguments(tasks: pa.Table) -> dict[str, list[dict]]:
    """tool name -> the stated arguments its calls in sampled tasks were executed with (documented or synthesised)."""
    out: dict[str, list[dict]] = {}
    for chain in tasks.column("chain").to_pylist():
        for step in map(Step.from_row, json.loads(chain)):
            args = {k: v for k, v in step.arguments.items() if k not in step.bindings}
            if not step.bindings and args not in out.setdefault(step.name, []):
                out[step.name].append(args)
    return out


def tool_arguments(tasks: pa.Table, tool_rows: list[dict], edges: list[dict], seed: int) -> dict[str, list[dict]]:
    """tool name -> argument sets the operators may use: documented examples, then the arguments its
    sampled tasks ran with, else synthesised ones (none for a tool whose arguments cannot be)."""
    used, synth, out = task_arguments(tasks), ArgumentSynthesizer(edges), {}
    for t in tool_rows:
        sets = [dict(x) for x in t["meta"].get("examples") or []]
        sets += [a for a in used.get(t["name"], []) if a not in sets]
        if not sets:
            try:
                sets = synth.argument_sets(t, seed, 2)
            except Unsynthesizable:
                sets = []
        out[t["name"]] = sets
    return out


@dataclass
class Level:
    """One rung of a seed's ladder: the task, how it is asked, and what made it."""

    task_id: str
    steps: list[Step]
    question: str
    level: int = 0
    operator: str = ""
    parent: str = ""


class Escalation:
    """Escalates seed tasks one level at a time until the frontier agent fails (DESIGN 3.3): the
    agents, the API graph's operators, the verifier and the settings every seed shares."""

    def __init__(
        self,
        tool_rows: list[dict],
        chains: ChainEscalator,
        verifier,
        *,
        frontier: AssistantAgent,
        escalator,
        executor,
        params: EscalateStage,
        system_prompt: str,
        prompt_hash: str,
        tokens_spent: Callable[[], int],
        pool: list[dict],
    ):
        self.by_id = {t["tool_id"]: t for t in tool_rows}
        self.chains, self.verifier, self.distractors = chains, verifier, Distractors(tool_rows)
        self.frontier, self.escalator, self.executor, self.params = frontier, escalator, executor, params
        self.system_prompt, self.prompt_hash = system_prompt, prompt_hash
        self.tokens_spent, self.pool = tokens_spent, pool

    def as_task(self, task_id: str, steps: list[Step], seed: int) -> Task:
        meta = {s.tool_id: wording_meta(self.by_id[s.tool_id]) for s in steps}
        return Task(task_id, shape_of(steps), [s.planned() for s in steps], seed, meta)

    async def attempt(self, task: Task, question: str, steps: list[Step], k: int) -> dict:
        """The frontier's k-th try at one level: solved, failed (with why) or error (not its failure)."""
        needed = list({s.tool_id: self.by_id[s.tool_id] for s in steps}.values())
        offered = self.distractors.offer(needed, self.params.distractors)
        ep = await run_episode(
            task,
            QuestionUser(question),
            resample(self.frontier, k),
            self.executor,
            offered,
            self.system_prompt,
            self.params.max_turns,
        )
        record = {
            "attempt": k,
            "calls": [[c["name"], c["arguments"]] for c in ep["calls"]],
            "final_answer": ep["final_answer"],
            "messages": ep["messages"],
        }  # a failed try: a preference pair
        if ep["outcome"] in ("budget_exhausted", "model_error"):  # not the frontier's failure: the level is undecided
            return {**record, "outcome": "error", "reason": ep["outcome"], "detail": ep["error"]}
        traj = {
            "messages": ep["messages"],
            "calls": ep["calls"],
            "final_answer": ep["final_answer"],
            "tools_offered": offered,
            "chain": None,
            "shape": task.shape,
            "reference_answer": json.dumps(reference_answer(steps), ensure_ascii=False, sort_keys=True),
        }
        answered = ep["outcome"] == "answered"
        failure = check_format(traj) or check_execution(traj) if answered else (ep["outcome"], ep["error"])
        return {
            **record,
            "outcome": "failed" if failure else "solved",
            "reason": failure[0] if failure else "",
            "detail": failure[1][:300] if failure else "",
        }

    def row(self, seed_row: dict, at: Level, outcome: str, reason: str = "", attempts=()) -> dict:
        return {
            "task_id": at.task_id,
            "parent_id": at.parent,
            "seed_id": seed_row["task_id"],
            "level": at.level,
            "operator": at.operator,
            "question": at.question,
            "shape": shape_of(at.steps),
            "chain": json.dumps([s.row(with_result=True) for s in at.steps], ensure_ascii=False),
            "reference_answer": json.dumps(reference_answer(at.steps), ensure_ascii=False, sort_keys=True),
            "outcome": outcome,
            "reason": reason,
            "attempts": json.dumps(list(attempts), ensure_ascii=False),
            "stop_reason": "",
            "kept": False,
            "frontier": self.frontier.name,
            "escalator": self.escalator.name,
            "prompt_hash": self.prompt_hash,
        }

    async def seed(self, seed_row: dict) -> tuple[list[dict], str, str]:
        """The seed's level rows, and why its escalation stopped; the last level is kept when the
        frontier failed it above the seed."""
        rows: list[dict] = []
        try:
            stop, detail = await self.climb(seed_row, rows)
        except BudgetExhausted as e:
            stop, detail = "budget_exhausted", str(e)
        except ModelCallError as e:
            stop, detail = "model_error", str(e)
        if rows:
            rows[-1]["stop_reason"] = stop
            rows[-1]["kept"] = stop == "frontier_failed" and rows[-1]["level"] >= 1
        return rows, stop, detail

    async def climb(self, seed_row: dict, rows: list[dict]) -> tuple[str, str]:
        steps, error = await self.chains.execute(chain_steps(seed_row["chain"], self.by_id))
        if steps is None:
            return "seed_not_reproducible", error
        rng = random.Random(f"{self.params.seed}:{seed_row['task_id']}")
        question = await self.escalator.phrase(self.as_task(seed_row["task_id"], steps, seed_row["seed"]), None, None)
        at = Level(seed_row["task_id"], steps, question)
        reason = await self.verifier.verify(question, steps, reference_answer(steps))
        if reason:
            rows.append(self.row(seed_row, at, "dropped", reason))
            return "seed_not_verified", reason
        while True:
            budget = self.params.max_tokens
            if budget is not None and self.tokens_spent() >= budget:
                return "budget_exhausted", f"the stage's token budget of {budget} is spent"
            task = self.as_task(at.task_id, at.steps, seed_row["seed"] + at.level)
            attempts = []
            for k in range(self.params.attempts):
                attempts.append(await self.attempt(task, at.question, at.steps, k))
                if attempts[-1]["outcome"] != "failed":
                    break
            last = attempts[-1]  # solved, failed (every attempt failed) or error
            rows.append(self.row(seed_row, at, last["outcome"], last["reason"], attempts))
            if last["outcome"] == "error":
                return last["reason"], last["detail"]
            if last["outcome"] == "failed":
                return "frontier_failed", last["detail"]
            if at.level >= self.params.max_level:
                return "level_cap", f"the frontier agent solved every level up to the cap ({self.params.max_level})"
            at = await self.harder(seed_row, at, rng, rows)
            if at is None:
                return "no_verified_escalation", "no operator gave a harder, verified task"

    async def harder(self, seed_row: dict, at: Level, rng: random.Random, rows: list[dict]) -> Level | None:
        """The next level: the first operator (in weighted random order) whose harder chain the verifier
        accepts; a rejected one is recorded as dropped."""
        others = [r for r in self.pool if r["task_id"] != seed_row["task_id"]]
        for op in _operator_order(self.params.operators, rng):
            other = chain_steps(rng.choice(others)["chain"], self.by_id) if others else None  # for combining operators
            steps = await self.chains.apply(op, at.steps, rng, other)
            if steps is None:
                continue
            key = json.dumps(
                [seed_row["task_id"], at.level + 1, op, [s.row(with_result=True) for s in steps]],
                sort_keys=True,
                default=str,
            )
            task_id = "e_" + hashlib.sha256(key.encode()).hexdigest()[:12]
            question = await self.escalator.phrase(
                self.as_task(task_id, steps, seed_row["seed"] + at.level + 1), op, at.question
            )
            new = Level(task_id, steps, question, at.level + 1, op, at.task_id)
            reason = await self.verifier.verify(question, steps, reference_answer(steps))
            if not reason:
                return new
            rows.append(self.row(seed_row, new, "dropped", reason))
        return None


def escalate(
    tasks: pa.Table,
    tools: pa.Table,
    edges: list[dict],
    *,
    frontier: AssistantAgent,
    escalator,
    verifier_for: Callable[[ChainEscalator], object],
    executor,
    params: EscalateStage,
    system_prompt: str,
    prompt_hash: str,
    tokens_spent: Callable[[], int] = lambda: 0,
    progress: Callable[[int, int], None] = lambda done, total: None,
    owns: Callable[[str], bool] = lambda task_id: True,
) -> StageResult:
    """Inputs: the seed tasks (a seeded sample of the tasks of `params.shapes`). A seed is accepted when
    its escalation kept a level (the frontier failed it), rejected with the stop reason otherwise.
    `owns(task_id)`: the seeds this shard escalates (drawn from the whole pool first, so shards partition
    what one process would escalate)."""
    tool_rows = tools_of(tools)
    examples = tool_arguments(tasks, tool_rows, edges, params.seed)
    chains = ChainEscalator([{**t, "examples": examples[t["name"]]} for t in tool_rows], edges, executor)
    pool = [r for r in tasks.to_pylist() if r["shape"] in params.shapes]
    seeds = pool if params.seeds is None else random.Random(params.seed).sample(pool, k=min(params.seeds, len(pool)))
    seeds = [r for r in seeds if owns(r["task_id"])]
    verifier = verifier_for(chains)  # it re-executes chains, so it shares the operators' executor
    escalation = Escalation(
        tool_rows,
        chains,
        verifier,
        frontier=frontier,
        escalator=escalator,
        executor=executor,
        params=params,
        system_prompt=system_prompt,
        prompt_hash=prompt_hash,
        tokens_spent=tokens_spent,
        pool=pool,
    )
    done = 0

    async def one(seed_row: dict, gate: asyncio.Semaphore):
        nonlocal done
        async with gate:
            out = await escalation.seed(seed_row)
        done += 1
        progress(done, len(seeds))
        return out

    async def run_all():
        gate = asyncio.Semaphore(EPISODES_IN_FLIGHT)
        return await asyncio.gather(*(one(r, gate) for r in seeds))

    per_seed = run_async(run_all()) if seeds else []
    rows, rejections = [], []
    for seed_row, (seed_rows, stop, detail) in zip(seeds, per_seed):
        if not seed_rows:  # the seed could not be run or phrased: no level to record
            rejections.append(Rejection("escalate", seed_row["task_id"], "escalation", stop, detail))
            continue
        rows += seed_rows
        last = seed_rows[-1]
        if not last["kept"]:
            reason = "failed_at_seed" if last["stop_reason"] == "frontier_failed" else last["stop_reason"]
            rejections.append(
                Rejection("escalate", seed_row["task_id"], "escalation", reason, (last["reason"] or "")[:300])
            )
    return StageResult(
        pa.Table.from_pylist(rows, schema=ESCALATIONS_SCHEMA),
        rejections,
        [r["task_id"] for r in seeds],
        "seed_id",
        accepted_if=lambda r: r["kept"],
        metadata=_report(rows, len(pool), len(seeds)),
    )


def _report(rows: list[dict], pool: int, seeds: int) -> dict:
    kept = Counter(str(r["level"]) for r in rows if r["kept"])
    tried: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        if r["outcome"] in ("solved", "failed"):
            tried[str(r["level"])][0] += r["outcome"] == "solved"
            tried[str(r["level"])][1] += 1
    return {
        "seed_tasks": f"{seeds} of {pool}",
        "kept_levels": dict(sorted(kept.items())),
        "stop_reasons": dict(Counter(r["stop_reason"] for r in rows if r["stop_reason"])),
        "operators_applied": dict(Counter(r["operator"] for r in rows if r["operator"])),
        "dropped": dict(Counter(r["reason"].split(":")[0] for r in rows if r["outcome"] == "dropped")),
        "frontier_solved_by_level": {k: f"{v[0]}/{v[1]}" for k, v in sorted(tried.items())},
    }


def escalations(rt, version: str, log, shard: Shard = WHOLE) -> StageResult:
    """Tasks escalated level by level until the frontier agent fails (progressive difficulty)."""
    p = rt.pipeline.name
    tool_table = documented_tools(rt, version)
    return escalate(
        rt.store.read(p, "tasks", version),
        tool_table,
        rt.store.read(p, "api_edges", version).to_pylist(),
        frontier=rt.agent("frontier"),
        escalator=rt.agent("escalator"),
        verifier_for=rt.verifier,
        executor=rt.executor(tools_of(tool_table)),
        params=rt.pipeline.stages.escalate,
        system_prompt=render("simulate/assistant_system.j2", rt.prompts_root, today=None),
        prompt_hash=":".join(template_hash(t, rt.prompts_root) for t in ("escalate/reword.j2", "escalate/verify.j2")),
        tokens_spent=lambda: rt.tokens_sent("escalate"),
        progress=progress.reporter("escalate", log),
        owns=shard.owns,
    )


ASSET = StageAsset(
    "escalations",
    "escalate",
    ("tasks",),
    escalations,
    ("seed_id", "level", "operator", "question", "outcome", "stop_reason"),
    enabled=lambda pipeline: pipeline.stages.escalate is not None,
    empty_blocks=False,
    shardable=True,
    reads=("tools", "tasks", "api_edges"),
    roles=lambda pipeline: ("frontier", "escalator", "executor"),
)
