"""Stage 1b: sample tasks with reference chains and execute them for reference answers.

For now each task is a single call drawn from a tool's documented example arguments; graph-based
multi-hop sampling (ToolDial random walks, Magnet insert/merge/split) plugs in here.
"""
from __future__ import annotations

import hashlib
import json
import random
from collections import Counter

import pyarrow as pa

from ..executor import ToolExecutor
from ..ingest import Rejection
from ..spec import TasksStage
from . import StageResult

TASKS_SCHEMA = pa.schema([("task_id", pa.string()), ("shape", pa.string()), ("chain", pa.string()),
                          ("reference_answer", pa.string()), ("seed", pa.int64())])


_SKIP_REASONS = {
    "not_executable": ("not_executable", "no sandbox implementation, so no reference answer by execution"),
    "no_examples": ("no_examples", "the spec gives no example arguments (x-toolloom.examples) to sample from"),
}


def _task_id(tool_id: str, arguments: dict, seed: int) -> str:
    return "t_" + hashlib.sha256(json.dumps([tool_id, arguments, seed], sort_keys=True).encode()).hexdigest()[:12]


def sample_tasks(tools: pa.Table, executor: ToolExecutor, params: TasksStage) -> StageResult:
    """Inputs are candidate tasks, plus tools that cannot give any (rejected with the reason)."""
    rows, rejections, inputs = [], [], 0
    for tool in tools.to_pylist():
        meta = json.loads(tool["meta"] or "{}")
        examples = meta.get("examples") or []
        skip = _SKIP_REASONS["not_executable"] if not tool["executable"] else _SKIP_REASONS["no_examples"] if not examples else None
        if skip:
            inputs += 1
            rejections.append(Rejection("tasks", tool["tool_id"], "sampler", *skip))
            continue
        rng = random.Random(f"{params.seed}:{tool['tool_id']}")
        picked = rng.sample(examples, k=min(params.per_tool, len(examples)))
        inputs += len(picked)
        for i, arguments in enumerate(picked):
            seed = params.seed * 1000 + i
            obs = executor.execute(tool["name"], arguments)
            tid = _task_id(tool["tool_id"], arguments, seed)
            if not obs.ok:
                rejections.append(Rejection("tasks", tid, "execution", "reference_call_failed", obs.error or ""))
                continue
            chain = [{"tool_id": tool["tool_id"], "name": tool["name"], "arguments": arguments}]
            rows.append({"task_id": tid, "shape": "single", "chain": json.dumps(chain, ensure_ascii=False),
                         "reference_answer": obs.to_json(), "seed": seed})
    shapes = dict(Counter(r["shape"] for r in rows))
    return StageResult(pa.Table.from_pylist(rows, schema=TASKS_SCHEMA), rejections, inputs, len(rows), {"shapes": shapes})
