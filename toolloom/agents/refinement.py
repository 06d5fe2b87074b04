"""Documentation refinement agents (DRAFT): explorer, analyzer, rewriter; offline and model-backed.

Offline (DESIGN 7) the explorer runs probes derived from the schema (a documented call, a value
outside the accepted ones, a required parameter left out, an optional one set); the analyzer turns
what the executions showed into facts; the rewriter merges the facts into the documentation with
`prompts/refine/document.j2`. With a model, each role follows its prompt in `prompts/refine/` and
answers JSON checked against a schema.
"""

from __future__ import annotations

import json
import re
import random

from ..domain import Tool
from ..text.synthesis import ArgumentSynthesizer, Unsynthesizable
from ..llm.client import ModelClient
from ..llm.structured import chat_json
from ..prompts import render
from ..reports.tool_docs import PROBE_VALUE, cut, fit, tool_error
from ..text.words import STOPWORDS, tokens

INVALID = PROBE_VALUE


_SYNTH = ArgumentSynthesizer()


def _schema(tool: Tool) -> dict:
    return tool["parameters"] or {}


def _examples(tool: Tool) -> list[dict]:
    meta = tool.get("meta") or {}
    return meta.get("examples") or []


def base_arguments(tool: Tool) -> dict:
    """A documented example, else schema-made values for the required parameters."""
    examples = _examples(tool)
    if examples:
        return dict(examples[0])
    try:
        return _SYNTH.arguments({**tool, "parameters": _schema(tool)}, seed="refine")
    except Unsynthesizable:  # probing still shows what the tool says to what can be sent
        return {}


def probes(tool: Tool) -> list[dict]:
    """The offline explorer's plan, most informative first."""
    schema, name = _schema(tool), tool["name"]
    props, required = schema.get("properties") or {}, list(schema.get("required") or [])
    base = base_arguments(tool)
    plan = [
        {
            "kind": "typical",
            "param": None,
            "arguments": base,
            "query": f"What does {name} answer to an ordinary request, {json.dumps(base)}?",
        }
    ]
    for p, prop in props.items():
        if prop.get("type") == "string" and ("enum" in prop or "pattern" in prop or "format" in prop):
            plan.append(
                {
                    "kind": "invalid",
                    "param": p,
                    "arguments": {**base, p: INVALID},
                    "query": f"Is {INVALID} an accepted {p}?",
                }
            )
    for p in required:
        plan.append(
            {
                "kind": "missing",
                "param": p,
                "arguments": {k: v for k, v in base.items() if k != p},
                "query": f"Can {p} be left out?",
            }
        )
    rng = random.Random(name)
    for p, prop in props.items():
        if p not in required and p not in base:
            value = (prop.get("examples") or prop.get("enum") or [_SYNTH.values.value(prop, p, rng)])[0]
            plan.append(
                {
                    "kind": "optional",
                    "param": p,
                    "arguments": {**base, p: value},
                    "query": f"Filter by {p} = {json.dumps(value)}: how does the answer change?",
                }
            )
    for ex in _examples(tool)[1:]:
        plan.append(
            {
                "kind": "typical",
                "param": None,
                "arguments": dict(ex),
                "query": f"The same for {', '.join(str(v) for v in ex.values())}.",
            }
        )
    return plan


class ProbeExplorer:
    name = "offline-probe-explorer"

    async def explore(
        self, tool: Tool, doc: str, history: list[dict], suggestion: str, rejected: list[str]
    ) -> dict | None:
        used = {h["query"] for h in history} | set(rejected)
        return next(
            (
                {"query": p["query"], "arguments": p["arguments"], "kind": p["kind"], "param": p["param"]}
                for p in probes(tool)
                if p["query"] not in used
            ),
            None,
        )


def _words(value) -> set[str]:
    if isinstance(value, dict):
        return {w for k, v in value.items() for w in set(tokens(k)) | _words(v)}
    if isinstance(value, list):
        return {w for v in value[:3] for w in _words(v)}
    return set()


