"""An environment over one version of a pipeline: its accepted examples, its tools and their executors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..runtime import Runtime
from ..spec import Pipeline
from ..stages.inputs import refined_docs
from .environment import ToolEnvironment
from .tasks import load_tasks


@dataclass
class Loaded:
    env: ToolEnvironment
    runtime: Runtime
    version: str
    left_out: dict[str, int]  # examples not served, by kind (multi-turn dialogues)

    def close(self) -> None:
        self.env.close()
        self.runtime.close()


def load_environment(
    pipeline: Pipeline, project_root: Path, home: Path, version: str | None = None, split: str | None = None
) -> Loaded:
    """The environment of `version` (default: the newest complete one), `split` (default: the `rl:` block's)."""
    rt = Runtime(pipeline, project_root, home)
    try:
        version = version or rt.store.latest_version(pipeline.name, "samples")
        if version is None:
            raise LookupError(
                f"pipeline {pipeline.name!r} has no complete version yet (run `toolloom run {pipeline.name}`)"
            )
        read = lambda table: rt.store.read(pipeline.name, table, version).to_pylist()  # noqa: E731
        tasks, left_out = load_tasks(
            read("samples"), read("trajectories"), refined_docs(rt, version) or {}, split or pipeline.rl.split
        )
        if not tasks:
            raise LookupError(
                f"version {version} of {pipeline.name!r} has no servable example in split "
                f"{split or pipeline.rl.split!r}"
            )
        env = ToolEnvironment(tasks, rt.executor(read("tools")), pipeline.rl)
    except BaseException:
        rt.close()
        raise
    return Loaded(env, rt, version, left_out)
