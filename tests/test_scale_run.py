"""A run at scale against real services started here: PostgreSQL catalog, Parquet files and exports on S3
(moto), a process per step (Dagster's multiprocess executor), two shards of the model-heavy stages, two model
endpoints (fake servers) for every role. It makes what the same pipeline makes in one process, unsharded;
two runs at once keep their versions apart."""

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from toolloom.cli import main
from toolloom.export import load_export
from toolloom.llm.fake_server import FakeServer
from toolloom.lake.store import Store

from .conftest import SMALL, make_project
from .scale_services import s3_keys

pytestmark = [pytest.mark.services, pytest.mark.pipeline]
STORAGE_ENV = ("TOOLLOOM_CATALOG", "TOOLLOOM_DATA_PATH")


def _pipeline(urls: list[str], executor: str, shards: int = 1) -> dict:
    return {
        "collections": [{"name": "demo", "path": "api_graphs/demo"}],
        "models": {
            "default": {"provider": "openai", "model": "fake", "base_urls": urls, "timeout_s": 10, "max_concurrency": 3}
        },
        "stages": {
            "tasks": {"per_tool": 1, "multi_hop": 6, "parallel": 2, "nested": 2, "seed": 3},
            "filter": {"checks": ["format", "execution", "dedup"]},
            "export": {"root": "exports", "formats": ["openai", "sharegpt"]},
        },
        "execution": {"executor": executor, "max_concurrent": 4, "shards": shards},
    }


def _counts(store: Store, pipeline: str) -> dict:
    (version,) = store.versions(pipeline)
    return version["tables"]


def _ids(store: Store, pipeline: str) -> dict:
    return {
        t: sorted(store.query(f"SELECT traj_id FROM {t}", pipelines=[pipeline])["traj_id"].to_pylist())
        for t in ("trajectories", "samples")
    }


def test_postgres_s3_step_processes_and_two_endpoints_make_what_one_process_makes(scale_storage, tmp_path, monkeypatch):
    project = tmp_path / "project"
    with FakeServer() as a, FakeServer() as b:
        urls = [a.base_url, b.base_url]
        make_project(
            project, {"local": _pipeline(urls, "in_process"), "scaled": _pipeline(urls, "multiprocess", shards=2)}
        )
        with monkeypatch.context() as m:  # the reference: one process, file catalog, local files
            for var in STORAGE_ENV:
                m.delenv(var)
            assert main(["--project", str(project), "--home", str(tmp_path / "local"), "run", "local"]) == 0
            local = _counts(Store(tmp_path / "local"), "local")
            local_ids = _ids(Store(tmp_path / "local"), "local")
        before = {s.base_url: len(s.model.history) for s in (a, b)}
        for s in (a, b):
            s.peak_in_flight = 0
        # the user's command: its step processes share its stderr
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "toolloom.cli",
                "--project",
                str(project),
                "--home",
                str(tmp_path / "scaled"),
                "run",
                "scaled",
            ],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        # what each server was asked for the stages (the launcher's one-token pre-flight request is not a stage's)
        served = {
            s.base_url: sum(r.get("max_tokens") != 1 for r in s.model.history[before[s.base_url] :]) for s in (a, b)
        }
    out = run.stdout
    summary = [line for line in out.splitlines() if " accepted " in line]
    assert any("trajectories_shard_1" in line for line in summary)
    assert len({line.index(" accepted ") for line in summary}) == 1  # one column, shard names included
    for shard in (0, 1):  # each step process printed its own progress, named after its asset
        assert f"trajectories_shard_{shard} simulate [##############################]" in run.stderr
    store = Store(tmp_path / "scaled")
    assert _counts(store, "scaled") == local  # every table, same rows, though written by separate processes
    assert {t: local[t] for t in ("tasks", "trajectories", "samples")} and local["samples"] > 0
    shards = store.query("SELECT shard, count(*) AS n FROM trajectories GROUP BY shard", pipelines=["scaled"])
    assert sorted(shards["shard"].to_pylist()) == [0, 1] and all(n > 0 for n in shards["n"].to_pylist())
    assert _ids(store, "scaled") == local_ids  # the same items, not just as many

    assert all(n > 0 for n in served.values())  # both endpoints did work
    # the shards' processes kept each endpoint's max_concurrency as one limit (advisory locks in the catalog)
    assert a.peak_in_flight <= 3 and b.peak_in_flight <= 3
    calls = store.query(
        "SELECT endpoint, count(*) AS n FROM llm_calls WHERE NOT cache_hit GROUP BY endpoint", pipelines=["scaled"]
    ).to_pylist()
    assert {r["endpoint"]: r["n"] for r in calls} == served  # each request recorded with the endpoint it went to

    files = store.query("SELECT data_file FROM ducklake_list_files('scaled', 'samples')", pipelines=["scaled"])[
        "data_file"
    ].to_pylist()
    assert files and all(f.startswith(f"s3://{scale_storage['bucket']}/lake/scaled/") for f in files)
    assert not list((tmp_path / "scaled").rglob("*.parquet")) and not list((tmp_path / "scaled").rglob("*.ducklake"))
    keys = s3_keys(scale_storage["endpoint"], scale_storage["bucket"])
    assert any(k.startswith("lake/graphs/scaled/") and k.endswith(".graphml") for k in keys)

    location = next(
        line.split("dataset: ", 1)[1] for line in reversed(out.splitlines()) if line.startswith("dataset: ")
    )
    assert location.startswith(f"s3://{scale_storage['bucket']}/lake/exports/scaled/")
    exported = load_export(location, cache_dir=tmp_path / "cache")
    local_export = load_export(str(next((project / "exports" / "local").glob("2*"))))
    assert {k: v.num_rows for k, v in exported.items()} == {k: v.num_rows for k, v in local_export.items()}
    latest = load_export(
        f"s3://{scale_storage['bucket']}/lake/exports/scaled/latest", "sharegpt", cache_dir=tmp_path / "cache"
    )
    assert sum(v.num_rows for v in latest.values()) == sum(v.num_rows for v in exported.values())


