"""The demo with its escalation and simulation in two shards makes what the unsharded demo makes: the same
escalations, trajectories and samples (ids, not only counts), each shard accounted on its own."""

import pytest

from toolloom.spec import load_pipeline
from toolloom.lake.store import Store

from .conftest import PROJECT, materialize

pytestmark = pytest.mark.pipeline


def _ids(store: Store, pipeline: str, version: str) -> dict:
    keys = {"escalations": "task_id", "trajectories": "traj_id", "samples": "traj_id"}
    return {t: sorted(r[k] for r in store.read(pipeline, t, version).to_pylist()) for t, k in keys.items()}


def test_two_shards_make_what_one_asset_makes(demo_run, tmp_path):
    demo = load_pipeline(PROJECT / "pipelines" / "demo.yaml")
    sharded = demo.model_copy(update={"execution": demo.execution.model_copy(update={"shards": 2})})
    run = materialize(sharded, tmp_path)
    md = run.metadata
    assert {"escalations_shard_0", "escalations_shard_1", "trajectories_shard_0", "trajectories_shard_1"} <= set(md)
    assert all(md[f"trajectories_shard_{k}"]["accepted"] > 0 for k in (0, 1))  # both shards had work
    whole_store, shard_store = Store(demo_run.home), Store(run.home)
    whole_version, version = demo_run.metadata["samples"]["version"], md["samples"]["version"]
    assert _ids(shard_store, "demo", version) == _ids(whole_store, "demo", whole_version)
    # each shard accounted for its own inputs, and the merged version adds up as the unsharded one does
    assert sum(md[f"trajectories_shard_{k}"]["inputs"] for k in (0, 1)) == demo_run.metadata["trajectories"]["inputs"]
    assert sum(md[f"escalations_shard_{k}"]["accepted"] for k in (0, 1)) == demo_run.metadata["escalations"]["accepted"]
    accounted = {
        e.asset_key.path[-1]: e.passed for e in run.result.get_asset_check_evaluations() if e.check_name == "accounted"
    }
    assert {k for k, ok in accounted.items() if ok} >= {
        f"{s}_shard_{k}" for s in ("escalations", "trajectories") for k in (0, 1)
    } and all(accounted.values())
    splits = [
        sorted((r["traj_id"], r["split"]) for r in s.read("demo", "samples", v).to_pylist())
        for s, v in ((whole_store, whole_version), (shard_store, version))
    ]
    assert splits[0] == splits[1]
