"""Playing a ToolDial dialogue plan ("ToolDial: Multi-turn Dialogue Generation Method for Tool-Augmented
Language Models", ICLR 2025): the system's tool actions executed, each utterance realised, one episode.

The plans, the dialogue state and the utterances' wording are in `dialogues.py`.
"""

from __future__ import annotations

import json
import random

from ..agents.realisers import Realiser
from ..answers.sentence import answer_from
from ..domain import Episode, Task
from ..executors.routing import ToolExecutor
from ..graph.chains import value_at
from ..llm import BudgetExhausted, ModelCallError
from ..messages import REQUEST, normalise, request_of
from .dialogues import ASKS, RECORDED, SCENARIOS, Dialogue, scenario_for
from .follow_ups import FOLLOW_UP, follow_up_plan


class DialogueRun:
    """One dialogue being played: what was said, called and returned so far. A plan item is either
    one of the system's tool actions (`do_<action>`: retrieve, call) or an utterance (`say`)."""

    def __init__(
        self,
        state: Dialogue,
        executor: ToolExecutor,
        offered: list[dict],
        system_prompt: str,
        user: Realiser,
        system: Realiser,
    ):
        self.state, self.offered, self.user, self.system = state, offered, user, system
        self.episode = executor.episode()
        self.messages: list[dict] = [{"role": "system", "content": system_prompt}]
        self.actions: list[list] = []
        self.calls: list[dict] = []
        self.results: list = []
        self.final: str | None = None

    async def play(self, plan: list[str]) -> None:
        for item in plan:
            speaker, action = item.split(":")
            tool_action = getattr(self, f"do_{action}", None)
            if tool_action is not None:
                await tool_action()
            else:
                await self.say("user" if speaker == "U" else "assistant", action)

    async def do_retriever_call(self) -> None:
        self.actions.append(["system", "retriever_call", [t["function"]["name"] for t in self.offered]])

    async def do_retriever_call_source(self) -> None:
        self.actions.append(["system", "retriever_call", [self.state.source.name]])

    async def do_call_source(self) -> None:
        await self.call(self.state.source.name, self.state.source.arguments)

    async def do_call(self) -> None:
        state = self.state
        step = state.current.chain[-1]
        arguments = dict(step.arguments)
        if state.source is not None and state.current is state.task:  # the value comes from the source's result
            arguments[state.withheld] = value_at(self.results[-1], step.bindings[state.withheld]["path"])
        await self.call(step.name, arguments)

    async def do_call_step(self) -> None:
        """A follow-up dialogue's next step, its bound values taken from the results of the steps before."""
        step = self.state.task.chain[self.state.step]
        arguments = dict(step.arguments)
        for k, b in step.bindings.items():
            arguments[k] = value_at(self.results[b["step"]], b["path"])
        self.state.step += 1
        await self.call(step.name, arguments)

    async def call(self, name: str, arguments: dict) -> None:
        call_id = f"call_{len(self.calls)}"
        text = json.dumps(arguments, ensure_ascii=False)
        self.messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}],
            }
        )
        obs = await self.episode.call(name, arguments)
        self.calls.append(
            {"name": name, "arguments": text, "ok": obs.ok, "error": obs.error, "answered_by": obs.answered_by}
        )
        self.messages.append({"role": "tool", "tool_call_id": call_id, "name": name, "content": obs.to_json()})
        self.results.append(obs.content)
        self.actions.append(["system", "call", name])

    async def say(self, who: str, action: str) -> None:
        if action == "response":  # what the last call returned, in words
            asked = request_of(self.messages, self.actions)  # not the turns that only gave values
            # a follow-up is answered from its own turn's results: the earlier ones were answered already
            since = self.last_request() if self.state.scenario == FOLLOW_UP else 0
            example, facts = answer_from(self.messages[since:], asked), json.loads(self.messages[-1]["content"])
        else:
            example, facts = self.state.utterance(action)
        recorded = RECORDED.get(action, action)
        text = await (self.user if who == "user" else self.system).utter(who, recorded, example, facts, self.messages)
        asks = who == "user" and (action in ASKS or (action == "inform" and self.state.scenario == "suggest_affirm"))
        self.messages.append({"role": who, "content": text})  # after agreeing to a suggestion: the whole request
        self.actions.append(["user" if who == "user" else "system", recorded, REQUEST if asks else None])
        if action == "response":
            self.final = text

    def last_request(self) -> int:
        return max(i for i, m in enumerate(self.messages) if m["role"] == "user")


async def run_dialogue(
    task: Task,
    extra: Task | None,
    scenario: str,
    user: Realiser,
    system: Realiser,
    executor: ToolExecutor,
    offered: list[dict],
    system_prompt: str,
    phrases: dict,
    rng: random.Random,
) -> Episode:
    """One dialogue; never raises for model trouble (the outcome says what happened). `scenario` is
    the one asked for; a scenario the task cannot play (scenario_for) becomes the nearest one that
    it can, and the episode says which was played."""
    state = Dialogue(task, extra, executor.by_name, offered, phrases, rng)
    scenario = state.scenario = scenario_for(task, scenario, extra, state.required)
    if scenario == "suggest_negate" and state.other is None:  # no tool about the same thing to guess wrongly
        scenario = state.scenario = "vague_clarify"
    if scenario == "fail_inform" and not state.forgettable():
        scenario = state.scenario = "ask"  # one can forget an id, not the date of one's own question or one's language
    plan = follow_up_plan(len(task.chain)) if scenario == FOLLOW_UP else SCENARIOS[scenario]
    if scenario == "missing_parameter" and state.held_source():  # 'the country of my order': ask for the order
        plan = [a for a in plan if a not in ("S:request", "U:fail_inform")]
    run = DialogueRun(state, executor, offered, system_prompt, user, system)
    outcome, error = "answered", ""
    try:
        await run.play(plan)
    except BudgetExhausted as e:
        outcome, error = "budget_exhausted", str(e)
    except ModelCallError as e:
        outcome, error = "model_error", str(e)
    finally:
        run.episode.close()
    return {
        "messages": [normalise(m) for m in run.messages],
        "calls": run.calls,
        "final_answer": run.final,
        "outcome": outcome,
        "error": error,
        "actions": run.actions,
        "scenario": scenario,
        "task": state.current,
    }
