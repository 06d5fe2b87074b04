"""The asset factory: one Dagster asset group per pipeline YAML, one asset per stage.

Each stage declares its asset (`ASSET`, a `stages.asset.StageAsset`) and `stages/catalog.py` puts them in
order; this module only makes them Dagster assets, wires their inputs and gives them the run's `Runtime`
through the `toolloom` resource.
"""

import logging
from pathlib import Path

import dagster as dg
from pydantic import Field

from . import progress
from .kubernetes import k8s_executor, run_config as k8s_run_config
from .materialize import check_specs, materialize_stage
from .nightly import for_partition
from ..runtime import Runtime
from ..lake.storage import home_of
from ..spec import Pipeline, load_pipelines
from ..stages.asset import WHOLE, Shard, StageAsset
from ..stages.catalog import stages_of

log = logging.getLogger("toolloom")


class ToolloomResource(dg.ConfigurableResource):
    """Where the project and its store live; builds one Runtime per (run, pipeline)."""

    project_root: str = Field(description="the folder holding pipelines/, prompts/, sandbox/, api_graphs/")
    home: str | None = Field(
        None,
        description="store and request cache, relative to project_root unless absolute; unset: $TOOLLOOM_HOME, "
        "else .toolloom",
    )
    retry_backoff_s: float = 1.0
    served_models: dict[str, str] = Field(
        default_factory=dict, description="server key -> URL of the model servers `toolloom run` started for the run"
    )
    progress_lines: bool = Field(False, description="print each stage's progress lines to stderr (step processes)")

    def runtime(self, context: dg.AssetExecutionContext, pipeline: Pipeline) -> Runtime:
        key = (context.run.run_id, pipeline.name)
        if key not in _RUNTIMES:
            root = Path(self.project_root)
            for old in _RUNTIMES.values():  # one run at a time per process (in-process executor)
                old.close()
            _RUNTIMES.clear()
            partition = context.partition_key if context.has_partition_key else None
            _RUNTIMES[key] = Runtime(
                for_partition(pipeline, partition),
                root,
                home_of(root, self.home),
                backoff_s=self.retry_backoff_s,
                partition=partition,
                run_id=context.run.run_id,
                served=dict(self.served_models),
            )
        return _RUNTIMES[key]

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """The run ended (succeeded, failed or was cancelled): stop its model servers and sandbox workers."""
        close_runtimes()


_RUNTIMES: dict[tuple[str, str], Runtime] = {}


def close_runtimes() -> None:
    for rt in _RUNTIMES.values():
        rt.close()
    _RUNTIMES.clear()


def pipeline_assets(pipeline: Pipeline, stages: list[StageAsset] | None = None) -> list[dg.AssetsDefinition]:
    """One asset per stage the pipeline has, each depending on the assets of its inputs that exist. With
    `execution.shards` N, a shardable stage is N assets (`trajectories_shard_0` ...), shard k depending on
    shard k of a sharded input, so the shards run side by side; a stage after them reads all of their rows.
    `stages`: the stages to make (default: every registered stage the pipeline has, `stages.catalog`)."""
    made: dict[str, list[dg.AssetsDefinition]] = {}
    count = pipeline.execution.shards
    for stage in stages_of(pipeline) if stages is None else [s for s in stages if s.enabled(pipeline)]:
        if stage.shardable and count > 1:
            made[stage.table] = [
                stage_asset(pipeline, stage, [d for i in stage.inputs for d in _inputs_of(made, i, k)], Shard(k, count))
                for k in range(count)
            ]
        else:
            made[stage.table] = [stage_asset(pipeline, stage, [d for i in stage.inputs for d in made.get(i, [])])]
    return [a for assets in made.values() for a in assets]


def _inputs_of(made: dict[str, list[dg.AssetsDefinition]], table: str, shard: int) -> list[dg.AssetsDefinition]:
    assets = made.get(table, [])
    return [assets[shard]] if len(assets) > 1 else assets


