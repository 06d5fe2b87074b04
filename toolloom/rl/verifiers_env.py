"""A verifiers environment (PyPI `verifiers`, its classic `load_environment` API) over a toolloom export's tasks.

Every export writes this module as `environment/toolloom_env.py`. It stands alone: it needs `verifiers`,
`datasets` and `websockets`, not toolloom, so it runs in the trainer's environment. The tasks are the export's
own examples (the user's request, the offered tools with their documentation); the episodes are played in
`toolloom env serve`, which executes each call with the task's own executor and returns the reward from
execution, so verifiers scores exactly what the OpenEnv server and TRL do.

    toolloom env serve PIPELINE --version VERSION --split all        # ws://127.0.0.1:8000
    PYTHONPATH=EXPORT/environment vf-eval toolloom_env -m MODEL -b BASE_URL -a '{"url": "ws://127.0.0.1:8000"}'
"""

from __future__ import annotations

import json
from pathlib import Path

import verifiers as vf
from datasets import load_dataset
from websockets.asyncio.client import connect

EXPORT = Path(__file__).resolve().parent.parent  # the export folder this module was written into
SERVED_KINDS = ("single_turn", "abstain", "ask", "recover")  # a dialogue's scripted user cannot answer a new policy
PARTS = ("success", "format", "efficiency")


def task_rows(export: Path, split: str) -> list[dict]:
    """The servable examples of the export: the prompt (system and request), the offered tools, the task id."""
    rows = []
    for r in load_dataset(str(export), "default", split=split):
        if r["kind"] not in SERVED_KINDS:
            continue
        first = next(i for i, m in enumerate(r["messages"]) if m["role"] == "assistant")
        prompt = [{"role": m["role"], "content": m["content"]} for m in r["messages"][:first]]
        tools = [
            {
                "name": t["function"]["name"],
                "description": t["function"].get("description") or "",
                "parameters": t["function"].get("parameters") or {"type": "object", "properties": {}},
            }
            for t in r["tools"]
        ]
        rows.append({"prompt": prompt, "info": json.dumps({"task_id": r["id"], "tool_defs": tools})})
    return rows


class ToolloomEnv(vf.MultiTurnEnv):
    """Each rollout is one episode on the toolloom server: the model's calls are executed there, its answer
    ends the episode, and the server's reward (and its parts) is the rollout's."""

    def __init__(self, url: str, **kwargs):
        super().__init__(**kwargs)
        self.url = url.rstrip("/").replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        self.sockets: dict[str, object] = {}

    async def _send(self, state, message: dict) -> dict:
        socket = self.sockets[state["trajectory_id"]]
        await socket.send(json.dumps(message))
        reply = json.loads(await socket.recv())
        if reply.get("type") == "error":
            raise vf.Error(f"toolloom env: {reply.get('data', {}).get('message')}")
        return reply.get("data") or {}

    async def setup_state(self, state):
        self.sockets[state["trajectory_id"]] = await connect(f"{self.url}/ws", max_size=None)
        await self._send(state, {"type": "reset", "data": {"task_id": state["info"]["task_id"]}})
        return state

    async def env_response(self, messages, state, **kwargs):
        said = messages[-1]
        calls = list(getattr(said, "tool_calls", None) or [])
        action = (
            {"type": "tool_calls", "tool_calls": [{"name": c.name, "arguments": c.arguments} for c in calls]}
            if calls
            else {"type": "message", "message": _text(getattr(said, "content", None))}
        )
        data = await self._send(state, {"type": "step", "data": action})
        added = (data.get("observation") or {}).get("messages") or []
        if data.get("done"):
            state["toolloom_reward"] = data.get("reward") or 0.0
            state["toolloom_breakdown"] = (data.get("observation") or {}).get("breakdown") or {}
            state["final_env_response"] = []
            return []
        out, ids = [], iter(c.id for c in calls)
        for m in added:  # the server numbers its calls; the model's own ids answer the model's calls
            if m["role"] == "tool":
                out.append({"role": "tool", "tool_call_id": next(ids, m.get("tool_call_id")), "content": m["content"]})
            else:
                out.append({"role": m["role"], "content": m.get("content") or ""})
        return out

    @vf.cleanup
    async def close_episode(self, state):
        socket = self.sockets.pop(state["trajectory_id"], None)
        if socket is not None:
            await socket.close()


def _text(content) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else getattr(p, "text", "") for p in content)
    return content or ""


async def toolloom_reward(state) -> float:
    """The server's reward: task success from execution, the format of the calls, their efficiency (OTC)."""
    return float(state.get("toolloom_reward") or 0.0)


def _part(name: str):
    async def part(state) -> float:
        return float((state.get("toolloom_breakdown") or {}).get(name) or 0.0)

    part.__name__ = name
    return part


def load_environment(
    url: str = "ws://127.0.0.1:8000", split: str = "train", max_turns: int = 8, export: str | None = None
) -> vf.Environment:
    """The export's tasks of `split` ("train" or "test"), played on the toolloom server at `url`."""
    rows = task_rows(Path(export) if export else EXPORT, split)
    if not rows:
        raise ValueError(f"the export has no servable example in split {split!r}")
    from datasets import Dataset

    rubric = vf.Rubric(funcs=[toolloom_reward, *map(_part, PARTS)], weights=[1.0, 0.0, 0.0, 0.0])
    return ToolloomEnv(
        url, dataset=Dataset.from_list(rows), eval_dataset=Dataset.from_list(rows), rubric=rubric, max_turns=max_turns
    )
