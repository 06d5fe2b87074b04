"""The semantic checker (APIGen): a judge decides whether the calls and the answer satisfy the
request. The model judge follows the rubric in prompts/filter/judge.j2; the offline judge checks
agreement with the executed reference answer (DESIGN section 7)."""

from __future__ import annotations

import json
from pathlib import Path

from ..checks.answers import grounded
from ..checks.judging import MULTI_ANSWER_SHAPES
from ..llm import BudgetExhausted, ModelCallError, ModelClient
from ..llm.structured import UnusableAnswer, chat_json
from ..prompts import render


class ReferenceJudge:
    """Offline: the answer must state a value of every executed reference result."""

    name = "offline-reference-judge"

    async def judge(self, traj: dict) -> tuple[str, str]:
        reference = json.loads(traj["reference_answer"]) if traj.get("reference_answer") else None
        if reference is None:
            return "pass", "no reference answer to compare with"
        parts = reference if traj["shape"] in MULTI_ANSWER_SHAPES and isinstance(reference, list) else [reference]
        answer = traj["final_answer"] or ""
        missing = [i for i, part in enumerate(parts) if not grounded(part, answer)]
        if missing:
            return "fail", f"the answer states nothing from reference result(s) {missing}"
        return "pass", "the answer states values of the executed reference answer"


# a checklist of yes/no questions, the reason first: a small model answers each point more reliably than it
# weighs a whole rubric; the verdict is computed from them (prompts/filter/judge.j2)
RUBRIC_POINTS = {1: "calls_fit", 2: "answer_responds", 3: "answer_supported", 4: "reads_naturally"}
VERDICT_SCHEMA = {
    "type": "object",
    "properties": {
        "reason": {"type": "string", "minLength": 1},
        **{point: {"type": "boolean"} for point in RUBRIC_POINTS.values()},
    },
    "required": ["reason", *RUBRIC_POINTS.values()],
    "additionalProperties": False,
}


def verdict_of(answer: dict) -> tuple[str, str]:
    """pass when every point holds; else fail, naming the first point that does not."""
    failed = next((n for n, point in RUBRIC_POINTS.items() if not answer[point]), 0)
    where = f"rubric {failed} ({RUBRIC_POINTS[failed]}): " if failed else ""
    return ("fail" if failed else "pass"), (where + str(answer["reason"]))[:500]


class ModelJudge:
    def __init__(self, client: ModelClient, prompts_root: Path):
        self.client, self.prompts_root = client, prompts_root
        self.name = client.spec.model

    async def judge(self, traj: dict) -> tuple[str, str]:
        prompt = render(
            "filter/judge.j2",
            self.prompts_root,
            tools=[t["function"]["name"] for t in json.loads(traj["tools_offered"])],
            messages=[m for m in traj["messages"] if m["role"] != "system"],
            kind=traj.get("kind") or "single_turn",
        )
        try:
            verdict = await chat_json(
                self.client,
                [{"role": "user", "content": prompt}],
                VERDICT_SCHEMA,
                name="verdict",
                stage="filter",
                role="judge",
                prompts_root=self.prompts_root,
            )
        except UnusableAnswer as e:
            return "error", f"unusable verdict ({e})"[:300]
        except (ModelCallError, BudgetExhausted) as e:
            return "error", f"judge unavailable: {e}"[:300]
        return verdict_of(verdict)
