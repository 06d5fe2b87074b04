"""Stage 2: multi-agent simulation (ToolAlpaca): a user agent asks, an assistant agent calls tools
with native function calling, the executor answers; every episode is kept, failed ones with why.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Callable

import pyarrow as pa

from ..agents.base import AssistantAgent, UserAgent
from ..domain import tools_of
from ..executors.routing import ToolExecutor
from ..ingest import Rejection
from ..messages import MESSAGES
from ..spec import SimulateStage
from . import StageResult
from ..orchestration import progress
from .asset import WHOLE, Shard, StageAsset
from ..prompts import render, template_hash
from .inputs import documented_tools, kept_escalations
from .episodes import EPISODES_IN_FLIGHT, PLAIN_ANSWER, PLAIN_FALLBACK, Distractors
from ..agents.realisers import Realiser
from ..llm import run_async
from .episode_kinds import Abstain, Demonstration, EpisodeKind, Extra, Ordinary, Simulation

TRAJECTORIES_SCHEMA = pa.schema(
    [
        ("traj_id", pa.string()),
        ("task_id", pa.string()),
        ("kind", pa.string()),
        ("shape", pa.string()),
        ("messages", MESSAGES),
        ("tools_offered", pa.string()),
        ("chain", pa.string()),
        ("reference_answer", pa.string()),
        ("final_answer", pa.string()),
        ("outcome", pa.string()),
        ("error", pa.string()),
        ("calls", pa.string()),
        ("user_agent", pa.string()),
        ("assistant_agent", pa.string()),
        ("prompt_hash", pa.string()),
        ("actions", pa.string()),
        ("level", pa.int64()),
        ("execution", pa.string()),
        ("answer_asked", pa.bool_()),  # the assistant was asked for its answer without tools (it repeated its calls)
        ("answer_repaired", pa.bool_()),  # its answer misreported the results and was asked again, and mended
        ("docs_version", pa.string()),  # the earlier version whose refined docs the offered tools carried ("" = source)
    ]
)


def simulate(
    tasks: pa.Table,
    tools: pa.Table,
    *,
    user: UserAgent,
    assistant: AssistantAgent,
    executor: ToolExecutor,
    params: SimulateStage,
    system_prompt: str,
    prompt_hash: str,
    progress: Callable[[int, int], None] = lambda done, total: None,
    dialogue: tuple[Realiser, Realiser, dict] | None = None,
    escalated: list[dict] = (),
    owns: Callable[[str], bool] = lambda task_id: True,
) -> StageResult:
    """Single-request episodes, and, for `params.multi_turn_share` of the single-call and two-step
    tasks, multi-turn dialogues (ToolDial actions) when `dialogue` = (user realiser, system realiser,
    phrases) is given. Of the other single-call tasks, `params.abstain_share` also give an abstain
    episode (only unrelated tools offered: the right answer calls nothing, BFCL's irrelevance),
    `ask_share` an ask episode (a required value missing: the assistant asks for it) and
    `recover_share` a recover episode (recoveries.py); each has its kind in `kind`.
    `escalated`: the kept rows of `escalations`, each replayed from its reference chain (demonstrations.py).
    `owns(task_id)`: the tasks (and escalation seeds) this shard simulates; the others stay in view, since a
    dialogue may borrow a neighbour's request."""
    tool_rows = tools_of(tools)
    sim = Simulation(
        {t["tool_id"]: t for t in tool_rows},
        Distractors(tool_rows),
        user,
        assistant,
        executor,
        params,
        system_prompt,
        prompt_hash,
        dialogue,
        tasks.to_pylist(),
    )
    task_rows = [r for r in sim.all_rows if owns(r["task_id"])]
    seeds = [r for r in escalated if owns(r["seed_id"])]
    kinds = [Ordinary(sim), Demonstration(sim), Abstain(sim), Extra(sim, "ask"), Extra(sim, "recover")]
    planned = [(kind, r) for kind in kinds for r in kind.wanted(seeds if kind.from_escalations else task_rows)]
    given = [kind.traj_id(r) for kind, r in planned]
    rows = play_all(planned, progress)
    rejections = [
        Rejection("simulate", r["traj_id"], "episode", r["outcome"], r["error"])
        for r in rows
        if r["outcome"] != "answered"
    ]
    table = pa.Table.from_pylist(rows, schema=TRAJECTORIES_SCHEMA)
    return StageResult(
        table,
        rejections,
        given,
        "traj_id",
        accepted_if=lambda r: r["outcome"] == "answered",
        metadata=run_metadata(rows) | {"turns_said_plainly": said_plainly(dialogue)},
    )


def play_all(planned: list[tuple[EpisodeKind, dict]], progress: Callable[[int, int], None]) -> list[dict]:
    """Every planned episode's trajectory row, in plan order; at most EPISODES_IN_FLIGHT at once."""
    done = 0

    async def counted(kind: EpisodeKind, row: dict, gate: asyncio.Semaphore) -> dict:
        nonlocal done
        async with gate:
            out = await kind.run(row)
        done += 1
        progress(done, len(planned))
        return out

    async def run_all() -> list[dict]:
        gate = asyncio.Semaphore(EPISODES_IN_FLIGHT)
        return await asyncio.gather(*(counted(kind, r, gate) for kind, r in planned))

    return run_async(run_all()) if planned else []


def said_plainly(dialogue: tuple | None) -> int:
    """Dialogue turns a model realiser left to the plain wording (offline realisers have no `fallbacks`)."""
    return sum(getattr(r, "fallbacks", 0) for r in (dialogue or ())[:2])


def run_metadata(rows: list[dict]) -> dict:
    """What the asset shows about a simulate run: levels, outcomes, kinds, and how calls were read."""
    calls = [c for r in rows for c in json.loads(r["calls"])]
    return {
        "levels": dict(Counter(str(r["level"]) for r in rows)),
        "outcomes": dict(Counter(r["outcome"] for r in rows)),
        "kinds": dict(Counter(r["kind"] for r in rows)),
        "calls_from_text": sum(c.get("call_source") == "text" for c in calls),
        # text after calls written as text (a result the model invented, a call to a tool not offered): not kept
        "text_dropped": sum(len(c.get("dropped") or []) for c in calls),
        "answers_asked_for": sum(bool(r["answer_asked"]) for r in rows),
        "answers_mended": sum(bool(r.get("answer_repaired")) for r in rows),
        "requests_in_plain_wording": sum(r["user_agent"] == PLAIN_FALLBACK for r in rows),
        "answers_in_plain_wording": sum((r.get("assistant_agent") or "").endswith(PLAIN_ANSWER) for r in rows),
        "scenarios": dict(Counter(json.loads(r["actions"])["scenario"] for r in rows if r["actions"])),
    }


def trajectories(rt, version: str, log, shard: Shard = WHOLE) -> StageResult:
    """Simulated episodes (ToolAlpaca): user, assistant and tool executor, in OpenAI message format."""
    tool_table = documented_tools(rt, version)
    templates = ("simulate/user.j2", "simulate/assistant_system.j2", "simulate/dialogue_turn.j2")
    return simulate(
        rt.store.read(rt.pipeline.name, "tasks", version),
        tool_table,
        user=rt.agent("user"),
        assistant=rt.agent("assistant"),
        executor=rt.executor(tools_of(tool_table)),
        params=rt.pipeline.stages.simulate,
        system_prompt=render("simulate/assistant_system.j2", rt.prompts_root, today=None),
        prompt_hash=":".join(template_hash(t, rt.prompts_root) for t in templates),
        progress=progress.reporter("simulate", log),
        dialogue=rt.dialogue_realisers(),
        escalated=kept_escalations(rt, version),
        owns=shard.owns,
    )


ASSET = StageAsset(
    "trajectories",
    "simulate",
    ("tasks", "escalations"),
    trajectories,
    ("traj_id", "outcome", "final_answer", "error"),
    shardable=True,
    reads=("tools", "tasks", "escalations"),
    roles=lambda pipeline: ("user", "assistant", "executor"),
)
