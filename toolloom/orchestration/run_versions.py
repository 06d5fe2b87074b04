"""The dataset version a Dagster run writes: fixed by the run, begun at its first step, completed by its export.

Every run writes its own version, never "the latest" one (DESIGN 5): an unpartitioned run a new
version named by its start time and run id; a partition's run a staging version
`<partition>.run-<id>` that its export promotes to the partition's name, so a failed rerun leaves
the partition's complete data as it was. A re-execution (same Dagster root run) continues the same
version. A run that does not start at `tools` copies the tables it reads but does not write from a
complete base version: the run tag `toolloom/base` when set, else the partition's own version, else
the newest complete one.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import dagster as dg

from ..runtime import Runtime
from ..stages.catalog import stages_of, tables_of, upstream
from ..lake.version_log import STAGING, day_of

BASE_TAG = "toolloom/base"
RESUME_TAG = "toolloom/resume"  # the unfinished version a run continues (`toolloom run --resume`)
SHARED = ("rejections", "llm_calls")  # tables every stage writes its slice of, by `stage`
SHARD_SUFFIX = re.compile(r"_shard_\d+$")  # a sharded stage's assets: trajectories_shard_0 ...

_BEGUN: set[tuple[str, str, str]] = set()  # (run, pipeline, version) begun in this process


def unfinished_stages(store, pipeline, version: str) -> list[str]:
    """The assets of `pipeline` that `version` holds no commit of (no row and no rejection), in order; of a
    sharded stage, the shards that committed nothing (a step process killed while the others finished)."""

    def column(table: str, name: str) -> list:
        try:
            rows = store.read(pipeline.name, table, version)
        except KeyError:  # the table was never written
            return []
        return rows.column(name).to_pylist() if name in rows.column_names else [None] * rows.num_rows

    rejected = list(zip(column("rejections", "stage"), column("rejections", "shard")))
    shards = pipeline.execution.shards
    left = []
    for asset in stages_of(pipeline):
        if asset.shardable and shards > 1:
            done = set(column(asset.table, "shard")) | {k for stage, k in rejected if stage == asset.stage}
            left += [f"{asset.table}_shard_{k}" for k in range(shards) if k not in done]
        elif not (column(asset.table, "shard") or any(stage == asset.stage for stage, _ in rejected)):
            left.append(asset.table)
    return left


def resume_plan(store, pipeline, wanted: str | None) -> tuple[str, str | None, list[str]]:
    """(version, its partition or None, the assets still to run) of the unfinished version to continue:
    `wanted`, else the newest one; ValueError naming the unfinished versions when there is none such."""
    unfinished = [
        v["version"] for v in store.versions(pipeline.name, include_incomplete=True) if v["status"] != "complete"
    ]
    if not unfinished or (wanted and wanted not in unfinished):
        named = f" {wanted!r}" if wanted else ""
        raise ValueError(
            f"pipeline {pipeline.name!r} has no unfinished version{named} to resume; unfinished: "
            f"{', '.join(unfinished[-5:]) or 'none'}"
        )
    version = wanted or unfinished[-1]
    return version, (day_of(version) if STAGING in version else None), unfinished_stages(store, pipeline, version)


def run_version(context: dg.AssetExecutionContext) -> str:
    """The version this run writes; the same in every step and in a re-execution of the run."""
    if context.run.tags.get(RESUME_TAG):
        return context.run.tags[RESUME_TAG]
    root = context.run.root_run_id or context.run.run_id
    if context.has_partition_key:
        return f"{context.partition_key}{STAGING}{root[:8]}"
    record = context.instance.get_run_record_by_id(root)
    created = record.create_timestamp if record else datetime.now(timezone.utc)
    created = created.astimezone(timezone.utc) if created.tzinfo else created.replace(tzinfo=timezone.utc)
    return created.strftime("%Y%m%dT%H%M%SZ") + "-" + root[:6]


def final_name(context: dg.AssetExecutionContext, version: str) -> str:
    """The name the version has once complete: its partition's, or its own."""
    return context.partition_key if context.has_partition_key else version


def _selected(context: dg.AssetExecutionContext, pipeline: str, present: set[str]) -> set[str]:
    keys = context.run.asset_selection or context.job_def.asset_layer.selected_asset_keys  # the latter in a subset job
    if not keys:
        return present
    return {SHARD_SUFFIX.sub("", k.path[-1]) for k in keys if len(k.path) == 2 and k.path[0] == pipeline} & present


def _base(context: dg.AssetExecutionContext, rt: Runtime) -> str:
    p = rt.pipeline.name
    versions = rt.store.versions(p, include_incomplete=True)
    complete = [v for v in versions if v["status"] == "complete"]
    wanted = context.run.tags.get(BASE_TAG) or (context.partition_key if context.has_partition_key else None)
    if wanted:
        if any(v["version"] == wanted for v in complete):
            return wanted
        where = f"run tag {BASE_TAG}" if context.run.tags.get(BASE_TAG) else "this partition"
        raise dg.Failure(
            f"pipeline {p!r}: {where} names version {wanted!r}, which is not a complete version; complete: "
            f"{', '.join(v['version'] for v in complete[-5:]) or 'none'} (materialize the whole pipeline first)"
        )
    with_tools = [v for v in complete if v["tables"].get("tools")]
    if with_tools:
        return with_tools[-1]["version"]
    started = [v for v in versions if v["tables"].get("tools")]
    if not started:
        raise dg.Failure(
            f"pipeline {p!r} has no tools yet: materialize its `tools` asset (or the whole pipeline) first"
        )
    context.log.warning(
        f"no complete version of {p!r} yet: starting from the unfinished version {started[-1]['version']}"
    )
    return started[-1]["version"]


def begin(context: dg.AssetExecutionContext, rt: Runtime) -> str:
    """This run's version, logged as running; on the run's first step, with the tables it only reads
    copied from the base version."""
    version = run_version(context)
    p = rt.pipeline.name
    tables = tables_of(rt.pipeline)  # table -> its stage, for the stages this pipeline has
    present = [a.table for a in stages_of(rt.pipeline)]
    key = (context.run.run_id, p, version)
    if key in _BEGUN:
        return version
    needed = upstream(_selected(context, p, set(present))) & set(tables)
    if context.run.tags.get(RESUME_TAG):  # the version holds what its finished stages wrote: nothing to copy
        needed = set()
    base = _base(context, rt) if needed else None
    copy: dict[str, list[str] | None] = {t: None for t in needed}
    copy.update({t: sorted(tables[a] for a in needed) for t in SHARED} if needed else {})
    if rt.store.begin_version(
        p,
        version,
        context.run.run_id,
        partition=context.partition_key if context.has_partition_key else None,
        base=base,
        copy=copy,
    ):
        context.log.info(
            f"version {version} begun" + (f", from {base} (copied: {', '.join(sorted(copy))})" if base else "")
        )
    _BEGUN.add(key)
    return version