def test_two_runs_at_once_on_one_catalog_keep_their_versions_apart(scale_storage, tmp_path):
    project = make_project(tmp_path / "project", {"small": SMALL})
    cmd = [sys.executable, "-m", "toolloom.cli", "--project", str(project), "run", "small"]
    runs = [
        subprocess.Popen(
            cmd,
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "TOOLLOOM_HOME": str(tmp_path / f"home{i}")},
        )
        for i in range(2)
    ]
    outputs = [r.communicate(timeout=480)[0] for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    store = Store(tmp_path / "home0")
    versions = store.versions("small")
    assert len(versions) == 2 and all(v["status"] == "complete" for v in versions)
    assert len({v["runs"][0] for v in versions}) == 2 and all(len(v["runs"]) == 1 for v in versions)
    assert versions[0]["tables"] == versions[1]["tables"]  # the same pipeline, the same rows, each its own
    for table in versions[0]["tables"]:
        mixed = store.query(
            f"SELECT version FROM {table} GROUP BY version HAVING count(DISTINCT run_id) > 1", pipelines=["small"]
        )
        assert mixed.num_rows == 0, f"{table}: a version holds rows of two runs"
    log = store.query("SELECT version, status, run_id FROM version_log", pipelines=["small"]).to_pylist()
    assert Counter(r["status"] for r in log) == {"complete": 2}
    assert json.dumps(log, default=str).count("running") == 0


def test_versions_and_query_use_the_catalog_the_pipeline_file_names(scale_storage, tmp_path, monkeypatch, capsys):
    import yaml

    spec = yaml.safe_load(SMALL)
    spec["stages"]["tasks"] = {"per_tool": 1, "seed": 3}
    spec["storage"] = {"catalog": scale_storage["catalog"], "data_path": scale_storage["env"]["TOOLLOOM_DATA_PATH"]}
    project = make_project(tmp_path / "project", {"named": spec})
    for var in STORAGE_ENV:  # named only in the YAML (the S3 credentials stay in the environment)
        monkeypatch.delenv(var)
    home = str(tmp_path / "home")
    assert main(["--project", str(project), "--home", home, "run", "named"]) == 0
    capsys.readouterr()
    assert main(["--project", str(project), "--home", home, "versions", "named"]) == 0
    assert "samples=" in capsys.readouterr().out
    assert main(["--project", str(project), "--home", home, "query", "SELECT count(*) AS n FROM named.samples"]) == 0
    assert int(capsys.readouterr().out.split()[-1]) > 0
    assert not list((tmp_path / "home").rglob("*.ducklake"))  # nothing fell back to a file catalog
