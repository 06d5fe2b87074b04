"""Nightly regeneration: each partition is a new sample, and rerunning one answers from the cache."""

import pytest
import json

from toolloom.cli import main
from toolloom.llm.fake_server import FakeServer
from toolloom.orchestration.nightly import for_partition, partition_seed
from toolloom.spec import load_pipeline
from toolloom.lake.store import Store

from .conftest import PROJECT, make_project


def _project(tmp_path, base_url):
    return make_project(
        tmp_path,
        {
            "nightly": f"""
collections: [{{name: demo, path: api_graphs/demo}}]
models:
  default: {{provider: openai, base_url: "{base_url}", model: fake, max_concurrency: 16, timeout_s: 10}}
stages:
  tasks: {{per_tool: 1, multi_hop: 4}}
partitions: daily
start_date: "2026-11-01"
"""
        },
    )


def test_the_partition_key_salts_every_seed_and_the_same_night_gets_the_same_seeds():
    pipeline = load_pipeline(PROJECT / "pipelines" / "nightly.yaml")
    a, b = for_partition(pipeline, "2026-11-22"), for_partition(pipeline, "2026-11-23")
    assert a.stages.tasks.seed != b.stages.tasks.seed != pipeline.stages.tasks.seed
    assert a.model_for("assistant").seed == partition_seed(pipeline.model_for("assistant").seed, "2026-11-22")
    assert a.model_for("user").seed != b.model_for("user").seed
    assert for_partition(pipeline, "2026-11-22") == a
    assert for_partition(pipeline, None) is pipeline


@pytest.mark.pipeline
def test_two_nights_share_no_sample_and_a_rerun_sends_no_request(tmp_path):
    with FakeServer() as server:
        project, home = _project(tmp_path / "project", server.base_url), tmp_path / "home"
        run = ["--project", str(project), "--home", str(home), "run", "nightly", "--partition"]
        assert main(run + ["2026-11-22"]) == 0
        first_night = len(server.model.history)
        assert main(run + ["2026-11-23"]) == 0
        second_night = len(server.model.history) - first_night
        assert first_night > 20 and second_night > 20
        assert main(run + ["2026-11-22"]) == 0
        assert len(server.model.history) == first_night + second_night, "the rerun of a night sent requests"
    # `latest` follows the newest night, not the last run (the rerun of an older night leaves it)
    assert (project / "exports" / "nightly" / "latest").resolve().name.startswith("2026-11-23")
    store = Store(home)
    nights = {}
    for night in ("2026-11-22", "2026-11-23"):
        kept = set(store.read("nightly", "samples", night)["traj_id"].to_pylist())
        assert kept, night
        nights[night] = {
            json.dumps(
                [
                    {k: m.get(k) for k in ("role", "content")}
                    | {"calls": [c["function"] for c in m.get("tool_calls") or []]}
                    for m in t["messages"][1:]
                ],
                sort_keys=True,
            )
            for t in store.read("nightly", "trajectories", night).to_pylist()
            if t["traj_id"] in kept
        }
    shared = nights["2026-11-22"] & nights["2026-11-23"]
    assert not shared, f"{len(shared)} examples are the same on both nights"
    card = (project / "exports" / "nightly" / "2026-11-23" / "README.md").read_text()
    assert "partition 2026-11-23" in card and f"tasks {partition_seed(0, '2026-11-23')}" in card
