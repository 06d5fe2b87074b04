"""Trajectories for escalated tasks: the executed reference chain, replayed as the assistant's calls.

An escalated task is kept because the frontier agent failed it, so no agent's episode is a correct
example of it. Its reference chain is: the replay executes the chain again in a fresh episode, one
assistant message per round of calls that can run together, and the generating assistant writes the
final answer from the results (sentences from the results, toolloom.answers.sentence, when it tries to call more
tools instead). The filter then checks the replay like any episode.
"""

from __future__ import annotations

import json

from ..agents.base import AssistantAgent
from ..answers.sentence import answer_from
from ..domain import Episode, Step
from ..executors.routing import ToolExecutor
from ..llm import BudgetExhausted, ModelCallError
from ..messages import normalise, to_openai

REPLAY_AGENT = "reference-chain-replay"


def rounds(steps: list[Step]) -> list[list[int]]:
    """Step indices grouped by dependency depth: a step runs one round after the latest step it reads
    (a bound value's source or its branch condition's)."""
    depth: list[int] = []
    for s in steps:
        depth.append(1 + max((depth[k] for k in s.reads()), default=-1))
    return [[i for i, d in enumerate(depth) if d == r] for r in range(max(depth, default=-1) + 1)]


async def replay(
    question: str,
    steps: list[Step],
    assistant: AssistantAgent,
    executor: ToolExecutor,
    offered: list[dict],
    system_prompt: str,
) -> Episode:
    """An episode like simulate.run_episode's."""
    episode = executor.episode()
    messages: list[dict] = [{"role": "system", "content": system_prompt}, {"role": "user", "content": question}]
    calls: list[dict] = []
    for group in rounds(steps):
        tool_calls = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": steps[i].name, "arguments": json.dumps(steps[i].arguments, ensure_ascii=False)},
            }
            for i in group
        ]
        messages.append({"role": "assistant", "content": None, "tool_calls": tool_calls})
        for i, call in zip(group, tool_calls):
            obs = await episode.call(steps[i].name, steps[i].arguments)
            calls.append(
                {
                    "name": steps[i].name,
                    "arguments": call["function"]["arguments"],
                    "ok": obs.ok,
                    "error": obs.error,
                    "answered_by": obs.answered_by,
                }
            )
            messages.append(
                {"role": "tool", "tool_call_id": call["id"], "name": steps[i].name, "content": obs.to_json()}
            )
            if not obs.ok:
                return {
                    "messages": [normalise(m) for m in messages],
                    "calls": calls,
                    "final_answer": None,
                    "outcome": "tool_error",
                    "error": f"replayed call {steps[i].name} failed: {obs.error}",
                }
    final, outcome, error = await answer_turn(assistant, messages, offered)
    if outcome == "answered":
        final = final or answer_from(messages)
        messages.append({"role": "assistant", "content": final, "tool_calls": None})
    return {
        "messages": [normalise(m) for m in messages],
        "calls": calls,
        "final_answer": final,
        "outcome": outcome,
        "error": error,
    }


async def answer_turn(
    assistant: AssistantAgent, messages: list[dict], offered: list[dict]
) -> tuple[str | None, str, str]:
    """(final answer, outcome, error) of the assistant's turn after the replayed calls; "" when it called again."""
    outcome, error = "answered", ""
    try:
        turn = await assistant.step([to_openai(m) for m in messages], offered)
        final = (turn.content or "").strip() if not turn.tool_calls else ""
        if turn.unreadable_call:  # the answer turn is a call that cannot be read: not an answer
            final, outcome, error = None, "unreadable_tool_call", turn.unreadable_call
    except BudgetExhausted as e:
        final, outcome, error = None, "budget_exhausted", str(e)
    except ModelCallError as e:
        final, outcome, error = None, "model_error", str(e)
    return final, outcome, error
