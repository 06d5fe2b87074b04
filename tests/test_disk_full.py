"""A disk that fills up mid-run: no stage is half-written, no version that lost data is listed,
and the next run with room succeeds beside what the full disk left."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from .conftest import CASES, PROJECT, SMALL, make_project

pytestmark = pytest.mark.pipeline


def _mount_namespaces_work() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(
    not _mount_namespaces_work(), reason="needs root and `unshare -m` to mount a small tmpfs as the store's home"
)
def test_a_full_disk_leaves_only_whole_stages_and_no_listed_partial_version(tmp_path):
    project = make_project(tmp_path / "project", {"small": SMALL})
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run(
        ["unshare", "-m", sys.executable, str(CASES / "disk_full_run.py"), str(project), str(home), "9m"],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    full, with_room = json.loads(done.stdout.splitlines()[-1]).values()
    assert full["rc"] == 1 and full["no_space"], full["tail"]
    assert [v["status"] for v in full["versions"]] == ["running"]  # nothing that lost data is complete
    assert full["versions"][0]["tables"].get("tools"), (
        "9 MiB should hold the first stages: the disk filled too early to test"
    )
    assert full["latest"] is None
    for v in full["versions"] + with_room["versions"]:
        assert v["problems"] == [], v  # every stage that committed, committed whole
    assert with_room["rc"] == 0, with_room["tail"]
    complete = [v for v in with_room["versions"] if v["status"] == "complete"]
    assert len(complete) == 1 and complete[0]["tables"]["samples"] > 0
    assert with_room["latest"] == complete[0]["version"]
