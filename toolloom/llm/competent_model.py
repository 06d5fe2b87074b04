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


def competent(request: dict, role: str | None = None) -> dict:
    """Plays a capable model for toolloom's own prompts. The reply is chosen by the `role` the client named (the
    X-Toolloom-Role header), and made from the data between the prompt's tags (<request>, <args>, <documentation>,
    <parameters>, <example>): rewording a template changes nothing here. A request that names no role (another
    client) is recognised by what its prompt asks for."""
    from ..agents.offline import RetrievalAssistant

    messages, tools = request.get("messages", []), request.get("tools") or []
    if not tools:
        prompt = messages[-1].get("content") or ""
        replies = ROLE_REPLIES.get(role, ALL_REPLIES) if role else ALL_REPLIES
        for reply in replies:
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


def _reword(prompt: str) -> dict | None:
    """The escalator: keeps the draft request."""
    if "<request>" not in prompt or '"question"' not in prompt:
        return None
    draft = prompt.split("<request>", 1)[1].split("</request>", 1)[0].strip()
    return {"content": json.dumps({"question": draft})}


def _verify(prompt: str) -> dict | None:
    """The escalation verifier (the frontier's own check): the reference stands."""
    if '"second_answer_exists"' not in prompt:
        return None
    verdict = {"reason": "scripted verifier", "factual": True, "second_answer_exists": False, "second_answer": ""}
    return {"content": json.dumps(verdict)}


def _explore(prompt: str) -> dict | None:
    """The DRAFT explorer: a different angle each time, with the tool's example arguments."""
    if "<args>" not in prompt or '"arguments"' not in prompt:
        return None
    n = prompt.count("\n- ")
    args = json.loads(prompt.split("<args>", 1)[1].split("</args>", 1)[0])
    return {"content": json.dumps({"query": EXPLORATIONS[n % len(EXPLORATIONS)], "arguments": args})}


def _analyze(prompt: str) -> dict | None:
    """The DRAFT analyzer."""
    if '"findings"' not in prompt:
        return None
    findings = {"findings": ["the documentation matches the responses seen"], "suggestion": "try an unknown value"}
    return {"content": json.dumps(findings)}


def _rewrite(prompt: str) -> dict | None:
    """The DRAFT rewriter: keeps the documentation."""
    if "<documentation>" not in prompt or '"description"' not in prompt:
        return None
    doc = prompt.split("<documentation>", 1)[1].split("</documentation>", 1)[0].strip()
    return {"content": json.dumps({"description": doc or "Undocumented tool.", "suggestion": ""})}


def _propose(prompt: str) -> dict | None:
    """The user agent proposing arguments: schema-made ones."""
    if "<parameters>" not in prompt or '"calls"' not in prompt:
        return None
    from ..agents.llm import PAGING
    from ..text.synthesis import ArgumentSynthesizer, Unsynthesizable

    schema = json.loads(prompt.split("<parameters>", 1)[1].split("</parameters>", 1)[0])
    try:
        args = ArgumentSynthesizer().arguments({"name": "proposed", "parameters": schema}, seed=hash_bucket(prompt))
    except Unsynthesizable:
        args = {}
    required = set(schema.get("required") or [])
    args = {k: v for k, v in args.items() if k in required or not PAGING.fullmatch(k)}  # as the grammar allows
    return {"content": json.dumps({"calls": [{"request": "A request.", "arguments": args}]})}


def _example(prompt: str) -> dict | None:
    """User-agent and dialogue prompts carry a plain example: said as it is (as JSON where JSON is asked)."""
    if "<example>" not in prompt:
        return None
    example = prompt.split("<example>", 1)[1].split("</example>", 1)[0].strip()
    return {"content": json.dumps({"request": example}) if '{"request"' in prompt else example}


def _judge(prompt: str) -> dict | None:
    """The semantic judge: passes an example that called tools and answered."""
    if '"calls_fit"' not in prompt:
        return None
    conversation = prompt.split("The conversation:", 1)[1].split("Questions:", 1)[0]
    ok = "Assistant calls " in conversation and "\nAssistant:" in conversation
    verdict = {
        "reason": "scripted judge",
        "calls_fit": ok,
        "answer_responds": ok,
        "answer_supported": True,
        "reads_naturally": True,
    }
    return {"content": json.dumps(verdict)}


def _validate(prompt: str) -> dict | None:
    """Edge validation: the edge makes sense."""
    if '"makes_sense"' not in prompt:
        return None
    return {"content": json.dumps({"value": "x", "arguments": {}, "makes_sense": True, "reason": "scripted validator"})}


# role -> the replies it may need, in order (a role with several prompts tells them apart by their data's tags)
ROLE_REPLIES = {
    "escalator": (_reword,),
    "frontier": (_verify,),
    "explorer": (_explore,),
    "analyzer": (_analyze,),
    "rewriter": (_rewrite,),
    "user": (_propose, _example),
    "assistant": (_example,),
    "judge": (_judge,),
    "validator": (_validate,),
}
# a request naming no role: the order the prompts were told apart in before roles were named
ALL_REPLIES = (_reword, _verify, _explore, _analyze, _rewrite, _propose, _example, _judge, _validate)


def hash_bucket(text: str, buckets: int = 64) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big") % buckets
