"""Optional LLM validation of graph edges (ToolDial): the model invents a value fitting both slots,
fills the target's other inputs, and says whether the call makes sense. Verdicts and reasons are
stored on the edge; a failed model call is recorded as verdict `error`, never dropped.
"""

from __future__ import annotations

import asyncio

from ..domain import Tool
from ..llm import BudgetExhausted, ModelCallError, ModelClient
from ..llm.structured import UnusableAnswer, chat_json
from ..prompts import render
from .slots import output_slots
from ..llm import run_async


EDGE_VERDICT_SCHEMA = {
    "type": "object",
    "properties": {
        "value": {},
        "arguments": {"type": "object"},
        "reason": {"type": "string"},
        "makes_sense": {"type": "boolean"},
    },
    "required": ["value", "arguments", "reason", "makes_sense"],
    "additionalProperties": False,
}


def _slot_description(tool: Tool, path: str) -> str:
    return next((s.description for s in output_slots(tool) if s.path == path), "")


async def _judge(edge: dict, tools: dict, client: ModelClient, prompts_root) -> tuple[str, str]:
    src, dst = tools[edge["src_tool"]], tools[edge["dst_tool"]]
    prompt = render(
        "graph/validate_edge.j2",
        prompts_root,
        edge=edge,
        src=src,
        dst=dst,
        src_slot_description=_slot_description(src, edge["src_slot"]),
    )
    try:
        answer = await chat_json(
            client,
            [{"role": "user", "content": prompt}],
            EDGE_VERDICT_SCHEMA,
            name="edge",
            stage="graph",
            role="validator",
            prompts_root=prompts_root,
        )
    except UnusableAnswer as e:
        return "error", f"unusable verdict ({e})"[:300]
    except (ModelCallError, BudgetExhausted) as e:
        return "error", str(e)[:300]
    return ("valid" if answer["makes_sense"] else "invalid"), answer["reason"][:500]


def validate_edges(edges: list[dict], tools: list[Tool], client: ModelClient, prompts_root, max_edges: int) -> dict:
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
