"""The pipeline's stages: plain functions from tables to tables, runnable without Dagster."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import pyarrow as pa

from ..ingest import Rejection


@dataclass
class StageResult:
    """What a stage made, and what it was given.

    `input_ids` names every item the stage read (or was asked to make). Each must come out exactly
    once: accepted, as a row of `table` whose `key` column names it (or `key(row)` lists it; counted
    only where `accepted_if` holds for the row), or rejected, as a rejection naming it. Both counts are taken
    from what the stage wrote, never from each other, so a silently dropped item fails `accounted`.
    """

    table: pa.Table
    rejections: list[Rejection]
    input_ids: list[str]
    key: str | Callable[[dict], list[str]]
    accepted_if: Callable[[dict], bool] | None = None
    metadata: dict = field(default_factory=dict)

    @property
    def accepted_ids(self) -> list[str]:
        rows = [r for r in self.table.to_pylist() if self.accepted_if is None or self.accepted_if(r)]
        if callable(self.key):
            return [str(i) for r in rows for i in self.key(r)]
        return [str(r[self.key]) for r in rows]

    @property
    def rejected_ids(self) -> list[str]:
        return [r.item_id for r in self.rejections]

    @property
    def inputs(self) -> int:
        return len(self.input_ids)

    @property
    def accepted(self) -> int:
        return len(self.accepted_ids)

    def unaccounted(self) -> dict[str, list[str]]:
        """Items given but neither accepted nor rejected (`missing`), and items that came out more
        often than they went in or were never given (`extra`)."""
        given, out = Counter(self.input_ids), Counter(self.accepted_ids) + Counter(self.rejected_ids)
        return {"missing": sorted((given - out).elements()), "extra": sorted((out - given).elements())}

    @property
    def accounted(self) -> bool:
        gaps = self.unaccounted()
        return not gaps["missing"] and not gaps["extra"]
