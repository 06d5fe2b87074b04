"""JSON answers from a model: the endpoint's structured-output support where it has it, and a
validated fallback (parse, repair once, then reject with the reason) where it has not.

`ModelSpec.structured_output` says what the endpoint supports: `json_schema` (vLLM, OpenAI: the
schema constrains decoding), `json_object` (JSON mode only), or `none` (the prompt asks for JSON).
The answer is validated against the schema in every mode.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from jsonschema import Draft7Validator

from ..prompts import render
from .call_errors import ModelCallError
from .client import ModelClient


class UnusableAnswer(ModelCallError):
    """The model's JSON was still unusable after one repair round; the message says why."""


def strict_compatible(schema) -> bool:
    """OpenAI's strict mode takes only closed objects whose properties are all required."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            props = schema.get("properties") or {}
            if schema.get("additionalProperties") is not False or set(schema.get("required") or []) != set(props):
                return False
        children = list((schema.get("properties") or {}).values()) + list(schema.get("anyOf") or [])
        children += [schema["items"]] if isinstance(schema.get("items"), dict) else []
        return all(strict_compatible(c) for c in children)
    if isinstance(schema, list):
        return all(strict_compatible(v) for v in schema)
    return True


def response_format(mode: str, name: str, schema: dict) -> dict | None:
    if mode == "json_schema":
        # strict where the schema allows it (OpenAI's strict mode wants an object at the root); vLLM and
        # llama.cpp constrain decoding by the schema either way
        strict = schema.get("type") == "object" and strict_compatible(schema)
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": strict}}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def parse_json(text: str):
    text = (text or "").strip()
    if text.startswith("```"):  # a fenced block: drop the fence and its language tag
        text = text.strip("`").split("\n", 1)[-1] if "\n" in text else text.strip("`")
    return json.loads(text)


def problem_with(text: str, validator: Draft7Validator) -> tuple[object, str]:
    try:
        value = parse_json(text)
    except json.JSONDecodeError as e:
        return None, f"not valid JSON ({e.msg})"
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
    if errors:
        return None, "it does not match the schema: " + "; ".join(
            f"{'/'.join(map(str, e.path)) or 'answer'}: {e.message}" for e in errors[:3]
        )
    return value, ""


def _schema_refused(error: ModelCallError) -> bool:
    """The endpoint refused the request because of its response_format (a schema its grammar cannot take)."""
    text = str(error).lower()
    return "badrequest" in text.replace(" ", "") and any(w in text for w in ("grammar", "schema", "response_format"))


async def chat_json(
    client: ModelClient,
    messages: list[dict],
    schema: dict,
    *,
    name: str,
    stage: str,
    role: str,
    prompts_root: Path,
    check: Callable[[dict], str] | None = None,
    tidy: Callable[[dict], dict] | None = None,
) -> dict:
    """The model's answer as a dict valid against `schema` (and, with `check`, one in which `check`
    finds no problem: it returns "" or what is wrong); the reply is asked again once with the problem
    stated, then UnusableAnswer says why. An endpoint that refuses the schema is asked in JSON mode.
    `tidy`: what is set right without asking again (a repeated list item dropped), before the check."""
    validator = Draft7Validator(schema)
    fmt = response_format(client.spec.structured_output, name, schema)
    messages = list(messages)
    problem = ""
    for _ in range(2):
        try:
            c = await client.chat(messages, stage=stage, role=role, response_format=fmt)
        except ModelCallError as e:
            if not (fmt and fmt["type"] == "json_schema" and _schema_refused(e)):
                raise
            fmt = response_format("json_object", name, schema)
            c = await client.chat(messages, stage=stage, role=role, response_format=fmt)
        text = c.message.get("content") or ""
        if c.finish_reason == "length":
            problem = "the answer was cut off (finish_reason=length)"
        else:
            value, problem = problem_with(text, validator)
            if not problem and tidy is not None:
                value = tidy(value)
            if not problem and check is not None:
                problem = check(value)
            if not problem:
                return value
        messages += [
            {"role": "assistant", "content": text},
            {"role": "user", "content": render("common/json_repair.j2", prompts_root, problem=problem, schema=schema)},
        ]
    raise UnusableAnswer(f"{role} answer unusable after one repair: {problem}"[:300])
