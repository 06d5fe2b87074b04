"""A model's call that a strict API refuses for its arguments (a parameter the tool does not have, a value its
schema forbids) is answered with that 400 once, before the call counts: the corrected turn stands in the
example, and the refused call is kept in the call's record (`dropped`). A small model adds `language: "en"`
to a tool without it (6 of 36 TMDB episodes of the 0.5B model were rejected for it), and fixes it when told."""

from __future__ import annotations

import json

from ..checks.arguments import argument_errors, parse_arguments

NOT_RUN = "not run: another call of this turn was refused"


def refused_calls(calls: list[dict] | None, tools: list[dict]) -> dict[str, str]:
    """Call id -> the 400 a strict API answers, for each call to an offered tool whose arguments its schema
    refuses or name a parameter it does not document (the filter's `schema_violation`, `unknown_parameter`)."""
    schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
    out = {}
    for call in calls or []:
        name = call["function"]["name"]
        args, error = parse_arguments(call["function"].get("arguments"))
        if name not in schemas or error:  # an unknown tool, or arguments that are not JSON: the episode answers
            continue
        documented = schemas[name].get("properties")
        problems = argument_errors(schemas[name], args)
        if documented is not None:
            problems += [f"'{k}' is no parameter of {name}" for k in sorted(set(args) - set(documented))]
        if problems:
            listed = ", ".join(documented or {}) or "none"
            out[call["id"]] = f"invalid arguments: {'; '.join(problems)} (the parameters of {name}: {listed})"
    return out


def refusal_messages(turn, refused: dict[str, str]) -> list[dict]:
    """The turn and the API's answers to its calls, as the conversation would go on: a refused call gets its
    400, a valid one beside it is not run (the whole turn is sent again)."""
    answers = [
        {
            "role": "tool",
            "tool_call_id": call["id"],
            "name": call["function"]["name"],
            "content": json.dumps({"error": {"status": 400, "message": refused.get(call["id"], NOT_RUN)}}),
        }
        for call in turn.tool_calls
    ]
    return [turn.message(), *answers]


def refusal_notes(turn, refused: dict[str, str]) -> list[str]:
    """What the call's record keeps of the refused turn (the example keeps the corrected one)."""
    return [
        f"refused before it was made, then corrected: {c['function']['name']}({c['function'].get('arguments')})"
        f" -> 400 {refused[c['id']]}"
        for c in turn.tool_calls
        if c["id"] in refused
    ]
