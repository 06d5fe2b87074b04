"""Versions as transactions: every run writes its own version, listed only once its export is written;
a partition's rerun replaces the partition only when it completes."""

import signal
import subprocess
import sys
import time

import dagster as dg
import pytest
from datasets import load_dataset

from toolloom.cli import main
from toolloom.orchestration.dagster_defs import ToolloomResource, pipeline_assets
from toolloom.spec import ModelSpec, load_pipeline
from toolloom.lake.store import Store

from .conftest import SMALL, make_project, unaccounted

pytestmark = pytest.mark.pipeline

NIGHTLY = SMALL + 'partitions: daily\nstart_date: "2026-11-01"\n'


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "project", {"small": SMALL, "nightly": NIGHTLY})


def _materialize(project, name, home, *, selection=None, partition=None, models=None, tags=None):
    pipeline = load_pipeline(project / "pipelines" / f"{name}.yaml")
    if models:
        pipeline = pipeline.model_copy(update={"models": models})
    return dg.materialize(
        pipeline_assets(pipeline),
        selection=selection,
        partition_key=partition,
        raise_on_error=False,
        tags=tags,
        resources={"toolloom": ToolloomResource(project_root=str(project), home=str(home), retry_backoff_s=0.01)},
    )


def _accounted(store, pipeline, version):
    assert unaccounted(store, pipeline, version) == []
    assert store.read(pipeline, "samples", version).num_rows > 0


