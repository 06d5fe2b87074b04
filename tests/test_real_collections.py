"""Collections with no code for their tools: tasks from synthesised arguments, a graph with no edges,
executors chosen per collection (a plug-in one included), and the real corpora when present."""
import json
from pathlib import Path

import pytest
from datasets import load_dataset

from toolloom.executor import ToolExecutor
from toolloom.sandbox import Sandbox
from toolloom.spec import Pipeline, TasksStage
from toolloom.stages.tasks import sample_tasks
from toolloom.stages.tools import build_tools
from toolloom.store import Store
from toolloom.synthesis import has_source

from .conftest import PROJECT
from .test_pipeline_materialize import _materialize, _metadata

CORPORA = PROJECT.parent / "shared" / "corpora"


def _pipeline(tmp_path, executor="simulated") -> Pipeline:
    return Pipeline.model_validate({
        "name": "geometry", "collections": [{"name": "geometry", "path": "tests/cases/functions/geometry.json", "executor": executor}],
        "stages": {"tasks": {"per_tool": 2, "multi_hop": 3, "parallel": 2, "seed": 1}, "export": {"root": str(tmp_path / "exports")}}})


def test_a_collection_without_code_or_edges_becomes_a_dataset(tmp_path):
    result = _materialize(_pipeline(tmp_path), tmp_path / "home")
    assert result.success
    md = _metadata(result)
    for asset in ("tools", "api_edges", "tasks", "trajectories", "samples"):
        assert md[asset]["accepted"] + md[asset]["rejected"] == md[asset]["inputs"], asset
    # three tools x 2 single calls (the fourth has no typed parameter) and two parallel pairs; no edges, so no multi-hop
    assert md["api_edges"]["accepted"] == 0 and md["tasks"]["shapes"] == {"single": 6, "parallel": 2}
    store = Store(tmp_path / "home")
    rejected = store.read("geometry", "rejections", md["tasks"]["version"]).to_pylist()
    assert [(r["item_id"], r["reason"]) for r in rejected if r["stage"] == "tasks" and r["checker"] == "sampler"][0] == \
        ("geometry.polygon_area", "no_arguments")
    ds = load_dataset(md["dataset"]["path"])
    rows = list(ds["train"]) + list(ds["test"]) if "test" in ds else list(ds["train"])
    assert rows and {r["execution"] for r in rows} == {"simulated"}


def test_a_plug_in_executor_named_by_import_path_runs_its_tools(tmp_path):
    executor = {"kind": "tests.cases.plugins.echo_executor:plugin", "greeting": "bonjour"}
    result = _materialize(_pipeline(tmp_path, executor), tmp_path / "home")
    assert result.success
    md = _metadata(result)
    store = Store(tmp_path / "home")
    tools = {t["name"]: t["execution"] for t in store.read("geometry", "tools", md["tools"]["version"]).to_pylist()}
    assert tools == {"calculate_triangle_area": "echo", "circle_circumference": "echo", "convert_length": "echo", "polygon_area": "simulated"}
    tasks = store.read("geometry", "tasks", md["tasks"]["version"]).to_pylist()
    answer = json.loads(tasks[0]["reference_answer"])
    assert answer["greeting"] == "bonjour" and answer["arguments"] == json.loads(tasks[0]["chain"])[0]["arguments"]
    samples = store.read("geometry", "samples", md["samples"]["version"]).to_pylist()
    assert samples and {s["execution"] for s in samples} == {"echo"}


CORPUS_PATHS = {"rapidapi": "rapidapi/tools_sample.jsonl.gz", "bfcl": "bfcl", "livemcpbench": "livemcpbench/tools.json",
                "tmdb": "restbench/tmdb_oas.json", "spotify": "restbench/spotify_oas.json", "toolalpaca": "toolalpaca"}


@pytest.mark.skipif(not CORPORA.is_dir(), reason="../shared/corpora is not present (it is not shipped with the project)")
@pytest.mark.parametrize("corpus", sorted(CORPUS_PATHS))
def test_every_real_corpus_gives_tasks_for_most_of_its_tools(corpus):
    pipeline = Pipeline.model_validate({"name": corpus, "collections": [
        {"name": corpus, "path": str(CORPORA / CORPUS_PATHS[corpus]), "executor": "simulated"}]})
    sandbox = Sandbox(PROJECT / "sandbox")
    tools = build_tools(pipeline, PROJECT, sandbox)
    rows = tools.table.to_pylist()
    tasks = sample_tasks(tools.table, ToolExecutor(sandbox, rows), TasksStage(per_tool=1, seed=1))
    assert tools.accounted and tasks.accounted
    covered = {json.loads(c)[0]["name"] for c in tasks.table["chain"].to_pylist()}

    def eligible(t):
        schema = json.loads(t["parameters"])
        return all(has_source((schema.get("properties") or {}).get(p, {})) for p in schema.get("required") or [])

    can = [t for t in rows if eligible(t)]
    assert sum(t["name"] in covered for t in can) >= 0.8 * len(can)
    for r in tasks.rejections:  # every tool left out says what is missing
        assert r.reason in ("no_arguments", "reference_call_failed") and r.detail