def stage_asset(
    pipeline: Pipeline, stage: StageAsset, deps: list[dg.AssetsDefinition], shard: Shard = WHOLE
) -> dg.AssetsDefinition:
    key = dg.AssetKey([pipeline.name, stage.table + shard.suffix])
    description = stage.description + (f" (shard {shard.index} of {shard.count})" if shard.count > 1 else "")

    @dg.asset(
        key=key,
        deps=deps,
        description=description,
        check_specs=check_specs(stage, pipeline, key),
        group_name=pipeline.name,
        partitions_def=daily_partitions(pipeline),
        kinds={"duckdb", "parquet"},
    )
    def materialize(context: dg.AssetExecutionContext, toolloom: ToolloomResource) -> dg.MaterializeResult:
        rt = toolloom.runtime(context, pipeline)
        # one catalog connection per stage where the catalog is shared; progress lines named by the asset
        with rt.store.session(pipeline.name), progress.step(key.path[-1], lines=toolloom.progress_lines):
            return materialize_stage(stage, rt, context, shard)

    return materialize


def daily_partitions(pipeline: Pipeline) -> dg.DailyPartitionsDefinition | None:
    if pipeline.partitions != "daily":
        return None
    tz = pipeline.schedule.timezone if pipeline.schedule else "UTC"
    return dg.DailyPartitionsDefinition(start_date=pipeline.start_date, timezone=tz)


def pipeline_job(pipeline: Pipeline):
    """The pipeline's job; with the k8s executor, its settings are the job's default run config."""
    return dg.define_asset_job(
        f"{pipeline.name}_job",
        selection=dg.AssetSelection.groups(pipeline.name),
        partitions_def=daily_partitions(pipeline),
        executor_def=step_executor(pipeline),
        config=k8s_run_config(pipeline, [a.op.name for a in pipeline_assets(pipeline)])
        if pipeline.execution.executor == "k8s"
        else None,
    )


def resolved_job(pipeline: Pipeline, project_root: str | Path) -> dg.JobDefinition:
    """The pipeline's job resolved with its assets and resource, as a code location would load it."""
    return dg.Definitions(
        assets=pipeline_assets(pipeline),
        jobs=[pipeline_job(pipeline)],
        resources={"toolloom": ToolloomResource(project_root=str(project_root))},
    ).resolve_job_def(f"{pipeline.name}_job")


def step_executor(pipeline: Pipeline) -> dg.ExecutorDefinition:
    """The pipeline's `execution.executor`: Dagster's in-process, multiprocess or Kubernetes job executor."""
    ex = pipeline.execution
    if ex.executor == "in_process":
        return dg.in_process_executor
    if ex.executor == "multiprocess":
        # forkserver with toolloom preloaded: a step process is a fork of a warm one, not a fresh interpreter
        # that imports Dagster and toolloom again (~5 s a step on two cores)
        return dg.multiprocess_executor.configured(
            {
                "max_concurrent": ex.max_concurrent,
                "start_method": {"forkserver": {"preload_modules": ["toolloom.orchestration.launch"]}},
            }
        )
    return k8s_executor(pipeline)  # configured by the job's run config (kubernetes.py), which a launch may override


def build_definitions(project_root: str | Path) -> dg.Definitions:
    """Definitions for every valid pipeline of `project_root/pipelines`; invalid files are logged and skipped."""
    root = Path(project_root).resolve()
    pipelines, errors = load_pipelines(root / "pipelines")
    for e in errors:
        log.error("pipeline skipped: %s", e)
    assets, jobs, schedules = [], [], []
    for pipeline in pipelines.values():
        try:
            job = pipeline_job(pipeline)
        except ValueError as e:
            log.error("pipeline skipped: %s", e)
            continue
        assets += pipeline_assets(pipeline)
        jobs.append(job)
        if pipeline.schedule:
            status = dg.DefaultScheduleStatus.RUNNING if pipeline.schedule.running else dg.DefaultScheduleStatus.STOPPED
            schedules.append(
                dg.build_schedule_from_partitioned_job(
                    job,
                    name=f"{pipeline.name}_nightly",
                    hour_of_day=pipeline.schedule.hour,
                    minute_of_hour=pipeline.schedule.minute,
                    default_status=status,
                )
            )
    return dg.Definitions(
        assets=assets,
        jobs=jobs,
        schedules=schedules,
        executor=dg.in_process_executor,
        resources={"toolloom": ToolloomResource(project_root=str(root))},
    )
