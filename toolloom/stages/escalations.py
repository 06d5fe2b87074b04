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
`escalations`, with its attempts and, on the seed's last row, why escalation stopped. One seed's
ladder is climbed in `escalation_ladder.py`.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Callable

import pyarrow as pa

from ..agents.base import AssistantAgent
from ..domain import Step, tools_of
from ..graph.escalation import ChainEscalator
from ..ingest import Rejection
from ..llm import run_async
from ..spec import EscalateStage
from ..text.synthesis import ArgumentSynthesizer, Unsynthesizable
from . import StageResult
from ..orchestration import progress
from .asset import WHOLE, Shard, StageAsset
from ..prompts import render, template_hash
from ..reports.escalation_report import metadata as ladder_metadata
from .inputs import documented_tools
from .episodes import EPISODES_IN_FLIGHT
from .escalation_ladder import Escalation

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
        ("distractors", pa.string()),  # JSON list: nearly right tools the level offers (add_distractor)
        ("stop_reason", pa.string()),
        ("kept", pa.bool_()),
        ("frontier", pa.string()),
        ("escalator", pa.string()),
        ("prompt_hash", pa.string()),
    ]
)


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
    rows, rejections = _levels_and_rejections(seeds, climb_all(escalation, seeds, progress))
    return StageResult(
        pa.Table.from_pylist(rows, schema=ESCALATIONS_SCHEMA),
        rejections,
        [r["task_id"] for r in seeds],
        "seed_id",
        accepted_if=lambda r: r["kept"],
        metadata=ladder_metadata(rows, len(pool), len(seeds)),
    )


def climb_all(
    escalation: Escalation, seeds: list[dict], progress: Callable[[int, int], None]
) -> list[tuple[list[dict], str, str]]:
    """Each seed's (level rows, stop reason, detail), EPISODES_IN_FLIGHT seeds at a time."""
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

    return run_async(run_all()) if seeds else []


def _levels_and_rejections(seeds: list[dict], per_seed: list) -> tuple[list[dict], list[Rejection]]:
    """Every seed's level rows, and a rejection for each seed that kept no level."""
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
    return rows, rejections


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
