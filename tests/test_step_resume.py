"""A step process killed in a run with a process per step and two shards: the run fails, and
`toolloom run P --resume` continues the same version, running only the shard that committed nothing and what
comes after it, and the version holds what the same pipeline makes in one process, each item once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toolloom.llm.fake_server import FakeServer
from toolloom.lake.store import Store

from toolloom.cli import main

from .conftest import make_project

pytestmark = pytest.mark.pipeline


def _pipeline(url: str) -> dict:
    return {
        "collections": [{"name": "demo", "path": "api_graphs/demo"}],
        "models": {"default": {"provider": "openai", "model": "fake", "base_url": url, "timeout_s": 10}},
        "stages": {
            "tasks": {"per_tool": 1, "multi_hop": 6, "parallel": 2, "nested": 2, "seed": 3},
            "filter": {"checks": ["format", "execution", "dedup"]},
            "export": {"root": "exports", "formats": ["openai"]},
        },
        "execution": {"executor": "multiprocess", "max_concurrent": 4, "shards": 2},
    }


def _slot_holders(home: Path) -> list[int]:
    """Processes holding an endpoint slot file open: the step processes that send model requests."""
    folder = str(home / "endpoint_slots")
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if any(os.readlink(fd).startswith(folder) for fd in (proc / "fd").iterdir()):
                pids.append(int(proc.name))
        except OSError:  # gone, or not ours to read
            continue
    return pids


def test_a_killed_step_process_is_resumed_from_the_cli_to_the_same_version(tmp_path):
    home = tmp_path / "home"
    with FakeServer(latency_s=0.3) as server:
        whole = {**_pipeline(server.base_url), "execution": {"executor": "in_process"}}
        project = make_project(tmp_path / "project", {"sharded": _pipeline(server.base_url), "whole": whole})
        assert main(["--project", str(project), "--home", str(tmp_path / "whole"), "run", "whole"]) == 0
        reference = _items(
            Store(tmp_path / "whole"), Store(tmp_path / "whole").versions("whole")[0]["version"], "whole"
        )
        cmd = [sys.executable, "-m", "toolloom.cli", "--project", str(project), "--home", str(home), "run", "sharded"]
        log = tmp_path / "first.log"
        with open(log, "w") as err:
            first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        deadline, victim = time.monotonic() + 300, None
        while first.poll() is None and time.monotonic() < deadline and victim is None:
            if "trajectories_shard_" in log.read_text():  # the shards' step processes are at work
                holders = [p for p in _slot_holders(home) if p != first.pid]
                victim = holders[0] if holders else None
            time.sleep(0.05)
        assert victim is not None, "no step process was caught sending requests:\n" + log.read_text()[-2000:]
        os.kill(victim, signal.SIGKILL)
        assert first.wait(timeout=300) != 0  # the run fails with its step
        store = Store(home)
        [killed] = store.versions("sharded", include_incomplete=True)
        assert killed["status"] != "complete"

        resumed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    said = next(line for line in resumed.stderr.splitlines() if line.startswith("resuming "))
    assert said.startswith(f"resuming {killed['version']}: ") and "samples" in said
    [complete] = store.versions("sharded")
    assert complete["version"] == killed["version"] and len(complete["runs"]) == 2
    version = complete["version"]
    # the same items as the same pipeline run whole in one process, nothing lost or doubled
    assert _items(store, version) == reference
    assert {t["shard"] for t in store.read("sharded", "trajectories", version).to_pylist()} == {0, 1}


def _items(store: Store, version: str, pipeline: str = "sharded") -> dict:
    trajectories = [t["traj_id"] for t in store.read(pipeline, "trajectories", version).to_pylist()]
    samples = [t["traj_id"] for t in store.read(pipeline, "samples", version).to_pylist()]
    rejected = [(r["stage"], r["item_id"]) for r in store.read(pipeline, "rejections", version).to_pylist()]
    assert len(trajectories) == len(set(trajectories)) and len(samples) == len(set(samples))
    return {"trajectories": sorted(trajectories), "samples": sorted(samples), "rejected": sorted(rejected)}
