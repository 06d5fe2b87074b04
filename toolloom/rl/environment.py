"""Episodes over a version's tasks, each executed by the task's own executors (sandbox, MCP, HTTP, simulated).

One event loop on its own thread runs every episode's calls, so resources an executor keeps for an episode
(an MCP server's session) stay on one loop while many episodes, from many client threads, run at once.
Each episode has its own `executor.Episode`: the state of stateful tools never crosses episodes.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import uuid

from ..checks.arguments import argument_errors, parse_arguments
from ..executors.routing import ToolExecutor
from ..messages import normalise
from ..volatile import stable
from .rewards import Reward, reward_of
from .settings import RLSettings
from .tasks import EnvTask


class ActionError(ValueError):
    """An action the environment cannot read; str() says what it expects."""


class ToolEnvironment:
    def __init__(self, tasks: list[EnvTask], executor: ToolExecutor, settings: RLSettings | None = None):
        if not tasks:
            raise ValueError("no task to serve: the version has no servable example in this split")
        self.tasks, self.executor, self.settings = tasks, executor, settings or RLSettings()
        self.by_id = {t.task_id: t for t in tasks}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="toolloom-env", daemon=True)
        self._thread.start()

    def run(self, coro):
        """Run a coroutine on the environment's loop and wait for it (from any thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def pick(self, seed: int | None = None, task_id: str | None = None) -> EnvTask:
        if task_id is not None:
            if task_id not in self.by_id:
                raise KeyError(f"no task {task_id!r} in this environment ({len(self.tasks)} tasks)")
            return self.by_id[task_id]
        return (random.Random(seed) if seed is not None else random).choice(self.tasks)

    def reset(self, seed: int | None = None, task_id: str | None = None) -> "EnvSession":
        """A new episode of the task `task_id`, or of one picked by `seed` (at random without either)."""
        return EnvSession(self, self.pick(seed, task_id))

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


def calls_of(action: dict) -> list[tuple[str, object]] | None:
    """(name, arguments) of each call an action makes, None when it makes none (a message)."""
    if action.get("tool_calls"):
        out = []
        for c in action["tool_calls"]:
            fn = c.get("function") or c  # OpenAI's {"function": {"name", "arguments"}} or {"name", "arguments"}
            if not isinstance(fn, dict) or not fn.get("name"):
                raise ActionError(f"a tool call needs a name: {json.dumps(c)[:200]}")
            out.append((fn["name"], fn.get("arguments") or {}))
        return out
    if action.get("tool_name"):  # OpenEnv's MCP CallToolAction
        return [(action["tool_name"], action.get("arguments") or {})]
    if action.get("message") is None and action.get("content") is None:
        raise ActionError(
            "an action is {'tool_calls': [{'name', 'arguments'}, ...]}, {'tool_name', 'arguments'} or {'message': text}"
        )
    return None


def as_action(message: dict) -> dict:
    """The action that makes a recorded assistant message (its tool calls, or its text)."""
    return {"tool_calls": message["tool_calls"]} if message.get("tool_calls") else {"message": message["content"] or ""}


