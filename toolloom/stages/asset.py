"""What a stage declares about itself: the one description of its place in the stage graph.

Each stage module ends with an `ASSET = StageAsset(...)`: the table it writes, the tables it reads, when a
pipeline has it, which model roles it asks and how it is checked. The asset factory, a partial run's version
copying, resume and the models a run starts are all derived from these declarations
(`toolloom/stages/catalog.py`). Nothing here imports Dagster: the factory
(`toolloom/orchestration/dagster_defs.py`) does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..spec import Pipeline


def always(pipeline: Pipeline) -> bool:
    return True


def no_roles(pipeline: Pipeline) -> tuple[str, ...]:
    return ()


def configured(name: str) -> Callable[[Pipeline], bool]:
    """`enabled` for a plug-in stage: on when the pipeline names it under `stages.plugins`."""

    def enabled(pipeline: Pipeline) -> bool:
        return name in pipeline.stages.plugins

    enabled.__name__ = f"configured_{name}"
    return enabled


@dataclass(frozen=True)
class Check:
    """An asset check a stage declares; `blocking`: a failure stops the stages after it."""

    name: str
    description: str
    blocking: bool = True


@dataclass(frozen=True)
class Verdict:
    """The outcome of one declared check, as a stage that writes no table reports it."""

    name: str
    passed: bool
    description: str
    severity: str = "ERROR"  # or "WARN"
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Published:
    """What a stage that writes no table (the export) made: where, under which version, and its verdicts."""

    location: str
    version: str
    metadata: dict
    verdicts: list[Verdict]


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


@dataclass(frozen=True)
class StageAsset:
    """One stage's asset: what it writes and reads, when it runs, what it asks of models, how it is checked.

    `build(rt, version, log)` reads `reads` (tables of the same version) from `rt.store` and returns the
    stage's `StageResult`; a shardable stage's build also takes `shard=`. A stage that writes no table
    (`writes_table=False`, the export) has `build(rt, version, name, run_id, log) -> Published` instead.
    The first line of `build`'s docstring is the asset's description in the UI.
    """

    table: str  # the asset key's last part and the table it writes
    stage: str  # the stage's name in rejections, model-call records and logs
    inputs: tuple[str, ...]  # the tables whose assets must run first (the asset's dependencies)
    build: Callable
    preview: tuple[str, ...] = ()
    enabled: Callable[[Pipeline], bool] = always  # whether the pipeline has this stage
    reads: tuple[str, ...] | None = None  # every table `build` reads; None: its `inputs`
    roles: Callable[[Pipeline], tuple[str, ...]] = no_roles  # the model roles `build` asks, for this pipeline
    checks: bool = True  # the `non_empty` and `accounted` checks
    empty_blocks: bool = True  # False: an empty result warns instead of blocking the stages after it
    shardable: bool = False  # its items are independent: `execution.shards` assets may each take a share
    writes_table: bool = True
    declared_checks: Callable[[Pipeline], list[Check]] | None = None  # replaces the two checks above

    @property
    def description(self) -> str:
        return (self.build.__doc__ or self.table).strip().splitlines()[0]

    @property
    def tables_read(self) -> tuple[str, ...]:
        return self.inputs if self.reads is None else self.reads

    def check_list(self, pipeline: Pipeline) -> list[Check]:
        """The asset checks this stage reports for `pipeline`."""
        if self.declared_checks is not None:
            return self.declared_checks(pipeline)
        if not self.checks:
            return []
        return [
            Check("non_empty", "the stage accepted at least one item", blocking=self.empty_blocks),
            Check(
                "accounted",
                "every input item became exactly one accepted row or one rejection, counted from what the stage wrote",
            ),
        ]
