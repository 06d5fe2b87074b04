"""Arguments for a tool call when the spec gives no example (DESIGN 8: tasks never require examples).

Per parameter, the first source that gives a value that validates against its schema:
1. a value another tool of the collection returned for an API-graph edge into it (graph-fed);
2. the schema's own values: `const`, `enum`, `examples`/`example`, `default`;
3. values named in its description ("e.g. `en-US`", "one of: a, b, c", quoted strings);
4. its `format` (date, email, uri, uuid ...) or `pattern`;
5. a realistic value for its type and name (toolloom.text.values: Faker by name, bounds respected).
A required parameter with nothing to draw from (no type, enum, example or format) makes the tool
unusable, and `Unsynthesizable` says which parameter and why. Deterministic for a seed.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict

from ..checks.arguments import argument_errors, schema_errors
from ..domain import Tool
from ..executors.simulated import documented_call
from ..graph.chains import degenerate_call, equal_ends, value_at
from .values import ValueFactory, documented_values, fitting, is_id_name, schema_type

# "e.g. X", "for example X", "such as X", "example: X", "default: X", "like X"; X is quoted or one token
_NAMED_VALUE = re.compile(
    r"(?:e\.g\.|eg\.|for example|for instance|such as|examples?|default(?: is| value is)?|like)\s*[:,]?\s*"
    r"(?:[`'\"]([^`'\"]{1,60})[`'\"]|([^\s,;()]{1,40}))",
    re.IGNORECASE,
)
_ONE_OF = re.compile(
    r"(?:one of|possible values|allowed values|valid values|options|accepted values)"
    r"\s*(?:are|is)?\s*[:=]?\s*([^.\n]{1,200})",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"(?<!\w)([`'\"])([^`'\"\s][^`'\"]{0,40})\1")  # a pair of one mark; not "ID's ... `


class Unsynthesizable(Exception):
    """A tool whose required arguments cannot be drawn from its documentation; str() says why."""


def _coerce(text: str, schema: dict):
    typ = schema_type(schema)
    text = text.strip().rstrip(".")
    try:
        if typ == "integer":
            return int(text)
        if typ == "number":
            return float(text)
        if typ == "boolean":
            return {"true": True, "false": False}[text.lower()]
        if typ in ("array", "object"):
            value = json.loads(text)
            return value if isinstance(value, (list, dict)) else None
    except (ValueError, KeyError, json.JSONDecodeError):
        return None
    return text if typ in (None, "string") else None


def described_values(description: str, schema: dict) -> list:
    """Values a parameter's description names, coerced to its type; unparseable ones are skipped."""
    found: list = []
    text = description or ""
    for m in _ONE_OF.finditer(text):
        found += [_coerce(v, schema) for v in re.split(r",|\bor\b|/|\|", m.group(1)) if v.strip()]
    for m in _NAMED_VALUE.finditer(text):
        found.append(_coerce(m.group(1) or m.group(2), schema))
    found += [_coerce(m.group(2), schema) for m in _QUOTED.finditer(text)]
    out = []
    for v in found:
        if v not in (None, "") and v not in out:
            out.append(v)
    return out


def has_source(schema: dict) -> bool:
    """Whether a parameter says enough to draw a value: a type, an enum, an example or a format."""
    keys = (
        "type",
        "enum",
        "const",
        "examples",
        "example",
        "default",
        "format",
        "properties",
        "items",
        "anyOf",
        "oneOf",
        "allOf",
        "pattern",
    )
    return isinstance(schema, dict) and any(k in schema for k in keys)