class EnvSession:
    """One episode: the request, the assistant's turns, the tools' results, and the reward at the end."""

    def __init__(self, env: ToolEnvironment, task: EnvTask):
        self.env, self.task = env, task
        self.episode_id = uuid.uuid4().hex[:12]
        self.episode = env.executor.episode()
        self.messages: list[dict] = [dict(m) for m in task.prompt]
        self.calls: list[dict] = []
        self.replies = list(task.replies)
        self.turns = 0
        self.done = False
        self.reward: Reward | None = None
        self.offered = {t["function"]["name"]: t["function"].get("parameters") or {} for t in task.tools}

    def observation(self) -> dict:
        """What the policy sees first: the conversation so far and the tools offered."""
        return {
            "task_id": self.task.task_id,
            "episode_id": self.episode_id,
            "kind": self.task.kind,
            "messages": [dict(m) for m in self.messages],
            "tools": self.task.tools,
        }

    def step(self, action: dict) -> dict:
        """One assistant turn (tool calls, or a message); returns the messages it added, done and the reward."""
        return self.env.run(self.astep(action))

    async def astep(self, action: dict) -> dict:
        if self.done:
            raise ActionError(f"episode {self.episode_id} is over; reset for a new one")
        calls = calls_of(action)
        self.turns += 1
        before = len(self.messages)
        if calls is None:
            await self._say(
                (action.get("message") if action.get("message") is not None else action.get("content")) or ""
            )
        else:
            await self._call(calls)
            if self.turns >= self.env.settings.max_turns:
                await self._finish(None)
        return {
            "messages": self.messages[before + 1 :],  # what the turn brought: tool results, or the user's reply
            "done": self.done,
            "reward": self.reward.total if self.reward else None,
            "breakdown": self.reward.breakdown() if self.reward else {},
        }

    async def _say(self, text: str) -> None:
        self.messages.append({"role": "assistant", "content": text})
        if not self.calls and self.replies and text.strip().endswith("?") and self.turns < self.env.settings.max_turns:
            self.messages.append({"role": "user", "content": self.replies.pop(0)})  # the user answers the question
        else:
            await self._finish(text)

    async def _call(self, calls: list[tuple[str, object]]) -> None:
        turn = {"role": "assistant", "content": None, "tool_calls": []}
        self.messages.append(turn)
        for name, raw in calls:
            call_id = f"call_{len(self.calls)}"
            text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
            turn["tool_calls"].append(
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}
            )
            args, parse_error = parse_arguments(text)
            valid = name in self.offered and not parse_error and not argument_errors(self.offered[name], args)
            if name not in self.offered:
                result, ok, error, by = (
                    {"error": {"status": 404, "message": f"unknown tool '{name}'"}},
                    False,
                    f"unknown tool '{name}'",
                    "none",
                )
                content = json.dumps(result)
            elif parse_error:
                content, ok, error, by = (
                    json.dumps({"error": {"status": 400, "message": parse_error}}),
                    False,
                    parse_error,
                    "none",
                )
            else:
                obs = await self.episode.call(name, args)
                content, ok, error, by = obs.to_json(), obs.ok, obs.error, obs.answered_by
            self.calls.append(
                {"name": name, "arguments": text, "ok": ok, "error": error, "answered_by": by, "valid": valid}
            )
            self.messages.append({"role": "tool", "tool_call_id": call_id, "name": name, "content": content})

    async def _finish(self, final: str | None) -> None:
        self.done = True
        self.reward = reward_of(self.trajectory(final), self.env.settings, await self._state_differs())
        self.episode.close()

    async def _state_differs(self) -> str | None:
        """Where stateful tools kept state (sandbox code): whether it ended other than the verified trajectory,
        played again in a fresh episode, leaves it (a reference reached, then an order cancelled, is a failure)."""
        if not self.episode.state:
            return None
        reference = self.env.executor.episode()
        try:
            for m in self.task.reference:
                for c in m.get("tool_calls") or []:
                    args, _ = parse_arguments(c["function"]["arguments"])
                    await reference.call(c["function"]["name"], args or {})
            ours, theirs = stable(self.episode.state), stable(reference.state)
        finally:
            reference.close()
        # a collection only one side touched cannot be compared (a lookup may start a state without changing it);
        # the reference's results, checked above, cover a state the policy never touched
        changed = sorted(c for c in set(ours) & set(theirs) if ours[c] != theirs[c])
        if not changed:
            return None
        return f"the state of {', '.join(changed)} ends other than the verified trajectory leaves it"

    def trajectory(self, final: str | None) -> dict:
        """The episode as the filter reads a trajectory."""
        t = self.task
        return {
            "messages": [normalise(m) for m in self.messages],
            "calls": json.dumps(self.calls),
            "tools_offered": json.dumps(t.tools),
            "kind": t.kind,
            "shape": t.shape,
            "chain": t.chain,
            "reference_answer": t.reference_answer,
            "final_answer": final,
        }

    def state(self) -> dict:
        return {
            "episode_id": self.episode_id,
            "task_id": self.task.task_id,
            "step_count": self.turns,
            "done": self.done,
            "messages": [dict(m) for m in self.messages],
            "reward": self.reward.breakdown() if self.reward else None,
        }

    def close(self) -> None:
        self.episode.close()
