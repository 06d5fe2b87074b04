"""Model-backed agents: every call goes through the shared ModelClient (cache, ledger, budget)."""

from __future__ import annotations

import json
import random
import re

from ..llm import ModelCallError, ModelClient, RunawayOutput, text_calls
from ..llm.structured import chat_json
from ..checks.arguments import parse_arguments
from ..prompts import DEFAULT_ROOT, render
from ..domain import Step, Task, Tool, known_values
from .base import AssistantTurn
from .refusals import normalise_arguments, refusal_messages, refusal_notes, refused_calls
from .requests import REQUEST_SCHEMA, request_problems, user_prompt
from ..text.values import stand_ins
from ..graph.branching import condition_phrase
from ..text.wording import render_example


PROPOSALS_SCHEMA = {
    "type": "object",
    "required": ["calls"],
    "properties": {
        "calls": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["request", "arguments"],
                "properties": {
                    "request": {"type": "string", "minLength": 1, "maxLength": 240},
                    "arguments": {"type": "object"},
                },
            },
        }
    },
}


PROPOSED_TEXT_MAX = 160  # a free-text argument a user types; the grammar stops a small model's rambling


def _plain(prop) -> dict:
    """A parameter's schema as a grammar can enforce it: its scalar type and a bound on free text. Enums and
    formats stay with the caller's check, so one call outside them costs that call, not the whole reply."""
    prop = prop if isinstance(prop, dict) else {}
    out = {"type": prop["type"]} if prop.get("type") in ("string", "integer", "number", "boolean") else {}
    if out.get("type") == "string" and not prop.get("enum"):
        out["maxLength"] = min(int(prop.get("maxLength") or PROPOSED_TEXT_MAX), PROPOSED_TEXT_MAX)
    return out


def proposal_schema(tool: Tool) -> dict:
    """PROPOSALS_SCHEMA with each call's arguments held to the tool's own parameters (no made-up keys,
    optional paging left out), so grammar-constrained decoding cannot spend its tokens on prose keys."""
    schema = tool.get("parameters") or {}
    if not schema:
        return PROPOSALS_SCHEMA
    required = [k for k in schema.get("required") or [] if k in (schema.get("properties") or {})]
    props = {
        k: _plain(p) for k, p in (schema.get("properties") or {}).items() if k in required or not PAGING.fullmatch(k)
    }
    arguments = {"type": "object", "properties": props, "required": required, "additionalProperties": False}
    item = PROPOSALS_SCHEMA["properties"]["calls"]["items"]
    calls = {
        **PROPOSALS_SCHEMA["properties"]["calls"],
        "items": {**item, "properties": {**item["properties"], "arguments": arguments}},
    }
    return {**PROPOSALS_SCHEMA, "properties": {"calls": calls}}


class ModelUser:
    def __init__(self, client: ModelClient, prompts_root, stage: str = "simulate"):
        self.client, self.prompts_root, self.stage = client, prompts_root, stage
        self.name = f"{client.spec.model}"

    async def instruction(self, task: Task) -> str:
        """The request, as JSON {"request"}: every value stated, no tool named, no documentation copied."""
        answer = await chat_json(
            self.client,
            [{"role": "user", "content": user_prompt(task, self.prompts_root)}],
            REQUEST_SCHEMA,
            name="request",
            stage=self.stage,
            role="user",
            prompts_root=self.prompts_root,
            check=lambda v: request_problems(task, v["request"]),
        )
        return answer["request"].strip()

    async def propose_arguments(self, tool: Tool, k: int, hints: dict) -> list[dict]:
        """Up to k argument sets a user would call the tool with, written from its documentation
        (checked against the schema by the caller); raises ModelCallError or UnusableAnswer."""
        prompt = render(
            "tasks/propose.j2",
            self.prompts_root,
            name=tool["name"],
            description=tool.get("description") or "",
            parameters=tool["parameters"],
            hints=hints,
            k=k,
        )
        answer = await chat_json(
            self.client,
            [{"role": "user", "content": prompt}],
            proposal_schema(tool),
            name="calls",
            stage="tasks",
            role="user",
            prompts_root=self.prompts_root,
            check=_stand_in_arguments,
        )
        return [tidy_proposal(tool, c["arguments"]) for c in answer["calls"]][:k]

    async def details(self, task: Task, request: str, question: str) -> str:
        prompt = render(
            "simulate/user_details.j2", self.prompts_root, values=known_values(task), request=request, question=question
        )
        c = await self.client.chat([{"role": "user", "content": prompt}], stage=self.stage, role="user")
        text = (c.message.get("content") or "").strip()
        if c.finish_reason == "length" or not text:
            raise ModelCallError("user agent's answer to a clarifying question was empty or truncated")
        return text