class ArgumentSynthesizer:
    """`arguments(tool, seed, variant)`: arguments for one call, validated against the tool's schema.

    `observe(tool_name, result)` feeds values that a call returned to the parameters that API-graph
    edges connect to that output, so an id parameter gets an id the collection really returns.
    """

    def __init__(self, edges: list[dict] | None = None, values: ValueFactory | None = None):
        self.values = values or ValueFactory()
        self.feeds: dict[str, list[tuple[str, str, str]]] = defaultdict(
            list
        )  # src tool -> (src slot, dst tool, dst slot)
        self.fed: dict[tuple[str, str], list] = defaultdict(list)  # (dst tool, dst slot) -> values seen
        self._fed_tools: set[str] = set()
        for e in edges or []:
            if e.get("llm_verdict") != "invalid":
                self.feeds[e["src_tool"]].append((e["src_slot"], e["dst_tool"], e["dst_slot"]))
                self._fed_tools.add(e["dst_tool"])

    def fed_by_graph(self, tool_name: str) -> bool:
        return tool_name in self._fed_tools

    def observe(self, tool_name: str, result) -> None:
        for src_slot, dst_tool, dst_slot in self.feeds.get(tool_name, []):
            value = value_at(result, src_slot)
            bucket = self.fed[(dst_tool, dst_slot)]
            if value is not None and value not in bucket and len(bucket) < 32:
                bucket.append(value)

    def offer(self, tool_name: str, param: str, values: list) -> None:
        """Values the documentation shows for a parameter (the titles a search finds), taken like fed ones."""
        bucket = self.fed[(tool_name, param)]
        bucket += [v for v in values if v not in bucket]

    def candidates(self, tool_name: str, param: str, schema: dict) -> list:
        """Documented and graph-fed values of a parameter, best first (each validates)."""
        pool = list(self.fed.get((tool_name, param), []))
        if "const" in schema:
            pool.append(schema["const"])
        pool += [fitting(v, schema) for v in documented_values(schema)]
        pool += described_values(schema.get("description") or "", schema)
        out = []
        for v in pool:
            if v is not None and v not in out and not schema_errors(_bare(schema), v):
                out.append(v)
        return out

    def value(self, tool: Tool, param: str, schema: dict, rng: random.Random, variant: int):
        if not has_source(schema):
            raise Unsynthesizable(
                f"required parameter `{param}` has no type, enum, example or format to draw a value from"
            )
        options = self.candidates(tool["name"], param, schema)
        if options:
            return options[variant % len(options)] if variant < len(options) else rng.choice(options)
        return self.values.value(schema, param, rng, all_properties=False)

    def arguments(self, tool: Tool, seed: int | str, variant: int = 0) -> dict:
        """Arguments for the required parameters (and, from variant 1 on, one documented optional
        parameter), validated against the schema; `Unsynthesizable` says why there are none."""
        schema = _schema(tool)
        props = schema.get("properties") or {}
        required = [p for p in schema.get("required") or [] if p in props or not props]
        rng = random.Random(f"{seed}:{tool['name']}:{variant}")
        args = {}
        for p in required:
            args[p] = self.value(tool, p, props.get(p, {}), rng, variant)
        for bump in range(1, 4):  # from and to the same unit teaches nothing: the second end takes another value
            pair = equal_ends(args)
            if pair is None:
                break
            args[pair[1]] = self.value(tool, pair[1], props.get(pair[1], {}), rng, variant + bump)
        optional = [p for p in props if p not in args and self.candidates(tool["name"], p, props[p])]
        if variant and optional:
            p = optional[(variant - 1) % len(optional)]
            args[p] = self.value(tool, p, props[p], rng, variant)
        problems = argument_errors(schema, args)
        if problems:
            raise Unsynthesizable("synthesised arguments do not validate: " + "; ".join(problems[:3]))
        return args

    def hints(self, tool: Tool) -> dict:
        """parameter -> documented and graph-fed values: what a model proposing arguments is shown."""
        schema = _schema(tool)
        props = schema.get("properties") or {}
        return {p: found[:5] for p in props if (found := self.candidates(tool["name"], p, props[p]))}

    def _documented_id(self, tool_name: str, param: str, value):
        known = self.fed.get((tool_name, param), []) if is_id_name(param) else []
        return value if not known or value in known else known[0]

    def valid_proposals(self, tool: Tool, proposed: list) -> tuple[list[dict], list[str]]:
        """(proposals that validate against the tool's schema, the problems of the others). An id the model made up
        (tv_id 12345) gives way to one the collection's results documented (1399), where there is one: a simulator
        knows nothing of an id nobody documented, and makes its content up."""
        schema, good, bad = _schema(tool), [], []
        for args in proposed:
            args = {k: self._documented_id(tool["name"], k, v) for k, v in args.items()}
            problems = argument_errors(schema, args)
            if problems:
                bad.append("; ".join(problems[:2]))
            elif args not in good:
                good.append(args)
        return good, bad

    def argument_sets(self, tool: Tool, seed: int | str, k: int, proposed: list[dict] = ()) -> list[dict]:
        """Up to k distinct argument sets: documented examples (of arguments, then the call a documented response
        answers), then valid `proposed` ones (a model user's), then synthesised ones; proposed and synthesised sets
        whose two ends are equal (from and to the same unit) are passed over."""
        meta = tool.get("meta") or {}
        meta = json.loads(meta) if isinstance(meta, str) else meta
        out = [dict(ex) for ex in meta.get("examples") or [] if isinstance(ex, dict)][:k]
        shown = documented_call({**tool, "meta": meta})  # the call the documented example response answers
        out += [shown] if shown is not None and shown not in out and len(out) < k else []
        out += [a for a in proposed if a not in out and not degenerate_call(a)][: k - len(out)]
        for variant in range(4 * k):
            if len(out) >= k:
                break
            try:
                args = self.arguments(tool, seed, variant)
            except Unsynthesizable:
                if out:  # documented examples are enough
                    break
                raise
            if args not in out and not degenerate_call(args):  # converting m to m teaches nothing
                out.append(args)
        return out


def _schema(tool: Tool) -> dict:
    return tool["parameters"] or {}


def _bare(schema: dict) -> dict:
    """The schema without annotations that do not constrain (description, examples)."""
    return {k: v for k, v in schema.items() if k not in ("description", "examples", "example", "title")}
