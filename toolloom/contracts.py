"""What each extension point's component is: one typed signature per registry (docs/plugins.md).

These are the contracts the built-ins meet and a plug-in must meet; `tests/test_contracts.py` checks every
registered built-in against its Protocol. The data they are given is decoded once (`toolloom.domain`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol, runtime_checkable

from .domain import Example, Step, Tool, Trajectory

if TYPE_CHECKING:
    from .ingest import Rejection, ToolSpec
    from .runtime import Runtime
    from .sandbox import Observation
    from .spec import Collection, FilterStage
    from .stages import StageResult


@runtime_checkable
class IngestFormat(Protocol):
    """Registry `ingest format`: recognises a spec document and parses it into tools or rejections."""

    FORMAT: str

    def looks_like(self, doc: Any) -> bool: ...

    def parse(self, doc: Any, source: str) -> Iterable[ToolSpec | Rejection]: ...


@runtime_checkable
class Executor(Protocol):
    """What an `executor` plug-in's `build(config, collection, ctx)` returns: answers the calls of its tools."""

    kind: str

    def runs(self, tool_name: str) -> bool: ...

    async def call(self, tool: Tool, arguments: dict, episode: Any) -> Observation: ...

    def close(self) -> None: ...


class ExecutorBuild(Protocol):
    """Registry `executor` (with its config model, `ExecutorPlugin`): builds the executor of one collection."""

    def __call__(self, config: Any, collection: Collection, ctx: Runtime) -> Executor: ...


class FilterCheck(Protocol):
    """Registry `filter check`: why a trajectory is rejected, as (reason, detail), or None to keep it."""

    def __call__(self, trajectory: Trajectory, /) -> tuple[str, str] | None: ...


class FilterCheckWithSettings(Protocol):
    """A filter check that also reads the pipeline's `stages.filter` settings."""

    def __call__(self, trajectory: Trajectory, settings: FilterStage, /) -> tuple[str, str] | None: ...


class ExportConvert(Protocol):
    """Registry `export format` (`ExportFormat.convert`): one example as a row of the format, or None to leave
    it out of that format."""

    def __call__(self, example: Example, /) -> dict | None: ...


class EscalationOperator(Protocol):
    """Registry `escalation operator`: a harder chain built from a seed's executed steps (or a
    `graph.escalation.Harder`, which also describes values), or None."""

    async def __call__(
        self, chains: Any, steps: list[Step], rng: Any, other: list[Step] | None, /
    ) -> list[Step] | Any | None: ...


AgentFactory = Callable[["Runtime"], Any]
"""Registry `model provider`: role -> factory(ctx) building that role's agent for one run."""


class StageBuild(Protocol):
    """Registry `stage` (`StageAsset.build`): one stage over the version's tables."""

    def __call__(self, rt: Runtime, version: str, log: Callable[[str], None]) -> StageResult: ...
