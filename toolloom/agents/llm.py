"""Model-backed agents: every call goes through the shared ModelClient (cache, ledger, budget)."""
from __future__ import annotations

import random

from ..llm import ModelCallError, ModelClient
from ..prompts import render
from .base import AssistantTurn, Task
from .offline import render_example


class ModelUser:
    def __init__(self, client: ModelClient, prompts_root, stage: str = "simulate"):
        self.client, self.prompts_root, self.stage = client, prompts_root, stage
        self.name = f"{client.spec.model}"

    async def instruction(self, task: Task) -> str:
        prompt = render("simulate/user.j2", self.prompts_root, chain=task.chain, example=render_example(task, random.Random(task.seed)))
        c = await self.client.chat([{"role": "user", "content": prompt}], stage=self.stage, role="user")
        if c.finish_reason == "length":
            raise ModelCallError("user agent output was truncated (finish_reason=length)")
        text = (c.message.get("content") or "").strip()
        if not text:
            raise ModelCallError("user agent returned an empty message")
        return text


class ModelAssistant:
    def __init__(self, client: ModelClient, stage: str = "simulate"):
        self.client, self.stage = client, stage
        self.name = f"{client.spec.model}"

    async def step(self, messages: list[dict], tools: list[dict]) -> AssistantTurn:
        c = await self.client.chat(messages, tools=tools, tool_choice="auto", stage=self.stage, role="assistant")
        if c.finish_reason == "length":
            raise ModelCallError("assistant output was truncated (finish_reason=length)")
        return AssistantTurn(c.message.get("content"), c.message.get("tool_calls"))
