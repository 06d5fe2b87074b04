"""Rollouts: any OpenAI-compatible endpoint as the policy, playing episodes in the environment to their reward.

This is the loop an RL trainer runs (generate a turn, step the environment, repeat until the reward), and an
evaluation of a model on the version's tasks. Calls a model writes as text are read as the pipeline reads them
(llm/text_calls.py).
"""

from __future__ import annotations

import asyncio
from collections import Counter

from openai import AsyncOpenAI

from ..llm.text_calls import recover
from ..messages import to_openai
from .environment import EnvSession, ToolEnvironment


async def rollout(session: EnvSession, client: AsyncOpenAI, model: str, max_tokens: int = 1024) -> dict:
    """Play one episode with the endpoint as the assistant; the final step's result (with the reward)."""
    out: dict = {}
    offered = {t["function"]["name"] for t in session.task.tools}
    while not session.done:
        reply = await client.chat.completions.create(
            model=model,
            max_tokens=max_tokens,
            tools=session.task.tools,
            messages=[to_openai(m) for m in session.messages],
        )
        message = reply.choices[0].message
        calls = [{"name": c.function.name, "arguments": c.function.arguments} for c in message.tool_calls or []]
        if not calls:
            written = recover(message.content, offered)
            calls = [{"name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in written.calls]
        out = await session.astep({"tool_calls": calls} if calls else {"message": message.content or ""})
    return out


def evaluate(
    env: ToolEnvironment,
    base_url: str,
    model: str,
    api_key: str = "none",
    episodes: int | None = None,
    concurrency: int = 8,
    seed: int = 0,
) -> dict:
    """Episodes over the first `episodes` tasks (all by default), `concurrency` at once: mean reward and parts."""
    tasks = env.tasks[:episodes] if episodes else env.tasks

    async def run() -> list[dict]:
        client = AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=2)
        gate = asyncio.Semaphore(concurrency)

        async def one(task) -> dict:
            async with gate:
                session = env.reset(task_id=task.task_id)
                try:
                    return await rollout(session, client, model)
                except Exception as e:  # an endpoint that fails this episode: counted, never dropped
                    session.close()
                    return {"reward": None, "breakdown": {"reason": f"policy_error: {type(e).__name__}: {e}"}}

        try:
            return await asyncio.gather(*(one(t) for t in tasks))
        finally:
            await client.close()

    results = env.run(run())
    scored = [r for r in results if r.get("reward") is not None]
    mean = lambda key: round(sum(r["breakdown"][key] for r in scored) / len(scored), 4) if scored else None  # noqa: E731
    return {
        "episodes": len(results),
        "scored": len(scored),
        "reward": mean("total"),
        "success": mean("success"),
        "format": mean("format"),
        "efficiency": mean("efficiency"),
        "failures": dict(
            Counter((r["breakdown"].get("reason") or "").split(":")[0] for r in results if r.get("reward") != 1.0)
        ),
    }
