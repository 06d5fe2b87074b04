"""A stage as a Dagster asset: what the asset factory needs (`StageAsset`), and committing a stage's result to the
store with its metadata, previews and checks."""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import dagster as dg
import pyarrow as pa

from .llm import UsageLedger
from .run_versions import begin
from .runtime import Runtime
from .spec import Pipeline
from .stages import StageResult
from .store import Write

REJECTIONS_SCHEMA = pa.schema([("stage", pa.string()), ("item_id", pa.string()), ("checker", pa.string()),
                               ("reason", pa.string()), ("detail", pa.string())])
MARKDOWN = {"before_after"}  # stage metadata shown as markdown in the UI


def check_specs(key: dg.AssetKey, empty_blocks: bool = True) -> list[dg.AssetCheckSpec]:
    """`empty_blocks=False` for a stage whose empty output leaves the rest of the pipeline useful (escalations)."""
    return [
        dg.AssetCheckSpec(
            "non_empty", asset=key, blocking=empty_blocks, description="the stage accepted at least one item"
        ),
        dg.AssetCheckSpec(
            "accounted",
            asset=key,
            blocking=True,
            description="every input item became exactly one accepted row or one rejection, counted from what the "
                        "stage wrote",
        ),
    ]


def markdown_preview(table: pa.Table, columns: list[str], n: int = 5, width: int = 80) -> str:
    cols = [c for c in columns if c in table.column_names]
    if not cols or table.num_rows == 0:
        return "_no rows_"

    def cell(v) -> str:
        text = json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else v
        text = text.replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= width else text[: width - 1] + "…"

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table.select(cols).slice(0, n).to_pylist():
        lines.append("| " + " | ".join(cell(row[c]) for c in cols) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Shard:
    """One of `count` shards of a stage's work: the items whose key hashes to `index`."""

    index: int = 0
    count: int = 1

    def owns(self, key: str) -> bool:
        return self.count == 1 or shard_of(key, self.count) == self.index

    @property
    def suffix(self) -> str:
        return f"_shard_{self.index}" if self.count > 1 else ""


WHOLE = Shard()


def shard_of(key: str, count: int) -> int:
    """A stable shard for an item key: the same in every process and run."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % count


def commit_stage(
    rt: Runtime,
    context: dg.AssetExecutionContext,
    *,
    stage: str,
    table: str,
    result: StageResult,
    version: str,
    preview: list[str],
    with_checks: bool = True,
    empty_blocks: bool = True,
    shard: Shard = WHOLE,
    calls_since: int = 0,
) -> dg.MaterializeResult:
    """Commit rows, rejections and model-call records of one stage together (one snapshot); report to Dagster.
    A shard's rows carry its `shard` and replace only that shard's rows of the version."""
    run_id = context.run.run_id
    name = rt.pipeline.name
    rejected = pa.Table.from_pylist([r.row() for r in result.rejections], schema=REJECTIONS_SCHEMA)
    calls = rt.ledger.of_step(stage, calls_since)  # written even when empty: a rerun replaces the old records
    writes = [Write(table, result.table, {}), Write("rejections", rejected, {"stage": stage}),
              Write("llm_calls", UsageLedger.to_arrow(calls), {"stage": stage})]
    if shard.count > 1:
        writes = [Write(w.table, w.rows.append_column("shard", pa.array([shard.index] * w.rows.num_rows, pa.int64())),
                        {**w.scope, "shard": shard.index}) for w in writes]
    snapshot = rt.store.commit(name, writes, version=version, run_id=run_id)
    reasons = Counter(f"{r.checker}:{r.reason}" for r in result.rejections)
    for r in result.rejections[:20]:
        context.log.info(f"{stage} rejected {r.item_id}: {r.reason} ({r.detail[:200]})")
    if reasons:
        context.log.warning(f"{stage}: {len(result.rejections)} of {result.inputs} rejected: "
                            + ", ".join(f"{k} {v}" for k, v in reasons.most_common()))
    metadata = {
        "dagster/row_count": result.table.num_rows,
        "version": version,
        "snapshot": snapshot,
        "inputs": result.inputs,
        "accepted": result.accepted,
        "rejected": len(result.rejections),
        "acceptance_rate": round(result.accepted / result.inputs, 4) if result.inputs else 0.0,
        "rejections_by_reason": dg.MetadataValue.json(dict(reasons)),
        "preview": dg.MetadataValue.md(markdown_preview(result.table, preview)),
        **{
            k: (
                dg.MetadataValue.json(v)
                if isinstance(v, (dict, list))
                else dg.MetadataValue.md(v)
                if k in MARKDOWN
                else v
            )
            for k, v in result.metadata.items()
        },
    }
    if calls:
        metadata["model_usage"] = dg.MetadataValue.json(rt.ledger.summary(stage, calls_since))
    gaps = result.unaccounted()  # items given that neither became a row nor a rejection, or came out twice
    if gaps["missing"] or gaps["extra"]:
        context.log.error(f"{stage}: not accounted for: {len(gaps['missing'])} missing ({gaps['missing'][:5]}), "
                          f"{len(gaps['extra'])} extra ({gaps['extra'][:5]})")
    checks = [
        dg.AssetCheckResult(
            check_name="non_empty",
            passed=result.accepted > 0,
            severity=dg.AssetCheckSeverity.ERROR if empty_blocks else dg.AssetCheckSeverity.WARN,
            metadata={"accepted": result.accepted},
        ),
        dg.AssetCheckResult(
            check_name="accounted",
            passed=result.accounted,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "inputs": result.inputs,
                "accepted": result.accepted,
                "rejected": len(result.rejections),
                **{k: dg.MetadataValue.json(v[:20]) for k, v in gaps.items() if v},
            },
        ),
    ]
    context.log.info(
        f"{stage}: {result.accepted} accepted, {len(result.rejections)} rejected of {result.inputs} (version {version})"
    )
    return dg.MaterializeResult(metadata=metadata, check_results=checks if with_checks else None)



def _always(pipeline: Pipeline) -> bool:
    return True


@dataclass(frozen=True)
class StageAsset:
    """One stage's asset, declared by the stage module; the factory (dagster_defs.py) makes it.

    `build(rt, version, log)` reads the stage's `inputs` (tables of the same version) from the store and
    returns its StageResult; the first line of its docstring is the asset's description in the UI.
    `enabled(pipeline)`: whether the pipeline has this stage (escalate and refine are optional).
    """

    table: str  # the asset key's last part and the table it writes
    stage: str  # the stage's name in rejections, model-call records and logs
    inputs: tuple[str, ...]
    build: Callable
    preview: tuple[str, ...] = ()
    enabled: Callable[[Pipeline], bool] = _always
    checks: bool = True
    empty_blocks: bool = True  # False: an empty result warns instead of blocking the stages after it
    shardable: bool = False  # its items are independent: `execution.shards` assets may each take a share

    @property
    def description(self) -> str:
        return (self.build.__doc__ or self.table).strip().splitlines()[0]

    def check_specs(self, pipeline: Pipeline, key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
        return check_specs(key, self.empty_blocks) if self.checks else []

    def materialize(self, rt: Runtime, context: dg.AssetExecutionContext,
                    shard: Shard = WHOLE) -> dg.MaterializeResult:
        version = begin(context, rt)
        since = len(rt.ledger.records)  # this step's model calls only (shards of a stage may share a process)
        result = self.build(rt, version, context.log.info, **({"shard": shard} if shard.count > 1 else {}))
        return commit_stage(rt, context, stage=self.stage, table=self.table, result=result, version=version,
                            preview=list(self.preview), with_checks=self.checks, empty_blocks=self.empty_blocks,
                            shard=shard, calls_since=since)