class ModelAssistant:
    def __init__(
        self,
        client: ModelClient,
        stage: str = "simulate",
        role: str = "assistant",
        sample: int = 0,
        prompts_root=DEFAULT_ROOT,
    ):
        self.client, self.stage, self.role, self.sample = client, stage, role, sample
        self.prompts_root = prompts_root
        self.name = f"{client.spec.model}"

    def resampled(self, sample: int) -> "ModelAssistant":
        """The same agent drawing an independent sample (another seed, so another cache entry)."""
        return ModelAssistant(self.client, self.stage, self.role, sample, self.prompts_root)

    async def step(self, messages: list[dict], tools: list[dict]) -> AssistantTurn:
        """The next turn; a call the API would refuse for its arguments is answered with that 400 once first
        (agents/refusals.py): the corrected turn stands where its calls are valid, else the turn as written,
        marked `refused` (the format check would reject the example: the episode ends there)."""
        turn = await self._turn(messages, tools)
        normalise_arguments(turn, tools)
        refused = refused_calls(turn.tool_calls, tools, messages)
        if not refused:
            return turn
        turn.refused = "; ".join(dict.fromkeys(refused.values())) + ", also when told so"
        try:
            again = await self._turn(messages + refusal_messages(turn, refused), tools)
        except ModelCallError:  # the correction ran away
            return turn
        # valid calls stand, and so does an answer where a result came before (a call made again with the
        # result's fields, then the answer); an answer in place of the first call would only be no_tool_call
        answered = not again.tool_calls and (again.content or "").strip() and any(m["role"] == "tool" for m in messages)
        normalise_arguments(again, tools)
        if not (again.tool_calls or answered) or refused_calls(again.tool_calls, tools):
            return turn
        again.dropped = [*refusal_notes(turn, refused), *again.dropped]
        return again

    async def _turn(self, messages: list[dict], tools: list[dict]) -> AssistantTurn:
        offered = {t["function"]["name"] for t in tools}
        ask = dict(tools=tools, tool_choice="auto", stage=self.stage, role=self.role)
        c = await self.client.chat(messages, seed_offset=self.sample, retry_cut=False, **ask)
        if c.finish_reason == "length" and not c.message.get("tool_calls") and tools:
            # a small model that writes call lines until the limit is looping: its first call stands, the
            # rest (repeats, or calls made up from results it imagined) is dropped; later turns go on from there
            found = text_calls.recover(c.message.get("content"), offered)
            if found.calls:
                return AssistantTurn(
                    found.content,
                    found.calls[:1],
                    call_source="text",
                    dropped=found.dropped
                    + [f"{len(found.calls) - 1} more calls and the rest, written in a loop up to the token limit"],
                )
        if _cut(c, tools):  # the same request again with more room (the first answer comes from the cache)
            c = await self.client.chat(messages, seed_offset=self.sample, **ask)
        # a cut answer is asked again (another sample) before it costs the episode; greedy decoding
        # (temperature 0) would only repeat it
        for attempt in range(1, CUT_REASKS + 1 if self.client.spec.temperature > 0 else 1):
            if not _cut(c, tools):
                break
            c = await self.client.chat(messages, seed_offset=self.sample + REASK_SEED_STRIDE * attempt, **ask)
        if c.finish_reason == "length":
            raise RunawayOutput(
                "assistant output was truncated (finish_reason=length), also with more room"
                + (f" and when asked {CUT_REASKS} more times" if self.client.spec.temperature else "")
            )
        if c.message.get("tool_calls") or not tools:
            return AssistantTurn(c.message.get("content"), c.message.get("tool_calls"))
        # no calls from the endpoint: a model that wrote them as text gets them read from it
        found = text_calls.recover(c.message.get("content"), offered)
        if found.calls:
            return AssistantTurn(found.content, found.calls, call_source="text", dropped=found.dropped)
        return AssistantTurn(c.message.get("content"), None, unreadable_call=found.problem)

    async def answer(self, messages: list[dict], tools: list[dict]) -> AssistantTurn:
        """The answer from the results so far (`answer_asked`), without tools; a loop to the token limit also
        with the note is a runaway."""
        offered = {t["function"]["name"] for t in tools}
        c = await answer_asked(self._answer_reply, messages, offered, self.prompts_root)
        if c.finish_reason == "length":
            raise RunawayOutput(
                "asked for its final answer, also with the note, the assistant wrote until the token limit"
            )
        return AssistantTurn((c.message.get("content") or "").strip() or None, None)

    async def answer_again(self, messages: list[dict], tools: list[dict], problem: str, attempt: int = 0):
        """Its answer (the last message) asked again with what it says that the results do not; from attempt 1
        sampled, as greedy decoding mostly wrote the same misreport again (1 of 13 TMDB answers mended)."""
        asked = messages + [
            {"role": "user", "content": render("simulate/answer_again.j2", self.prompts_root, problem=problem)}
        ]
        if not attempt:
            return await self.answer(asked, tools)
        seed = self.sample + REASK_SEED_STRIDE * attempt
        c = await self.client.chat(asked, stage=self.stage, role=self.role, seed_offset=seed, temperature=RESAMPLED)
        return AssistantTurn(None if c.finish_reason == "length" else (c.message.get("content") or "").strip(), None)

    async def _answer_reply(self, messages: list[dict]):
        return await self.client.chat(
            messages, stage=self.stage, role=self.role, seed_offset=self.sample, retry_cut=False
        )


