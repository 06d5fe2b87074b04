"""A pod per step through dagster-k8s's own job executor.

The pipeline's `execution.k8s` settings become the executor's run config, set as the job's default run config:
the Dagster UI's launchpad shows it and a run may override any of it, and Dagster checks it against the
executor's own schema (an unknown key is an error, not dropped). `step_job` builds the Kubernetes Job that the
executor would create for one step, with dagster-k8s's own functions, so a configuration can be checked (and
its manifest read) without a cluster.
"""

from __future__ import annotations

import dagster as dg

from ..spec import Pipeline
from ..stages.catalog import stages_of
from .run_versions import SHARD_SUFFIX


def k8s_executor(pipeline: Pipeline) -> dg.ExecutorDefinition:
    """dagster-k8s's job executor, unconfigured: its config is the job's run config (`run_config`)."""
    try:
        from dagster_k8s import k8s_job_executor
    except ImportError as e:
        raise ValueError(
            f"pipeline {pipeline.name!r}: execution.executor k8s needs dagster-k8s: pip install -e '.[k8s]' "
            "(README: Running at scale)"
        ) from e
    return k8s_job_executor


def step_ops(pipeline: Pipeline, op_names: list[str]) -> dict[str, list[str]]:
    """Stage table -> the op names of its steps (a sharded stage has one per shard), from the job's op names
    (`<pipeline>__<table>` or `<pipeline>__<table>_shard_<k>`)."""
    ops: dict[str, list[str]] = {}
    for op in op_names:
        ops.setdefault(SHARD_SUFFIX.sub("", op.removeprefix(f"{pipeline.name}__")), []).append(op)
    order = [a.table for a in stages_of(pipeline)]
    by_order = sorted(ops, key=lambda t: order.index(t) if t in order else len(order))
    return {stage: sorted(ops[stage]) for stage in by_order}  # stages in pipeline order, shard 0 first


def _container(resources: dict, security_context: dict | None = None) -> dict:
    container = {"resources": resources} if resources else {}
    if security_context:
        container["security_context"] = security_context
    return {"container_config": container}


def executor_config(pipeline: Pipeline, op_names: list[str]) -> dict:
    """The k8s executor's run config (`execution: config:`) from the pipeline's settings; `op_names`: its
    job's steps."""
    ex, k8s = pipeline.execution, pipeline.execution.k8s
    config: dict = {"max_concurrent": ex.max_concurrent}
    optional = {
        "job_image": k8s.image,
        "image_pull_policy": k8s.image_pull_policy,
        "job_namespace": k8s.namespace,
        "service_account_name": k8s.service_account,
        "env_secrets": k8s.env_secrets,
        "env_vars": k8s.env_vars,
    }
    config.update({k: v for k, v in optional.items() if v})
    if k8s.resources or k8s.security_context:
        config["step_k8s_config"] = _container(k8s.resources, k8s.security_context)
    if k8s.stage_resources:
        ops = step_ops(pipeline, op_names)
        unknown = sorted(set(k8s.stage_resources) - set(ops))
        if unknown:
            raise ValueError(
                f"pipeline {pipeline.name!r}: execution.k8s.stage_resources names {', '.join(unknown)}, which "
                f"the pipeline has no stage for (its stages: {', '.join(ops)})"
            )
        config["per_step_k8s_config"] = {
            op: _container(resources) for stage, resources in k8s.stage_resources.items() for op in ops[stage]
        }
    return config


def run_config(pipeline: Pipeline, op_names: list[str]) -> dict:
    return {"execution": {"config": executor_config(pipeline, op_names)}}


def step_job(
    job: dg.JobDefinition, pipeline: Pipeline, stage: str, run: dict | None = None, image: str = "toolloom:local"
):
    """The Kubernetes Job (a `kubernetes.client.V1Job`) the executor would launch for `stage`'s first step of
    `job` (the pipeline's job, resolved), under the job's default run config or `run` (validated by Dagster
    against the executor's schema first); `image` stands in where the settings name none (the code location's
    image, known only in a deployment)."""
    from dagster_k8s.container_context import K8sContainerContext
    from dagster_k8s.job import (
        DagsterK8sJobConfig,
        UserDefinedDagsterK8sConfig,
        construct_dagster_k8s_job,
        get_k8s_job_name,
    )

    ops = [node.name for node in job.graph.nodes]
    checked = dg.validate_run_config(job, run if run is not None else {})
    cfg = checked["execution"]["k8s"]  # the processed config, under the executor's name
    by_stage = step_ops(pipeline, ops)
    if stage not in by_stage:
        raise ValueError(f"pipeline {pipeline.name!r} has no stage {stage!r}; its stages: {', '.join(by_stage)}")
    op = by_stage[stage][0]
    context = K8sContainerContext(
        image_pull_policy=cfg.get("image_pull_policy"),
        service_account_name=cfg.get("service_account_name"),
        env_secrets=cfg.get("env_secrets"),
        env_vars=cfg.get("env_vars"),
        namespace=cfg.get("job_namespace"),
        run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(cfg.get("step_k8s_config", {})),
    ).merge(
        K8sContainerContext(
            run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(cfg.get("per_step_k8s_config", {}).get(op, {}))
        )
    )
    # what a K8sRunLauncher adds (the Helm chart's defaults): the instance's config map and home
    job_config = DagsterK8sJobConfig(
        job_image=cfg.get("job_image") or image,
        dagster_home="/opt/dagster/dagster_home",
        instance_config_map="dagster-instance",
    )
    name = f"dagster-step-{get_k8s_job_name('0' * 32, op)}"
    return construct_dagster_k8s_job(
        job_config=job_config,
        args=["dagster", "api", "execute_step"],
        job_name=name,
        pod_name=name,
        component="step_worker",
        user_defined_k8s_config=context.run_k8s_config,
        labels={"dagster/job": job.name, "dagster/op": op},
    )
