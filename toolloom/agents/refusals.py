"""A model's call that a strict API refuses for its arguments (a parameter the tool does not have, a value its
schema forbids) is answered with that 400 once, before the call counts: the corrected turn stands in the
example, and the refused call is kept in the call's record (`dropped`). A small model adds `language: "en"`
to a tool without it (6 of 36 TMDB episodes of the 0.5B model were rejected for it), and fixes it when told.
Two slips whose meaning is plain are read as meant before (`normalise_arguments`)."""

from __future__ import annotations

import json

from ..checks.arguments import argument_errors, parse_arguments

NOT_RUN = "not run: another call of this turn was refused"


def refused_calls(calls: list[dict] | None, tools: list[dict], messages: list[dict] = ()) -> dict[str, str]:
    """Call id -> the 400 a strict API answers, for each call to an offered tool whose arguments its schema
    refuses or name a parameter it does not document (the filter's `schema_violation`, `unknown_parameter`).
    With the conversation so far, the 400 also says where a made-up parameter came from (`_hint`)."""
    schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
    out = {}
    for call in calls or []:
        name = call["function"]["name"]
        args, error = parse_arguments(call["function"].get("arguments"))
        if name not in schemas or error:  # an unknown tool, or arguments that are not JSON: the episode answers
            continue
        documented = schemas[name].get("properties")
        problems = argument_errors(schemas[name], args)
        unknown = sorted(set(args) - set(documented)) if documented is not None else []
        problems += [f"'{k}' is no parameter of {name}" for k in unknown]
        if problems:
            listed = ", ".join(documented or {}) or "none"
            said = f"invalid arguments: {'; '.join(problems)} (the parameters of {name}: {listed})"
            out[call["id"]] = said + _hint(name, unknown, messages)
    return out


def _hint(name: str, unknown: list[str], messages) -> str:
    """Where the 0.5B model's made-up parameters come from, said with the 400 (the example never shows it): it
    writes the parameters' schema as the arguments, or calls again with the fields of a result it already has."""
    if unknown and set(unknown) <= SCHEMA_WORDS:
        return f". The arguments are values, not a schema: {name}({{}}) where it takes no parameter"
    fields = set()
    for m in messages:
        content, _ = parse_arguments(m.get("content")) if m.get("role") == "tool" else ({}, None)
        if isinstance(content, dict) and "error" not in content:
            fields |= _keys(content)
    if unknown and set(unknown) <= fields:
        said = ", ".join(f"'{k}'" for k in unknown)
        return f". {said}: a field of a result above, not a parameter; where the results answer the request, answer it"
    return ""


def _keys(value) -> set[str]:
    """Every key of a JSON value, nested ones too (`items[].unit_price_eur`)."""
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


SCHEMA_WORDS = {"type", "properties", "required", "description", "additionalProperties", "items"}


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


NORMALISED = "arguments read as the schema means them"  # the call's record says so, with what was written


def normalise_arguments(turn, tools: list[dict]) -> None:
    """Two slips of a small model read as what they plainly mean, before the API would refuse them: the tool's
    schema written as the arguments of a tool that takes none (`GET_tv-latest({"type": "object", ...})`: {}), and
    a number written as a string for a number parameter (`person_id: "17419"`: 17419). The 0.5B model kept both
    after the 400 (4 of 6 refused TMDB episodes); the call's record keeps what it wrote."""
    schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
    for call in turn.tool_calls or []:
        name, written = call["function"]["name"], call["function"].get("arguments")
        args, error = parse_arguments(written)
        if name not in schemas or error or not isinstance(args, dict):
            continue
        properties = schemas[name].get("properties") or {}
        if args and not properties and set(args) <= SCHEMA_WORDS:
            fixed = {}
        else:
            fixed = {k: _number(v, properties.get(k) or {}) for k, v in args.items()}
        if fixed != args:
            call["function"]["arguments"] = json.dumps(fixed)
            turn.dropped = [*turn.dropped, f"{NORMALISED}: {name}({written})"]


def _number(value, schema: dict):
    """'17419' as 17419 where the parameter takes an integer (or a number); anything else as written."""
    kind = schema.get("type")
    if not isinstance(value, str) or kind not in ("integer", "number"):
        return value
    text = value.strip()
    if kind == "integer" and text.lstrip("-").isdigit():
        return int(text)
    try:
        return float(text) if kind == "number" and text else value
    except ValueError:
        return value
