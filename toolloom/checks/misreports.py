"""What an answer says that its conversation does not: values none of the last result's, names and years nobody
gave, a pick of one record said as the only one, a listed item counted twice or named as what the list is for,
a size no record has. The filter rejects an example for them (stages/samples.py); a model's episode asks its
assistant again once where its answer has one (stages/episodes.py)."""

from __future__ import annotations

import json

from ..checks.answers import given_forms, grounded, listed_as_subject, listed_twice, unnamed_pick, wrong_size
from ..checks.arguments import parse_arguments
from ..checks.invented import conversation_known, invented


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
