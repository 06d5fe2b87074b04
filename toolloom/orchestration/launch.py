"""`toolloom run`'s execution: a pipeline's assets in this process, or its job with a process per step.

In-process (the default) is `dagster.materialize`. With `execution.executor: multiprocess` the run is
Dagster's own multiprocess executor: each step process rebuilds the job from `job_for` (a reconstructable
job: the pipeline travels as its validated settings, so a dry run's rewritten models reach every step) and
writes to the same store. Model servers toolloom manages are started here, once for the run, and named to
the step processes through the job's resource, with the request to print their own progress: its config
reaches them, where an environment variable set after the forkserver started would not. Kubernetes runs
are launched by a Dagster deployment, not here.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

import dagster as dg

from .dagster_defs import ToolloomResource, pipeline_assets, pipeline_job
from ..llm.servers import ServerPool
from .run_versions import SHARD_SUFFIX
from ..runtime import serve_models
from ..spec import Pipeline


class LaunchError(Exception):
    """The run cannot be launched from here (the message says how to run it instead)."""


def run_pipeline(
    pipeline: Pipeline,
    root: Path,
    home: Path,
    *,
    partition: str | None,
    backoff_s: float,
    log_level: str,
    assets: list[str] | None = None,
    tags: dict[str, str] | None = None,
):
    """Materialize the assets of `pipeline` (all, or those named: a stage with all its shards, or one shard);
    returns Dagster's result."""
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    executor = pipeline.execution.executor
    defs = pipeline_assets(pipeline)
    keys = None
    if assets is not None:  # a stage and its shards: trajectories, trajectories_shard_0, ...
        keys = [k for a in defs for k in a.keys if {k.path[-1], SHARD_SUFFIX.sub("", k.path[-1])} & set(assets)]
    if executor == "in_process":
        with cli_instance(home) as instance:
            return dg.materialize(
                defs,
                instance=instance,
                partition_key=partition,
                raise_on_error=False,
                selection=keys,
                tags=tags,
                resources={
                    "toolloom": ToolloomResource(project_root=str(root), home=str(home), retry_backoff_s=backoff_s)
                },
                run_config=run_config,
            )
    if executor != "multiprocess":
        raise LaunchError(
            f"pipeline {pipeline.name!r} runs its steps with executor {executor!r}: launch its job "
            f"({pipeline.name}_job) from a Dagster deployment (README: Running at scale)"
        )
    tags = {**(tags or {}), **({"dagster/partition": partition} if partition else {})} or None
    pool = ServerPool(home / "logs")
    with cli_instance(home) as instance:
        try:
            job = dg.build_reconstructable_job(
                "toolloom.orchestration.launch",
                "job_for",
                reconstructable_kwargs={
                    "pipeline": pipeline.model_dump(mode="json", exclude_unset=True),
                    "root": str(root),
                    "home": str(home),
                    "backoff_s": backoff_s,
                    "served": serve_models(pipeline, pool),
                    "progress_lines": True,
                },
            )
            return dg.execute_job(job, instance=instance, run_config=run_config, tags=tags, asset_selection=keys)
        finally:
            pool.close()


def job_for(
    pipeline: dict,
    root: str,
    home: str,
    backoff_s: float,
    served: dict[str, str] | None = None,
    progress_lines: bool = False,
) -> dg.JobDefinition:
    """The pipeline's job, as each step process rebuilds it (the reconstructor `run_pipeline` names)."""
    p = Pipeline.model_validate(pipeline)
    resource = ToolloomResource(
        project_root=root,
        home=home,
        retry_backoff_s=backoff_s,
        served_models=served or {},
        progress_lines=progress_lines,
    )
    defs = dg.Definitions(assets=pipeline_assets(p), jobs=[pipeline_job(p)], resources={"toolloom": resource})
    return defs.resolve_job_def(f"{p.name}_job")


@contextlib.contextmanager
def cli_instance(home: Path):
    """DAGSTER_HOME's instance, else a persistent one under the toolloom home (`<home>/dagster`): the UI
    started with DAGSTER_HOME set to that folder lists every CLI run (README: Dagster UI)."""
    if os.environ.get("DAGSTER_HOME"):
        yield dg.DagsterInstance.get()
        return
    folder = Path(home) / "dagster"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".create.lock", "w") as lock:  # two runs starting at once must not both create its tables
        fcntl.flock(lock, fcntl.LOCK_EX)
        instance = dg.DagsterInstance.from_config(str(folder))
        instance.get_runs(limit=1)  # its storages make their tables on first use: here, under the lock
        _ = instance.event_log_storage, instance.schedule_storage
        fcntl.flock(lock, fcntl.LOCK_UN)
    with instance:
        yield instance
