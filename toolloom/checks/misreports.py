"""What an answer says that its conversation does not: values none of the last result's, names and years nobody
gave, a pick of one record said as the only one, a listed item counted twice or named as what the list is for,
a size no record has; and what it leaves out of what the request asks (`check_completeness`). The filter rejects
an example for them (stages/samples.py); a model's episode asks its assistant again where its answer has one
(stages/episodes.py)."""

from __future__ import annotations

import json

from ..checks.answers import call_inputs, details_unsaid, given_forms, grounded, listed_as_subject, listed_twice
from ..checks.answers import lists_unsaid, undated, unlisted, unnamed_pick, unstated, wrong_size
from ..checks.arguments import parse_arguments
from ..checks.invented import conversation_known, invented
from ..messages import request_of


def earlier_answers(traj: dict) -> list[str]:
    """The assistant's answers before the final one that follow a tool result (a dialogue's answer to each turn)."""
    said, after_result = [], False
    for m in traj["messages"]:
        if m["role"] == "tool":
            after_result = True
        elif m["role"] == "assistant" and m.get("content") and not m.get("tool_calls") and after_result:
            said.append(m["content"])
            after_result = False
    return said[:-1] if said and said[-1] == traj.get("final_answer") else said


def answer_problem(traj: dict, answer: str, results: list[str]) -> tuple[str, str] | None:
    """The final answer states what the last call returned (besides the values it was given), and nothing made up."""
    given = given_forms(parse_arguments(traj["calls"][-1]["arguments"])[0] or {}) if traj["calls"] else set()
    if results and not grounded(json.loads(results[-1]), answer, given):
        return (
            "answer_not_grounded",
            "the final answer states none of the values the last call returned, besides the values it was given",
        )
    known = conversation_known(traj)
    if made_up := invented(answer, known):
        return "invented_facts", f"the final answer states {', '.join(made_up[:4])}, which nothing before it says"
    for said in earlier_answers(traj):  # a follow-up's first answer: 'The Dark Knight ... aired on Netflix in 2012.'
        if made_up := invented(said, known):
            return "invented_facts", f"an earlier answer states {', '.join(made_up[:4])}, which nothing before it says"
    if results and (twice := listed_twice(json.loads(results[-1]), answer)):
        return "invented_facts", f"the final answer lists '{twice}' more often than the last result names it"
    if results and (pick := unnamed_pick(json.loads(results[-1]), answer)):
        return "invented_facts", f"the final answer states {pick}"
    if results and (subject := listed_as_subject(json.loads(results[-1]), answer)):
        return "invented_facts", f"the final answer names {subject}, one of the results, as what they are for"
    if results and (size := wrong_size(json.loads(results[-1]), answer)):
        return "invented_facts", f"the final answer states the size {size}, which no record of the last result has"
    return None


def check_completeness(traj: dict) -> tuple[str, str] | None:
    """Every field of the reference answer that the request names is stated in the final answer."""
    if not traj.get("reference_answer") or traj.get("kind") == "abstain":
        return None
    request = request_of(traj["messages"], traj.get("actions"))
    missing = unstated(
        request, json.loads(traj["reference_answer"]), traj["final_answer"] or "", call_inputs(traj["messages"])
    )
    if missing:
        return "answer_incomplete", f"the request asks for {', '.join(missing)}, which the answer does not state"
    results = [m["content"] for m in traj["messages"] if m["role"] == "tool"]
    last = json.loads(results[-1]) if results else None
    said = details_unsaid(request, last, traj["final_answer"] or "", call_inputs(traj["messages"]))
    if said is not None:
        return "answer_incomplete", f"the request asks for details; the answer states {said} of the result's values"
    calls = [c for m in traj["messages"] for c in m.get("tool_calls") or []]
    if calls and (left := unlisted(calls[-1]["function"]["name"], last, traj["final_answer"] or "", request)):
        return "answer_incomplete", f"the result lists {', '.join(left[:3])} too, which the answer leaves out"
    if left := lists_unsaid(request, last, traj["final_answer"] or ""):
        return "answer_incomplete", f"the result also holds {', '.join(left)}, which the answer says nothing of"
    if day := undated(last, traj["final_answer"] or ""):
        return "answer_incomplete", f"the result's values hold as of {day}, which the answer does not say"
    return None
