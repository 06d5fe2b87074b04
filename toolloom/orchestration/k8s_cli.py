"""`toolloom k8s-job PIPELINE STAGE`: the Kubernetes Job a step of a k8s pipeline would be launched as, printed
as YAML, so its image, secrets, resources and security context can be read (or applied by hand) without a
cluster or a Dagster deployment."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from ..spec import PipelineFileError, load_pipeline


def add_k8s_parser(sub) -> None:
    k = sub.add_parser("k8s-job", help="print the Kubernetes Job a step of a k8s pipeline would be launched as (YAML)")
    k.add_argument("pipeline", help="name of pipelines/NAME.yaml (execution.executor: k8s)")
    k.add_argument(
        "stage", help="the stage's table: tasks, trajectories, samples, ... (a sharded stage: its first shard)"
    )
    k.add_argument("--image", default="IMAGE", help="shown where execution.k8s.image is unset (the code location's)")
    k.set_defaults(fn=cmd_k8s_job)


def cmd_k8s_job(args) -> int:
    from kubernetes.client import ApiClient

    from .dagster_defs import resolved_job  # here, not at the top: building the CLI's parser must not import Dagster
    from .kubernetes import step_job

    root = Path(args.project).resolve()
    try:
        pipeline = load_pipeline(root / "pipelines" / f"{args.pipeline}.yaml")
        if pipeline.execution.executor != "k8s":
            raise ValueError(f"pipeline {pipeline.name!r} runs with executor {pipeline.execution.executor!r}, not k8s")
        manifest = step_job(resolved_job(pipeline, root), pipeline, args.stage, image=args.image)
    except (PipelineFileError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(yaml.safe_dump(ApiClient().sanitize_for_serialization(manifest), sort_keys=False), end="")
    return 0
