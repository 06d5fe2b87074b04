"""Dialogue realisers (ToolDial's multi-turn scenarios): how a user or assistant says one action.

The offline realiser says the plain example; a model realiser rewrites it in its own words with
the facts it may use (prompts/simulate/dialogue_turn.j2).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

import yaml

from ..checks.answers import grounded
from ..llm import ModelCallError, ModelClient
from ..prompts import prompt_file, render
from ..text.spoken import scalars
from ..text.words import tokens
from ..checks.invented import conversation_known, invented
from .llm import answer_asked, reply_is_a_call
from .requests import ASSISTANT_VOICE

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


# acts a phrase says whole ('Thanks, that's all I needed.'): a model adds nothing but risk (the 0.5B user's goodbye
# was "I'm glad you found the movies interesting. Have you seen ...?")
PLAIN_ACTS = frozenset({"user_bye", "system_bye", "affirm", "negate"})


class Realiser(Protocol):
    async def utter(self, speaker: str, action: str, example: str, facts: dict, history: list[dict]) -> str: ...


class PhraseRealiser:
    """Offline: the plain example is the utterance."""

    name = "offline-phrases"

    async def utter(self, speaker, action, example, facts, history) -> str:
        return example


class ModelRealiser:
    """A model says each act. The assistant's answer (`response`) is the model's own turn after the tool
    results, as in a single-request episode (ToolAlpaca); a goodbye, yes or no is the plain phrase; any other
    act is the plain example reworded (prompts/simulate/dialogue_turn.j2). A wording that leaves out a value
    the example states, says the act's instruction, repeats an earlier message, is a user's turn in the
    assistant's voice, or (an answer) is a call or states nothing the result says is not used: the plain
    example is said instead, counted in `fallbacks` (the 0.5B model wrapped its turns in the prompt's
    markup and answered 'Showing me the now playing movies.')."""

    def __init__(self, client: ModelClient, prompts_root: Path, role: str):
        self.client, self.prompts_root, self.role = client, prompts_root, role
        self.name = client.spec.model
        self.fallbacks = 0

    async def utter(self, speaker, action, example, facts, history) -> str:
        if action in PLAIN_ACTS:
            return example
        if speaker == "assistant" and action == "response":
            text = await self._answer(history)
            usable = text and grounded(facts, text) and not reply_is_a_call(text, set())
            usable = usable and not invented(text, conversation_known({"messages": history}))  # 'on Netflix'
        else:
            text = _unwrapped(await self._reworded(speaker, action, example, facts, history))
            usable = text and not _drops_values(text, example, facts) and not _copies_the_act(text, action)
            usable = usable and not (speaker == "user" and ASSISTANT_VOICE.search(text))
            usable = usable and not (action.startswith("inform_intent_clear") and _drops_the_ask(text, example))
        said = [m.get("content") for m in history if m.get("content") and m["role"] in ("user", "assistant")]
        if not usable or any(_same(text, s) for s in said):  # the 0.5B user pasted the assistant's answer back
            self.fallbacks += 1
            return example
        return text

    async def _answer(self, history: list[dict]) -> str:
        """The conversation as it stands, asked as a single-request episode asks (`answer_asked`); "" where the
        answer ran to the token limit."""
        messages = [m for m in history if m["role"] != "system" or m is history[0]]
        reply = lambda m: self.client.chat(m, stage="simulate", role=self.role)  # noqa: E731
        c = await answer_asked(reply, messages, set(), self.prompts_root)
        return "" if c.finish_reason == "length" else (c.message.get("content") or "").strip()

    async def _reworded(self, speaker, action, example, facts, history) -> str:
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
        return await self._say([{"role": "user", "content": prompt}], f"{speaker} utterance for {action}")

    async def _say(self, messages: list[dict], what: str) -> str:
        c = await self.client.chat(messages, stage="simulate", role=self.role)
        text = (c.message.get("content") or "").strip()
        if c.finish_reason == "length" or not text:
            raise ModelCallError(f"{what} was empty or truncated")
        return text


_WRAP = re.compile(r"^\s*(?:(?:user|assistant)\s*:\s*)?(?:<example>\s*)?(.*?)(?:\s*</example>)?\s*$", re.S | re.I)


def _unwrapped(text: str) -> str:
    """The message without the prompt's markup or a speaker label the model copied ('<example>...</example>')."""
    inner = _WRAP.match(text).group(1).strip()
    return inner[1:-1].strip() if len(inner) > 1 and inner[0] == inner[-1] == '"' else inner


def _drops_values(text: str, example: str, facts: dict) -> bool:
    """A value the plain example states, left out of the wording (the prompt asks for each, spelled as given)."""
    values = [str(v) for _, v in scalars("", facts) if len(str(v)) > 1]
    return any(v.lower() in example.lower() and v.lower() not in text.lower() for v in values)


def _drops_the_ask(text: str, example: str) -> bool:
    """A request that keeps none of the plain example's longer words: the 0.5B user's follow-up 'You Can Do
    Better' (a name from the last answer) for 'For that tv show, what are the similar tv shows?'."""
    asked = {w for w in tokens(example) if len(w) >= 5}
    return bool(asked) and not asked & set(tokens(text))


COPIED = 4  # this many consecutive words of an act's meaning in a turn: the instruction said back


def _copies_the_act(text: str, action: str) -> bool:
    """The turn says the act's instruction ('Tell me what is needed, stating every value ...', the 0.5B user)."""
    meaning, words = tokens(MEANINGS[action]), tokens(text)
    runs = {tuple(meaning[i : i + COPIED]) for i in range(len(meaning) - COPIED + 1)}
    return any(tuple(words[i : i + COPIED]) in runs for i in range(len(words) - COPIED + 1))


def _same(a: str, b: str) -> bool:
    squash = lambda t: re.sub(r"\W+", " ", t).strip().lower()  # noqa: E731
    return squash(a) == squash(b)


def load_phrases(prompts_root: Path) -> dict[str, list[str]]:
    return yaml.safe_load(prompt_file("simulate/dialogue_phrases.yaml", prompts_root).read_text(encoding="utf-8"))