def leaf_keys(value, prefix="") -> list[str]:
    """The dotted paths of a response's leaf fields ('a.b', '[].name')."""
    if isinstance(value, dict):
        return [
            k
            for key, v in value.items()
            for k in ([prefix + key] if not isinstance(v, (dict, list)) or not v else leaf_keys(v, f"{prefix}{key}."))
        ]
    if isinstance(value, list) and value and not isinstance(value[0], (dict, list)):
        return [prefix.rstrip(".")] if prefix else []  # languages: ["fr"] is a returned field too
    if isinstance(value, list) and value:
        return leaf_keys(value[0], prefix.rstrip(".") + "[]." if prefix else "[].")
    return []


def _about(error: str, param: str) -> bool:
    """An error names the parameter or the refused value: a cart that is empty says nothing about a country code."""
    text = (error or "").lower()
    named = set(re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", text)) - {param.lower()}
    if named and param.lower() not in text:  # "utc_time must look like ..." for `day`: about another field
        return False
    return (
        INVALID.lower() in text
        or bool(set(tokens(param)) - STOPWORDS & set(tokens(text)))
        and all(w in tokens(text) for w in tokens(param) if w not in STOPWORDS)
    )


class FactAnalyzer:
    """Facts from executions: requiredness, accepted values, error messages, a worked example."""

    name = "offline-fact-analyzer"

    async def analyze(self, tool: Tool, doc: str, history: list[dict], failures: list[dict]) -> dict:
        ok = [h for h in history if h["ok"]]
        facts: dict = {
            "confirmed_required": [],
            "not_required": [],
            "accepted": {},
            "errors": [],
            "returns": [],
            "example": None,
        }
        for h in history:
            if h.get("kind") == "missing":
                (facts["confirmed_required"] if not h["ok"] else facts["not_required"]).append(h["param"])
            if h.get("kind") == "invalid" and not h["ok"] and _about(h["error"], h["param"]):
                facts["accepted"][h["param"]] = h["error"]  # only a refusal that is about this parameter
            if not h["ok"] and h["error"] not in facts["errors"]:
                facts["errors"].append(h["error"])
        if ok:
            response = json.dumps(ok[0]["response"], ensure_ascii=False)
            if len(response) > 240:  # never a cut-off JSON text: the call alone (Returns lists the fields)
                response = None
            facts["example"] = {"arguments": ok[0]["arguments"], "response": response}
            facts["returns"] = list(dict.fromkeys(k for h in ok for k in leaf_keys(h["response"])))[:12]
        facts["caller_mistakes"] = [
            f"{f['source']}: {f['problem']}" for f in failures[:3]
        ]  # evidence, never documentation
        known = set(tokens(tool["name"])) | {w for p in (_schema(tool).get("properties") or {}) for w in tokens(p)}
        known |= {w for h in ok for w in _words(h["response"])}
        # does the original description say anything the tool's names or results bear out? If not, the
        # executions are evidence against it and a revision may leave it out. A simulated tool's answers
        # are made from its spec, so they can never contradict its description.
        facts["description_supported"] = tool.get("execution") == "simulated" or bool(
            (set(tokens(tool["description"] or "")) - STOPWORDS) & (known - STOPWORDS)
        )
        untried = [p["query"] for p in probes(tool) if p["query"] not in {h["query"] for h in history}]
        facts["suggestion"] = untried[0] if untried else ""
        return facts


class TemplateRewriter:
    """Documentation from the facts, as prioritised sections fitted to the character budget:
    purpose (the original description, unless the executions bear out none of it), parameters, the tool's own
    errors, returns, and an example call (with its response only when the tool really ran)."""

    name = "offline-template-rewriter"
    SECTIONS = (("purpose", 1), ("parameters", 2), ("errors", 3), ("returns", 4), ("example", 5))

    def __init__(self, prompts_root, budget: int = 1200):
        self.prompts_root, self.budget = prompts_root, budget

    async def rewrite(self, tool: Tool, doc: str, analysis: dict, original: str) -> dict:
        schema = _schema(tool)
        required = set(schema.get("required") or [])
        params = [
            {
                "name": p,
                "type": prop.get("type", "any"),
                "required": p in required and p not in analysis["not_required"],
                "confirmed": p in analysis["confirmed_required"],
                "description": prop.get("description", ""),
                "allowed": prop.get("enum"),
                "refused": tool_error(analysis["accepted"].get(p) or ""),
            }
            for p, prop in (schema.get("properties") or {}).items()
        ]
        quoted = {p["refused"] for p in params}
        errors = [e for e in dict.fromkeys(tool_error(e) for e in analysis["errors"]) if e and e not in quoted][:3]
        example = analysis["example"]
        if example and tool.get("execution") == "simulated":  # a simulator's made-up result documents nothing
            example = (
                {"arguments": example["arguments"], "response": None}
                if example["arguments"] in _examples(tool)
                else None
            )
        purpose = original.strip() if analysis["description_supported"] else ""
        variables = dict(
            name=tool["name"],
            purpose=purpose,
            params=params,
            returns=analysis["returns"],
            errors=errors,
            example=example,
        )
        sections = [
            (priority, render("refine/document.j2", self.prompts_root, section=section, **variables).strip())
            for section, priority in self.SECTIONS
        ]
        return {"description": fit(sections, self.budget), "suggestion": analysis["suggestion"]}


EXPLORATION_SCHEMA = {
    "type": "object",
    "properties": {"query": {"type": "string", "minLength": 1}, "arguments": {"type": "object"}},
    "required": ["query", "arguments"],
    "additionalProperties": False,
}
ANALYSIS_SCHEMA = {
    "type": "object",
    "properties": {"findings": {"type": "array", "items": {"type": "string"}}, "suggestion": {"type": "string"}},
    "required": ["findings", "suggestion"],
    "additionalProperties": False,
}
REWRITE_SCHEMA = {
    "type": "object",
    "properties": {"description": {"type": "string", "minLength": 1}, "suggestion": {"type": "string"}},
    "required": ["description", "suggestion"],
    "additionalProperties": False,
}


class _ModelRole:
    def __init__(self, client: ModelClient, prompts_root, role: str, budget: int = 1200):
        self.client, self.prompts_root, self.role, self.budget = client, prompts_root, role, budget
        self.name = client.spec.model

    async def _ask(self, template: str, schema: dict, **variables) -> dict:
        prompt = render(template, self.prompts_root, **variables)
        return await chat_json(
            self.client,
            [{"role": "user", "content": prompt}],
            schema,
            name=self.role,
            stage="refine",
            role=self.role,
            prompts_root=self.prompts_root,
        )


class ModelExplorer(_ModelRole):
    async def explore(
        self, tool: Tool, doc: str, history: list[dict], suggestion: str, rejected: list[str]
    ) -> dict | None:
        answer = await self._ask(
            "refine/explore.j2",
            EXPLORATION_SCHEMA,
            name=tool["name"],
            documentation=doc,
            parameters=_schema(tool),
            example=base_arguments(tool),
            suggestion=suggestion,
            earlier=[h["query"] for h in history],
            rejected=rejected,
        )
        return {"query": answer["query"], "arguments": answer["arguments"], "kind": "model", "param": None}


class ModelAnalyzer(_ModelRole):
    async def analyze(self, tool: Tool, doc: str, history: list[dict], failures: list[dict]) -> dict:
        return await self._ask(
            "refine/analyze.j2",
            ANALYSIS_SCHEMA,
            name=tool["name"],
            documentation=doc,
            explorations=[{k: h[k] for k in ("query", "arguments", "ok", "response", "error")} for h in history],
            failures=failures[:5],
        )


class ModelRewriter(_ModelRole):
    async def rewrite(self, tool: Tool, doc: str, analysis: dict, original: str) -> dict:
        answer = await self._ask(
            "refine/rewrite.j2",
            REWRITE_SCHEMA,
            name=tool["name"],
            documentation=doc,
            original=original,
            findings=analysis.get("findings") or [],
            suggestion=analysis.get("suggestion") or "",
            budget=self.budget,
        )
        return {**answer, "description": cut(answer["description"], self.budget)}
