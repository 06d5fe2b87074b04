"""The asset factory: one Dagster asset group per pipeline YAML, one asset per stage.

Assets are thin: they pick the version, call the stage function and commit its result.
"""

import json
import logging
from pathlib import Path

import dagster as dg
import pyarrow as pa
from pydantic import Field

from . import progress
from .data_quality import verdicts
from .export import export_version, point_latest
from .materialize import check_specs, commit_stage
from .nightly import for_partition, seeds_of
from .prompts import render, template_hash
from .run_versions import begin, complete, day_of, final_name
from .runtime import Runtime
from .spec import Pipeline, load_pipelines
from .stages.api_graph import build_api_graph
from .stages.doc_revisions import refine_docs, tool_failures
from .stages.escalations import escalate
from .stages.samples import filter_samples
from .stages.simulate import simulate
from .stages.tasks import sample_tasks
from .stages.tools import build_tools

log = logging.getLogger("toolloom")


class ToolloomResource(dg.ConfigurableResource):
    """Where the project and its store live; builds one Runtime per (run, pipeline)."""

    project_root: str = Field(description="the folder holding pipelines/, prompts/, sandbox/, api_graphs/")
    home: str = Field(".toolloom", description="store and request cache, relative to project_root unless absolute")
    retry_backoff_s: float = 1.0

    def runtime(self, context: dg.AssetExecutionContext, pipeline: Pipeline) -> Runtime:
        key = (context.run.run_id, pipeline.name)
        if key not in _RUNTIMES:
            root = Path(self.project_root)
            for old in _RUNTIMES.values():  # one run at a time per process (in-process executor)
                old.close()
            _RUNTIMES.clear()
            partition = context.partition_key if context.has_partition_key else None
            _RUNTIMES[key] = Runtime(for_partition(pipeline, partition), root, root / self.home, backoff_s=self.retry_backoff_s)
        return _RUNTIMES[key]


    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """The run ended (succeeded, failed or was cancelled): stop its model servers and sandbox workers."""
        close_runtimes()


_RUNTIMES: dict[tuple[str, str], Runtime] = {}


def close_runtimes() -> None:
    for rt in _RUNTIMES.values():
        rt.close()
    _RUNTIMES.clear()


