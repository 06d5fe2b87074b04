"""Multi-turn dialogues driven by ToolDial's action inventory.

A dialogue plan is a sequence of (speaker, action); the state (which values the user has given,
which tool is meant) is tracked here in code, the call's arguments come from the state, and a
realiser only writes each utterance (a model, or offline the phrases in
prompts/simulate/dialogue_phrases.yaml). User actions: inform_intent_clear,
inform_intent_clear_add, inform_intent_vague, inform, fail_inform, affirm, negate, user_bye.
System actions: retriever_call, request, clarify, suggest, call, response, response_fail, system_bye.
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Protocol

import yaml

from ..agents import Task
from ..agents.offline import render_example, summarise
from ..executor import ToolExecutor
from ..llm import BudgetExhausted, ModelCallError, ModelClient
from ..messages import normalise
from ..prompts import render

SCENARIOS = {
    "clear": ["U:inform_intent_clear", "S:retriever_call", "S:call", "S:response", "U:user_bye", "S:system_bye"],
    "vague_clarify": ["U:inform_intent_vague", "S:clarify", "U:inform_intent_clear", "S:retriever_call", "S:call", "S:response",
                      "U:user_bye", "S:system_bye"],
    "suggest_affirm": ["U:inform_intent_vague", "S:retriever_call", "S:suggest", "U:affirm", "S:request", "U:inform", "S:call",
                       "S:response", "U:user_bye", "S:system_bye"],
    "suggest_negate": ["U:inform_intent_vague", "S:retriever_call", "S:suggest_other", "U:negate", "S:clarify",
                       "U:inform_intent_clear", "S:call", "S:response", "U:user_bye", "S:system_bye"],
    "missing_parameter": ["U:inform_intent_missing", "S:retriever_call", "S:request", "U:inform", "S:call", "S:response",
                          "U:user_bye", "S:system_bye"],
    "fail_inform": ["U:inform_intent_missing", "S:retriever_call", "S:request", "U:fail_inform", "S:response_fail",
                    "U:inform_intent_clear_add", "S:call", "S:response", "U:user_bye", "S:system_bye"],
}
MEANINGS = {
    "inform_intent_clear": "ask for what is needed, stating every value", "inform_intent_clear_add": "ask for something else instead, stating every value",
    "inform_intent_vague": "say roughly what the topic is, without details or values", "inform": "give the value that was asked for",
    "fail_inform": "say you do not know the value that was asked for", "affirm": "agree", "negate": "say that is not what you need",
    "user_bye": "thank and end", "request": "ask the user for the missing value", "clarify": "ask the user what exactly they need",
    "suggest": "offer what the tool can do and ask if that is wanted", "response": "answer with the values the tool returned",
    "response_fail": "explain you cannot do it without the value, and offer further help", "system_bye": "say goodbye",
}


class Realiser(Protocol):
    async def utter(self, speaker: str, action: str, example: str, facts: dict, history: list[dict]) -> str: ...


class PhraseRealiser:
    """Offline: the plain example is the utterance."""

    name = "offline-phrases"

    async def utter(self, speaker, action, example, facts, history) -> str:
        return example


class ModelRealiser:
    def __init__(self, client: ModelClient, prompts_root: Path, role: str):
        self.client, self.prompts_root, self.role = client, prompts_root, role
        self.name = client.spec.model

    async def utter(self, speaker, action, example, facts, history) -> str:
        prompt = render("simulate/dialogue_turn.j2", self.prompts_root, speaker=speaker, action=action, meaning=MEANINGS[action],
                        facts=facts, example=example, history=[m for m in history if m["role"] in ("user", "assistant") and m.get("content")])
        c = await self.client.chat([{"role": "user", "content": prompt}], stage="simulate", role=self.role)
        text = (c.message.get("content") or "").strip()
        if c.finish_reason == "length" or not text:
            raise ModelCallError(f"{speaker} utterance for {action} was empty or truncated")
        return text


def load_phrases(prompts_root: Path) -> dict[str, list[str]]:
    return yaml.safe_load((Path(prompts_root) / "simulate" / "dialogue_phrases.yaml").read_text(encoding="utf-8"))


async def run_dialogue(task: Task, extra: Task | None, scenario: str, user: Realiser, system: Realiser, executor: ToolExecutor,
                       offered: list[dict], system_prompt: str, phrases: dict, rng: random.Random) -> dict:
    """One dialogue; never raises for model trouble (the outcome says what happened)."""
    step = task.chain[0]
    tool = executor.by_name[step.name]
    params = [p for p in tool["parameters"].get("required", []) if p in step.arguments]
    withheld = rng.choice(params) if params else None
    if scenario in ("missing_parameter", "fail_inform", "suggest_affirm") and withheld is None:
        scenario = "clear"
    if scenario == "fail_inform" and extra is None:
        scenario = "missing_parameter"
    topic = (tool.get("description") or step.name).split(".")[0].lower()
    purpose = topic[0].lower() + topic[1:] if topic else step.name
    other = next((t["function"] for t in offered if t["function"]["name"] != step.name), None)
    messages: list[dict] = [{"role": "system", "content": system_prompt}]
    actions: list[list] = []
    calls: list[dict] = []
    outcome, error, final = "answered", "", None
    current = task
    episode = executor.episode()

    def pick(action: str, **fields) -> str:
        return rng.choice(phrases[action]).format(**fields)

    try:
        for item in SCENARIOS[scenario]:
            speaker, action = item.split(":")
            facts: dict = {}
            if action == "retriever_call":
                actions.append(["system", action, [t["function"]["name"] for t in offered]])
                continue
            if action in ("inform_intent_clear", "inform_intent_clear_add"):
                if action == "inform_intent_clear_add":
                    current = extra
                example, facts = render_example(current, rng), current.chain[0].arguments
            elif action == "inform_intent_missing":
                action = "inform_intent_clear"
                partial = Task(task.task_id, task.shape, [type(step)(step.tool_id, step.name, step.description,
                                                                    {k: v for k, v in step.arguments.items() if k != withheld})], task.seed, {})
                example = f"I'd like to {purpose}, using " + ", ".join(f"{k.replace('_', ' ')} {json.dumps(v)}" for k, v in partial.chain[0].arguments.items()) \
                    if partial.chain[0].arguments else f"I'd like to {purpose}."
                facts = partial.chain[0].arguments
            elif action == "inform_intent_vague":
                example = pick(action, topic=topic)
            elif action in ("request", "fail_inform", "response_fail"):
                example = pick(action, param=withheld.replace("_", " "))
            elif action == "inform":
                if scenario == "suggest_affirm":  # the user gives every value after agreeing
                    example = "Here are the details: " + ", ".join(f"{k.replace('_', ' ')} {json.dumps(v)}" for k, v in step.arguments.items())
                    facts = step.arguments
                else:
                    example, facts = pick(action, param=withheld.replace("_", " "), value=json.dumps(step.arguments[withheld])), {withheld: step.arguments[withheld]}
            elif action == "suggest":
                example = pick(action, tool_purpose=purpose)
            elif action == "suggest_other":
                action = "suggest"
                alt = (other or {}).get("description") or "look something else up"
                example = pick(action, tool_purpose=alt.split(".")[0][0].lower() + alt.split(".")[0][1:])
            elif action == "call":
                s = current.chain[0]
                call_id = f"call_{len(calls)}"
                messages.append({"role": "assistant", "content": None, "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": s.name, "arguments": json.dumps(s.arguments, ensure_ascii=False)}}]})
                obs = await episode.call(s.name, s.arguments)
                calls.append({"name": s.name, "arguments": json.dumps(s.arguments, ensure_ascii=False), "ok": obs.ok, "error": obs.error})
                messages.append({"role": "tool", "tool_call_id": call_id, "name": s.name, "content": obs.to_json()})
                actions.append(["system", "call", s.name])
                continue
            elif action == "response":
                result = messages[-1]["content"]
                example, facts = "Here is what I found: " + summarise(result), json.loads(result)
            else:
                example = pick(action)
            realiser = user if speaker == "U" else system
            text = await realiser.utter("user" if speaker == "U" else "assistant", action, example, facts, messages)
            messages.append({"role": "user" if speaker == "U" else "assistant", "content": text})
            actions.append(["user" if speaker == "U" else "system", action, None])
            if action == "response":
                final = text
    except BudgetExhausted as e:
        outcome, error = "budget_exhausted", str(e)
    except ModelCallError as e:
        outcome, error = "model_error", str(e)
    finally:
        episode.close()
    return {"messages": [normalise(m) for m in messages], "calls": calls, "final_answer": final, "outcome": outcome,
            "error": error, "actions": actions, "scenario": scenario, "task": current}
