"""Stage 2: multi-agent simulation (ToolAlpaca): a user agent asks, an assistant agent calls tools
with native function calling, the executor answers; every episode is kept, failed ones with why.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections import Counter
from typing import Callable

import pyarrow as pa

from ..agents.base import AssistantAgent, UserAgent
from ..domain import Episode, Step, Task, tools_of, wording_meta
from ..executor import ToolExecutor
from ..executors.simulated import documented_names
from ..ingest import Rejection
from ..messages import MESSAGES
from ..spec import SimulateStage
from . import StageResult
from .. import progress
from .asset import WHOLE, Shard, StageAsset
from ..prompts import render, template_hash
from .inputs import documented_tools, kept_escalations
from .demonstrations import REPLAY_AGENT, replay
from .episodes import EPISODES_IN_FLIGHT, Distractors, run_episode
from .dialogues import PAIR_SCENARIOS, Realiser, is_pair, run_dialogue
from .recoveries import run_recovery
from ..llm import run_async

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
    ]
)


# trajectory id prefixes of the examples a task gives besides its ordinary one (they keep it as sample ids)
EXTRA_PREFIX = {"abstain": "ab_", "ask": "ak_", "recover": "rc_"}


def execution_label(chain_json: str, executor: ToolExecutor) -> str:
    """How the reference chain was verified: python, mcp, http (real executions), or simulated when any call was."""
    kinds = {executor.by_name[s["name"]]["execution"] for s in json.loads(chain_json) if s["name"] in executor.by_name}
    return "simulated" if "simulated" in kinds or not kinds else "+".join(sorted(kinds))


def trajectory_row(traj_id: str, row: dict, kind: str, ep: Episode, offered: list[dict], *, chain: str, reference,
                   agents: tuple[str, str], prompt_hash: str, execution: str, actions: str | None = None,
                   level: int = 0) -> dict:
    """A row of `trajectories`: the episode, the task row it came from, and how it was made
    (`agents`: the user and the assistant agent's names)."""
    return {"traj_id": traj_id, "task_id": row["task_id"], "kind": kind, "shape": row["shape"],
            "messages": ep["messages"], "tools_offered": json.dumps(offered, ensure_ascii=False), "chain": chain,
            "reference_answer": reference, "final_answer": ep["final_answer"], "outcome": ep["outcome"],
            "error": ep["error"], "calls": json.dumps(ep["calls"], ensure_ascii=False), "user_agent": agents[0],
            "assistant_agent": agents[1], "prompt_hash": prompt_hash, "actions": actions, "level": level,
            "execution": execution, "answer_asked": bool(ep.get("answer_asked"))}


def simulate(tasks: pa.Table, tools: pa.Table, *, user: UserAgent, assistant: AssistantAgent, executor: ToolExecutor,
             params: SimulateStage, system_prompt: str, prompt_hash: str,
             progress: Callable[[int, int], None] = lambda done, total: None,
             dialogue: tuple[Realiser, Realiser, dict] | None = None, escalated: list[dict] = (),
             owns: Callable[[str], bool] = lambda task_id: True) -> StageResult:
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
    by_id = {t["tool_id"]: t for t in tool_rows}
    distractors = Distractors(tool_rows)
    all_rows = tasks.to_pylist()
    task_rows = [r for r in all_rows if owns(r["task_id"])]
    escalated = [r for r in escalated if owns(r["seed_id"])]
    done = 0

    def as_task(row: dict) -> Task:
        chain = json.loads(row["chain"])
        meta = {s["tool_id"]: {**wording_meta(by_id[s["tool_id"]]),
                               "named": documented_names(executor.documented, s["arguments"])} for s in chain}
        steps = [Step.from_row(s, by_id[s["tool_id"]]["description"]) for s in chain]
        return Task(row["task_id"], row["shape"], [s.planned() for s in steps], row["seed"], meta)

    singles = [r for r in all_rows if r["shape"] == "single"]
    by_task = {r["task_id"]: r for r in all_rows}

    def bucket(purpose: str, row: dict) -> float:
        return int(hashlib.sha256(f"{purpose}:{row['task_id']}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF

    single_scenarios = [sc for sc in params.scenarios if sc not in PAIR_SCENARIOS]
    pair_scenarios = [sc for sc in params.scenarios if sc in PAIR_SCENARIOS]

    def is_dialogue(row: dict) -> bool:
        """Single calls (the scenarios for one tool) and source -> target pairs (ToolDial's missing_parameter)."""
        if dialogue is None or bucket("dialogue", row) >= params.multi_turn_share:
            return False
        if row["shape"] == "single":
            return bool(single_scenarios)
        return row["shape"] == "multi_hop" and bool(pair_scenarios) and is_pair(as_task(row))

    def is_extra(kind: str, share: float, row: dict) -> bool:
        """Single-call tasks that also give an example of another kind (abstain, ask, recover)."""
        return row["shape"] == "single" and not is_dialogue(row) and bucket(kind, row) < share

    async def extra(kind: str, row: dict, gate: asyncio.Semaphore) -> dict:
        """An ask example (a required value missing: the assistant asks) or a recover example."""
        nonlocal done
        task = as_task(row)
        offered = distractors.offer([by_id[s.tool_id] for s in task.chain], params.distractors)
        rng = random.Random(f"{kind}:{row['task_id']}")
        async with gate:
            if kind == "ask":
                ep = await run_dialogue(
                    task, None, "ask", dialogue[0], dialogue[1], executor, offered, system_prompt, dialogue[2], rng
                )
            else:
                ep = await run_recovery(task, dialogue[1], executor, offered, system_prompt, dialogue[2], rng)
        done += 1
        progress(done, total)
        return trajectory_row(EXTRA_PREFIX[kind] + row["task_id"][2:], row, kind, ep, offered, chain=row["chain"],
                              reference=row["reference_answer"], agents=(user.name, assistant.name),
                              prompt_hash=prompt_hash, execution=execution_label(row["chain"], executor))

    def is_abstain(row: dict) -> bool:
        return is_extra("abstain", params.abstain_share, row)

    async def abstain(row: dict, gate: asyncio.Semaphore) -> dict:
        """The same request with only unrelated tools offered: the right answer is to say none fits."""
        nonlocal done
        task = as_task(row)
        offered = distractors.unrelated([by_id[s.tool_id] for s in task.chain], max(params.distractors, 1))
        async with gate:
            ep = await run_episode(task, user, assistant, executor, offered, system_prompt, params.max_turns)
        done += 1
        progress(done, total)
        return trajectory_row("ab_" + row["task_id"][2:], row, "abstain", ep, offered, chain="[]", reference=None,
                              agents=(user.name, assistant.name), prompt_hash=prompt_hash, execution="none")

    async def one(row: dict, gate: asyncio.Semaphore) -> dict:
        nonlocal done
        task = as_task(row)
        needed = [by_id[s.tool_id] for s in task.chain]
        multi_turn = is_dialogue(row)
        rng = random.Random(f"dialogue:{row['task_id']}")
        scenario = rng.choice(single_scenarios if row["shape"] == "single" else pair_scenarios) if multi_turn else None
        alone = multi_turn and row["shape"] == "single" and len(singles) > 1  # fail_inform's second request
        extra_row = singles[(singles.index(row) + 1) % len(singles)] if alone else None
        if scenario == "fail_inform" and extra_row:  # the user's second request needs its tool offered too
            needed += [by_id[s["tool_id"]] for s in json.loads(extra_row["chain"]) if by_id[s["tool_id"]] not in needed]
        offered = distractors.offer(needed, params.distractors)
        kind, actions, reference, chain_json = "single_turn", None, row["reference_answer"], row["chain"]
        async with gate:
            if multi_turn:
                ep = await run_dialogue(task, as_task(extra_row) if extra_row else None, scenario, dialogue[0],
                                        dialogue[1], executor, offered, system_prompt, dialogue[2], rng)
                kind, actions = "multi_turn", json.dumps({"scenario": ep["scenario"], "actions": ep["actions"]})
                if ep["task"] is not task:  # the user changed their request (inform_intent_clear_add)
                    reference, chain_json = (
                        by_task[ep["task"].task_id]["reference_answer"],
                        by_task[ep["task"].task_id]["chain"],
                    )
            else:
                ep = await run_episode(task, user, assistant, executor, offered, system_prompt, params.max_turns)
        done += 1
        progress(done, total)
        return trajectory_row(("md_" if kind == "multi_turn" else "tr_") + row["task_id"][2:], row, kind, ep, offered,
                              chain=chain_json, reference=reference, agents=(user.name, assistant.name),
                              prompt_hash=prompt_hash, execution=execution_label(chain_json, executor), actions=actions)

    async def hard(row: dict, gate: asyncio.Semaphore) -> dict:
        nonlocal done
        steps = [Step.from_row(s) for s in json.loads(row["chain"])]
        needed = list({s.tool_id: by_id[s.tool_id] for s in steps}.values())
        offered = distractors.offer(needed, params.distractors)
        async with gate:
            ep = await replay(row["question"], steps, assistant, executor, offered, system_prompt)
        done += 1
        progress(done, total)
        return trajectory_row("dm_" + row["task_id"][2:], row, "single_turn", ep, offered, chain=row["chain"],
                              reference=row["reference_answer"],
                              agents=(row["escalator"], f"{REPLAY_AGENT}+{assistant.name}"), prompt_hash=prompt_hash,
                              execution=execution_label(row["chain"], executor), level=row["level"])

    abstaining = [r for r in task_rows if is_abstain(r)]
    extras = [
        (kind, r)
        for kind, share in (("ask", params.ask_share), ("recover", params.recover_share))
        if dialogue is not None
        for r in task_rows
        if is_extra(kind, share, r)
    ]
    total = len(task_rows) + len(escalated) + len(abstaining) + len(extras)
    given = [("md_" if is_dialogue(r) else "tr_") + r["task_id"][2:] for r in task_rows] + [
        "dm_" + r["task_id"][2:] for r in escalated
    ]
    given += ["ab_" + r["task_id"][2:] for r in abstaining] + [
        EXTRA_PREFIX[kind] + r["task_id"][2:] for kind, r in extras
    ]

    async def run_all() -> list[dict]:
        gate = asyncio.Semaphore(EPISODES_IN_FLIGHT)
        return await asyncio.gather(
            *(one(r, gate) for r in task_rows),
            *(hard(r, gate) for r in escalated),
            *(abstain(r, gate) for r in abstaining),
            *(extra(kind, r, gate) for kind, r in extras),
        )

    rows = run_async(run_all()) if total else []
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
        metadata={
            "levels": dict(Counter(str(r["level"]) for r in rows)),
            "outcomes": dict(Counter(r["outcome"] for r in rows)),
            "kinds": dict(Counter(r["kind"] for r in rows)),
            "calls_from_text": sum(c.get("call_source") == "text" for r in rows for c in json.loads(r["calls"])),
            # text after calls written as text (a result the model invented, a call to a tool not offered): not kept
            "text_dropped": sum(len(c.get("dropped") or []) for r in rows for c in json.loads(r["calls"])),
            "answers_asked_for": sum(bool(r["answer_asked"]) for r in rows),
            "scenarios": dict(Counter(json.loads(r["actions"])["scenario"] for r in rows if r["actions"])),
        },
    )


def trajectories(rt, version: str, log, shard: Shard = WHOLE) -> StageResult:
    """Simulated episodes (ToolAlpaca): user, assistant and tool executor, in OpenAI message format."""
    tool_table = documented_tools(rt, version)
    templates = ("simulate/user.j2", "simulate/assistant_system.j2", "simulate/dialogue_turn.j2")
    return simulate(rt.store.read(rt.pipeline.name, "tasks", version), tool_table, user=rt.agent("user"),
                    assistant=rt.agent("assistant"), executor=rt.executor(tools_of(tool_table)),
                    params=rt.pipeline.stages.simulate,
                    system_prompt=render("simulate/assistant_system.j2", rt.prompts_root, today=None),
                    prompt_hash=":".join(template_hash(t, rt.prompts_root) for t in templates),
                    progress=progress.reporter("simulate", log), dialogue=rt.dialogue_realisers(),
                    escalated=kept_escalations(rt, version), owns=shard.owns)


ASSET = StageAsset("trajectories", "simulate", ("tasks", "escalations"), trajectories,
                   ("traj_id", "outcome", "final_answer", "error"), shardable=True,
                   reads=("tools", "tasks", "escalations"),
                   roles=lambda pipeline: ("user", "assistant", "executor"))