def pipeline_assets(pipeline: Pipeline) -> list[dg.AssetsDefinition]:
    p = pipeline.name
    partitions = daily_partitions(pipeline)
    common = {"group_name": p, "partitions_def": partitions, "kinds": {"duckdb", "parquet"}}

    def key(name: str) -> dg.AssetKey:
        return dg.AssetKey([p, name])

    @dg.asset(key=key("tools"), check_specs=check_specs(key("tools")), **common)
    def tools(context: dg.AssetExecutionContext, toolloom: ToolloomResource) -> dg.MaterializeResult:
        """Tools ingested from the pipeline's collections: one row per operation, broken specs rejected."""
        rt = toolloom.runtime(context, pipeline)
        result = build_tools(pipeline, rt.project_root, rt.sandbox, rt.executors())
        return commit_stage(rt, context, stage="ingest", table="tools", result=result, version=begin(context, rt),
                            preview=["tool_id", "description", "execution"])

    @dg.asset(key=key("api_edges"), deps=[tools], **common)
    def api_edges(context: dg.AssetExecutionContext, toolloom: ToolloomResource) -> dg.MaterializeResult:
        """API graph (ToolDial): edges from an output slot of one tool to a required input of another."""
        rt = toolloom.runtime(context, pipeline)
        version = begin(context, rt)
        graphml = rt.home / "graphs" / p / f"{version}.graphml"
        validator = rt.client_for("validator") if pipeline.stages.graph.llm_validation else None
        embedder = rt.embedder()
        embedder.progress = progress.reporter("graph embeddings", context.log.info)  # new texts only; cached ones are free
        try:
            result = build_api_graph(rt.store.read(p, "tools", version), embedder, pipeline.stages.graph, graphml,
                                     validator, rt.prompts_root)
        finally:
            embedder.progress = None
        return commit_stage(rt, context, stage="graph", table="api_edges", result=result, version=version, with_checks=False,
                            preview=["src_tool", "src_slot", "dst_tool", "dst_slot", "desc_sim"])

    @dg.asset(key=key("tasks"), deps=[api_edges], check_specs=check_specs(key("tasks")), **common)
    def tasks(context: dg.AssetExecutionContext, toolloom: ToolloomResource) -> dg.MaterializeResult:
        """Sampled tasks with reference chains (single, multi-hop, parallel, nested), each executed for its answer."""
        rt = toolloom.runtime(context, pipeline)
        version = begin(context, rt)
        tool_table = rt.store.read(p, "tools", version)
        edges = rt.store.read(p, "api_edges", version).to_pylist()
        result = sample_tasks(tool_table, rt.executor(tool_table.to_pylist()), rt.pipeline.stages.tasks, edges, user=rt.agent("user"))
        return commit_stage(rt, context, stage="tasks", table="tasks", result=result, version=version,
                            preview=["task_id", "shape", "chain", "reference_answer"])

    escalation_assets = []
    if pipeline.stages.escalate is not None:
        @dg.asset(key=key("escalations"), deps=[tasks], check_specs=check_specs(key("escalations"), empty_blocks=False), **common)
        def escalations(context: dg.AssetExecutionContext, toolloom: ToolloomResource) -> dg.MaterializeResult:
            """Tasks escalated level by level until the frontier agent fails (progressive difficulty)."""
            rt = toolloom.runtime(context, pipeline)
            version = begin(context, rt)
            tool_table = documented_tools(rt, version)
            result = escalate(rt.store.read(p, "tasks", version), tool_table, rt.store.read(p, "api_edges", version).to_pylist(),
                              frontier=rt.agent("frontier"), escalator=rt.agent("escalator"), verifier_for=rt.verifier,
                              executor=rt.executor(tool_table.to_pylist()), params=rt.pipeline.stages.escalate,
                              system_prompt=render("simulate/assistant_system.j2", rt.prompts_root, today=None),
                              prompt_hash=":".join(template_hash(t, rt.prompts_root) for t in ("escalate/reword.j2", "escalate/verify.j2")),
                              tokens_spent=lambda: rt.tokens_sent("escalate"), progress=progress.reporter("escalate", context.log.info))
            return commit_stage(rt, context, stage="escalate", table="escalations", result=result, version=version, empty_blocks=False,
                                preview=["seed_id", "level", "operator", "question", "outcome", "stop_reason"])

        escalation_assets.append(escalations)

    @dg.asset(key=key("trajectories"), deps=[tasks, *escalation_assets], check_specs=check_specs(key("trajectories")), **common)
    def trajectories(context: dg.AssetExecutionContext, toolloom: ToolloomResource) -> dg.MaterializeResult:
        """Simulated episodes (ToolAlpaca): user, assistant and tool executor, in OpenAI message format."""
        rt = toolloom.runtime(context, pipeline)
        version = begin(context, rt)
        tool_table = documented_tools(rt, version)
        report = progress.reporter("simulate", context.log.info)
        result = simulate(rt.store.read(p, "tasks", version), tool_table, user=rt.agent("user"), assistant=rt.agent("assistant"),
                          executor=rt.executor(tool_table.to_pylist()), params=pipeline.stages.simulate,
                          system_prompt=render("simulate/assistant_system.j2", rt.prompts_root, today=None),
                          prompt_hash=":".join(template_hash(t, rt.prompts_root) for t in (
                              "simulate/user.j2", "simulate/assistant_system.j2", "simulate/dialogue_turn.j2")),
                          progress=report, dialogue=rt.dialogue_realisers(), escalated=kept_escalations(rt, version))
        return commit_stage(rt, context, stage="simulate", table="trajectories", result=result, version=version,
                            preview=["traj_id", "outcome", "final_answer", "error"])

    refinement_assets = []
    if pipeline.stages.refine is not None:
        @dg.asset(key=key("doc_revisions"), deps=[trajectories, *escalation_assets], check_specs=check_specs(key("doc_revisions")), **common)
        def doc_revisions(context: dg.AssetExecutionContext, toolloom: ToolloomResource) -> dg.MaterializeResult:
            """Tool documentation refined by exploration (DRAFT): every revision, with its evidence and stop reason."""
            rt = toolloom.runtime(context, pipeline)
            version = begin(context, rt)
            params = pipeline.stages.refine
            tool_table = rt.store.read(p, "tools", version)
            failures = tool_failures(rt.store.read(p, "trajectories", version).to_pylist(),
                                     kept_escalations(rt, version, all_rows=True)) if params.use_failures else {}
            result = refine_docs(tool_table, explorer=rt.agent("explorer"), analyzer=rt.agent("analyzer"), rewriter=rt.agent("rewriter"),
                                 executor=rt.executor(tool_table.to_pylist()), embedder=rt.embedder(), params=params, failures=failures,
                                 start_docs=earlier_docs(rt, version) if params.start_from == "previous" else None,
                                 prompt_hash=":".join(template_hash(f"refine/{t}.j2", rt.prompts_root)
                                                      for t in ("explore", "analyze", "rewrite", "document")),
                                 progress=progress.reporter("refine", context.log.info))
            return commit_stage(rt, context, stage="refine", table="doc_revisions", result=result, version=version,
                                preview=["name", "round", "similarity_to_previous", "stop_reason", "text"])

        refinement_assets.append(doc_revisions)

    @dg.asset(key=key("samples"), deps=[trajectories], check_specs=check_specs(key("samples")), **common)
    def samples(context: dg.AssetExecutionContext, toolloom: ToolloomResource) -> dg.MaterializeResult:
        """Examples that passed quality filtering (the checks of stages.filter), with their split."""
        rt = toolloom.runtime(context, pipeline)
        version = begin(context, rt)
        result = filter_samples(rt.store.read(p, "trajectories", version), pipeline.stages.filter, pipeline.stages.export.test_share,
                                judge=rt.judge(), split_by=pipeline.stages.export.split_by,
                                seen=rt.store.kept_before(p, context.partition_key) if context.has_partition_key else ())
        return commit_stage(rt, context, stage="filter", table="samples", result=result, version=version,
                            preview=["sample_id", "shape", "num_calls", "split"])

    quality_checks = [dg.AssetCheckSpec(name, asset=key("dataset"), description=text) for name, text in dataset_checks(pipeline)]

    @dg.asset(key=key("dataset"), deps=[samples, *refinement_assets], check_specs=quality_checks, **common)
    def dataset(context: dg.AssetExecutionContext, toolloom: ToolloomResource) -> dg.MaterializeResult:
        """The exported dataset folder `datasets.load_dataset` reads (default, multi_turn, tools, the formats)."""
        rt = toolloom.runtime(context, pipeline)
        version = begin(context, rt)
        name = final_name(context, version)
        models = {role: f"{pipeline.model_for(role).provider}:{pipeline.model_for(role).model}" for role in ("user", "assistant")}
        provenance = {"pipeline": p, "version": name, "run": context.run.run_id, "models": models,
                      "collections": ", ".join(c.name for c in pipeline.collections), "toolloom": _version(),
                      "seeds": ", ".join(f"{k} {v}" for k, v in seeds_of(rt.pipeline).items())}
        if context.has_partition_key:
            provenance["nightly"] = (f"partition {context.partition_key}: its seeds are the pipeline's salted with the date, so each "
                                     "night samples new tasks; a rerun of this night answers from the request cache")
        folder = export_version(rt.project_root / pipeline.stages.export.root, p, name,
                                rt.store.read(p, "samples", version), rt.store.read(p, "trajectories", version),
                                rt.store.read(p, "tools", version), provenance, tuple(pipeline.stages.export.formats),
                                rt.store.read(p, "rejections", version).to_pylist(), refined_docs=refined_docs(rt, version),
                                quality=pipeline.stages.export.quality, leakage_similarity=pipeline.stages.filter.leakage_similarity,
                                edges=rt.store.read(p, "api_edges", version).to_pylist(), link_latest=False)
        context.log.info(f"exported {folder}")
        complete(context, rt, version, str(folder))
        point_latest(folder)  # only now: `latest` never points at a version that is not complete
        report = json.loads((folder / "manifest.json").read_text())["quality"]
        checks = []
        found = {v["name"]: v for v in verdicts(report, pipeline.stages.export.quality)}
        for name, _ in dataset_checks(pipeline):  # exactly the declared checks; a format with no checker says so
            v = found.get(name) or {"name": name, "passed": False, "severity": "WARN", "metadata": {},
                                    "description": f"not checked: no checker is registered for {name.removeprefix('conformance_')}"}
            (context.log.info if v["passed"] else context.log.warning)(f"data quality {v['name']}: {v['description']}")
            checks.append(dg.AssetCheckResult(check_name=v["name"], passed=v["passed"], description=v["description"],
                                              severity=getattr(dg.AssetCheckSeverity, v["severity"]),
                                              metadata={"report": dg.MetadataValue.json(v["metadata"])}))
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(folder)), "version": name,
                                              "readme": dg.MetadataValue.md((folder / "README.md").read_text().split("---\n", 2)[-1]),
                                              "data_quality": dg.MetadataValue.json(report)}, check_results=checks)

    return [tools, api_edges, tasks, *escalation_assets, trajectories, *refinement_assets, samples, dataset]


