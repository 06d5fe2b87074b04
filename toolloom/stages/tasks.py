"""Stage 1b: sample tasks with reference chains and execute them for reference answers.

Single calls come from each tool's documented example arguments; multi-hop and parallel chains
come from the API graph (toolloom.graph.sampling). Every chain was executed while sampled.
"""
from __future__ import annotations

import hashlib
import json
import random
from collections import Counter

import pyarrow as pa

from ..executor import ToolExecutor
from ..graph.sampling import ChainSampler
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


def sample_tasks(tools: pa.Table, executor: ToolExecutor, params: TasksStage, edges: list[dict] | None = None) -> StageResult:
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
            chain = [{"tool_id": tool["tool_id"], "name": tool["name"], "arguments": arguments, "bindings": {}}]
            rows.append({"task_id": tid, "shape": "single", "chain": json.dumps(chain, ensure_ascii=False),
                         "reference_answer": obs.to_json(), "seed": seed})
    graph_failures: Counter = Counter()
    if edges is not None and (params.multi_hop or params.parallel or params.nested):
        rows_by_name = [{**t, "examples": json.loads(t["meta"] or "{}").get("examples") or []} for t in tools.to_pylist()]
        ids = {t["name"]: t["tool_id"] for t in rows_by_name}
        sampler = ChainSampler(rows_by_name, edges, executor, seed=params.seed)
        for shape, count in (("multi_hop", params.multi_hop), ("parallel", params.parallel), ("nested", params.nested)):
            chains = sampler.sample(shape, count, max_hops=params.max_hops)
            inputs += count
            for chain in chains:
                steps = [{"tool_id": ids[c["tool"]], "name": c["tool"], "arguments": c["arguments"], "bindings": c["bindings"]} for c in chain]
                tid = _task_id(shape, steps, params.seed)
                answer = [c["result"] for c in chain] if shape == "parallel" else chain[-1]["result"]
                rows.append({"task_id": tid, "shape": shape, "chain": json.dumps(steps, ensure_ascii=False),
                             "reference_answer": json.dumps(answer, ensure_ascii=False, sort_keys=True), "seed": params.seed})
            for k in range(len(chains), count):  # each requested chain the graph could not give
                rejections.append(Rejection("tasks", f"{shape}#{k}", "sampler", "graph_exhausted",
                                            f"asked for {count} {shape} chains, the graph gave {len(chains)}"))
        graph_failures = sampler.failures
    shapes = dict(Counter(r["shape"] for r in rows))
    return StageResult(pa.Table.from_pylist(rows, schema=TASKS_SCHEMA), rejections, inputs, len(rows),
                       {"shapes": shapes, "walk_failures": dict(graph_failures)})
