"""Dialogue realisers (ToolDial's multi-turn scenarios): how a user or assistant says one action.

The offline realiser says the plain example; a model realiser rewrites it in its own words with
the facts it may use (prompts/simulate/dialogue_turn.j2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import yaml

from ..llm import ModelCallError, ModelClient
from ..prompts import prompt_file, render

MEANINGS = {
    "inform_intent_clear": "ask for what is needed, stating every value",
    "inform_intent_clear_add": "ask for something else instead, stating every value",
    "inform_intent_vague": "say roughly what the topic is, without details or values",
    "inform": "give the value that was asked for",
    "fail_inform": "say you do not know the value that was asked for",
    "affirm": "agree",
    "negate": "say that is not what you need",
    "user_bye": "thank and end",
    "request": "ask the user for the missing value",
    "clarify": "ask the user what exactly they need",
    "suggest": "offer what the tool can do and ask if that is wanted",
    "response": "answer with the values the tool returned",
    "response_fail": "explain you cannot do it without the value, and offer further help",
    "system_bye": "say goodbye",
    "recover": "say briefly what the tool's error means and that you call it again with the corrected value",
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
        prompt = render(
            "simulate/dialogue_turn.j2",
            self.prompts_root,
            speaker=speaker,
            action=action,
            meaning=MEANINGS[action],
            facts=facts,
            example=example,
            history=[m for m in history if m["role"] in ("user", "assistant") and m.get("content")],
        )
        c = await self.client.chat([{"role": "user", "content": prompt}], stage="simulate", role=self.role)
        text = (c.message.get("content") or "").strip()
        if c.finish_reason == "length" or not text:
            raise ModelCallError(f"{speaker} utterance for {action} was empty or truncated")
        return text


def load_phrases(prompts_root: Path) -> dict[str, list[str]]:
    return yaml.safe_load(prompt_file("simulate/dialogue_phrases.yaml", prompts_root).read_text(encoding="utf-8"))
