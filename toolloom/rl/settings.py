"""The `rl:` block of a pipeline file: how an environment episode is rewarded and bounded."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..llm.model_spec import Strict


class RewardWeights(Strict):
    """Weights of the reward's parts; the total is their weighted mean, so a perfect episode scores 1.0."""

    success: float = Field(1.0, ge=0)  # the filter's execution and completeness checks pass
    format: float = Field(0.2, ge=0)  # share of calls that name an offered tool with arguments its schema accepts
    efficiency: float = Field(0.2, ge=0)  # OTC's tool reward: fewest calls that do the task, counted on success

    @model_validator(mode="after")
    def _some_weight(self):
        if self.success + self.format + self.efficiency <= 0:
            raise ValueError("at least one reward weight must be above 0")
        return self


class RLSettings(Strict):
    weights: RewardWeights = RewardWeights()
    unrelated_call_cost: float = Field(0.25, ge=0, le=1)  # taken off efficiency per call of a tool the task needs not
    max_turns: int = Field(8, ge=1)  # assistant turns before the episode ends unanswered
    split: Literal["train", "test", "all"] = "train"  # which examples `toolloom env serve` offers by default
    max_concurrent: int = Field(64, ge=1)  # episodes one server runs at once
