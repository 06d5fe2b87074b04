"""Hostile tools are contained: each yields an error observation and the next call still works."""

import os

import pytest

from toolloom.sandbox import Limits, Sandbox

from .conftest import CASES

pytestmark = pytest.mark.services  # each test runs tools in sandbox worker processes

SECRET = "sk-sandbox-test-DO-NOT-LEAK-42"


@pytest.fixture(scope="module")
def sandbox():
    with pytest.MonkeyPatch.context() as mp:  # a key in the host's environment: the tools must not see it
        mp.setenv("OPENAI_API_KEY", SECRET)
        yield from _sandbox()


def _sandbox():
    sb = Sandbox(
        CASES / "sandbox_root",
        Limits(
            cpu_s=1.0,
            wall_s=3.0,
            memory_bytes=300 * 2**20,
            file_bytes=4 * 2**20,
            response_bytes=2**20,
            workers_per_collection=2,
        ),
    )
    yield sb
    sb.close()


def _still_works(sb):
    obs = sb.execute("hostile", "echo", {"text": "alive"})
    assert obs.ok and obs.content == {"text": "alive"}


@pytest.mark.parametrize(
    "name, status, words",
    [
        ("sleep_forever", 504, "timed out"),
        ("memory_bomb", 507, "out of memory"),
        ("fork_bomb", 403, "creating processes"),
        ("run_shell", 403, "creating processes"),
        ("huge_result", 502, "too large"),
        ("steal_parent_env", 403, "reading /proc"),
        ("phone_home", 403, "network access"),
        ("huge_file", 500, "File too large"),
        ("crash", 500, "exit code 3"),
        ("kill_parent", 403, "sending signals"),
        ("bug", 500, "ZeroDivisionError"),
        ("not_found", 404, "nothing here"),
    ],
)
def test_hostile_tool_is_contained(sandbox, name, status, words):
    obs = sandbox.execute("hostile", name, {})
    assert not obs.ok
    assert obs.content["error"]["status"] == status, obs.content
    assert words in obs.content["error"]["message"]
    _still_works(sandbox)


def test_spinning_is_stopped_by_the_cpu_limit():
    """A wall-clock limit far above the CPU limit, so a loaded machine cannot make the other fire first."""
    sb = Sandbox(CASES / "sandbox_root", Limits(cpu_s=1.0, wall_s=60.0, workers_per_collection=1))
    try:
        obs = sb.execute("hostile", "spin", {})
        assert (
            not obs.ok and obs.content["error"]["status"] == 500 and "CPU time limit" in obs.content["error"]["message"]
        )
        _still_works(sb)
    finally:
        sb.close()


def test_output_flood_is_cut_off_and_reported(sandbox):
    obs = sandbox.execute("hostile", "flood_output", {})
    assert not obs.ok and "wrote more than" in obs.content["error"]["message"]
    _still_works(sandbox)


def test_environment_is_scrubbed(sandbox):
    obs = sandbox.execute("hostile", "steal_key", {})
    assert obs.ok and obs.content["key"] is None
    assert SECRET not in obs.to_json()
    assert set(obs.content["env"]) <= {
        "PATH",
        "LANG",
        "LC_ALL",
        "TZ",
        "HOME",
        "TMPDIR",
        "PYTHONPATH",
        "PYTHONDONTWRITEBYTECODE",
        "PWD",
        "PYTHONHASHSEED",
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
        # set by the worker itself (no thread pools in a process that forks per call), not passed through
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
    }


def test_writes_only_in_the_private_directory(sandbox, tmp_path):
    target = tmp_path / "pwned.txt"
    obs = sandbox.execute("hostile", "write_outside", {"path": str(target)})
    assert not obs.ok and not target.exists()  # the host's folder is not even in the sandbox's view
    etc = sandbox.execute("hostile", "write_outside", {"path": "/etc/toolloom-pwned"})
    assert not etc.ok and etc.content["error"]["status"] == 403 and not os.path.exists("/etc/toolloom-pwned")
    inside = sandbox.execute("hostile", "write_inside", {})
    assert inside.ok and inside.content == {"read_back": "ok", "cwd_is_private": True}


def test_state_is_per_episode(sandbox):
    first = sandbox.execute("hostile", "counter", {}, state={})
    second = sandbox.execute("hostile", "counter", {}, state=first.state)
    fresh = sandbox.execute("hostile", "counter", {}, state={})
    assert [first.content["n"], second.content["n"], fresh.content["n"]] == [1, 2, 1]


def test_unknown_tool_and_unknown_arguments(sandbox):
    assert sandbox.execute("hostile", "nope", {}).content["error"]["status"] == 404
    bad = sandbox.execute("hostile", "echo", {"text": "a", "extra": 1})
    assert bad.content["error"] == {"status": 400, "message": "unknown argument(s): extra"}
