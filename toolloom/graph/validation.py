"""Optional LLM validation of graph edges (ToolDial): the model invents a value fitting both slots,
fills the target's other inputs, and says whether the call makes sense. Verdicts and reasons are
stored on the edge; a failed model call is recorded as verdict `error`, never dropped.
"""
from __future__ import annotations

import asyncio
import json

from ..llm import BudgetExhausted, ModelCallError, ModelClient
from ..prompts import render
from .slots import output_slots
from ..llm import run_async


def _slot_description(tool: dict, path: str) -> str:
    return next((s.description for s in output_slots(tool) if s.path == path), "")


async def _judge(edge: dict, tools: dict, client: ModelClient, prompts_root) -> tuple[str, str]:
    src, dst = tools[edge["src_tool"]], tools[edge["dst_tool"]]
    prompt = render("graph/validate_edge.j2", prompts_root, edge=edge, src=src, dst=dst,
                    src_slot_description=_slot_description(src, edge["src_slot"]))
    try:
        c = await client.chat([{"role": "user", "content": prompt}], stage="graph", role="validator",
                              response_format={"type": "json_object"})
    except (ModelCallError, BudgetExhausted) as e:
        return "error", str(e)[:300]
    try:
        answer = json.loads((c.message.get("content") or "").strip().strip("`").removeprefix("json").strip())
        verdict = answer["makes_sense"]
        if not isinstance(verdict, bool):
            raise TypeError("makes_sense is not true/false")
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        return "error", f"unusable verdict ({e})"
    return ("valid" if verdict else "invalid"), str(answer.get("reason") or "")[:500]


def validate_edges(edges: list[dict], tools: list[dict], client: ModelClient, prompts_root, max_edges: int) -> dict:
    """Fills llm_verdict/llm_reason of up to `max_edges` edges (best by similarity first); returns counts."""
    by_name = {t["name"]: t for t in tools}
    chosen = sorted(edges, key=lambda e: -(e["name_sim"] + e["keyword_sim"] + e["desc_sim"]))[:max_edges]

    async def run():
        return await asyncio.gather(*(_judge(e, by_name, client, prompts_root) for e in chosen))

    for edge, (verdict, reason) in zip(chosen, run_async(run()) if chosen else []):
        edge["llm_verdict"], edge["llm_reason"] = verdict, reason
    counts: dict[str, int] = {}
    for e in chosen:
        counts[e["llm_verdict"]] = counts.get(e["llm_verdict"], 0) + 1
    return counts
