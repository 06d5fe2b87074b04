"""Stage 4: documentation refinement by exploration, after DRAFT ("From Exploration to Mastery:
Enabling LLMs to Master Tools via Self-Driven Interactions").

Per tool, up to `max_rounds` rounds: the explorer writes a query and arguments (a query whose
embedding cosine to an earlier query of the tool reaches `diversity_threshold` is rejected and
asked again, up to `explorer_retries` times); the call is executed (sandbox or simulator, without
the schema check, since the point is what the tool really does); the analyzer compares the
documentation with what happened, and with the mistakes simulation and escalation recorded for the
tool; the rewriter writes the next revision and a suggestion for the next exploration. Refinement
stops early when 0.5 x (BLEU + embedding cosine) of consecutive revisions exceeds `stop_similarity`.
Every revision, round 0 (the starting documentation) included, is a row of `doc_revisions`. A
revision that is not documentation (pipeline internals, over `max_description_chars`, or losing the
original description's facts: toolloom.reports.tool_docs) is refused: its round keeps the earlier text and
records why in `evidence`.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pyarrow as pa
from sacrebleu.metrics import BLEU

from ..agents.refinement import leaf_keys
from ..executors.routing import ToolExecutor
from ..ingest import Rejection
from ..llm import BudgetExhausted, ModelCallError, run_async
from ..spec import RefineStage
from ..reports.tool_docs import revision_problems, unknown_names
from ..domain import Tool, tools_of
from . import StageResult
from ..orchestration import progress
from .asset import StageAsset
from ..prompts import template_hash
from .inputs import earlier_docs, kept_escalations

DOC_REVISIONS_SCHEMA = pa.schema(
    [
        ("tool_id", pa.string()),
        ("name", pa.string()),
        ("spec_hash", pa.string()),
        ("round", pa.int64()),
        ("text", pa.string()),
        ("similarity_to_previous", pa.float64()),
        ("bleu", pa.float64()),
        ("cosine", pa.float64()),
        ("evidence", pa.string()),
        ("stop_reason", pa.string()),
        ("final", pa.bool_()),
        ("refiner", pa.string()),
        ("prompt_hash", pa.string()),
    ]
)
_BLEU = BLEU(effective_order=True)  # sentence-level BLEU: no zero score for a missing 4-gram order
FINISHED = ("converged", "max_rounds", "explorer_exhausted")


def similarity(new: str, old: str, embed: Callable[[list[str]], np.ndarray]) -> tuple[float, float, float]:
    """DRAFT's convergence measure: (0.5 * (BLEU + cosine), BLEU in 0..1, cosine)."""
    bleu = _BLEU.sentence_score(new, [old]).score / 100.0
    a, b = embed([new, old])
    cosine = float(np.dot(a, b))
    return 0.5 * (bleu + cosine), bleu, cosine


STAND_INS = ("mock", "simulated")  # who answers a call when the tool itself does not (Observation.answered_by)


def about_the_tool(history: list[dict]) -> list[dict]:
    """The explorations that are evidence about the tool: an error a mock server or the simulator gave is
    about the stand-in, not the tool, so it never reaches the documentation (the argument check's refusals,
    `answered_by` none, follow the documented schema and stay)."""
    return [h for h in history if h["ok"] or h.get("answered_by") not in STAND_INS]


def tool_failures(trajectories: list[dict], escalations: list[dict]) -> dict[str, list[dict]]:
    """Mistakes with each tool seen downstream: failed calls in simulation, and in escalation calls
    that strayed from the reference chain (a wrong tool chosen, or the right one with other arguments)."""
    out: dict[str, list[dict]] = {}
    for t in trajectories:
        for c in json.loads(t["calls"] or "[]"):
            if not c["ok"] and c.get("answered_by") not in STAND_INS:  # a stand-in's error: not the tool's
                out.setdefault(c["name"], []).append(
                    {"source": "simulation", "problem": f"called with {c['arguments']}: {c['error']}"}
                )
    for e in escalations:
        if e["outcome"] != "failed":
            continue
        reference = {s["name"]: s["arguments"] for s in json.loads(e["chain"])}
        for attempt in json.loads(e["attempts"]):
            for name, arguments in attempt["calls"]:
                if name not in reference:
                    out.setdefault(name, []).append(
                        {"source": "escalation", "problem": f"chosen where the task needed {sorted(reference)}"}
                    )
                elif json.loads(arguments or "{}") != reference[name]:
                    out.setdefault(name, []).append(
                        {
                            "source": "escalation",
                            "problem": f"called with {arguments}; the right call was {json.dumps(reference[name])}",
                        }
                    )
    return out


@dataclass
class Refiners:
    """What refines every tool of one run: DRAFT's three agents, the executor, the embedder and the settings."""

    explorer: Any
    analyzer: Any
    rewriter: Any
    executor: ToolExecutor
    embed: Callable[[list[str]], Any]
    params: RefineStage
    failures: dict[str, list[dict]]
    prompt_hash: str

    @property
    def name(self) -> str:
        return f"{self.explorer.name}/{self.analyzer.name}/{self.rewriter.name}"


