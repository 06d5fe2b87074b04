"""One registry per extension point: names a plug-in registers are what the spec accepts, unknown
names are refused with the names available, and built-ins load through the same path."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from toolloom import registry
from toolloom.agents import register
from toolloom.spec import Pipeline

from .conftest import PROJECT

KINDS = {"ingest format", "executor", "model provider", "filter check", "export format", "escalation operator", "stage"}


@pytest.fixture
def restored():
    saved = {kind: dict(reg._items) for kind, reg in registry.registries().items()}
    yield
    for kind, reg in registry.registries().items():
        reg._items.clear()
        reg._items.update(saved[kind])


def _pipeline(**stages_and_models):
    return Pipeline(name="p", collections=[{"name": "c", "path": "x"}], **stages_and_models)


def test_every_extension_point_is_one_registry_with_its_built_ins():
    assert set(registry.registries()) == KINDS
    assert {"openapi", "mcp", "bfcl"} <= set(registry.INGEST_FORMATS.names())
    assert registry.EXECUTORS.names() == ["http", "mcp", "python", "simulated"]
    assert registry.ESCALATION_OPERATORS.names() == [
        "add_constraint",
        "add_distractor",
        "add_hop",
        "branch_on_result",
        "describe_value",
        "replace_value",
    ]
    assert {"sharegpt", "xlam", "bfcl"} == set(registry.EXPORT_FORMATS.names())
    assert registry.STAGES.names() == sorted(
        ["tools", "api_edges", "tasks", "escalations", "trajectories", "doc_revisions", "samples", "dataset"]
    )
    assert registry.STAGES.origin("samples") == "built-in" and registry.STAGES.origin("x.y:z") == "import path"
    offline = registry.PROVIDERS.get("offline")
    assert {"user", "assistant", "judge", "realiser.user", "verifier"} <= set(offline) and "validator" not in offline


@pytest.mark.parametrize(
    "where, value, kind",
    [
        ({"models": {"user": {"provider": "anthropic"}}}, None, "model provider"),
        ({"stages": {"filter": {"checks": ["format", "no_shouting"]}}}, None, "filter check"),
        ({"stages": {"export": {"formats": ["openai", "alpaca"]}}}, None, "export format"),
        ({"stages": {"escalate": {"operators": {"add_hop": 1, "swap_units": 1}}}}, None, "escalation operator"),
    ],
)
def test_an_unknown_name_is_refused_with_the_names_available(where, value, kind):
    with pytest.raises(ValidationError, match=f"unknown {kind} .*; known: "):
        _pipeline(**where)


def test_a_registered_provider_check_and_format_are_accepted_by_the_spec(restored):
    register("anthropic", "user", lambda ctx: None)
    registry.FILTER_CHECKS.register("no_shouting", lambda traj: None)
    registry.EXPORT_FORMATS.register("alpaca", (lambda row: row, None))
    pipeline = _pipeline(
        models={"user": {"provider": "anthropic"}},
        stages={"filter": {"checks": ["format", "no_shouting"]}, "export": {"formats": ["openai", "alpaca"]}},
    )
    assert pipeline.model_for("user").provider == "anthropic"
    assert "no_shouting" in pipeline.stages.filter.checks and "alpaca" in pipeline.stages.export.formats


def test_a_component_is_named_by_import_path():
    pipeline = _pipeline(stages={"filter": {"checks": ["format", "toolloom.stages.samples:check_safety"]}})
    assert registry.FILTER_CHECKS.get(pipeline.stages.filter.checks[1]).__name__ == "check_safety"
    with pytest.raises(ValueError, match="cannot be imported"):
        registry.FILTER_CHECKS.get("toolloom.stages.samples:no_such_check")


def test_graph_validation_needs_a_provider_that_has_a_validator():
    with pytest.raises(ValidationError, match="provider 'offline' has no validator"):
        _pipeline(stages={"graph": {"llm_validation": True}})
    pipeline = _pipeline(
        stages={"graph": {"llm_validation": True}},
        models={"validator": {"provider": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1"}},
    )
    assert pipeline.model_for("validator").provider == "openai"


@pytest.mark.services
def test_validating_a_pipeline_loads_the_built_ins_it_names_through_the_registry():
    """spec.py imports no stage, agent or executor module: the registries import their built-ins when
    first asked (a fresh interpreter, so nothing is imported yet)."""
    code = (
        "import sys; import toolloom.spec as s; before = {m for m in sys.modules if m.startswith('toolloom.')};"
        "s.load_pipeline('pipelines/demo.yaml');"
        "print(sorted(m for m in ('toolloom.stages.samples', 'toolloom.agents', 'toolloom.formats')"
        " if m in before))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_module_in_the_project_folder_is_found_and_a_bad_name_in_it_is_a_validation_error(tmp_path, monkeypatch):
    from toolloom.spec import PipelineFileError, load_pipeline

    monkeypatch.setattr(sys, "path", list(sys.path))  # the project folder is appended: undone after the test
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "project_checks_x1.py").write_text("def no_questions(traj):\n    return None\n")
    good = tmp_path / "pipelines" / "good.yaml"
    good.write_text(
        "collections: [{name: c, path: x.json}]\n"
        'stages: {filter: {checks: [format, "project_checks_x1:no_questions"]}}\n'
    )
    pipeline = load_pipeline(good)
    assert registry.FILTER_CHECKS.get(pipeline.stages.filter.checks[1]).__name__ == "no_questions"
    bad = tmp_path / "pipelines" / "bad.yaml"
    bad.write_text(
        'collections: [{name: c, path: x.json}]\nstages: {filter: {checks: ["project_checks_x1:no_such"]}}\n'
    )
    with pytest.raises(
        PipelineFileError,
        match=r"bad.yaml: stages.filter.checks: filter check "
        r"'project_checks_x1:no_such' cannot be imported",
    ):
        load_pipeline(bad)