async def answer_asked(reply, messages: list[dict], offered: set[str], prompts_root):
    """A model's answer from the results so far, asked without tools: first the conversation as it stands (a
    chat model's trained turn after tool results), then, when that reply is a call again, nothing, or a loop to
    the token limit (10 of 111 shipped 0.5B episodes), with a note asking for the answer (a generation aid,
    like the system prompt: the example keeps only the answer). A note first was measured worse: the 0.5B
    model echoed it ('The answer to your request is: ...'). `reply(messages)` -> the endpoint's completion."""
    c = await reply(messages)
    text = c.message.get("content")
    if c.finish_reason == "length" or not (text or "").strip() or reply_is_a_call(text, offered):
        note = render("simulate/answer_now.j2", prompts_root)
        c = await reply(messages + [{"role": "user", "content": note}])
    return c


def reply_is_a_call(text: str | None, offered: set[str]) -> bool:
    """Asked for its answer, the model wrote a call (or a JSON object, a result it imagined) instead."""
    return text_calls.recover(text, offered).looked_like_call or (text or "").lstrip().startswith(("{", "["))


def _stand_in_arguments(answer: dict) -> str:
    fake = [f for c in answer["calls"] for f in stand_ins(c["arguments"])]
    return (
        (
            "these arguments are stand-ins, not values a real user would have: "
            + "; ".join(fake[:4])
            + ". Use the documented values, or real ones of the kind the tool expects."
        )
        if fake
        else ""
    )


PAGING = re.compile(r"(page|page_?size|per_?page|limit|offset|cursor|page_?token)", re.I)


def tidy_proposal(tool: Tool, arguments: dict) -> dict:
    """The arguments less those the tool does not have (a small model adds `language: "English"` to a
    tool without one), optional paging (`page: 2`: a person asks for the shows, not for a page of
    them) and optional ones set to their documented default (`include_adult: false`), which a
    request would have to state for nothing."""
    schema = tool.get("parameters") or {}
    props, required = schema.get("properties") or {}, set(schema.get("required") or [])
    known = lambda k: k in props or not schema  # noqa: E731 (no schema at all: nothing is known to be extra)
    default = lambda k, v: isinstance(props.get(k), dict) and "default" in props[k] and props[k]["default"] == v  # noqa: E731
    return {
        k: v for k, v in arguments.items() if known(k) and (k in required or not (default(k, v) or PAGING.fullmatch(k)))
    }