def dataset_checks(pipeline: Pipeline) -> list[tuple[str, str]]:
    """(name, description) of the dataset's data-quality checks, thresholds from stages.export.quality."""
    configs = [f.rsplit(":", 1)[-1] for f in pipeline.stages.export.formats if f != "openai"]
    out = [(f"conformance_{c}", f"the {c} rows pass their format's own checker") for c in configs]
    out += [("split_leakage", "no test call or near-duplicate request also in train"),
            ("documentation", "shipped tool descriptions carry no pipeline internals and fit the budget")]
    if pipeline.stages.export.quality.min_distinct_bigram_ratio is not None:
        out.append(("diversity", "distinct-bigram ratio of requests at least the threshold"))
    return out


def kept_escalations(rt: Runtime, version: str, all_rows: bool = False) -> list[dict]:
    if rt.pipeline.stages.escalate is None:
        return []
    return [r for r in rt.store.read(rt.pipeline.name, "escalations", version).to_pylist() if all_rows or r["kept"]]


def refined_docs(rt: Runtime, version: str) -> dict[str, str] | None:
    """Tool name -> the final refined documentation of this version (None without the refine stage)."""
    if rt.pipeline.stages.refine is None:
        return None
    return {r["name"]: r["text"] for r in rt.store.read(rt.pipeline.name, "doc_revisions", version).to_pylist() if r["final"]}