class ToolRefinement:
    """DRAFT's loop for one tool: explore with a query unlike the earlier ones, analyse what the tool did,
    rewrite the documentation; one revision row per round, until the text converges or a limit is reached."""

    def __init__(self, tool: Tool, doc: str, source: str, by: Refiners):
        self.tool, self.by, self.doc = tool, by, doc
        self.original = tool["description"] or ""
        self.rows: list[dict] = []
        self.history: list[dict] = []
        self.vectors: list[np.ndarray] = []
        self.suggestion = ""
        self.add(0, doc, {"source": source})

    def add(self, round_: int, text: str, evidence: dict, sims=(None, None, None)) -> None:
        self.rows.append(
            {
                "tool_id": self.tool["tool_id"],
                "name": self.tool["name"],
                "spec_hash": self.tool.get("spec_hash"),
                "round": round_,
                "text": text,
                "similarity_to_previous": sims[0],
                "bleu": sims[1],
                "cosine": sims[2],
                "evidence": json.dumps(evidence, ensure_ascii=False, default=str),
                "stop_reason": "",
                "final": False,
                "refiner": self.by.name,
                "prompt_hash": self.by.prompt_hash,
            }
        )

    def known_names(self) -> set[str]:
        """What documentation may name: the tool, its schema's names and words, and the fields and values of
        the calls and answers seen (an id such as new_york is a value, not a made-up parameter)."""
        schema = self.tool["parameters"] or {}
        names = {self.tool["name"], *(schema.get("properties") or {}), *unknown_names(json.dumps(schema), set())}
        for h in self.history:
            names |= {part for key in leaf_keys(h.get("response")) for part in key.replace("[]", "").split(".")}
            seen = json.dumps([h.get("arguments"), h.get("response"), h.get("error")], ensure_ascii=False)
            names |= set(unknown_names(seen, set()))
        return {n for n in names if n}

    async def explore(self) -> tuple[dict | None, list[str]]:
        """A query the explorer proposes that is not too close to an earlier one (None: none left), and the
        queries refused as too close."""
        params, rejected = self.by.params, []
        for _ in range(1 + params.explorer_retries):
            exploration = await self.by.explorer.explore(self.tool, self.doc, self.history, self.suggestion, rejected)
            if exploration is None:
                return None, rejected
            vector = self.by.embed([exploration["query"]])[0]
            if self.vectors and max(float(np.dot(vector, v)) for v in self.vectors) >= params.diversity_threshold:
                rejected.append(exploration["query"])
                continue
            self.vectors.append(vector)
            return exploration, rejected
        return None, rejected

    async def round(self, round_: int) -> tuple[str, str] | None:
        """One round; (stop reason, detail) when the loop ends here."""
        exploration, rejected = await self.explore()
        if exploration is None:
            threshold = self.by.params.diversity_threshold
            return "explorer_exhausted", (
                f"no query below cosine {threshold} to the earlier ones after {len(rejected)} tries: {rejected}"
                if rejected
                else "the explorer had nothing left to try"
            )
        obs = await self.by.executor.episode().call(self.tool["name"], exploration["arguments"], validate=False)
        self.history.append(
            {
                **exploration,
                "ok": obs.ok,
                "response": obs.content if obs.ok else None,
                "error": obs.error or "",
                "answered_by": obs.answered_by,
            }
        )
        failures = self.by.failures.get(self.tool["name"], [])
        analysis = await self.by.analyzer.analyze(self.tool, self.doc, about_the_tool(self.history), failures)
        revision = await self.by.rewriter.rewrite(self.tool, self.doc, analysis, self.original)
        evidence = {
            "query": exploration["query"],
            "arguments": exploration["arguments"],
            "observation": obs.to_json()[:1000],
            "rejected_queries": rejected,
            "analysis": analysis,
            "failures_used": len(failures),
        }
        text = revision["description"]
        refused = revision_problems(
            text,
            self.original,
            self.by.params.max_description_chars,
            original_contradicted=analysis.get("description_supported") is False,
            known_names=self.known_names(),
        )
        self.suggestion = revision.get("suggestion") or ""
        if refused:  # not documentation: the round is recorded, the documentation stays as it was
            self.add(round_, self.doc, {**evidence, "revision_refused": refused, "refused_text": text})
            return None
        sims = similarity(text, self.doc, self.by.embed)
        self.add(round_, text, evidence, sims)
        self.doc = text
        return ("converged", "") if sims[0] > self.by.params.stop_similarity else None

    async def run(self) -> tuple[list[dict], str, str]:
        """Every round's row, the stop reason and its detail; the last row is final when the loop finished."""
        stop, detail = "max_rounds", ""
        try:
            for round_ in range(1, self.by.params.max_rounds + 1):
                if (ended := await self.round(round_)) is not None:
                    stop, detail = ended
                    break
        except BudgetExhausted as e:
            stop, detail = "budget_exhausted", str(e)
        except ModelCallError as e:
            stop, detail = "model_error", str(e)
        last = self.rows[-1]
        last["stop_reason"], last["final"] = stop, stop in FINISHED
        if detail:
            last["evidence"] = json.dumps(
                {**json.loads(last["evidence"]), "stop_detail": detail}, ensure_ascii=False, default=str
            )
        return self.rows, stop, detail


