"""The stage graph, described once: every stage's `StageAsset`, built-ins and plug-ins, in pipeline order.

The asset factory, which tables a partial run copies (`upstream`), resume (`tables_of`) and the model
roles a run prepares (`roles_in_use`) are derived from the stages' own declarations, so a stage added
here or by a plug-in (`registries["stage"]`) is complete with its `ASSET` alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..registry import STAGES
from . import api_graph, dataset, doc_revisions, escalations, samples, simulate, tasks, tools
from .asset import StageAsset

if TYPE_CHECKING:
    from ..spec import Pipeline

BUILTIN = (
    tools.ASSET,
    api_graph.ASSET,
    tasks.ASSET,
    escalations.ASSET,
    simulate.ASSET,
    doc_revisions.ASSET,
    samples.ASSET,
    dataset.ASSET,
)
for _asset in BUILTIN:
    STAGES.register(_asset.table, _asset)


class StageGraphError(ValueError):
    """The registered stages do not form a graph: a table read that no stage writes, or a cycle."""


def all_stages() -> list[StageAsset]:
    """Every registered stage, each after the stages whose tables it reads; stages that write no table last."""
    registered = STAGES.items()
    for name, asset in registered.items():
        if name != asset.table:
            raise StageGraphError(
                f"stage registered as {name!r} writes table {asset.table!r}: register a stage by its table"
            )
    writers = [a for a in registered.values() if a.writes_table]
    return _ordered(writers) + [a for a in registered.values() if not a.writes_table]


def _ordered(stages: list[StageAsset]) -> list[StageAsset]:
    """Registration order, moved only as far as a stage's reads require (built-ins are already in order)."""
    tables = {a.table for a in stages}
    done: list[StageAsset] = []
    todo = list(stages)
    while todo:
        ready = next((a for a in todo if set(a.tables_read + a.inputs) <= {d.table for d in done}), None)
        if ready is None:
            missing = {t for a in todo for t in a.tables_read + a.inputs if t not in tables}
            what = f"reads {sorted(missing)}, which no stage writes" if missing else "their reads form a cycle"
            raise StageGraphError(f"stages {[a.table for a in todo]} cannot be ordered: {what}")
        done.append(ready)
        todo.remove(ready)
    return done


def stages_of(pipeline: Pipeline) -> list[StageAsset]:
    """The stages `pipeline` has, in order."""
    return [a for a in all_stages() if a.enabled(pipeline)]


def tables_of(pipeline: Pipeline) -> dict[str, str]:
    """table -> the stage writing it (its name in the shared tables), for the stages `pipeline` has."""
    return {a.table: a.stage for a in stages_of(pipeline) if a.writes_table}


def upstream(selected: set[str]) -> set[str]:
    """The tables the selected stages read, directly or through the stages that write them, and do not write."""
    reads = {a.table: a.tables_read for a in all_stages()}
    seen, todo = set(), list(selected)
    while todo:
        for table in reads.get(todo.pop(), ()):
            if table not in seen:
                seen.add(table)
                todo.append(table)
    return seen - selected


def roles_in_use(pipeline: Pipeline) -> list[str]:
    """The model roles the pipeline's stages will ask, in the order of `spec.ROLES` (a plug-in's own last)."""
    from ..spec import ROLES

    asked = {r for a in stages_of(pipeline) for r in a.roles(pipeline)}
    return [r for r in ROLES if r in asked] + sorted(asked - set(ROLES))
