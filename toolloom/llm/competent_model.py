"""The model the fake server plays when no answer is queued: a competent one for toolloom's own prompts
(each role's JSON answer, made from its prompt) that calls the offered tool the offline assistant would."""

from __future__ import annotations

import hashlib
import json


EXPLORATIONS = (
    "What does the tool return for a typical request?",
    "Which values are refused, and with which error message?",
    "What happens when a required parameter is missing?",
    "How do the optional parameters change the result?",
    "Does the answer change for a very different input?",
)


def competent(request: dict) -> dict:
    """Plays a capable model for toolloom's own prompts."""
    from ..agents.offline import RetrievalAssistant

    messages, tools = request.get("messages", []), request.get("tools") or []
    if not tools:
        prompt = messages[-1].get("content") or ""
        for reply in (_refinement_reply, _request_reply, _check_reply):
            answer = reply(prompt)
            if answer is not None:
                return answer
        return {"content": "OK."}
    turn = RetrievalAssistant().decide(messages, tools)
    if turn.tool_calls:
        return {
            "tool_calls": [
                {"name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in turn.tool_calls
            ]
        }
    return {"content": turn.content}


def _refinement_reply(prompt: str) -> dict | None:
    """The escalator, its verifier and the DRAFT roles (explorer, analyzer, rewriter); None for other prompts."""
    if "<request>" in prompt and '"question"' in prompt:  # the escalator: keeps the draft request
        draft = prompt.split("<request>", 1)[1].split("</request>", 1)[0].strip()
        return {"content": json.dumps({"question": draft})}
    if '"alternative_answer"' in prompt:  # the escalation verifier: the reference stands
        return {"content": json.dumps({"factual": True, "alternative_answer": None, "reason": "scripted verifier"})}
    if "<args>" in prompt and '"arguments"' in prompt:  # the DRAFT explorer: a different angle each time
        n = prompt.count("\n- ")
        args = json.loads(prompt.split("<args>", 1)[1].split("</args>", 1)[0])
        return {"content": json.dumps({"query": EXPLORATIONS[n % len(EXPLORATIONS)], "arguments": args})}
    if '"findings"' in prompt:  # the DRAFT analyzer
        return {
            "content": json.dumps(
                {"findings": ["the documentation matches the responses seen"], "suggestion": "try an unknown value"}
            )
        }
    if "<documentation>" in prompt and '"description"' in prompt:  # the DRAFT rewriter: keeps the documentation
        doc = prompt.split("<documentation>", 1)[1].split("</documentation>", 1)[0].strip()
        return {"content": json.dumps({"description": doc or "Undocumented tool.", "suggestion": ""})}
    return None


def _request_reply(prompt: str) -> dict | None:
    """The user agent: proposed arguments (schema-made) or the prompt's own example; None for other prompts."""
    if "<parameters>" in prompt and '"calls"' in prompt:  # the user agent proposing arguments: schema-made ones
        from ..text.synthesis import ArgumentSynthesizer, Unsynthesizable

        schema = json.loads(prompt.split("<parameters>", 1)[1].split("</parameters>", 1)[0])
        try:
            args = ArgumentSynthesizer().arguments({"name": "proposed", "parameters": schema}, seed=hash_bucket(prompt))
        except Unsynthesizable:
            args = {}
        return {"content": json.dumps({"calls": [{"request": "A request.", "arguments": args}]})}
    if "<example>" in prompt:  # user-agent and dialogue prompts carry a plain example
        example = prompt.split("<example>", 1)[1].split("</example>", 1)[0].strip()
        return {"content": json.dumps({"request": example}) if '{"request"' in prompt else example}
    return None


def _check_reply(prompt: str) -> dict | None:
    """The semantic judge and edge validation; None for other prompts."""
    if '"calls_fit"' in prompt:  # the semantic judge: passes an example that called tools and answered
        conversation = prompt.split("The conversation:", 1)[1].split("Questions:", 1)[0]
        ok = "Assistant calls " in conversation and "\nAssistant:" in conversation
        return {
            "content": json.dumps(
                {
                    "reason": "scripted judge",
                    "calls_fit": ok,
                    "answer_responds": ok,
                    "answer_supported": True,
                    "reads_naturally": True,
                }
            )
        }
    if '"makes_sense"' in prompt:  # edge validation
        return {
            "content": json.dumps({"value": "x", "arguments": {}, "makes_sense": True, "reason": "scripted validator"})
        }
    return None


def hash_bucket(text: str, buckets: int = 64) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big") % buckets
