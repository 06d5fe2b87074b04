"""A run killed hard (SIGKILL) midway resumes: nothing lost or doubled, nothing asked twice."""

import pytest
import signal
import sqlite3
import subprocess
import sys
import time

import duckdb

from toolloom.llm import request_hash
from toolloom.llm.fake_server import FakeServer
from toolloom.lake.store import Store

from .conftest import PROJECT

pytestmark = pytest.mark.pipeline

KEYS = {
    "tools": "tool_id",
    "api_edges": None,
    "tasks": "task_id",
    "trajectories": "traj_id",
    "samples": "sample_id",
    "llm_calls": None,
}


def _project(tmp_path, base_url):
    tmp_path.mkdir(parents=True)
    for folder in ("prompts", "sandbox", "api_graphs"):
        (tmp_path / folder).symlink_to(PROJECT / folder)
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "resumable.yaml").write_text(f"""
collections: [{{name: demo, path: api_graphs/demo}}]
models:
  default: {{provider: openai, base_url: "{base_url}", model: fake, max_concurrency: 4, timeout_s: 10}}
stages:
  tasks: {{per_tool: 2, multi_hop: 10, seed: 5}}
partitions: daily
start_date: "2026-11-01"
""")
    return tmp_path


def _cached_keys(home):
    path = home / "llm_cache.sqlite"
    if not path.exists():
        return set()
    with sqlite3.connect(path) as con:
        try:
            return {k for (k,) in con.execute("SELECT key FROM responses")}
        except sqlite3.OperationalError:  # the run has created the file but not yet its table
            return set()


def _run(project, home):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "toolloom.cli",
            "--project",
            str(project),
            "--home",
            str(home),
            "run",
            "resumable",
            "--partition",
            "2026-11-20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_sigkill_midway_then_resume(tmp_path):
    with FakeServer(latency_s=0.02) as server:
        project = _project(tmp_path / "project", server.base_url)
        home = tmp_path / "home"
        first = _run(project, home)
        deadline = time.monotonic() + 240
        while len(_cached_keys(home)) < 40 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        assert first.poll() is None, "the run finished before it could be killed; make the workload larger"
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed = Store(home)  # the night's unfinished data is aside, never listed as the night
        assert killed.versions("resumable") == [] and not (project / "exports" / "resumable" / "latest").exists()
        assert [v["status"] for v in killed.versions("resumable", include_incomplete=True)] in ([], ["running"])
        answered_before = _cached_keys(home)
        assert len(answered_before) >= 40
        history_before = len(server.model.history)

        second = _run(project, home)
        out, _ = second.communicate(timeout=600)
        assert second.returncode == 0, out.decode()[-2000:]
        asked_again = {request_hash(r) for r in server.model.history[history_before:]} & answered_before
        assert asked_again == set(), f"{len(asked_again)} requests answered before the kill were sent again"

    store = Store(home)
    version = "2026-11-20"
    for table, key in KEYS.items():
        rows = store.read("resumable", table, version).to_pylist()
        assert rows, table
        if key:
            ids = [r[key] for r in rows]
            assert len(ids) == len(set(ids)), f"duplicated rows in {table}"
    tasks = store.read("resumable", "tasks", version).num_rows
    trajectories = store.read("resumable", "trajectories", version).to_pylist()
    assert len(trajectories) == tasks  # every task simulated once, none lost
    rejections = store.read("resumable", "rejections", version).to_pylist()
    samples = store.read("resumable", "samples", version).num_rows
    answered = sum(t["outcome"] == "answered" for t in trajectories)
    assert samples + sum(r["stage"] == "filter" for r in rejections) == answered
    with store.connect("resumable", read_only=True) as con:  # every table at every snapshot of the lake reads
        con.execute("SET python_enable_replacements = false")  # a missing table must not resolve to a local variable
        snapshots = [s for (s,) in con.execute("SELECT snapshot_id FROM resumable.snapshots()").fetchall()]
        read = 0
        for s in snapshots:
            for table in KEYS:
                try:
                    con.execute(f"SELECT count(*) FROM resumable.{table} AT (VERSION => {s})").fetchall()
                    read += 1
                except duckdb.CatalogException:  # the table did not exist yet at that snapshot
                    pass
    assert len(snapshots) > 5 and read > len(snapshots)
