"""Tier 2: whole pipelines through `dagster.materialize`, offline and against the fake endpoint."""

import pytest
import json
import re
from pathlib import Path

import dagster as dg
from datasets import concatenate_datasets, load_dataset

from toolloom.orchestration.dagster_defs import ToolloomResource, pipeline_assets
from toolloom.llm.fake_server import FakeServer, Faults
from toolloom.spec import Budget, ModelSpec
from toolloom.lake.store import Store

from .conftest import PROJECT

pytestmark = pytest.mark.pipeline

STAGES = {
    "tools": "ingest",
    "tasks": "tasks",
    "escalations": "escalate",
    "trajectories": "simulate",
    "samples": "filter",
}


def _materialize(pipeline, home, instance=None):
    return dg.materialize(
        pipeline_assets(pipeline),
        instance=instance,
        resources={"toolloom": ToolloomResource(project_root=str(PROJECT), home=str(home), retry_backoff_s=0.01)},
    )


def _metadata(result):
    return {
        e.asset_key.path[-1]: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }


def _assert_accounted(md):
    for asset in STAGES:
        assert md[asset]["accepted"] + md[asset]["rejected"] == md[asset]["inputs"], asset


def test_offline_demo_materializes_and_exports_a_loadable_dataset(demo_run):
    result, md = demo_run.result, demo_run.metadata
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    _assert_accounted(md)
    assert md["tools"]["accepted"] >= 10 and md["samples"]["accepted"] > 20
    ds = load_dataset(md["dataset"]["path"])
    assert ds["train"].num_rows + ds.get("test", []).__len__() == md["samples"]["accepted"]
    import yaml

    card = (Path(md["dataset"]["path"]) / "README.md").read_text()
    configs = [c["config_name"] for c in yaml.safe_load(card.split("---\n")[1])["configs"]]
    assert {"default", "multi_turn", "sharegpt", "xlam", "bfcl", "tools"} <= set(configs)
    for config in configs:
        assert load_dataset(md["dataset"]["path"], config)["train"].num_rows > 0, config
    for image in re.findall(r"!\[[^]]*\]\(([^)]+)\)", card):
        assert (Path(md["dataset"]["path"]) / image).stat().st_size > 1000
    roles = [m["role"] for m in ds["train"][0]["messages"]]
    assert "tool" in roles and roles[-1] == "assistant"
    store = Store(demo_run.home)
    version = md["samples"]["version"]
    assert {"tools", "tasks", "escalations", "trajectories", "samples", "rejections"} <= set(
        store.versions("demo")[0]["tables"]
    )
    assert store.read("demo", "samples", version).num_rows == md["samples"]["accepted"]
    _assert_kept_levels_are_first_failures(store, version, md, ds)


def _assert_kept_levels_are_first_failures(store, version, md, ds):
    """Progressive difficulty: several levels reach the export, and each kept escalated example is a
    level the frontier failed right above one it solved."""
    assert md["escalations"]["accepted"] + md["escalations"]["rejected"] == md["escalations"]["inputs"]
    levels = set(ds["train"]["level"]) | set(ds["test"]["level"] if "test" in ds else [])
    assert len(levels - {0}) >= 2, levels
    assert set(md["escalations"]["kept_levels"]) == {str(level) for level in levels - {0}}
    rows = store.read("demo", "escalations", version).to_pylist()
    kept = [r for r in rows if r["kept"]]
    assert len(kept) == md["escalations"]["accepted"] > 0
    by_task = {r["task_id"]: r for r in rows if r["outcome"] != "dropped"}
    for r in kept:
        attempts = json.loads(r["attempts"])
        assert r["outcome"] == "failed" and attempts and all(a["outcome"] == "failed" for a in attempts)
        below = by_task[r["parent_id"]]
        assert below["level"] == r["level"] - 1 and below["outcome"] == "solved"
        assert any(a["outcome"] == "solved" for a in json.loads(below["attempts"]))
    offered = {t["traj_id"]: t["tools_offered"] for t in store.read("demo", "trajectories", version).to_pylist()}
    near = [r for r in kept if r["operator"] == "add_distractor"]
    assert near  # the demo keeps levels whose frontier took a nearly right tool
    for r in near:  # the replayed example offers them, as the frontier's attempt did
        names = {t["function"]["name"] for t in json.loads(offered["dm_" + r["task_id"][2:]])}
        assert set(json.loads(r["distractors"])) <= names
    samples = store.read("demo", "samples", version).to_pylist()
    assert {(s["task_id"], s["level"]) for s in samples if s["level"] > 0} <= {(r["task_id"], r["level"]) for r in kept}


def _with_endpoint(pipeline, server, timeout_s=0.5, **extra):
    """The demo's stages at about a third of its tasks and without refinement, every role on `server`."""
    spec = ModelSpec(
        provider="openai", model="fake", base_url=server.base_url, timeout_s=timeout_s, max_retries=8, **extra
    )
    tasks = pipeline.stages.tasks.model_copy(update={"per_tool": 1, "multi_hop": 12, "parallel": 6, "nested": 6})
    stages = pipeline.stages.model_copy(update={"tasks": tasks, "refine": None})
    return pipeline.model_copy(update={"models": {"default": spec}, "stages": stages})


