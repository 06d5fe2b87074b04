"""Model-backed agents: every call goes through the shared ModelClient (cache, ledger, budget)."""
from __future__ import annotations

import json
import random

from ..llm import ModelCallError, ModelClient
from ..arguments import schema_errors
from ..prompts import render
from ..sandbox import Observation, error_observation
from .base import AssistantTurn, Task, known_values
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


    async def details(self, task: Task, request: str, question: str) -> str:
        prompt = render("simulate/user_details.j2", self.prompts_root, values=known_values(task), request=request, question=question)
        c = await self.client.chat([{"role": "user", "content": prompt}], stage=self.stage, role="user")
        text = (c.message.get("content") or "").strip()
        if c.finish_reason == "length" or not text:
            raise ModelCallError("user agent's answer to a clarifying question was empty or truncated")
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


def _json_body(text: str):
    text = text.strip()
    if text.startswith("```"):
        text = text.strip("`").split("\n", 1)[-1] if "\n" in text else text.strip("`")
    return json.loads(text)


class ModelSimulator:
    """Simulates a tool with no implementation through the model: JSON validated against the
    response schema, one repair round, then an error observation that says why."""

    def __init__(self, client: ModelClient, prompts_root, stage: str = "simulate"):
        self.client, self.prompts_root, self.stage = client, prompts_root, stage
        self.name = f"{client.spec.model}"

    async def respond(self, tool: dict, arguments: dict, history: list[dict]) -> Observation:
        prompt = render("simulate/executor.j2", self.prompts_root, name=tool["name"], description=tool.get("description") or "",
                        parameters=tool["parameters"], returns=tool.get("returns"), arguments=arguments,
                        history=[{k: h[k] for k in ("name", "arguments", "response")} for h in history])
        messages = [{"role": "user", "content": prompt}]
        problem = ""
        for _ in range(2):
            c = await self.client.chat(messages, stage=self.stage, role="executor", response_format={"type": "json_object"})
            text = c.message.get("content") or ""
            try:
                value = _json_body(text)
            except json.JSONDecodeError as e:
                problem = f"not valid JSON ({e.msg})"
            else:
                if isinstance(value, dict) and isinstance(value.get("error"), dict):
                    err = value["error"]
                    return error_observation(int(err.get("status") or 400), str(err.get("message") or "error"))
                problems = schema_errors(tool["returns"], value) if tool.get("returns") else []
                if not problems:
                    return Observation(True, value)
                problem = "it does not fit the response schema: " + "; ".join(problems[:5])
            messages += [{"role": "assistant", "content": text},
                         {"role": "user", "content": render("simulate/executor_repair.j2", self.prompts_root, problem=problem)}]
        return error_observation(502, f"the simulated response was unusable after one repair: {problem}")