def test_concurrent_runs_write_distinct_versions_that_never_mix(project, tmp_path):
    home = tmp_path / "home"
    cmd = [sys.executable, "-m", "toolloom.cli", "--project", str(project), "--home", str(home), "run", "small"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(0.5)
    second = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for proc in (first, second):
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out.decode()[-2000:]
    store = Store(home)
    versions = store.versions("small")
    assert len(versions) == 2 and all(v["status"] == "complete" for v in versions)
    for v in versions:
        assert len(v["runs"]) == 1, f"version {v['version']} has rows of runs {v['runs']}"
        runs = store.query(
            f"SELECT DISTINCT run_id FROM small.rejections WHERE version = '{v['version']}' "
            f"UNION SELECT DISTINCT run_id FROM small.samples WHERE version = '{v['version']}'"
        )
        assert runs.num_rows == 1
        _accounted(store, "small", v["version"])
        exported = load_dataset(v["export"])
        assert (
            sum(split.num_rows for split in exported.values()) == store.read("small", "samples", v["version"]).num_rows
        )
    assert versions[0]["export"] != versions[1]["export"]


def test_a_run_of_later_stages_starts_a_new_version_from_a_complete_one(project, tmp_path, capsys):
    home = tmp_path / "home"
    assert _materialize(project, "small", home).success
    store = Store(home)
    [v1] = store.versions("small")
    before = store.read("small", "samples", v1["version"]).to_pylist()

    unfinished = _materialize(project, "small", home, selection=["small/tools", "small/api_edges", "small/tasks"])
    assert unfinished.success  # a run without its export: its version is never listed as data
    assert [v["version"] for v in store.versions("small")] == [v1["version"]]
    assert [v["status"] for v in store.versions("small", include_incomplete=True)] == ["complete", "running"]

    later = _materialize(project, "small", home, selection=["small/samples", "small/dataset"])
    assert later.success
    v1_after, v3 = store.versions("small")
    assert v1_after["version"] == v1["version"] and v3["based_on"] == v1["version"]
    assert store.read("small", "samples", v1["version"]).to_pylist() == before  # the base is untouched
    assert store.read("small", "tools", v3["version"]).num_rows == store.read("small", "tools", v1["version"]).num_rows
    _accounted(store, "small", v3["version"])
    assert main(["--project", str(project), "--home", str(home), "versions", "small", "--all"]) == 0
    listed = capsys.readouterr().out
    assert "running" in listed and listed.count("complete") == 2

    named = _materialize(project, "small", home, selection=["small/samples"], tags={"toolloom/base": "no-such-version"})
    assert not named.success  # a base that is not a complete version is refused, naming the complete ones
    [failure] = [e for e in named.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.message
    assert "run tag toolloom/base names version 'no-such-version', which is not a complete version" in message
    assert v1["version"] in message and len(store.versions("small")) == 2


def test_a_run_of_later_stages_with_no_tools_anywhere_is_a_clear_failure(project, tmp_path):
    result = _materialize(project, "small", tmp_path / "home", selection=["small/samples"])
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "has no tools yet: materialize its `tools` asset" in failure.event_specific_data.error.message


def test_a_failed_rerun_of_a_night_leaves_the_night_as_it_was(project, tmp_path):
    home, night = tmp_path / "home", "2026-11-20"
    assert _materialize(project, "nightly", home, partition=night).success
    store = Store(home)
    good = {
        t: store.read("nightly", t, night).to_pylist()
        for t in ("tools", "tasks", "trajectories", "samples", "rejections")
    }
    dead = {"default": ModelSpec(provider="openai", model="m", base_url="http://127.0.0.1:9/v1", timeout_s=2)}
    failed = _materialize(project, "nightly", home, partition=night, models=dead)
    assert not failed.success  # the tasks stage cannot reach its model; tools and the graph were written aside
    assert {t: store.read("nightly", t, night).to_pylist() for t in good} == good
    assert [(v["version"], v["status"]) for v in store.versions("nightly")] == [(night, "complete")]
    aside = [v for v in store.versions("nightly", include_incomplete=True) if v["status"] == "running"]
    assert len(aside) == 1 and aside[0]["version"].startswith(f"{night}.run-") and aside[0]["tables"].get("tools")
    # once its run has ended (the CLI does this) the version is listed failed, not running forever
    assert store.fail_version("nightly", failed.run_id) == [aside[0]["version"]]
    assert [
        v["status"] for v in store.versions("nightly", include_incomplete=True) if v["version"] == aside[0]["version"]
    ] == ["failed"]
    assert [(v["version"], v["status"]) for v in store.versions("nightly")] == [(night, "complete")]

    assert _materialize(project, "nightly", home, partition=night).success  # a good rerun replaces the night whole
    [complete] = store.versions("nightly")
    assert complete["version"] == night and len(complete["runs"]) == 1
    assert store.read("nightly", "samples", night).num_rows == len(good["samples"])  # offline: the same data again
    _accounted(store, "nightly", night)


def test_a_run_killed_midway_is_never_listed_and_the_next_run_completes(project, tmp_path):
    home = tmp_path / "home"
    cmd = [sys.executable, "-m", "toolloom.cli", "--project", str(project), "--home", str(home), "run", "small"]
    store, proc = Store(home), subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:  # killed once its first stages have committed
        if (home / "lake" / "small" / "catalog.ducklake").exists():
            running = store.versions("small", include_incomplete=True)
            if running and running[0]["tables"].get("tasks"):
                break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    [killed] = store.versions("small", include_incomplete=True)
    assert killed["status"] == "running" and store.versions("small") == [] and store.latest_version("small") is None
    assert not (project / "exports" / "small" / "latest").exists()
    assert unaccounted(store, "small", killed["version"]) == []

    def tools_runs(version):
        with store.connect("small", read_only=True) as con:
            return con.execute("SELECT DISTINCT run_id FROM small.tools WHERE version = ?", [version]).fetchall()

    first = tools_runs(killed["version"])
    # --resume continues the killed run's version: only the stages it never committed run
    assert main(["--project", str(project), "--home", str(home), "run", "small", "--resume"]) == 0
    [complete] = store.versions("small")
    assert (
        complete["version"] == killed["version"]
        and (project / "exports" / "small" / "latest").resolve().name == complete["version"]
    )
    assert tools_runs(complete["version"]) == first  # tools were not made again
    assert len(complete["runs"]) == 2  # the killed run's stages and the resuming run's
    _accounted(store, "small", complete["version"])
    assert main(["--project", str(project), "--home", str(home), "run", "small", "--resume"]) == 2  # nothing left
    # every CLI run is in the persistent Dagster instance under the home, which the UI opens (README)
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        assert len(instance.get_run_records()) >= 2
