"""Pipeline YAML -> typed, validated configuration.

Every model forbids unknown keys so a typo is an error, not a silently ignored setting.
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, SerializeAsAny, ValidationError, field_validator, model_validator

from .executors.base import ExecutorConfig, executor_config
from .lake.storage import StorageSpec
from .rl.settings import RLSettings
from .registry import INGEST_FORMATS, PROVIDERS
from .stage_settings import (  # noqa: F401 (part of the spec's API)
    DIALOGUE_SCENARIOS,
    BUILTIN_OPERATORS,
    TASK_SHAPES,
    STEPS,
    TasksStage,
    Embeddings,
    GraphStage,
    SimulateStage,
    EscalateStage,
    RefineStage,
    FilterStage,
    ExportQuality,
    ExportStage,
    Stages,
)
from .llm.model_spec import LlamaCppServe, ModelSpec, Strict, VLLMServe, expand_env  # noqa: F401 (part of the spec's API)

ROLES = (
    "user",
    "assistant",
    "executor",
    "judge",
    "validator",
    "frontier",
    "escalator",
    "explorer",
    "analyzer",
    "rewriter",
)


class Collection(Strict):
    name: str
    path: str | None = Field(
        None, description="a folder (or a single file) of tool specs, relative to the project root"
    )
    format: str = Field(
        "auto",
        description="auto (detected), or a registered ingest format: openapi, toolalpaca, mcp, "
        "toolbench, rapidapi, bfcl, function_json, a plug-in's, or module:attr",
    )
    executor: SerializeAsAny[ExecutorConfig] = Field(
        default_factory=lambda: executor_config("python"),
        description="how calls are answered: python (sandbox code, the rest simulated), simulated, mcp, http, or a "
        "plug-in",
    )

    examples: dict[str, list[dict]] = Field(
        {}, description="tool name -> example arguments, added to what the spec documents"
    )
    ref_hosts: list[str] = Field(
        [],
        description="hosts ('host' or 'host:port') that remote $refs of its specs may be fetched from over "
        "HTTP(S); a remote $ref elsewhere is refused",
    )

    @field_validator("format")
    @classmethod
    def _registered_format(cls, v: str) -> str:
        return INGEST_FORMATS.check(v, extra=("auto",))

    @field_validator("executor", mode="before")
    @classmethod
    def _registered_executor(cls, v):
        return executor_config(v)

    @model_validator(mode="after")
    def _tools_from_somewhere(self):
        if self.path is None and not self.executor.lists_tools:
            raise ValueError(
                f"collection {self.name!r} needs a path (the {self.executor.kind} executor does not list tools)"
            )
        return self


class Schedule(Strict):
    """When a daily pipeline regenerates: `M H * * *`; each run makes the previous day's version."""

    cron: str = "0 2 * * *"
    timezone: str = "UTC"
    running: bool = Field(False, description="on when the UI loads it (else turned on there)")

    @field_validator("cron")
    @classmethod
    def _daily_cron(cls, v: str) -> str:
        m = re.fullmatch(r"(\d{1,2}) (\d{1,2}) \* \* \*", v.strip())
        if not m or int(m.group(1)) > 59 or int(m.group(2)) > 23:
            raise ValueError("must be a daily cron 'MINUTE HOUR * * *' (daily partitions are the dataset versions)")
        return v.strip()

    @property
    def minute(self) -> int:
        return int(self.cron.split()[0])

    @property
    def hour(self) -> int:
        return int(self.cron.split()[1])


class Budget(Strict):
    max_tokens: int | None = Field(None, ge=1, description="prompt+completion tokens across the run")


# what the sandbox (bubblewrap: pid, mount and network namespaces, a fresh /proc) needs inside a pod: root with
# CAP_SYS_ADMIN in the pod's container (the runtime's default seccomp profile then allows its namespace calls;
# tool code itself runs as an unprivileged user under toolloom's own seccomp filter), and no AppArmor profile that
# forbids mounts (the container runtime's default one does). README: Running at scale, Kubernetes.
SANDBOX_SECURITY_CONTEXT = {
    "run_as_user": 0,
    "capabilities": {"add": ["SYS_ADMIN"]},
    "seccomp_profile": {"type": "RuntimeDefault"},
    "app_armor_profile": {"type": "Unconfined"},
}
RESOURCE_KEYS = {"requests", "limits"}


def _resources(v: dict) -> dict:
    if set(v) - RESOURCE_KEYS:
        raise ValueError(f"resources take requests and limits, not {sorted(set(v) - RESOURCE_KEYS)}")
    for kind, amounts in v.items():
        if not isinstance(amounts, dict) or not all(isinstance(a, (str, int, float)) for a in amounts.values()):
            raise ValueError(f"resources.{kind} must map a resource (cpu, memory, nvidia.com/gpu) to an amount")
    return v


