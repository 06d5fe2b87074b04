"""The pipeline's stages: plain functions from tables to tables, runnable without Dagster."""
from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from ..ingest import Rejection


@dataclass
class StageResult:
    """What a stage made. `inputs` counts the items it was given: accepted + rejected must equal it."""

    table: pa.Table
    rejections: list[Rejection]
    inputs: int
    accepted: int
    metadata: dict = field(default_factory=dict)

    @property
    def accounted(self) -> bool:
        return self.accepted + len(self.rejections) == self.inputs