def documented_tools(rt: Runtime, version: str):
    """The tools agents are shown: with `refine.start_from: previous`, an earlier version's refined documentation."""
    table = rt.store.read(rt.pipeline.name, "tools", version)
    refine = rt.pipeline.stages.refine
    docs = earlier_docs(rt, version) if refine is not None and refine.start_from == "previous" else {}
    if not docs:
        return table
    described = [docs.get(t, d) for t, d in zip(table["tool_id"].to_pylist(), table["description"].to_pylist())]
    return table.set_column(table.schema.get_field_index("description"), "description", pa.array(described, pa.string()))


def earlier_docs(rt: Runtime, version: str) -> dict[str, str]:
    """tool_id -> refined documentation from the newest earlier version that has it, for tools whose spec is unchanged."""
    p = rt.pipeline.name
    own = {version, day_of(version)}  # a partition's rerun does not start from the partition's last run
    earlier = [v["version"] for v in rt.store.versions(p) if v["version"] not in own and v["tables"].get("doc_revisions")]
    if not earlier:
        return {}
    specs = {t["tool_id"]: t["spec_hash"] for t in rt.store.read(p, "tools", version).to_pylist()}
    return {r["tool_id"]: r["text"] for r in rt.store.read(p, "doc_revisions", earlier[-1]).to_pylist()
            if r["final"] and specs.get(r["tool_id"]) == r["spec_hash"]}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("toolloom")
    except PackageNotFoundError:
        return "dev"


def daily_partitions(pipeline: Pipeline) -> dg.DailyPartitionsDefinition | None:
    if pipeline.partitions != "daily":
        return None
    tz = pipeline.schedule.timezone if pipeline.schedule else "UTC"
    return dg.DailyPartitionsDefinition(start_date=pipeline.start_date, timezone=tz)


def pipeline_job(pipeline: Pipeline):
    return dg.define_asset_job(f"{pipeline.name}_job", selection=dg.AssetSelection.groups(pipeline.name),
                               partitions_def=daily_partitions(pipeline))


def build_definitions(project_root: str | Path) -> dg.Definitions:
    """Definitions for every valid pipeline of `project_root/pipelines`; invalid files are logged and skipped."""
    root = Path(project_root).resolve()
    pipelines, errors = load_pipelines(root / "pipelines")
    for e in errors:
        log.error("pipeline skipped: %s", e)
    assets, jobs, schedules = [], [], []
    for pipeline in pipelines.values():
        assets += pipeline_assets(pipeline)
        job = pipeline_job(pipeline)
        jobs.append(job)
        if pipeline.schedule:
            schedules.append(dg.build_schedule_from_partitioned_job(
                job, name=f"{pipeline.name}_nightly", hour_of_day=pipeline.schedule.hour,
                minute_of_hour=pipeline.schedule.minute, default_status=dg.DefaultScheduleStatus.RUNNING))
    return dg.Definitions(assets=assets, jobs=jobs, schedules=schedules, executor=dg.in_process_executor,
                          resources={"toolloom": ToolloomResource(project_root=str(root))})

