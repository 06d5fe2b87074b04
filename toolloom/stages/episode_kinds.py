"""The kinds of episode the simulate stage plays for a task (ToolAlpaca's single request, ToolDial's dialogues,
an abstain, an ask, a recover, a replayed escalation): each says which rows it wants, the id its trajectory
gets and how one is played."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass

from ..agents.base import AssistantAgent, UserAgent
from ..agents.realisers import Realiser
from ..domain import Episode, Step, Task, Tool, wording_meta
from ..executors.routing import ToolExecutor
from ..executors.simulated import documented_names
from ..spec import SimulateStage
from .demonstrations import REPLAY_AGENT, replay
from .dialogue_play import run_dialogue
from .dialogues import PAIR_SCENARIOS, is_pair
from .follow_ups import FOLLOW_UP, can_follow_up, chance, stitched
from .episodes import Distractors, run_episode
from .recoveries import run_recovery

# trajectory id prefixes of the examples a task gives besides its ordinary one (they keep it as sample ids)
EXTRA_PREFIX = {"abstain": "ab_", "ask": "ak_", "recover": "rc_"}


def execution_label(chain_json: str, executor: ToolExecutor) -> str:
    """How the reference chain was verified: python, mcp, http (real executions), or simulated when any call was."""
    kinds = {executor.by_name[s["name"]]["execution"] for s in json.loads(chain_json) if s["name"] in executor.by_name}
    return "simulated" if "simulated" in kinds or not kinds else "+".join(sorted(kinds))


def trajectory_row(
    traj_id: str,
    row: dict,
    kind: str,
    ep: Episode,
    offered: list[dict],
    *,
    chain: str,
    reference,
    agents: tuple[str, str],
    prompt_hash: str,
    execution: str,
    actions: str | None = None,
    level: int = 0,
    docs_version: str = "",
) -> dict:
    """A row of `trajectories`: the episode, the task row it came from, and how it was made
    (`agents`: the user and the assistant agent's names)."""
    return {
        "traj_id": traj_id,
        "task_id": row["task_id"],
        "kind": kind,
        "shape": row["shape"],
        "messages": ep["messages"],
        "tools_offered": json.dumps(offered, ensure_ascii=False),
        "chain": chain,
        "reference_answer": reference,
        "final_answer": ep["final_answer"],
        "outcome": ep["outcome"],
        "error": ep["error"],
        "calls": json.dumps(ep["calls"], ensure_ascii=False),
        "user_agent": agents[0],
        "assistant_agent": agents[1],
        "prompt_hash": prompt_hash,
        "actions": actions,
        "level": level,
        "execution": execution,
        "answer_asked": bool(ep.get("answer_asked")),
        "answer_repaired": bool(ep.get("answer_repaired")),
        "docs_version": docs_version,
    }


def docs_version_of(offered: list[dict], executor: ToolExecutor) -> str:
    """The earlier version whose refined documentation an offer carried ("" when every tool had its source's)."""
    names = [t["function"]["name"] for t in offered]
    return max((executor.by_name[n].get("docs_version") or "" for n in names if n in executor.by_name), default="")


@dataclass
class Simulation:
    """What every episode of one simulate run shares: tools, agents, settings, and the tasks in view."""

    by_id: dict[str, Tool]
    distractors: Distractors
    user: UserAgent
    assistant: AssistantAgent
    executor: ToolExecutor
    params: SimulateStage
    system_prompt: str
    prompt_hash: str
    dialogue: tuple[Realiser, Realiser, dict] | None
    all_rows: list[dict]  # every task, the other shards' too: a dialogue may borrow a neighbour's request

    def __post_init__(self):
        self.singles = [r for r in self.all_rows if r["shape"] == "single"]
        self.by_task = {r["task_id"]: r for r in self.all_rows}
        self.single_scenarios = [sc for sc in self.params.scenarios if sc not in (*PAIR_SCENARIOS, FOLLOW_UP)]
        self.pair_scenarios = [sc for sc in self.params.scenarios if sc in PAIR_SCENARIOS]

    def as_task(self, row: dict) -> Task:
        chain = json.loads(row["chain"])
        meta = {
            s["tool_id"]: {
                **wording_meta(self.by_id[s["tool_id"]]),
                "named": documented_names(self.executor.documented, s["arguments"]),
            }
            for s in chain
        }
        steps = [Step.from_row(s, self.by_id[s["tool_id"]]["description"]) for s in chain]
        return Task(row["task_id"], row["shape"], [s.planned() for s in steps], row["seed"], meta)

    def is_dialogue(self, row: dict) -> bool:
        """Single calls (the scenarios for one tool) and source -> target pairs (ToolDial's missing_parameter)."""
        if self.dialogue is not None and self.follows_up(row):
            return True
        if self.dialogue is None or bucket("dialogue", row) >= self.params.multi_turn_share:
            return False
        if row["shape"] == "single":
            return bool(self.single_scenarios)
        return row["shape"] == "multi_hop" and bool(self.pair_scenarios) and is_pair(self.as_task(row))

    def follows_up(self, row: dict) -> bool:
        """The multi-hop chains played as follow-up questions, one step a turn (`params.follow_up_share`)."""
        if row["shape"] != "multi_hop" or FOLLOW_UP not in self.params.scenarios or not self.params.follow_up_share:
            return False
        task = self.as_task(row)
        return can_follow_up(task) and bucket(FOLLOW_UP, row) < chance(self.params.follow_up_share, stitched(task))

    def is_extra(self, kind: str, share: float, row: dict) -> bool:
        """Single-call tasks that also give an example of another kind (abstain, ask, recover)."""
        return row["shape"] == "single" and not self.is_dialogue(row) and bucket(kind, row) < share

    async def episode(self, task: Task, offered: list[dict]) -> Episode:
        """One single-request episode of the task with these tools offered, by this run's agents and settings."""
        p = self.params
        return await run_episode(
            task,
            self.user,
            self.assistant,
            self.executor,
            offered,
            self.system_prompt,
            p.max_turns,
            p.plain_request_fallback,
            p.plain_answer_fallback,
        )

    def offer(self, needed: list[Tool]) -> list[dict]:
        return self.distractors.offer(needed, self.params.distractors)

    def row(self, traj_id: str, row: dict, kind: str, ep: Episode, offered: list[dict], **how) -> dict:
        how.setdefault(
            "agents", (ep.get("user_agent") or self.user.name, ep.get("assistant_agent") or self.assistant.name)
        )
        how.setdefault("docs_version", docs_version_of(offered, self.executor))
        return trajectory_row(traj_id, row, kind, ep, offered, prompt_hash=self.prompt_hash, **how)

    def referenced_row(self, traj_id: str, row: dict, kind: str, ep: Episode, offered: list[dict], **how) -> dict:
        """A trajectory row whose reference is the task row's own chain and answer."""
        execution = execution_label(row["chain"], self.executor)
        return self.row(
            traj_id,
            row,
            kind,
            ep,
            offered,
            chain=row["chain"],
            reference=row["reference_answer"],
            execution=execution,
            **how,
        )


def bucket(purpose: str, row: dict) -> float:
    """A task's stable draw in [0, 1] for one purpose (the same in every run and shard)."""
    return int(hashlib.sha256(f"{purpose}:{row['task_id']}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


class EpisodeKind:
    """One kind of episode: the rows it is played for, its trajectory's id, and how it is played."""

    prefix = "tr_"
    from_escalations = False  # its rows are kept escalations, not tasks

    def __init__(self, sim: Simulation):
        self.sim = sim

    def wanted(self, rows: list[dict]) -> list[dict]:
        return rows

    def traj_id(self, row: dict) -> str:
        return self.prefix + row["task_id"][2:]

    async def run(self, row: dict) -> dict:
        raise NotImplementedError


class Ordinary(EpisodeKind):
    """Every task's own episode: one request (ToolAlpaca), or a multi-turn dialogue (ToolDial) for its share."""

    def traj_id(self, row: dict) -> str:
        return ("md_" if self.sim.is_dialogue(row) else "tr_") + row["task_id"][2:]

    async def run(self, row: dict) -> dict:
        sim = self.sim
        task = sim.as_task(row)
        if not sim.is_dialogue(row):
            offered = sim.offer([sim.by_id[s.tool_id] for s in task.chain])
            ep = await sim.episode(task, offered)
            return sim.referenced_row(self.traj_id(row), row, "single_turn", ep, offered)
        return await self.dialogue(row, task)

    async def dialogue(self, row: dict, task: Task) -> dict:
        sim = self.sim
        needed = [sim.by_id[s.tool_id] for s in task.chain]
        rng = random.Random(f"dialogue:{row['task_id']}")
        if sim.follows_up(row):
            scenario = FOLLOW_UP
        else:
            scenario = rng.choice(sim.single_scenarios if row["shape"] == "single" else sim.pair_scenarios)
        alone = row["shape"] == "single" and len(sim.singles) > 1  # fail_inform's second request
        extra_row = sim.singles[(sim.singles.index(row) + 1) % len(sim.singles)] if alone else None
        if scenario == "fail_inform" and extra_row:  # the user's second request needs its tool offered too
            needed += [
                sim.by_id[s["tool_id"]] for s in json.loads(extra_row["chain"]) if sim.by_id[s["tool_id"]] not in needed
            ]
        offered = sim.offer(needed)
        user_realiser, system_realiser, phrases = sim.dialogue
        ep = await run_dialogue(
            task,
            sim.as_task(extra_row) if extra_row else None,
            scenario,
            user_realiser,
            system_realiser,
            sim.executor,
            offered,
            sim.system_prompt,
            phrases,
            rng,
        )
        reference, chain_json = row["reference_answer"], row["chain"]
        if ep["task"] is not task:  # the user changed their request (inform_intent_clear_add)
            changed = sim.by_task[ep["task"].task_id]
            reference, chain_json = changed["reference_answer"], changed["chain"]
        return sim.row(
            self.traj_id(row),
            row,
            "multi_turn",
            ep,
            offered,
            chain=chain_json,
            reference=reference,
            execution=execution_label(chain_json, sim.executor),
            actions=json.dumps({"scenario": ep["scenario"], "actions": ep["actions"]}),
        )


class Demonstration(EpisodeKind):
    """A kept escalation replayed from its reference chain (demonstrations.py)."""

    prefix = "dm_"
    from_escalations = True

    async def run(self, row: dict) -> dict:
        sim = self.sim
        steps = [Step.from_row(s) for s in json.loads(row["chain"])]
        needed = list({s.tool_id: sim.by_id[s.tool_id] for s in steps}.values())
        near = [t for t in sim.by_id.values() if t["name"] in json.loads(row.get("distractors") or "[]")]
        offered = sim.offer(needed + near)  # a distractor level offers its nearly right tools, as its frontier saw
        ep = await replay(row["question"], steps, sim.assistant, sim.executor, offered, sim.system_prompt)
        return sim.referenced_row(
            self.traj_id(row),
            row,
            "single_turn",
            ep,
            offered,
            agents=(row["escalator"], f"{REPLAY_AGENT}+{sim.assistant.name}"),
            level=row["level"],
        )


class Abstain(EpisodeKind):
    """The same request with only unrelated tools offered: the right answer is to say none fits."""

    prefix = EXTRA_PREFIX["abstain"]

    def wanted(self, rows: list[dict]) -> list[dict]:
        return [r for r in rows if self.sim.is_extra("abstain", self.sim.params.abstain_share, r)]

    async def run(self, row: dict) -> dict:
        sim = self.sim
        task = sim.as_task(row)
        offered = sim.distractors.unrelated([sim.by_id[s.tool_id] for s in task.chain], max(sim.params.distractors, 1))
        ep = await sim.episode(task, offered)
        return sim.row(self.traj_id(row), row, "abstain", ep, offered, chain="[]", reference=None, execution="none")


class Extra(EpisodeKind):
    """An ask example (a required value missing: the assistant asks) or a recover example (recoveries.py)."""

    def __init__(self, sim: Simulation, kind: str):
        super().__init__(sim)
        self.kind, self.prefix = kind, EXTRA_PREFIX[kind]

    def wanted(self, rows: list[dict]) -> list[dict]:
        if self.sim.dialogue is None:
            return []
        share = getattr(self.sim.params, f"{self.kind}_share")
        return [r for r in rows if self.sim.is_extra(self.kind, share, r)]

    async def run(self, row: dict) -> dict:
        sim = self.sim
        task = sim.as_task(row)
        offered = sim.offer([sim.by_id[s.tool_id] for s in task.chain])
        rng = random.Random(f"{self.kind}:{row['task_id']}")
        user_realiser, system_realiser, phrases = sim.dialogue
        if self.kind == "ask":
            ep = await run_dialogue(
                task,
                None,
                "ask",
                user_realiser,
                system_realiser,
                sim.executor,
                offered,
                sim.system_prompt,
                phrases,
                rng,
            )
        else:
            ep = await run_recovery(task, system_realiser, sim.executor, offered, sim.system_prompt, phrases, rng)
        return sim.referenced_row(self.traj_id(row), row, self.kind, ep, offered)
