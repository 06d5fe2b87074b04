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
original description's facts: toolloom.tool_docs) is refused: its round keeps the earlier text and
records why in `evidence`.
"""
from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Callable

import numpy as np
import pyarrow as pa
from sacrebleu.metrics import BLEU

from ..executor import ToolExecutor
from ..ingest import Rejection
from ..llm import BudgetExhausted, ModelCallError, run_async
from ..spec import RefineStage
from ..tool_docs import revision_problems
from ..domain import Tool, tools_of
from . import StageResult
from .. import progress
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


def tool_failures(trajectories: list[dict], escalations: list[dict]) -> dict[str, list[dict]]:
    """Mistakes with each tool seen downstream: failed calls in simulation, and in escalation calls
    that strayed from the reference chain (a wrong tool chosen, or the right one with other arguments)."""
    out: dict[str, list[dict]] = {}
    for t in trajectories:
        for c in json.loads(t["calls"] or "[]"):
            if not c["ok"]:
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
    failures, start_docs = failures or {}, start_docs or {}
    rows_in = [t for t in tools_of(tools) if params.tools is None or t["name"] in params.tools]
    rows_in = rows_in[: params.max_tools] if params.max_tools is not None else rows_in
    refiner = f"{explorer.name}/{analyzer.name}/{rewriter.name}"
    embed = embedder.embed
    done = 0

    async def one(tool: Tool, gate: asyncio.Semaphore) -> tuple[list[dict], str, str]:
        nonlocal done
        rows: list[dict] = []
        original = tool["description"] or ""
        doc = start_docs.get(tool["tool_id"], original)

        def add(round_, text, evidence, sims=(None, None, None)):
            rows.append(
                {
                    "tool_id": tool["tool_id"],
                    "name": tool["name"],
                    "spec_hash": tool.get("spec_hash"),
                    "round": round_,
                    "text": text,
                    "similarity_to_previous": sims[0],
                    "bleu": sims[1],
                    "cosine": sims[2],
                    "evidence": json.dumps(evidence, ensure_ascii=False, default=str),
                    "stop_reason": "",
                    "final": False,
                    "refiner": refiner,
                    "prompt_hash": prompt_hash,
                }
            )

        add(0, doc, {"source": "earlier version" if tool["tool_id"] in start_docs else "original"})
        history: list[dict] = []
        vectors: list[np.ndarray] = []
        suggestion, stop, detail = "", "max_rounds", ""
        async with gate:
            try:
                for round_ in range(1, params.max_rounds + 1):
                    exploration, rejected = None, []
                    for _ in range(1 + params.explorer_retries):
                        exploration = await explorer.explore(tool, doc, history, suggestion, rejected)
                        if exploration is None:
                            break
                        vector = embed([exploration["query"]])[0]
                        if vectors and max(float(np.dot(vector, v)) for v in vectors) >= params.diversity_threshold:
                            rejected.append(exploration["query"])
                            exploration = None
                            continue
                        vectors.append(vector)
                        break
                    if exploration is None:
                        stop = "explorer_exhausted"
                        detail = (
                            f"no query below cosine {params.diversity_threshold} to the earlier ones after "
                            f"{len(rejected)} "
                            f"tries: {rejected}"
                            if rejected
                            else "the explorer had nothing left to try"
                        )
                        break
                    obs = await executor.episode().call(tool["name"], exploration["arguments"], validate=False)
                    history.append(
                        {
                            **exploration,
                            "ok": obs.ok,
                            "response": obs.content if obs.ok else None,
                            "error": obs.error or "",
                        }
                    )
                    analysis = await analyzer.analyze(tool, doc, history, failures.get(tool["name"], []))
                    revision = await rewriter.rewrite(tool, doc, analysis, original)
                    evidence = {
                        "query": exploration["query"],
                        "arguments": exploration["arguments"],
                        "observation": obs.to_json()[:1000],
                        "rejected_queries": rejected,
                        "analysis": analysis,
                        "failures_used": len(failures.get(tool["name"], [])),
                    }
                    refused = revision_problems(revision["description"], original, params.max_description_chars,
                                                original_contradicted=analysis.get("description_supported") is False)
                    if refused:  # not documentation: the round is recorded, the documentation stays as it was
                        add(
                            round_,
                            doc,
                            {**evidence, "revision_refused": refused, "refused_text": revision["description"]},
                        )
                        suggestion = revision.get("suggestion") or ""
                        continue
                    sims = similarity(revision["description"], doc, embed)
                    add(round_, revision["description"], evidence, sims)
                    doc, suggestion = revision["description"], revision.get("suggestion") or ""
                    if sims[0] > params.stop_similarity:
                        stop = "converged"
                        break
            except BudgetExhausted as e:
                stop, detail = "budget_exhausted", str(e)
            except ModelCallError as e:
                stop, detail = "model_error", str(e)
        rows[-1]["stop_reason"] = stop
        if detail:
            rows[-1]["evidence"] = json.dumps(
                {**json.loads(rows[-1]["evidence"]), "stop_detail": detail}, ensure_ascii=False, default=str
            )
        rows[-1]["final"] = stop in FINISHED
        done += 1
        progress(done, len(rows_in))
        return rows, stop, detail

    async def run_all():
        gate = asyncio.Semaphore(64)
        return await asyncio.gather(*(one(t, gate) for t in rows_in))

    results = run_async(run_all()) if rows_in else []
    rows = [r for tool_rows, _, _ in results for r in tool_rows]
    rejections = [Rejection("refine", tool["tool_id"], "refinement", stop, detail[:300])
                  for tool, (_, stop, detail) in zip(rows_in, results) if stop not in FINISHED]
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
        md["before_after"] = (f"**{example[0]['name']}**, before:\n\n> {example[0]['text'] or '(empty)'}\n\nafter "
                              f"{example[-1]['round']} round(s):\n\n```\n{example[-1]['text']}\n```")
    return md


def doc_revisions(rt, version: str, log) -> StageResult:
    """Tool documentation refined by exploration (DRAFT): every revision, with its evidence and stop reason."""
    p, params = rt.pipeline.name, rt.pipeline.stages.refine
    tool_table = rt.store.read(p, "tools", version)
    failures = tool_failures(rt.store.read(p, "trajectories", version).to_pylist(),
                             kept_escalations(rt, version, all_rows=True)) if params.use_failures else {}
    return refine_docs(tool_table, explorer=rt.agent("explorer"), analyzer=rt.agent("analyzer"),
                       rewriter=rt.agent("rewriter"), executor=rt.executor(tools_of(tool_table)),
                       embedder=rt.embedder(), params=params, failures=failures,
                       start_docs=earlier_docs(rt, version) if params.start_from == "previous" else None,
                       prompt_hash=":".join(template_hash(f"refine/{t}.j2", rt.prompts_root)
                                            for t in ("explore", "analyze", "rewrite", "document")),
                       progress=progress.reporter("refine", log))


ASSET = StageAsset("doc_revisions", "refine", ("trajectories", "escalations"), doc_revisions,
                   ("name", "round", "similarity_to_previous", "stop_reason", "text"),
                   enabled=lambda pipeline: pipeline.stages.refine is not None,
                   reads=("tools", "trajectories", "escalations"),
                   roles=lambda pipeline: ("explorer", "analyzer", "rewriter", "executor"))
