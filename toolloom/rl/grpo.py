"""GRPO on the environment's tasks with TRL: a prompt dataset, a rollout function, and the reward it earned.

TRL's GRPOTrainer takes `rollout_func` (its documented route for OpenEnv-style environments): given a batch of
prompts, it returns each episode's token ids, which of them the policy wrote (`env_mask`), and any fields for the
reward functions. `EnvRollouts` plays every prompt's episode in the environment, batch by batch of turns: the
policy writes a turn, the environment executes its calls with the task's own executor, the results are rendered
with the tokenizer's chat template and appended (masked out of the loss), until the episode ends or the
completion budget is spent. The reward is the environment's own (execution, format, efficiency), unchanged.

The policy is the trainer's model, generating with TRL's own single-turn generation (transformers, or vLLM with
its weight sync when `use_vllm` is set), or an OpenAI-compatible endpoint (`EndpointTurns`): a server the user
keeps in step with the weights, or `toolloom fake-server` for a rollout loop that runs without a model.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from ..checks.arguments import parse_arguments
from ..llm.text_calls import recover
from ..messages import to_openai
from .environment import EnvSession, ToolEnvironment


def prompt_dataset(env: ToolEnvironment):
    """One row per task: `prompt` (the system prompt and the request, as TRL's conversational layout has it) and
    `task_id`. Tasks whose prompt another task already has are left out: the rollout knows a task by its prompt."""
    from datasets import Dataset

    seen, rows = set(), []
    for task in env.tasks:
        key = _key(task.prompt)
        if key not in seen:
            seen.add(key)
            rows.append({"prompt": task.prompt, "task_id": task.task_id})
    return Dataset.from_list(rows)


def environment_reward(completions, env_reward, **kwargs) -> list[float]:
    """The reward the environment gave each rollout (a GRPOTrainer reward function)."""
    return list(env_reward)


async def _steps(sessions: list[EnvSession], actions: list[dict]) -> list:
    return await asyncio.gather(*(s.astep(a) for s, a in zip(sessions, actions)), return_exceptions=True)


def _key(prompt: list[dict]) -> str:
    return json.dumps([[m["role"], m.get("content")] for m in prompt], ensure_ascii=False)


def _for_template(messages: list[dict]) -> list[dict]:
    """Messages as chat templates expect them: each call's arguments an object, not JSON text."""
    out = []
    for m in map(to_openai, messages):
        if m.get("tool_calls"):
            m = {
                **m,
                "tool_calls": [
                    {
                        **c,
                        "function": {
                            **c["function"],
                            "arguments": parse_arguments(c["function"]["arguments"])[0] or {},
                        },
                    }
                    for c in m["tool_calls"]
                ],
            }
        out.append(m)
    return out


@dataclass
class Turn:
    ids: list[int]  # the tokens the policy wrote, ending with the end-of-turn token when it finished the turn
    logprobs: list[float] | None = None


@dataclass
class _Episode:
    session: EnvSession
    prompt_ids: list[int]
    ids: list[int] = field(default_factory=list)
    mask: list[int] = field(default_factory=list)  # 1: the policy wrote it; 0: the environment did
    logprobs: list[float] = field(default_factory=list)
    reward: float | None = None
    breakdown: dict = field(default_factory=dict)


class EnvRollouts:
    """`rollout_func` for TRL's GRPOTrainer: every prompt's episode played in `env`, rewarded by it."""

    def __init__(self, env: ToolEnvironment, tokenizer, policy=None, max_completion_length: int | None = None):
        """`policy`: None for the trainer's own model, or an object with `turns(episodes, trainer) -> [Turn]`
        (EndpointTurns). `max_completion_length`: the token budget of an episode (default: the trainer's)."""
        self.env, self.tokenizer, self.policy = env, tokenizer, policy
        self.max_completion_length = max_completion_length
        self.by_prompt = {}
        for task in env.tasks:
            self.by_prompt.setdefault(_key(task.prompt), task.task_id)

    def render(self, messages: list[dict], tools: list[dict], generation_prompt: bool) -> str:
        return self.tokenizer.apply_chat_template(
            _for_template(messages), tools=tools, tokenize=False, add_generation_prompt=generation_prompt
        )

    def encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def __call__(self, prompts: list[list[dict]], trainer) -> dict:
        budget = self.max_completion_length or trainer.max_completion_length
        episodes = []
        for prompt in prompts:
            task_id = self.by_prompt.get(_key(prompt))
            if task_id is None:
                raise KeyError(
                    f"no task of this environment has the prompt {prompt[-1].get('content')!r:.200}; "
                    "train on toolloom.rl.grpo.prompt_dataset(env)"
                )
            session = self.env.reset(task_id=task_id)
            episodes.append(_Episode(session, self.encode(self.render(session.messages, session.task.tools, True))))
        live = list(episodes)
        while live:
            turns = self.policy.turns(live, trainer) if self.policy is not None else self._model_turns(live, trainer)
            actions = [self._action(ep, turn) for ep, turn in zip(live, turns)]
            results = self.env.run(_steps([ep.session for ep in live], actions))
            still = []
            for ep, result in zip(live, results):
                if isinstance(result, BaseException):  # an action the environment could not take: a failed episode
                    self._end(ep, 0.0, {"reason": f"action_error: {result}"})
                elif result["done"]:
                    ep.reward, ep.breakdown = result["reward"], result["breakdown"]
                elif self._append_environment(ep, budget):
                    still.append(ep)
            live = still
        return {
            "prompt_ids": [ep.prompt_ids for ep in episodes],
            "completion_ids": [ep.ids for ep in episodes],
            "logprobs": (
                [ep.logprobs for ep in episodes] if all(len(ep.logprobs) == len(ep.ids) for ep in episodes) else None
            ),
            "env_mask": [ep.mask for ep in episodes],
            "env_reward": [ep.reward for ep in episodes],
            "env_success": [ep.breakdown.get("success") for ep in episodes],
            "env_reason": [ep.breakdown.get("reason") or "" for ep in episodes],
        }

    def _model_turns(self, live: list[_Episode], trainer) -> list[Turn]:
        """The trainer's own generation of one turn per episode (its sampling settings, its vLLM if it uses one)."""
        ids, logprobs = trainer._generate_single_turn([ep.prompt_ids + ep.ids for ep in live], None, {}, 1)
        return [
            Turn(list(i), list(lp) if logprobs is not None else None)
            for i, lp in zip(ids, logprobs if logprobs is not None else [None] * len(ids))
        ]

    def _action(self, ep: _Episode, turn: Turn) -> dict:
        ep.ids += turn.ids
        ep.mask += [1] * len(turn.ids)
        ep.logprobs += turn.logprobs if turn.logprobs is not None else []
        text = self.tokenizer.decode(turn.ids, skip_special_tokens=True)
        written = recover(text, {t["function"]["name"] for t in ep.session.task.tools})
        if written.calls:
            return {"tool_calls": [c["function"] for c in written.calls]}
        return {"message": written.content or ""}

    def _append_environment(self, ep: _Episode, budget: int) -> bool:
        """The environment's reply (tool results, or the user's answer) as tokens after the policy's turn; False
        when the episode's budget is spent (the episode ends unfinished, reward 0)."""
        messages, tools = ep.session.messages, ep.session.task.tools
        turn_end = max(i for i, m in enumerate(messages) if m["role"] == "assistant") + 1
        before = self.render(messages[:turn_end], tools, False)
        after = self.render(messages, tools, True)
        if not after.startswith(before):
            raise ValueError(
                "the chat template renders the conversation differently once the environment's "
                "reply follows it, so the reply's tokens cannot be appended"
            )
        eos = self.tokenizer.eos_token
        cut = before.rfind(eos) + len(eos) if eos and eos in before else len(before)
        reply = self.encode(after[cut:])
        if ep.ids and ep.ids[-1] != self.tokenizer.eos_token_id and eos in before:
            reply = [self.tokenizer.eos_token_id] + reply  # the policy's turn was cut: close it as the template does
        if len(ep.ids) + len(reply) >= budget:
            self._end(ep, 0.0, {"reason": f"truncated: the episode passed {budget} completion tokens"})
            return False
        ep.ids += reply
        ep.mask += [0] * len(reply)
        ep.logprobs += [0.0] * len(reply)
        return True

    @staticmethod
    def _end(ep: _Episode, reward: float, breakdown: dict) -> None:
        ep.session.close()
        ep.reward, ep.breakdown = reward, {"success": 0.0, **breakdown}


class EndpointTurns:
    """The policy as an OpenAI-compatible endpoint: each turn is the endpoint's reply, as the chat template
    renders it. Its tokens carry no sampling log-probabilities (TRL recomputes them with the trainer's model)."""

    def __init__(self, tokenizer, base_url: str, model: str, api_key: str = "none", max_tokens: int = 512):
        from openai import OpenAI

        self.tokenizer = tokenizer
        self.client, self.model, self.max_tokens = OpenAI(base_url=base_url, api_key=api_key), model, max_tokens

    def turns(self, live: list[_Episode], trainer=None) -> list[Turn]:
        out = []
        for ep in live:
            messages, tools = ep.session.messages, ep.session.task.tools
            reply = (
                self.client.chat.completions.create(
                    model=self.model, max_tokens=self.max_tokens, tools=tools, messages=[to_openai(m) for m in messages]
                )
                .choices[0]
                .message
            )
            said = {"role": "assistant", "content": reply.content}
            if reply.tool_calls:
                said["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.function.name, "arguments": c.function.arguments},
                    }
                    for c in reply.tool_calls
                ]
            render = lambda ms, gen: self.tokenizer.apply_chat_template(  # noqa: E731
                _for_template(ms), tools=tools, tokenize=False, add_generation_prompt=gen
            )
            before, after = render(messages, True), render(messages + [said], False)
            eos = self.tokenizer.eos_token
            text = after[len(before) :]
            text = text[: text.rfind(eos) + len(eos)] if eos and eos in text else text
            out.append(Turn(self.tokenizer(text, add_special_tokens=False)["input_ids"]))
        return out
