"""Tool calls a model wrote as text: recovered when the endpoint returned no `tool_calls`.

Small and mid-size open models often write the call into the message instead of the tags their
server parses, and many endpoints pass that through. Three forms are read, the ones vLLM's
parsers know: Hermes `<tool_call>{...}</tool_call>` tags; a bare or fenced JSON object or array
(`{"name": ..., "arguments"|"parameters": {...}}`, optionally under "function"); and pythonic
calls (`name(arg=value)` or `[a(x=1), b(y=2)]`, read with `ast`, values literals only). Only
names of offered tools are accepted. Text that has the shape of a call but cannot be read is
reported, so the episode is rejected with that reason instead of counted as an answer.
"""
from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass

_HERMES = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
CALL_KEYS = {"name", "arguments", "parameters", "args", "type", "id", "function"}
_FENCE = re.compile(r"```(?:json|python|tool_code|tool_call)?\s*\n?(.*?)```", re.S)


@dataclass
class TextCalls:
    calls: list[dict]  # OpenAI tool_calls, ids call_<hash of the text>_<n>
    content: str | None  # the text around the calls (None when nothing else was said)
    problem: str = ""  # non-empty: the text has a call's shape but no usable call could be read

    @property
    def looked_like_call(self) -> bool:
        return bool(self.calls or self.problem)


def recover(text: str | None, offered: set[str]) -> TextCalls:
    """The calls written in `text`; TextCalls([], text) when it is an ordinary answer."""
    text = (text or "").strip()
    if not text:
        return TextCalls([], None)
    # ids from the text: unique across the turns of an episode, and the same on a rerun (the next
    # request, which carries them, must hash the same to be answered from the cache)
    tag = "call_" + hashlib.blake2b(text.encode(), digest_size=4).hexdigest()
    if "<tool_call>" in text:
        bodies = _HERMES.findall(text)
        rest = _HERMES.sub("", text).strip() or None
        return _checked([_json_call(b) for b in bodies], offered, rest, "<tool_call> tags", tag)
    for block, rest in _candidates(text):
        parsed = _json_calls(block)
        form = "JSON"
        if parsed is None:
            parsed, form = _pythonic_calls(block, offered), "a pythonic call"
        if parsed is not None:
            return _checked(parsed, offered, rest, form, tag)
    return TextCalls([], text)


def _candidates(text: str):
    """(block, the text around it): the whole message, then each fenced block."""
    yield text, None
    for m in _FENCE.finditer(text):
        yield m.group(1).strip(), (text[:m.start()] + text[m.end():]).strip() or None


def _checked(parsed: list[dict | str], offered: set[str], rest: str | None, form: str, tag: str) -> TextCalls:
    """Each parsed item is a {"name", "arguments"} dict or a string saying why it is unreadable."""
    calls, problems = [], []
    for item in parsed:
        if isinstance(item, str):
            problems.append(item)
        elif item["name"] not in offered:
            problems.append(f"names {item['name']!r}, which is not an offered tool")
        else:
            calls.append(
                {
                    "id": f"{tag}_{len(calls)}",
                    "type": "function",
                    "function": {"name": item["name"], "arguments": json.dumps(item["arguments"], ensure_ascii=False)},
                }
            )
    if problems or not calls:
        why = "; ".join(problems) or "no call in it"
        return TextCalls([], rest, f"a tool call written as text ({form}) could not be used: {why}")
    return TextCalls(calls, rest)


def _as_call(value) -> dict | str | None:
    """A {"name", "arguments"} dict from one JSON value, a reason string, or None (not a call's shape)."""
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("function"), dict):  # {"type": "function", "function": {...}}
        value = value["function"]
    if not isinstance(value.get("name"), str) or not set(value) <= CALL_KEYS:
        return None  # {"name": "Paris", "population": 2} is an answer, not a call
    args = next((value[k] for k in ("arguments", "parameters", "args") if k in value), {})
    if isinstance(args, str):  # arguments as a JSON string, as the OpenAI wire format has them
        try:
            args = json.loads(args or "{}")
        except json.JSONDecodeError as e:
            return f"the arguments of {value['name']!r} are not JSON ({e.msg})"
    if not isinstance(args, dict):
        return f"the arguments of {value['name']!r} are not an object"
    return {"name": value["name"], "arguments": args}


def _json_call(body: str) -> dict | str:
    try:
        value = json.loads(body)
    except json.JSONDecodeError as e:
        return f"not JSON ({e.msg})"
    return _as_call(value) or "not a {\"name\", \"arguments\"} object"


def _json_calls(block: str) -> list | None:
    """A list of calls (or reasons) when `block` is a JSON call or array of calls; None otherwise."""
    if not block.startswith(("{", "[")):
        return None
    try:
        value = json.loads(block)
    except json.JSONDecodeError as e:
        if re.match(r'[\[{]\s*\{?\s*"(name|function|tool)"', block):
            return [f"not JSON ({e.msg})"]  # a call's opening, broken further on
        return None
    if isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
        value = value["tool_calls"]
    items = value if isinstance(value, list) else [value]
    calls = [_as_call(v) for v in items]
    if not items or any(c is None for c in calls):
        return None  # a JSON answer, not calls
    return calls


def _pythonic_calls(block: str, offered: set[str]) -> list | None:
    """`name(a=1)` or `[a(x=1), b(y=2)]` with literal keyword arguments; None when not that shape."""
    try:
        tree = ast.parse(block.strip(), mode="eval").body
    except SyntaxError:
        return None
    nodes = tree.elts if isinstance(tree, (ast.List, ast.Tuple)) else [tree]
    if not nodes or not all(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) for n in nodes):
        return None
    if not any(n.func.id in offered or "_" in n.func.id for n in nodes):
        return None  # `print(x)`-like prose in a fence is not a tool call
    out: list[dict | str] = []
    for n in nodes:
        if n.args:
            out.append(f"{n.func.id}(...) passes arguments by position, not by name")
            continue
        try:
            out.append(
                {"name": n.func.id, "arguments": {k.arg: ast.literal_eval(k.value) for k in n.keywords if k.arg}}
            )
        except ValueError:
            out.append(f"the arguments of {n.func.id!r} are not literal values")
    return out
