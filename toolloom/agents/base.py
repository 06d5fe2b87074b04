"""What every agent role is: one interface, an LLM implementation and an offline one (DESIGN 7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..domain import Task, Tool


@dataclass
class AssistantTurn:
    """One assistant message: text, tool calls, or both (OpenAI chat format)."""

    content: str | None
    tool_calls: list[dict] | None
    call_source: str = "native"  # "text": the calls were recovered from the message text (llm/text_calls.py)
    unreadable_call: str = ""  # the text has a call's shape, but no offered call could be read from it
    dropped: list[str] = field(default_factory=list)  # read from the text but not kept (llm/text_calls.py)
    refused: str = ""  # a call the API refuses for its arguments, also after its 400 (agents/refusals.py)

    def message(self) -> dict:
        return {"role": "assistant", "content": self.content, "tool_calls": self.tool_calls}


class UserAgent(Protocol):
    name: str

    async def instruction(self, task: Task) -> str: ...

    async def details(self, task: Task, request: str, question: str) -> str:
        """Answer the assistant's clarifying question (ToolAlpaca's get_details)."""
        ...

    async def propose_arguments(self, tool: Tool, k: int, hints: dict) -> list[dict]:
        """Argument sets a user would call a tool with, from its documentation ([] offline)."""
        ...


class AssistantAgent(Protocol):
    name: str

    async def step(self, messages: list[dict], tools: list[dict]) -> AssistantTurn: ...

    async def answer(self, messages: list[dict], tools: list[dict]) -> AssistantTurn:
        """The final answer now, with no further calls (optional: asked when the agent repeats calls
        already answered or its turns are spent)."""
        ...
