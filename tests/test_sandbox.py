import json
import os

import pytest

from toolloom.executors.routing import ToolExecutor
from toolloom.sandbox import Sandbox

from .conftest import PROJECT

SCHEMA = {
    "type": "object",
    "properties": {"country_code": {"type": "string", "pattern": "^[A-Z]{2}$"}},
    "required": ["country_code"],
}


@pytest.mark.services
def test_demo_tools_are_discovered_and_run():
    sb = Sandbox(PROJECT / "sandbox")
    impls = sb.implementations("demo")
    assert {"get_country", "convert_currency", "add_days", "city_distance"} <= set(impls)
    obs = sb.execute("demo", "get_country", {"country_code": "JP"}, SCHEMA)
    assert obs.ok and obs.content["capital"] == "Tokyo" and obs.content["currency"] == "JPY"


@pytest.mark.services
def test_bad_arguments_get_api_style_errors():
    sb = Sandbox(PROJECT / "sandbox")
    missing = sb.execute("demo", "get_country", {}, SCHEMA)
    assert not missing.ok and missing.content["error"]["status"] == 400
    assert "'country_code' is a required property" in missing.error
    wrong = sb.execute("demo", "get_country", {"country_code": "Japan"}, SCHEMA)
    assert not wrong.ok and "does not match" in wrong.error
    unknown = sb.execute("demo", "get_country", {"country_code": "JP", "x": 1}, SCHEMA)
    assert not unknown.ok and "unknown argument(s): x" in unknown.error


@pytest.mark.services
def test_tool_errors_become_observations():
    sb = Sandbox(PROJECT / "sandbox")
    not_found = sb.execute("demo", "get_country", {"country_code": "ZZ"}, SCHEMA)
    assert not not_found.ok and not_found.content == {"error": {"status": 404, "message": "no country with code 'ZZ'"}}
    assert sb.execute("demo", "nope", {}).content["error"]["status"] == 404
    assert sb.implementations("no_such_collection") == []


def test_executor_simulates_tools_without_implementation_consistently():
    tool = {
        "name": "weather",
        "collection": "x",
        "executable": False,
        "parameters": json.dumps({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        "returns": json.dumps(
            {
                "type": "object",
                "properties": {"temp_c": {"type": "number"}, "sky": {"type": "string", "enum": ["clear", "rain"]}},
            }
        ),
    }
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), [tool])
    a, b = ex.execute("weather", {"city": "Oslo"}), ex.execute("weather", {"city": "Oslo"})
    assert a.ok and a.content == b.content
    assert isinstance(a.content["temp_c"], float) and a.content["sky"] in ("clear", "rain")
    bad = ex.execute("weather", {"city": 3})
    assert not bad.ok and bad.content["error"]["status"] == 400
    assert ex.execute("nope", {}).content["error"]["status"] == 404


def test_cgroup_v2_groups_are_made_below_a_delegated_group_with_both_limits(tmp_path, monkeypatch):
    """The v2 bookkeeping on a stand-in hierarchy (this host's kernel has v1 controllers only; the v1 path's
    limits are enforced for real in test_sandbox_escape): controllers enabled down to the sandboxes' parent,
    each group's memory and process limits written, and a group left by a dead toolloom process removed."""
    from toolloom.sandbox import cgroups

    base = tmp_path / "delegated"
    base.mkdir()
    (base / "cgroup.controllers").write_text("cpu memory pids\n")
    monkeypatch.setattr(cgroups, "_own_v2_path", lambda root: base)
    stale = base / "toolloom" / "999999999-worker-0"  # no such pid
    stale.mkdir(parents=True)
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path)
    cgroups.hierarchy.cache_clear()
    try:
        h = cgroups.hierarchy()
        assert h == cgroups.Hierarchy(2, (base / "toolloom",)) and not stale.exists()
        assert (base / "cgroup.subtree_control").read_text() == "+memory +pids"
        group = cgroups.sandbox_group("worker", 600 * 2**20, 64)
        (path,) = group.paths
        assert (path / "memory.max").read_text() == str(600 * 2**20) and (path / "pids.max").read_text() == "64"
        assert path.parent == base / "toolloom" and path.name.startswith(f"{os.getpid()}-worker-")
    finally:
        cgroups.hierarchy.cache_clear()


def test_without_the_memory_and_pids_controllers_no_group_is_made_and_the_reason_is_given(tmp_path, monkeypatch):
    from toolloom.sandbox import cgroups

    (tmp_path / "cgroup.controllers").write_text("cpu io\n")
    monkeypatch.setattr(cgroups, "_own_v2_path", lambda root: tmp_path)
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path)
    cgroups.hierarchy.cache_clear()
    try:
        assert cgroups.sandbox_group("mcp", 2**20, 8) is None
        assert "does not offer the memory and pids controllers" in cgroups.unavailable()
        assert "no cgroup v1 memory and pids hierarchies" in cgroups.unavailable()
    finally:
        cgroups.hierarchy.cache_clear()


@pytest.mark.services
def test_a_worker_whose_pipes_are_numbered_above_1024_still_answers():
    """A run with 1,024 model requests in flight holds over a thousand sockets: select() refused the
    worker's pipe there (ValueError: filedescriptor out of range) and the stage failed."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1300
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"this host allows {hard} open files; the test needs {wanted}")
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    held = []
    try:
        while True:  # fill the low numbers, so the worker's pipes get high ones
            r, w = os.pipe()
            held += [r, w]
            if w >= 1100:
                break
        sb = Sandbox(PROJECT / "sandbox")
        try:
            obs = sb.execute("demo", "get_country", {"country_code": "JP"}, SCHEMA)
        finally:
            sb.close()
        assert obs.ok and obs.content["capital"] == "Tokyo"
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.services
def test_a_workers_scratch_folder_is_removed_when_its_process_ends_without_closing_the_sandbox(tmp_path):
    """A run that ends with its sandbox never closed (an interpreter exit, a worker dropped) left its
    toolloom-<collection>-* folder behind: 692 had piled up in /tmp over a day of runs."""
    import subprocess
    import sys

    script = (
        "import json, sys\n"
        "from toolloom.sandbox import Sandbox\n"
        f"sb = Sandbox({str(PROJECT / 'sandbox')!r})\n"
        f"obs = sb.execute('demo', 'get_country', {{'country_code': 'JP'}}, {SCHEMA!r})\n"
        "print(json.dumps([w.tmp for ws in sb._idle.values() for w in ws]))\n"
        "KEEP = sb  # held to the end: only the interpreter's exit can remove the folders\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    folders = json.loads(done.stdout.strip().splitlines()[-1])
    assert folders and all(f.startswith(str(tmp_path)) for f in folders), (folders, done.stderr[-500:])
    assert not any(os.path.exists(f) for f in folders), folders