class K8sSettings(Strict):
    """A pod per step through dagster-k8s's job executor: what its run config carries (README: Kubernetes)."""

    image: str | None = Field(None, description="the step pods' image (unset: the code location's own image)")
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    namespace: str | None = Field(None, description="unset: the run launcher's, else 'default'")
    service_account: str | None = None
    env_secrets: list[str] = Field([], description="Kubernetes Secrets whose keys become the pods' environment")
    env_vars: list[str] = Field([], description="KEY=VALUE, or KEY to pass the launching process's value on")
    resources: dict[str, dict] = Field({}, description="requests and limits of every step's container")
    stage_resources: dict[str, dict[str, dict]] = Field(
        {}, description="a stage's table (and its shards) -> requests and limits instead, e.g. a GPU for trajectories"
    )
    security_context: dict = Field(
        default_factory=lambda: dict(SANDBOX_SECURITY_CONTEXT),
        description="the step container's securityContext; the default is what the tool sandbox needs",
    )

    @field_validator("resources")
    @classmethod
    def _valid_resources(cls, v: dict) -> dict:
        return _resources(v)

    @field_validator("stage_resources")
    @classmethod
    def _valid_stage_resources(cls, v: dict) -> dict:
        for stage in v.values():
            _resources(stage)
        return v


class Execution(Strict):
    """How a run's steps execute (Dagster executors): one process, a process per step, or a pod per step."""

    executor: Literal["in_process", "multiprocess", "k8s"] = "in_process"
    max_concurrent: int = Field(4, ge=1, description="steps running at once (multiprocess, k8s)")
    shards: int = Field(
        1,
        ge=1,
        le=64,
        description="the model-heavy stages (escalations, trajectories) as this "
        "many assets, each a share of the tasks; merged at samples",
    )
    k8s: K8sSettings = K8sSettings()


class Pipeline(Strict):
    name: str
    description: str = ""
    collections: list[Collection] = Field(min_length=1)
    models: dict[str, ModelSpec] = {"default": ModelSpec()}
    stages: Stages = Stages()
    partitions: Literal["none", "daily"] = "none"
    start_date: str = "2026-01-01"
    schedule: Schedule | None = None
    budget: Budget = Budget()
    storage: StorageSpec = StorageSpec()
    execution: Execution = Execution()
    rl: RLSettings = RLSettings()  # rewards of `toolloom env serve` (toolloom/rl)

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", v):
            raise ValueError("must be lower-case letters, digits and _ (it names Dagster assets and SQL schemas)")
        return v

    @field_validator("models")
    @classmethod
    def _known_roles(cls, v: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
        unknown = sorted(set(v) - set(ROLES) - {"default"})
        if unknown:
            raise ValueError(f"unknown role(s) {unknown}; roles are default, {', '.join(ROLES)}")
        return v

    @model_validator(mode="after")
    def _validation_needs_a_model(self):
        provider = self.model_for("validator").provider
        if self.stages.graph.llm_validation and "validator" not in PROVIDERS.get(provider):
            raise ValueError(
                f"stages.graph.llm_validation needs a model; provider {provider!r} has no validator: set "
                "models.validator (or models.default) to an endpoint"
            )
        return self

    @model_validator(mode="after")
    def _schedule_needs_partitions(self):
        if self.schedule and self.partitions == "none":
            raise ValueError("a schedule needs partitions: daily (each night is a dataset version)")
        return self

    def model_for(self, role: str) -> ModelSpec:
        return self.models.get(role) or self.models.get("default") or ModelSpec()


class PipelineFileError(Exception):
    """A pipeline file that cannot be used; str() is one line naming the file, field and problem."""

    def __init__(self, path: Path, message: str):
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


def _fields_at(loc: tuple) -> list[str]:
    """The settings a pipeline file may write at `loc` (a path of keys), [] where it cannot tell."""
    model = Pipeline
    for key in loc:
        field = model.model_fields.get(key) if isinstance(key, str) else None
        annotation = getattr(field, "annotation", None)
        inner = [a for a in (getattr(annotation, "__args__", None) or (annotation,)) if isinstance(a, type)]
        model = next((a for a in inner if issubclass(a, Strict)), None)
        if model is None:
            return []
    return list(model.model_fields)


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":  # a misspelt setting: name the one meant
            close = difflib.get_close_matches(str(e["loc"][-1]), _fields_at(e["loc"][:-1]), n=1)
            msg += f" (did you mean {close[0]!r}?)" if close else ""
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def load_pipeline(path: str | Path) -> Pipeline:
    """The pipeline of one YAML file. A `module:attr` it names is imported now (an import error is a validation
    error), found on `sys.path` or in the project folder (the one holding `pipelines/`), which is appended to it."""
    path = Path(path)
    project = str(path.resolve().parent.parent)
    if path.resolve().parent.name == "pipelines" and project not in sys.path:
        sys.path.append(project)  # after installed packages: a project module never shadows one
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise PipelineFileError(path, f"{where}invalid YAML ({getattr(e, 'problem', e)})") from None
    except OSError as e:
        raise PipelineFileError(path, f"cannot read ({e.strerror})") from None
    if not isinstance(raw, dict):
        raise PipelineFileError(path, "expected a mapping of pipeline settings at the top level")
    raw.setdefault("name", path.stem)
    try:
        return Pipeline.model_validate(raw)
    except ValidationError as e:
        raise PipelineFileError(path, _describe(e)) from None


def load_pipelines(folder: str | Path) -> tuple[dict[str, Pipeline], list[PipelineFileError]]:
    """All pipelines of a folder; a bad file is reported and the others still load."""
    good: dict[str, Pipeline] = {}
    errors: list[PipelineFileError] = []
    for path in sorted(Path(folder).glob("*.y*ml")):
        try:
            p = load_pipeline(path)
        except PipelineFileError as e:
            errors.append(e)
            continue
        if p.name in good:
            errors.append(PipelineFileError(path, f"name {p.name!r} is already used by another pipeline file"))
            continue
        good[p.name] = p
    return good, errors
