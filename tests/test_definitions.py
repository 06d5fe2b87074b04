"""Tier 3: the Dagster definitions load, with one group per pipeline, checks and the nightly schedule."""

import importlib.util
import logging
import shutil

import dagster as dg

from toolloom.orchestration.dagster_defs import build_definitions

from .conftest import CASES, PROJECT


def _load_project_definitions():
    spec = importlib.util.spec_from_file_location("project_definitions", PROJECT / "assets" / "definitions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.defs


def test_project_definitions_load_with_groups_checks_and_schedule():
    defs = _load_project_definitions()
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for pipeline in ("demo", "nightly", "gpu"):
        assert {
            f"{pipeline}/tools",
            f"{pipeline}/tasks",
            f"{pipeline}/trajectories",
            f"{pipeline}/samples",
            f"{pipeline}/dataset",
        } <= keys
    assert {"demo/escalations", "demo/doc_revisions"} <= keys  # the optional stages the demo turns on
    assert "nightly/escalations" not in keys
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups == {
        "demo",
        "nightly",
        "gpu",
        "mcp_servers",
        "local_model",
        "openapi",
    }  # loading definitions starts no model or MCP server
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert ("demo/samples", "accounted") in checks and ("demo/trajectories", "non_empty") in checks
    assert ("demo/escalations", "accounted") in checks and ("demo/doc_revisions", "accounted") in checks
    schedule = defs.resolve_schedule_def("nightly_nightly")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "UTC"
    # off until turned on (in the UI, or `schedule: {running: true}`): a fresh checkout has no endpoint for it
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert defs.resolve_job_def("demo_job") is not None
    # a checker that is not installed declares no check at all (never a red "failed" for what did not run)
    from toolloom.formats.conformance import bfcl_checker_installed

    assert (("demo/dataset", "conformance_bfcl") in checks) == bfcl_checker_installed()
    assert ("demo/dataset", "conformance_xlam") in checks


def test_a_bad_pipeline_file_is_logged_and_the_rest_load(tmp_path, caplog):
    for folder in ("prompts", "sandbox", "api_graphs"):
        (tmp_path / folder).symlink_to(PROJECT / folder)
    (tmp_path / "pipelines").mkdir()
    shutil.copy(CASES / "pipelines" / "good.yaml", tmp_path / "pipelines")
    shutil.copy(CASES / "pipelines" / "typo.yaml", tmp_path / "pipelines")
    with caplog.at_level(logging.ERROR, logger="toolloom"):
        defs = build_definitions(tmp_path)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert "good/tools" in keys and not any(k.startswith("typo/") for k in keys)
    assert any("typo.yaml" in r.getMessage() and "max_turn" in r.getMessage() for r in caplog.records)


def test_the_dagster_resource_keeps_its_home_where_toolloom_home_says(tmp_path, monkeypatch):
    """A deployment's pods name the home by TOOLLOOM_HOME, as the CLI reads it; an explicit home still wins."""
    from types import SimpleNamespace

    import yaml

    from toolloom.orchestration.dagster_defs import ToolloomResource, close_runtimes
    from toolloom.spec import Pipeline

    from .conftest import SMALL

    pipeline = Pipeline.model_validate({**yaml.safe_load(SMALL), "name": "small"})
    context = SimpleNamespace(run=SimpleNamespace(run_id="r1"), has_partition_key=False, partition_key=None)
    monkeypatch.setenv("TOOLLOOM_HOME", str(tmp_path / "pod-home"))
    try:
        assert ToolloomResource(project_root=str(tmp_path)).runtime(context, pipeline).home == tmp_path / "pod-home"
        context.run.run_id = "r2"
        named = ToolloomResource(project_root=str(tmp_path), home="mine").runtime(context, pipeline)
        assert named.home == tmp_path / "mine"
    finally:
        close_runtimes()