def refine_docs(
    tools: pa.Table,
    *,
    explorer,
    analyzer,
    rewriter,
    executor: ToolExecutor,
    embedder,
    params: RefineStage,
    failures: dict[str, list[dict]] | None = None,
    start_docs: dict[str, str] | None = None,
    prompt_hash: str = "",
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> StageResult:
    """`start_docs`: tool_id -> documentation to start from (an earlier version's refined text)."""
    start_docs = start_docs or {}
    rows_in = [t for t in tools_of(tools) if params.tools is None or t["name"] in params.tools]
    rows_in = rows_in[: params.max_tools] if params.max_tools is not None else rows_in
    by = Refiners(explorer, analyzer, rewriter, executor, embedder.embed, params, failures or {}, prompt_hash)
    done = 0

    async def one(tool: Tool, gate: asyncio.Semaphore) -> tuple[list[dict], str, str]:
        nonlocal done
        earlier = tool["tool_id"] in start_docs
        refinement = ToolRefinement(
            tool,
            start_docs.get(tool["tool_id"], tool["description"] or ""),
            "earlier version" if earlier else "original",
            by,
        )
        async with gate:
            out = await refinement.run()
        done += 1
        progress(done, len(rows_in))
        return out

    async def run_all():
        gate = asyncio.Semaphore(64)
        return await asyncio.gather(*(one(t, gate) for t in rows_in))

    results = run_async(run_all()) if rows_in else []
    rows = [r for tool_rows, _, _ in results for r in tool_rows]
    rejections = [
        Rejection("refine", tool["tool_id"], "refinement", stop, detail[:300])
        for tool, (_, stop, detail) in zip(rows_in, results)
        if stop not in FINISHED
    ]
    return StageResult(
        pa.Table.from_pylist(rows, schema=DOC_REVISIONS_SCHEMA),
        rejections,
        [t["tool_id"] for t in rows_in],
        "tool_id",
        accepted_if=lambda r: r["final"],
        metadata=report(rows),
    )


def report(rows: list[dict]) -> dict:
    """How documentation changed: rounds per tool, stop reasons, and one before/after example."""
    by_tool: dict[str, list[dict]] = {}
    for r in rows:
        by_tool.setdefault(r["tool_id"], []).append(r)
    rounds = Counter(str(max(r["round"] for r in rs)) for rs in by_tool.values())
    changed = [rs for rs in by_tool.values() if rs[-1]["text"] != rs[0]["text"]]
    example = max(changed, key=lambda rs: len(rs[-1]["text"]) - len(rs[0]["text"])) if changed else None
    md = {
        "rounds_per_tool": dict(sorted(rounds.items())),
        "stop_reasons": dict(Counter(rs[-1]["stop_reason"] for rs in by_tool.values())),
        "tools_changed": f"{len(changed)} of {len(by_tool)}",
    }
    if example:
        md["before_after"] = (
            f"**{example[0]['name']}**, before:\n\n> {example[0]['text'] or '(empty)'}\n\nafter "
            f"{example[-1]['round']} round(s):\n\n```\n{example[-1]['text']}\n```"
        )
    return md


def doc_revisions(rt, version: str, log) -> StageResult:
    """Tool documentation refined by exploration (DRAFT): every revision, with its evidence and stop reason."""
    p, params = rt.pipeline.name, rt.pipeline.stages.refine
    tool_table = rt.store.read(p, "tools", version)
    failures = (
        tool_failures(
            rt.store.read(p, "trajectories", version).to_pylist(), kept_escalations(rt, version, all_rows=True)
        )
        if params.use_failures
        else {}
    )
    return refine_docs(
        tool_table,
        explorer=rt.agent("explorer"),
        analyzer=rt.agent("analyzer"),
        rewriter=rt.agent("rewriter"),
        executor=rt.executor(tools_of(tool_table)),
        embedder=rt.embedder(),
        params=params,
        failures=failures,
        start_docs=earlier_docs(rt, version) if params.start_from == "previous" else None,
        prompt_hash=":".join(
            template_hash(f"refine/{t}.j2", rt.prompts_root) for t in ("explore", "analyze", "rewrite", "document")
        ),
        progress=progress.reporter("refine", log),
    )


ASSET = StageAsset(
    "doc_revisions",
    "refine",
    ("trajectories", "escalations"),
    doc_revisions,
    ("name", "round", "similarity_to_previous", "stop_reason", "text"),
    enabled=lambda pipeline: pipeline.stages.refine is not None,
    reads=("tools", "trajectories", "escalations"),
    roles=lambda pipeline: ("explorer", "analyzer", "rewriter", "executor"),
)
