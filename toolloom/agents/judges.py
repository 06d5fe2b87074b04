"""The semantic checker (APIGen): a judge decides whether the calls and the answer satisfy the
request. The model judge follows the rubric in prompts/filter/judge.j2; the offline judge checks
agreement with the executed reference answer (DESIGN section 7)."""
from __future__ import annotations

import json
from pathlib import Path

from ..answers import MULTI_ANSWER_SHAPES, grounded
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


# reason first: a small model writes its reason before it commits to a verdict
VERDICT_SCHEMA = {"type": "object",
                  "properties": {"reason": {"type": "string", "minLength": 1},
                                 "failed_point": {"type": "integer", "minimum": 0, "maximum": 4},
                                 "verdict": {"enum": ["pass", "fail"]}},
                  "required": ["reason", "failed_point", "verdict"], "additionalProperties": False}
RUBRIC_POINTS = {1: "calls", 2: "answer", 3: "truth", 4: "kind"}


def verdict_problem(verdict: dict) -> str:
    """A verdict that contradicts itself: a pass with a failed point, or a fail with none."""
    if (verdict["verdict"] == "pass") != (verdict["failed_point"] == 0):
        return "failed_point must be 0 exactly when the verdict is pass"
    return ""


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
                check=verdict_problem,
            )
        except UnusableAnswer as e:
            return "error", f"unusable verdict ({e})"[:300]
        except (ModelCallError, BudgetExhausted) as e:
            return "error", f"judge unavailable: {e}"[:300]
        point = verdict["failed_point"]
        where = f"rubric {point} ({RUBRIC_POINTS[point]}): " if point else ""
        return verdict["verdict"], (where + str(verdict["reason"]))[:500]