CUT_REASKS = 2  # the client has already retried finish_reason=length with more room
REASK_SEED_STRIDE = 1000  # re-asks draw seeds far from those of resampled() agents
RESAMPLED = 0.7  # the temperature of an answer asked again after a greedy one repeated its misreport


def _cut(c, tools: list[dict]) -> bool:
    """Cut off: by the token limit, or mid-JSON in a tool call's arguments or a call written as text."""
    if c.finish_reason == "length":
        return True
    calls = c.message.get("tool_calls") or []
    if any(parse_arguments(call["function"].get("arguments"))[1] for call in calls):
        return True
    if calls or not tools:
        return False
    problem = text_calls.recover(c.message.get("content"), {t["function"]["name"] for t in tools}).problem
    return "not JSON" in problem


QUESTION_SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string", "minLength": 1}},
    "required": ["question"],
    "additionalProperties": False,
}
VERDICT_SCHEMA = {  # reason first, so a small model reasons before it commits; strings bounded against loops
    "type": "object",
    "properties": {
        "reason": {"type": "string", "maxLength": 300},
        "factual": {"type": "boolean"},
        "second_answer_exists": {"type": "boolean"},
        "second_answer": {"type": "string", "maxLength": 200},
    },
    "required": ["reason", "factual", "second_answer_exists", "second_answer"],
    "additionalProperties": False,
}


def second_answer(verdict: dict, reference) -> str | None:
    """The verdict's second answer, when it claims one that is not the reference itself (small models
    restate the reference, or write a sentence about the question, in that field)."""
    said = (verdict.get("second_answer") or "").strip()
    if not verdict.get("second_answer_exists") or not said:
        return None
    return None if said.lower() in json.dumps(reference, ensure_ascii=False).lower() else said


class ModelEscalator:
    """Rewords the structural operator's template request (the chain itself is never the model's)."""

    def __init__(self, client: ModelClient, prompts_root):
        self.client, self.prompts_root = client, prompts_root
        self.name = f"{client.spec.model}"

    async def phrase(self, task: Task, operator: str | None, previous: str | None) -> str:
        draft = render_example(task, random.Random(f"{task.task_id}:{task.seed}"))
        prompt = render(
            "escalate/reword.j2",
            self.prompts_root,
            draft=draft,
            operator=operator,
            previous=previous,
            calls=[
                {
                    "name": s.name,
                    "arguments": {k: v for k, v in s.arguments.items() if k not in s.bindings},
                    "condition": condition_phrase(s.condition) if s.condition else "",
                    "branches": [s.condition["then"], s.condition["otherwise"]] if s.condition else None,
                }
                for s in task.chain
            ],
        )
        answer = await chat_json(
            self.client,
            [{"role": "user", "content": prompt}],
            QUESTION_SCHEMA,
            name="question",
            stage="escalate",
            role="escalator",
            prompts_root=self.prompts_root,
        )
        return answer["question"].strip()


class ModelVerifier:
    """The frontier model checks factuality and searches for a second answer, after the structural checks."""

    def __init__(self, client: ModelClient, prompts_root, structural):
        self.client, self.prompts_root, self.structural = client, prompts_root, structural
        self.name = f"{client.spec.model}"

    async def verify(self, question: str, steps: list[Step], reference) -> str | None:
        reason = await self.structural.verify(question, steps, reference)
        if reason:
            return reason
        prompt = render(
            "escalate/verify.j2",
            self.prompts_root,
            question=question,
            reference=reference,
            steps=[{"name": s.name, "arguments": s.arguments, "result": s.result} for s in steps],
        )
        verdict = await chat_json(
            self.client,
            [{"role": "user", "content": prompt}],
            VERDICT_SCHEMA,
            name="verdict",
            stage="escalate",
            role="frontier",
            prompts_root=self.prompts_root,
        )
        if not verdict["factual"]:
            return f"not_factual: {verdict['reason']}"[:300]
        other = second_answer(verdict, reference)
        if other:
            return f"alternative_answer: {other} ({verdict['reason']})"[:300]
        return None
