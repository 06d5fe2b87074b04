"""A plug-in package (tests/cases/plugin_pkg), found through the `toolloom.plugins` entry point, adds an
ingest format, an executor, a filter check, an export format, a model provider and a stage; a pipeline
uses all six by name, with no change to toolloom."""

import importlib
import json
import shutil
import sys

import dagster as dg
import pytest
from datasets import load_dataset

from toolloom import registry
from toolloom.orchestration.dagster_defs import ToolloomResource, pipeline_assets
from toolloom.spec import load_pipeline
from toolloom.lake.store import Store

from .conftest import CASES, PROJECT


@pytest.fixture
def plugin_registries(monkeypatch):
    """The example plug-in loaded for one test; every registry is as before afterwards."""
    saved = {
        kind: {k: dict(v) if isinstance(v, dict) else v for k, v in reg._items.items()}  # provider role tables too
        for kind, reg in registry.registries().items()
    }
    monkeypatch.syspath_prepend(str(CASES / "plugin_pkg"))  # as if pip-installed: a dist-info with the entry point
    importlib.invalidate_caches()
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(sys, "_called_from_test", False)  # entry points are loaded for this test alone
    monkeypatch.setattr(registry, "PLUGINS", {})
    yield
    for kind, reg in registry.registries().items():
        reg._items.clear()
        reg._items.update(saved[kind])


def _cards(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(CASES / "plugin_project", project)
    (project / "prompts").symlink_to(PROJECT / "prompts")
    pipeline = load_pipeline(project / "pipelines" / "cards.yaml")
    stages = pipeline.stages.model_copy(
        update={"export": pipeline.stages.export.model_copy(update={"root": str(tmp_path / "exports")})}
    )
    return project, pipeline.model_copy(update={"stages": stages})


def _materialize(project, pipeline, home, selection=None):
    result = dg.materialize(
        pipeline_assets(pipeline),
        selection=selection,
        resources={"toolloom": ToolloomResource(project_root=str(project), home=str(home), retry_backoff_s=0.01)},
    )
    assert result.success
    return result, {
        e.asset_key.path[-1]: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }


@pytest.mark.pipeline
def test_a_plugin_package_adds_six_components_that_a_pipeline_names(tmp_path, plugin_registries):
    project, pipeline = _cards(tmp_path)
    result, md = _materialize(project, pipeline, tmp_path / "home")
    store = Store(tmp_path / "home")
    version = md["tools"]["version"]
    tools = {t["name"]: t for t in store.read("cards", "tools", version).to_pylist()}
    assert {n: (t["source_format"], t["execution"]) for n, t in tools.items()} == {
        "bike_count": ("toolcards", "lookup"),
        "air_quality": ("toolcards", "lookup"),
    }
    assert [r["reason"] for r in store.read("cards", "rejections", version).to_pylist() if r["stage"] == "ingest"] == [
        "missing_name"
    ]
    answers = [
        json.loads(t["reference_answer"])
        for t in store.read("cards", "tasks", version).to_pylist()
        if t["shape"] == "single"
    ]
    assert answers and all(a.get("count") == 4211 or a.get("aqi") == 37 for a in answers)
    trajectories = store.read("cards", "trajectories", version).to_pylist()
    assert {t["user_agent"] for t in trajectories} == {"offline-template-user"}  # the scripted provider's agents
    samples = store.read("cards", "samples", version).to_pylist()
    assert samples and all(json.loads(s["checks"])["no_shouting"] == "pass" for s in samples)
    alpaca = load_dataset(md["dataset"]["path"], "alpaca")["train"]
    assert alpaca.column_names == ["instruction", "output"] and len(alpaca) >= 1
    # the plug-in's stage ran after the samples it reads, with its settings from `stages.plugins`
    lengths = store.read("cards", "answer_lengths", version).to_pylist()
    answers = {t["traj_id"]: t["final_answer"] for t in trajectories}
    assert sorted(r["sample_id"] for r in lengths) == sorted(s["sample_id"] for s in samples)
    assert all(
        r["answer_words"] == len(answers[s["traj_id"]].split())
        for r, s in zip(sorted(lengths, key=lambda r: r["sample_id"]), sorted(samples, key=lambda s: s["sample_id"]))
    )
    assert md["answer_lengths"]["accepted"] + md["answer_lengths"]["rejected"] == len(samples)


@pytest.mark.pipeline
def test_a_plugin_stage_alone_reads_its_inputs_from_the_last_complete_version(tmp_path, plugin_registries):
    project, pipeline = _cards(tmp_path)
    home = tmp_path / "home"
    _, whole = _materialize(project, pipeline, home)
    _, alone = _materialize(project, pipeline, home, selection=["cards/answer_lengths"])
    assert set(alone) == {"answer_lengths"} and alone["answer_lengths"]["version"] != whole["tools"]["version"]
    store = Store(home)
    version = alone["answer_lengths"]["version"]
    copied = store.read("cards", "samples", version).to_pylist()  # copied from the base: the stage reads them
    assert copied and len(copied) == whole["samples"]["accepted"]
    assert alone["answer_lengths"]["inputs"] == len(copied)
    assert store.read("cards", "answer_lengths", version).num_rows == alone["answer_lengths"]["accepted"] > 0


def test_the_plugins_command_lists_each_plugin_and_what_it_adds(plugin_registries, capsys):
    from toolloom.cli import main

    assert main(["plugins"]) == 0
    listing = json.loads(capsys.readouterr().out)
    ((name, plugin),) = listing["plugins"].items()
    assert plugin["adds"] == {
        "ingest format": ["toolcards"],
        "executor": ["lookup"],
        "model provider": ["scripted"],
        "filter check": ["no_shouting"],
        "export format": ["alpaca"],
        "stage": ["answer_lengths"],
    }, plugin
    assert plugin["distribution"] and "components" not in listing
    assert main(["plugins", "--all"]) == 0
    components = json.loads(capsys.readouterr().out)["components"]
    assert components["stage"]["answer_lengths"] == f"entry point {name} ({plugin['value']})"
    assert components["stage"]["samples"] == components["export format"]["sharegpt"] == "built-in"


def test_under_the_test_suite_an_installed_plugin_is_not_loaded(monkeypatch):
    monkeypatch.syspath_prepend(str(CASES / "plugin_pkg"))  # installed, as far as entry points go
    importlib.invalidate_caches()
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(registry, "PLUGINS", {})
    assert registry.installed_plugins() == {} and "scripted" not in registry.PROVIDERS.names()


def test_after_the_plugin_test_the_registries_hold_only_the_built_ins():
    from toolloom.registry import PROVIDERS

    assert "scripted" not in PROVIDERS.names() and "toolcards" not in registry.registries()["ingest format"].names()
