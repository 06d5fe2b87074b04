"""Each nightly partition is a new sample: the partition key enters every seed of the run.

A pipeline's seeds (task sampling, escalation, the models' request seeds) are salted with the
partition key, so 2026-11-23 and 2026-11-24 sample different tasks and ask different requests,
while a rerun of the same partition derives the same seeds and answers from the request cache.
"""

from __future__ import annotations

import hashlib

from ..spec import Pipeline


def partition_seed(seed: int, partition: str) -> int:
    """A seed of its own for (seed, partition): stable across runs, unrelated between nights."""
    return int.from_bytes(hashlib.blake2b(f"{seed}:{partition}".encode(), digest_size=4).digest(), "big")


def for_partition(pipeline: Pipeline, partition: str | None) -> Pipeline:
    """The pipeline as one partition runs it (unchanged without a partition)."""
    if partition is None:
        return pipeline
    stages = pipeline.stages
    update = {"tasks": stages.tasks.model_copy(update={"seed": partition_seed(stages.tasks.seed, partition)})}
    if stages.escalate is not None:
        update["escalate"] = stages.escalate.model_copy(
            update={"seed": partition_seed(stages.escalate.seed, partition)}
        )
    models = {"default": pipeline.model_for("default"), **pipeline.models}  # roles without a spec fall back to it
    models = {
        role: spec if spec.seed is None else spec.model_copy(update={"seed": partition_seed(spec.seed, partition)})
        for role, spec in models.items()
    }  # seed None: the user asked for unseeded requests
    return pipeline.model_copy(update={"stages": stages.model_copy(update=update), "models": models})


def seeds_of(pipeline: Pipeline) -> dict[str, int]:
    """The seeds a run used, for the dataset card."""
    out = {"tasks": pipeline.stages.tasks.seed}
    if pipeline.stages.escalate is not None:
        out["escalate"] = pipeline.stages.escalate.seed
    return out
