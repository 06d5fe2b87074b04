"""One seed's ladder of progressive difficulty ("Synthesizing Agentic Data for Web Agents with Progressive
Difficulty Enhancement Mechanisms", 2025): the frontier's attempts at each level, and the operators that
make the next one. The stage that runs a ladder per seed is `escalations.py`.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Callable

from ..agents.base import AssistantAgent
from ..agents.offline import TemplateUser
from ..domain import Step, Task, wording_meta
from ..graph.branching import branch_problem
from ..graph.escalation import ChainEscalator, Harder, reference_answer, shape_of
from ..graph.near_tools import MAX_NEW
from ..llm import BudgetExhausted, ModelCallError
from ..spec import EscalateStage
from .episodes import Distractors, run_episode
from .samples import check_execution, check_format


class QuestionUser(TemplateUser):
    """Asks the level's fixed question; answers clarifying questions with the values it states, a
    described value by its description."""

    name = "escalation-question"

    def __init__(self, question: str, described: dict[str, str] | None = None):
        self.question, self.described = question, described or {}

    async def instruction(self, task: Task) -> str:
        return self.question

    async def details(self, task: Task, request: str, question: str) -> str:
        return said(await super().details(task, request, question), self.described, quoted=True)


def said(text: str, described: dict[str, str], quoted: bool = False) -> str:
    """`text` with each described value replaced by its description."""
    for value, description in described.items():
        if quoted:  # 'day "2026-07-14"' in a reply of details
            text = text.replace(f'"{value}"', description)
        text = text.replace(value, description)
    return text


def missed_reference(ep: dict, steps: list[Step], offered: list[dict]) -> tuple[str, str] | None:
    """Why an answered episode did not reach the executed chain's reference (the filter's format and
    execution checks, and a call of a branch not taken: (reason, detail)), or None when it did."""
    traj = {
        "messages": ep["messages"],
        "calls": ep["calls"],
        "final_answer": ep["final_answer"],
        "tools_offered": offered,
        "chain": None,
        "shape": shape_of(steps),
        "reference_answer": json.dumps(reference_answer(steps), ensure_ascii=False, sort_keys=True),
    }
    return check_format(traj) or branch_problem(steps, ep["calls"]) or check_execution(traj)


def resample(agent: AssistantAgent, k: int) -> AssistantAgent:
    return agent.resampled(k) if k and hasattr(agent, "resampled") else agent


def chain_steps(chain_json: str, by_id: dict[str, dict]) -> list[Step]:
    """A tasks-table chain as steps, each with its tool's (shown) documentation."""
    return [Step.from_row(s, by_id[s["tool_id"]]["description"]) for s in json.loads(chain_json)]


def operator_order(weights: dict[str, float], rng: random.Random) -> list[str]:
    """Operators in a weighted random order without replacement (Efraimidis-Spirakis keys)."""
    keyed = [(rng.random() ** (1.0 / w), op) for op, w in sorted(weights.items()) if w > 0]
    return [op for _, op in sorted(keyed, reverse=True)]


@dataclass
class Level:
    """One rung of a seed's ladder: the task, how it is asked, and what made it."""

    task_id: str
    steps: list[Step]
    question: str
    level: int = 0
    operator: str = ""
    parent: str = ""
    described: dict[str, str] = field(default_factory=dict)  # values the request describes, not states
    distractors: list[str] = field(default_factory=list)  # nearly right tools offered whatever else is


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
        self.by_name = {t["name"]: t for t in tool_rows}
        self.chains, self.verifier, self.distractors = chains, verifier, Distractors(tool_rows)
        self.frontier, self.escalator, self.executor, self.params = frontier, escalator, executor, params
        self.system_prompt, self.prompt_hash = system_prompt, prompt_hash
        self.tokens_spent, self.pool = tokens_spent, pool

    def as_task(self, task_id: str, steps: list[Step], seed: int) -> Task:
        meta = {s.tool_id: wording_meta(self.by_id[s.tool_id]) for s in steps}
        return Task(task_id, shape_of(steps), [s.planned() for s in steps], seed, meta)

    async def attempt(self, task: Task, at: "Level", k: int) -> dict:
        """The frontier's k-th try at one level: solved, failed (with why) or error (not its failure)."""
        steps = at.steps
        offered = self.offered(at)
        ep = await run_episode(
            task,
            QuestionUser(at.question, at.described),
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
        answered = ep["outcome"] == "answered"
        failure = missed_reference(ep, steps, offered) if answered else (ep["outcome"], ep["error"])
        return {
            **record,
            "outcome": "failed" if failure else "solved",
            "reason": failure[0] if failure else "",
            "detail": failure[1][:300] if failure else "",
        }

    def offered(self, at: Level) -> list[dict]:
        """The level's offer: its needed tools, its nearly right ones and the stage's distractors."""
        needed = list({s.tool_id: self.by_id[s.tool_id] for s in at.steps}.values())
        return self.distractors.offer(needed + [self.by_name[n] for n in at.distractors], self.params.distractors)

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
            "distractors": json.dumps(at.distractors),
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
                attempts.append(await self.attempt(task, at, k))
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
        for op in operator_order(self.params.operators, rng):
            other = chain_steps(rng.choice(others)["chain"], self.by_id) if others else None  # for combining operators
            out = await self.chains.apply(op, at.steps, rng, other)
            if out is None:
                continue
            steps, offered = (out.steps, out.described) if isinstance(out, Harder) else (out, {})
            new_descriptions = {v: d for v, d in offered.items() if v not in at.described}
            if offered and not new_descriptions:
                continue  # every value it would describe already is
            described = {**at.described, **new_descriptions}
            near = out.distractors if isinstance(out, Harder) else []
            already = {t["function"]["name"] for t in self.offered(at)}
            new_near = [n for n in near if n not in already][:MAX_NEW]
            if near and not new_near:
                continue  # the level below offered every nearly right tool already
            key = json.dumps(
                [seed_row["task_id"], at.level + 1, op, [s.row(with_result=True) for s in steps]],
                sort_keys=True,
                default=str,
            )
            task_id = "e_" + hashlib.sha256(key.encode()).hexdigest()[:12]
            if new_near and not new_descriptions:  # only the offer changed: the request stays word for word
                draft = at.question
            else:
                draft = await self.escalator.phrase(
                    self.as_task(task_id, steps, seed_row["seed"] + at.level + 1), op, at.question
                )
            question = said(draft, described)
            new = Level(task_id, steps, question, at.level + 1, op, at.task_id, described, at.distractors + new_near)
            reason = not_described(draft, new_descriptions) or await self.verifier.verify(
                question, steps, reference_answer(steps)
            )
            if not reason:
                return new
            rows.append(self.row(seed_row, new, "dropped", reason))
        return None


def not_described(draft: str, new_descriptions: dict[str, str]) -> str | None:
    """Why a level that describes values is no harder: the request states none of them."""
    if new_descriptions and not any(v in draft for v in new_descriptions):
        return f"not_described: the request states none of {', '.join(sorted(new_descriptions))}"
    return None
