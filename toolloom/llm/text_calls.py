"""Tool calls a model wrote as text: recovered when the endpoint returned no `tool_calls`.

Small open models often write the call into the message instead of the tags their server parses,
and many endpoints pass that through. The text is scanned for every complete JSON value, wherever
it sits: Hermes `<tool_call>` tags, fenced blocks, one object per line, several objects in a row,
an array of calls (`{"name": ..., "arguments"|"parameters": {...}}`, optionally under "function"
or "tool_calls"); failing that, pythonic calls (`name(arg=value)`, `[a(x=1), b(y=2)]`, one per
line; read with `ast`, literal values only).

The calls kept are the leading run of call objects: the model's turn ends at its last call, so a
result it invented after them (a JSON object that is not a call, a `<tool_response>`), and any
call written after such an invented result, never reach the conversation. Calls to tools that were
not offered are dropped and named in `dropped`; when nothing offered is left, or the text has a
call's shape that cannot be read, `problem` says why and the episode is rejected with it.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass, field

CALL_KEYS = {"name", "arguments", "parameters", "args", "type", "id", "function"}
_DECODER = json.JSONDecoder()
_CALL_OPENING = re.compile(r'[\[{]\s*\{?\s*"(name|function|tool|tool_calls)"')
_INVENTED = re.compile(r"<tool_response>|<\|im_start\|>\s*(tool|user)|^\s*(tool|observation|result)\s*:", re.I | re.M)
_WRAPPERS = re.compile(r"```[a-z_]*|</?tool_call>", re.I)
_FENCE = re.compile(r"```(?:json|python|tool_code|tool_call)?\s*\n?(.*?)```", re.S)


@dataclass
class TextCalls:
    calls: list[dict]  # OpenAI tool_calls, ids call_<hash of the text>_<n>
    content: str | None  # the text before the calls (None when nothing else was said)
    problem: str = ""  # non-empty: the text has a call's shape but no usable call could be read
    dropped: list[str] = field(default_factory=list)  # what was read but not kept, and why

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
    found = _json_run(text)
    form = "JSON"
    if found is None:
        found, form = _pythonic_run(text, offered), "a pythonic call"
    if found is None:
        return TextCalls([], text)
    start, items, dropped = found
    before = _WRAPPERS.sub("", text[:start]).strip() or None
    return _checked(items, offered, before, form, tag, dropped)


def _json_run(text: str) -> tuple[int, list, list[str]] | None:
    """(where the first call starts, the leading run of calls or reasons, what was dropped after it);
    None when the text holds no call-shaped JSON."""
    items: list[dict | str] = []
    dropped: list[str] = []
    start, i = None, 0
    invented = _INVENTED.search(text)
    stop = invented.start() if invented else len(text)
    while i < len(text):
        i = _next_opening(text, i)
        if i < 0:
            break
        try:
            value, end = _DECODER.raw_decode(text, i)
        except json.JSONDecodeError as e:
            if _CALL_OPENING.match(text, i) and i < stop:
                if start is None:  # a call's opening, broken further on
                    start = i
                    items.append(f"not JSON ({e.msg})")
                else:  # the complete calls before it stand
                    dropped.append(f"a call after them that is not JSON ({e.msg})")
                break
            i += 1
            continue
        calls = _calls_in(value)
        if calls is None or i >= stop:  # an answer or a result the model made up: the turn ends before it
            if start is not None:
                dropped.append("text after the calls (a result the model wrote itself)")
                break
            i = end
            continue
        if start is None:
            start = i
        items += calls
        i = end
    if start is None:
        return None
    if stop < len(text) and not dropped:
        dropped.append("text after the calls (a result the model wrote itself)")
    return start, items, dropped


def _next_opening(text: str, i: int) -> int:
    hits = [p for p in (text.find("{", i), text.find("[", i)) if p >= 0]
    return min(hits) if hits else -1


def _calls_in(value) -> list | None:
    """The calls (or reasons) one JSON value holds: a call, an array of calls, {"tool_calls": [...]};
    None when it is not call-shaped (an answer, or a result the model invented)."""
    if isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
        value = value["tool_calls"]
    items = value if isinstance(value, list) else [value]
    calls = [_as_call(v) for v in items]
    if not items or any(c is None for c in calls):
        return None
    return calls


def _checked(
    parsed: list[dict | str], offered: set[str], rest: str | None, form: str, tag: str, dropped: list[str]
) -> TextCalls:
    """Each parsed item is a {"name", "arguments"} dict or a string saying why it is unreadable."""
    calls, problems, left_out, seen = [], [], [], set()
    for item in parsed:
        if isinstance(item, str):
            problems.append(item)
            continue
        key = json.dumps([item["name"], item["arguments"]], sort_keys=True)
        if key in seen:  # a small model repeating its call line: one call
            left_out.append(f"a repeat of the call to {item['name']!r}")
            continue
        seen.add(key)
        if item["name"] not in offered:
            left_out.append(f"names {item['name']!r}, which is not an offered tool")
        else:
            calls.append(
                {
                    "id": f"{tag}_{len(calls)}",
                    "type": "function",
                    "function": {"name": item["name"], "arguments": json.dumps(item["arguments"], ensure_ascii=False)},
                }
            )
    if problems or not calls:
        why = "; ".join(problems + left_out) or "no call in it"
        return TextCalls([], rest, f"a tool call written as text ({form}) could not be used: {why}")
    return TextCalls(calls, rest, dropped=left_out + dropped)


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


def _pythonic_run(text: str, offered: set[str]) -> tuple[int, list, list[str]] | None:
    """Pythonic calls: the whole text, a fenced block, or the leading lines that are calls."""
    blocks = [(0, text)] + [(m.start(), m.group(1).strip()) for m in _FENCE.finditer(text)]
    for start, block in blocks:
        calls = _pythonic_calls(block, offered)
        if calls is not None:
            return start, calls, []
    lines = text.splitlines()
    for n, line in enumerate(lines):  # one call a line, maybe after a sentence; what follows them is dropped
        calls = _pythonic_calls(line.strip(), offered)
        if calls is None:
            continue
        for more in lines[n + 1 :]:
            extra = _pythonic_calls(more.strip(), offered)
            if extra is None:
                break
            calls += extra
        tail = len(lines) > n + 1 + (len(calls) - 1)
        return len("\n".join(lines[:n])), calls, ["text after the calls (a result the model wrote itself)"] * tail
    return None


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
