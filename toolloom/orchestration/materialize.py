"""Running a declared stage (`stages.asset.StageAsset`) as a Dagster asset: its checks as Dagster check specs, and
committing its result to the store with metadata, previews and check results. The only stage code that imports
Dagster."""

from __future__ import annotations

import json
from collections import Counter

import dagster as dg
import pyarrow as pa

from ..llm import UsageLedger
from .run_versions import begin, final_name
from ..runtime import Runtime
from ..spec import Pipeline
from ..stages import StageResult
from ..stages.asset import WHOLE, Published, Shard, StageAsset
from ..lake.store import Write

REJECTIONS_SCHEMA = pa.schema(
    [
        ("stage", pa.string()),
        ("item_id", pa.string()),
        ("checker", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
    ]
)
MARKDOWN = {"before_after"}  # stage metadata shown as markdown in the UI


def check_specs(stage: StageAsset, pipeline: Pipeline, key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """The stage's declared checks as Dagster check specs on its asset."""
    return [
        dg.AssetCheckSpec(c.name, asset=key, blocking=c.blocking, description=c.description)
        for c in stage.check_list(pipeline)
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
    rejected = pa.Table.from_pylist([r.row() for r in result.rejections], schema=REJECTIONS_SCHEMA)
    calls = rt.ledger.of_step(stage, calls_since)  # written even when empty: a rerun replaces the old records
    writes = [
        Write(table, result.table, {}),
        Write("rejections", rejected, {"stage": stage}),
        Write("llm_calls", UsageLedger.to_arrow(calls), {"stage": stage}),
    ]
    if shard.count > 1:
        writes = [
            Write(
                w.table,
                w.rows.append_column("shard", pa.array([shard.index] * w.rows.num_rows, pa.int64())),
                {**w.scope, "shard": shard.index},
            )
            for w in writes
        ]
    snapshot = rt.store.commit(rt.pipeline.name, writes, version=version, run_id=context.run.run_id)
    log_rejections(context.log, stage, result)
    metadata = stage_metadata(result, version, snapshot, preview)
    if calls:
        metadata["model_usage"] = dg.MetadataValue.json(rt.ledger.summary(stage, calls_since))
    context.log.info(
        f"{stage}: {result.accepted} accepted, {len(result.rejections)} rejected of {result.inputs} (version {version})"
    )
    checks = stage_checks(result, empty_blocks) if with_checks else None
    return dg.MaterializeResult(metadata=metadata, check_results=checks)


def log_rejections(log, stage: str, result: StageResult) -> None:
    """The first rejections one by one, the counts by reason, and any item neither accepted nor rejected."""
    reasons = Counter(f"{r.checker}:{r.reason}" for r in result.rejections)
    for r in result.rejections[:20]:
        log.info(f"{stage} rejected {r.item_id}: {r.reason} ({r.detail[:200]})")
    if reasons:
        log.warning(
            f"{stage}: {len(result.rejections)} of {result.inputs} rejected: "
            + ", ".join(f"{k} {v}" for k, v in reasons.most_common())
        )
    gaps = result.unaccounted()  # items given that neither became a row nor a rejection, or came out twice
    if gaps["missing"] or gaps["extra"]:
        log.error(
            f"{stage}: not accounted for: {len(gaps['missing'])} missing ({gaps['missing'][:5]}), "
            f"{len(gaps['extra'])} extra ({gaps['extra'][:5]})"
        )


def stage_metadata(result: StageResult, version: str, snapshot, preview: list[str]) -> dict:
    """What the UI shows of a stage's result: counts, rejections by reason, a preview, and the stage's own."""
    reasons = Counter(f"{r.checker}:{r.reason}" for r in result.rejections)
    own = {
        k: dg.MetadataValue.json(v) if isinstance(v, (dict, list)) else dg.MetadataValue.md(v) if k in MARKDOWN else v
        for k, v in result.metadata.items()
    }
    return {
        "dagster/row_count": result.table.num_rows,
        "version": version,
        "snapshot": snapshot,
        "inputs": result.inputs,
        "accepted": result.accepted,
        "rejected": len(result.rejections),
        "acceptance_rate": round(result.accepted / result.inputs, 4) if result.inputs else 0.0,
        "rejections_by_reason": dg.MetadataValue.json(dict(reasons)),
        "preview": dg.MetadataValue.md(markdown_preview(result.table, preview)),
        **own,
    }


def stage_checks(result: StageResult, empty_blocks: bool) -> list[dg.AssetCheckResult]:
    """The `non_empty` and `accounted` checks, counted from what the stage wrote."""
    gaps = result.unaccounted()
    return [
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


def materialize_stage(
    stage: StageAsset, rt: Runtime, context: dg.AssetExecutionContext, shard: Shard = WHOLE
) -> dg.MaterializeResult:
    """Build the stage for this run's version and commit what it made (a table, or a published export)."""
    version = begin(context, rt)
    if not stage.writes_table:
        return report_published(
            stage.build(rt, version, final_name(context, version), context.run.run_id, context.log.info)
        )
    since = len(rt.ledger.records)  # this step's model calls only (shards of a stage may share a process)
    result = stage.build(rt, version, context.log.info, **({"shard": shard} if shard.count > 1 else {}))
    return commit_stage(
        rt,
        context,
        stage=stage.stage,
        table=stage.table,
        result=result,
        version=version,
        preview=list(stage.preview),
        with_checks=stage.checks,
        empty_blocks=stage.empty_blocks,
        shard=shard,
        calls_since=since,
    )


def report_published(out: Published) -> dg.MaterializeResult:
    """An export's location, version, card and data-quality report as metadata; its verdicts as check results."""
    checks = [
        dg.AssetCheckResult(
            check_name=v.name,
            passed=v.passed,
            description=v.description,
            severity=getattr(dg.AssetCheckSeverity, v.severity),
            metadata={"report": dg.MetadataValue.json(v.metadata)},
        )
        for v in out.verdicts
    ]
    metadata = {"path": dg.MetadataValue.path(out.location), "version": out.version}
    metadata.update(
        {
            k: dg.MetadataValue.md(v)
            if k == "readme"
            else dg.MetadataValue.json(v)
            if isinstance(v, (dict, list))
            else v
            for k, v in out.metadata.items()
        }
    )
    return dg.MaterializeResult(metadata=metadata, check_results=checks)
