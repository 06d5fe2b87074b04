"""A plug-in package (tests/cases/plugin_pkg), found through the `toolloom.plugins` entry point, adds an
ingest format, an executor, a filter check, an export format and a model provider; a pipeline
uses all five by name, with no change to toolloom."""
import importlib
import json
import shutil
import sys

import dagster as dg
import pytest
from datasets import load_dataset

from toolloom import registry
from toolloom.dagster_defs import ToolloomResource, pipeline_assets
from toolloom.spec import load_pipeline
from toolloom.store import Store

from .conftest import CASES, PROJECT


@pytest.fixture
def plugin_registries(monkeypatch):
    """The example plug-in loaded for one test; every registry is as before afterwards."""
    saved = {kind: {k: dict(v) if isinstance(v, dict) else v for k, v in reg._items.items()}  # provider role tables too
             for kind, reg in registry.registries().items()}
    monkeypatch.syspath_prepend(str(CASES / "plugin_pkg"))  # as if pip-installed: a dist-info with the entry point
    importlib.invalidate_caches()
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(sys, "_called_from_test", False)  # entry points are loaded for this test alone
    monkeypatch.setattr(registry, "PLUGINS", {})
    yield
    for kind, reg in registry.registries().items():
        reg._items.clear()
        reg._items.update(saved[kind])


@pytest.mark.pipeline
def test_a_plugin_package_adds_five_components_that_a_pipeline_names(tmp_path, plugin_registries):
    project = tmp_path / "project"
    shutil.copytree(CASES / "plugin_project", project)
    (project / "prompts").symlink_to(PROJECT / "prompts")
    pipeline = load_pipeline(project / "pipelines" / "cards.yaml")
    stages = pipeline.stages.model_copy(
        update={"export": pipeline.stages.export.model_copy(update={"root": str(tmp_path / "exports")})}
    )
    pipeline = pipeline.model_copy(update={"stages": stages})
    result = dg.materialize(pipeline_assets(pipeline), resources={
        "toolloom": ToolloomResource(project_root=str(project), home=str(tmp_path / "home"), retry_backoff_s=0.01)})
    assert result.success
    md = {
        e.asset_key.path[-1]: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }
    store = Store(tmp_path / "home")
    version = md["tools"]["version"]
    tools = {t["name"]: t for t in store.read("cards", "tools", version).to_pylist()}
    assert {n: (t["source_format"], t["execution"]) for n, t in tools.items()} == {
        "bike_count": ("toolcards", "lookup"), "air_quality": ("toolcards", "lookup")}
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


def test_the_plugins_command_lists_each_plugin_and_what_it_adds(plugin_registries, capsys):
    from toolloom.cli import main

    assert main(["plugins"]) == 0
    listing = json.loads(capsys.readouterr().out)
    (name, plugin), = listing["plugins"].items()
    assert plugin["adds"] == {"ingest format": ["toolcards"], "executor": ["lookup"], "model provider": ["scripted"],
                              "filter check": ["no_shouting"], "export format": ["alpaca"]}, plugin
    assert plugin["distribution"] and "components" not in listing


def test_under_the_test_suite_an_installed_plugin_is_not_loaded(monkeypatch):
    monkeypatch.syspath_prepend(str(CASES / "plugin_pkg"))  # installed, as far as entry points go
    importlib.invalidate_caches()
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(registry, "PLUGINS", {})
    assert registry.installed_plugins() == {} and "scripted" not in registry.PROVIDERS.names()


def test_after_the_plugin_test_the_registries_hold_only_the_built_ins():
    from toolloom.registry import PROVIDERS

    assert "scripted" not in PROVIDERS.names() and "toolcards" not in registry.registries()["ingest format"].names()