def test_thirty_percent_faults_finish_accounted_and_a_rerun_asks_nothing(tmp_path, demo_pipeline, monkeypatch):
    secret = "sk-toolloom-test-KEY-9f8e7d6c5b4a"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    # a hung answer (3 s) is always past the client's limit (2 s), and an ordinary one far inside it even on a
    # busy machine: a request that gave up for slowness would be asked again by the rerun
    with FakeServer(faults=Faults(rate=0.3, seed=11, hang_s=3.0)) as server:
        pipeline = _with_endpoint(demo_pipeline, server, timeout_s=2.0)
        (tmp_path / "dagster").mkdir()
        instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster"))
        result = _materialize(pipeline, tmp_path / "home", instance)
        assert result.success
        md = _metadata(result)
        _assert_accounted(md)
        assert sum(server.faults_injected.values()) > 0
        sent = server.requests
        store = Store(tmp_path / "home")
        version = md["trajectories"]["version"]
        rejections = store.read("demo", "rejections", version).to_pylist()
        assert all(r["reason"] and r["checker"] for r in rejections)
        content_faults = {"truncated", "unknown_tool", "wrong_types"} & set(server.faults_injected)
        if content_faults:
            reasons = {r["reason"] for r in rejections}
            assert reasons & {"model_error", "unknown_tool", "schema_violation", "tool_error"}
        calls = store.read("demo", "llm_calls", version).to_pylist()
        assert calls and all(c["status"] == "ok" or c["error"] for c in calls)

        again = _metadata(_materialize(pipeline, tmp_path / "home", instance))
        assert server.requests == sent, "a rerun with the same configuration must not ask the endpoint again"
        for asset in STAGES:
            assert again[asset]["accepted"] == md[asset]["accepted"], asset

    scanned = 0
    for root in (tmp_path,):
        for f in root.rglob("*"):
            if f.is_file():
                scanned += 1
                assert secret.encode() not in f.read_bytes(), f"API key leaked into {f}"
    assert scanned > 10


def test_token_budget_stops_cleanly_with_the_rest_recorded(tmp_path, demo_pipeline):
    with FakeServer() as server:
        pipeline = _with_endpoint(demo_pipeline, server).model_copy(update={"budget": Budget(max_tokens=400)})
        result = dg.materialize(
            pipeline_assets(pipeline),
            raise_on_error=False,
            resources={"toolloom": ToolloomResource(project_root=str(PROJECT), home=str(tmp_path / "home"))},
        )
    md = _metadata(result)
    traj = md["trajectories"]
    assert traj["accepted"] + traj["rejected"] == traj["inputs"]
    version = traj["version"]
    reasons = [r["reason"] for r in Store(tmp_path / "home").read("demo", "rejections", version).to_pylist()]
    assert reasons.count("budget_exhausted") > 0
    statuses = [c["status"] for c in Store(tmp_path / "home").read("demo", "llm_calls", version).to_pylist()]
    assert "budget" in statuses and "ok" in statuses


def test_model_backed_multi_turn_dialogues_through_real_http(tmp_path, demo_pipeline):
    from toolloom.llm.fake_server import FakeModel

    model = FakeModel()
    with FakeServer(model) as server:
        pipeline = _with_endpoint(demo_pipeline, server)
        stages = pipeline.stages.model_copy(
            update={"simulate": pipeline.stages.simulate.model_copy(update={"multi_turn_share": 0.5})}
        )
        result = _materialize(pipeline.model_copy(update={"stages": stages}), tmp_path / "home")
    assert result.success
    md = _metadata(result)
    version = md["trajectories"]["version"]
    rows = Store(tmp_path / "home").read("demo", "trajectories", version).to_pylist()
    dialogues = [r for r in rows if r["kind"] == "multi_turn" and r["outcome"] == "answered"]
    assert len(dialogues) >= 10
    for r in dialogues[:5]:
        assert any(m["tool_calls"] for m in r["messages"]) and json.loads(r["actions"])["actions"]
    prompts = [req["messages"][0]["content"] for req in model.history if not req.get("tools")]
    assert any(p.startswith("You write one turn of a conversation") for p in prompts)
    samples = Store(tmp_path / "home").read("demo", "samples", version).to_pylist()
    assert any(s["traj_id"].startswith("md_") for s in samples)


def test_exported_calls_are_offered_valid_and_reproduce_their_results(demo_run):
    import asyncio

    from toolloom.checks.arguments import argument_errors
    from toolloom.executors.routing import ToolExecutor
    from toolloom.sandbox import Sandbox

    md = demo_run.metadata
    loaded = load_dataset(md["dataset"]["path"])
    ds = concatenate_datasets([loaded[split] for split in loaded])
    tools = Store(demo_run.home).read("demo", "tools", md["samples"]["version"]).to_pylist()
    executor = ToolExecutor(Sandbox(PROJECT / "sandbox"), tools)
    kinds = {r["kind"] for r in ds}
    shapes = {r["shape"] for r in ds}
    assert (
        kinds == {"single_turn", "multi_turn", "abstain", "ask", "recover"}
        and {"single", "multi_hop", "parallel", "nested"} <= shapes
    )

    async def replay(example):
        offered = {t["function"]["name"]: t["function"]["parameters"] for t in example["tools"]}
        episode, results = (
            executor.episode(),
            {m["tool_call_id"]: json.loads(m["content"]) for m in example["messages"] if m["role"] == "tool"},
        )
        checked = 0
        for m in example["messages"]:
            for call in m["tool_calls"] or []:
                name, args = call["function"]["name"], call["function"]["arguments"]  # exported as objects
                assert name in offered and argument_errors(offered[name], args) == []
                assert (await episode.call(name, args)).content == results[call["id"]]
                checked += 1
        return checked

    calls = sum(asyncio.run(replay(ds[i])) for i in range(0, len(ds), 3))
    assert calls > 30
