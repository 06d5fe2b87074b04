"""The sandbox is a boundary of the operating system: tools that first switch off the in-process
audit hook (tests/cases/sandbox_root/escape) still find nothing outside, cannot outlive their call,
cannot forge or shift another call's answer, and cannot change what a later call runs."""

import os
import socket
import threading
import time

import pytest

from toolloom.sandbox import Limits, Sandbox, cgroups
from toolloom.sandbox.confinement import NOBODY, SANDBOX_UIDS, confinement_problem

from .conftest import CASES, PROJECT

SECRET = "sk-escape-test-DO-NOT-LEAK-7731"
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        confinement_problem() is not None, reason=f"this host cannot confine tool code: {confinement_problem()}"
    ),
]


@pytest.fixture(scope="module")
def sandbox():
    with pytest.MonkeyPatch.context() as mp:  # the key the tests plant, and whatever was set before it, restored
        mp.setenv("OPENAI_API_KEY", SECRET)
        sb = Sandbox(CASES / "sandbox_root", Limits(cpu_s=2.0, wall_s=5.0, workers_per_collection=1))
        yield sb
        sb.close()


def _echo_works(sb, text="alive"):
    obs = sb.execute("escape", "echo", {"text": text})
    assert obs.ok and obs.content == {"text": text}, obs.content


def test_import_time_code_sees_no_secret_and_no_process_outside(sandbox):
    obs = sandbox.execute("escape", "import_time_env", {})
    assert obs.ok and SECRET not in obs.to_json()
    assert "OPENAI_API_KEY" not in obs.content["mine"]
    assert set(obs.content["seen"]) <= {"1", "2", str(os.getpid())} or all(
        "refused" in v or SECRET not in v for v in obs.content["seen"].values()
    )


@pytest.mark.parametrize(
    "path",
    [
        "/etc/shadow",
        str(PROJECT / ".toolloom"),
        str(PROJECT / "pipelines" / "demo.yaml"),
        str(PROJECT.parent / "shared"),
        "/root/.bash_history",
        f"/proc/{os.getpid()}/environ",
    ],
    ids=lambda p: "proc-environ-of-the-test-process" if p.startswith("/proc/") else p,
)  # one id in every worker
def test_files_outside_the_view_cannot_be_read(sandbox, path):
    obs = sandbox.execute("escape", "read_anything", {"path": path})
    assert obs.ok and "refused" in obs.content, obs.content
    _echo_works(sandbox)


def test_nothing_is_moved_linked_or_written_outside(sandbox, tmp_path):
    target = tmp_path / "loot"
    obs = sandbox.execute("escape", "move_out", {"target": str(target)})
    assert obs.ok and all(v != "done" for v in obs.content.values()), obs.content
    assert list(tmp_path.iterdir()) == []
    project = sandbox.execute("escape", "move_out", {"target": str(PROJECT / "sandbox" / "loot")})
    assert all(v != "done" for v in project.content.values()) and not list((PROJECT / "sandbox").glob("loot*"))


def test_processes_it_starts_run_confined_as_its_own_unprivileged_user(sandbox):
    obs = sandbox.execute("escape", "spawn", {})
    uid = int(obs.content.get("uid_of_spawned", 0)) if obs.ok else 0
    assert uid in SANDBOX_UIDS or uid == NOBODY, obs.content
    _echo_works(sandbox)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give each sandbox a user of its own (else: nobody)")
def test_a_collection_holding_its_processes_leaves_another_collections_calls_intact():
    """RLIMIT_NPROC is counted per user on the host: each sandbox runs as its own, so one that holds every process
    its limit allows does not stop another from starting one."""
    limits = Limits(cpu_s=2.0, wall_s=20.0, workers_per_collection=1, processes=48)
    hog, other = Sandbox(CASES / "sandbox_root", limits), Sandbox(CASES / "sandbox_root", limits)
    try:
        _echo_works(other)
        held = {}
        thread = threading.Thread(
            target=lambda: held.update(hog.execute("escape", "hold_processes", {"seconds": 4.0}).content)
        )
        thread.start()
        time.sleep(2.0)  # the hog is at its limit now (it forks in a few milliseconds)
        spawned = other.execute("escape", "spawn", {})
        thread.join()
        assert 30 <= held.get("held", 0) < 48, held
        assert spawned.ok and "uid_of_spawned" in spawned.content, spawned.content
    finally:
        hog.close()
        other.close()


@pytest.mark.skipif(cgroups.unavailable() is not None, reason=f"no control groups here: {cgroups.unavailable()}")
def test_a_sandbox_holds_one_memory_budget_across_its_processes():
    """Each child stays under its own 512 MiB rlimit, but five of them would hold 1.5 GiB: the sandbox's control
    group (512 MiB plus its /tmp) kills some, the sandbox answers on, and its group is gone once it is closed."""
    sb = Sandbox(CASES / "sandbox_root", Limits(cpu_s=5.0, wall_s=20.0, workers_per_collection=1))
    try:
        _echo_works(sb)
        (worker,) = sb._idle["escape"]
        group = worker.group.paths
        assert all(str(worker.proc.pid) in (p / "cgroup.procs").read_text() for p in group)
        obs = sb.execute("escape", "memory_across_processes", {"children": 5, "mb_each": 300})
        assert obs.ok and obs.content["killed"] >= 2 and obs.content["finished"] <= 2, obs.content
        _echo_works(sb)
    finally:
        sb.close()
    assert not any(p.exists() for p in group)


def test_namespaces_and_ptrace_are_refused(sandbox):
    obs = sandbox.execute("escape", "namespaces", {})
    assert obs.ok and obs.content["unshare_net"] == -1 and obs.content["unshare_user"] == -1
    assert obs.content["setns"] in (-1, "no ns file") and obs.content["ptrace_attach_parent"] == -1


def test_io_uring_is_refused_and_tmp_is_a_bounded_tmpfs(sandbox):
    """io_uring_setup fails (EPERM), and writing 200 MiB into /tmp stops at its 64 MiB: it lives in host memory."""
    import errno

    obs = sandbox.execute("escape", "io_uring_and_tmp", {})
    assert obs.ok and obs.content["io_uring_setup"] == -1 and obs.content["errno"] == errno.EPERM, obs.content
    assert obs.content.get("tmp_error") == "No space left on device" and obs.content["tmp_written_mb"] <= 64
    _echo_works(sandbox)


def test_no_socket_reaches_the_host(sandbox):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted = []
    server.settimeout(3)

    def accept():
        try:
            accepted.append(server.accept())
        except OSError:  # nobody came: what the test expects
            pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    obs = sandbox.execute("escape", "connect", {"port": port})
    t.join(4)
    server.close()
    assert obs.ok and obs.content["connected"] is False and not accepted


def _processes_with(token: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if token.encode() in fh.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_a_detached_process_does_not_outlive_its_call(sandbox):
    token = f"toolloom-detached-{os.getpid()}-{time.time_ns()}"
    obs = sandbox.execute("escape", "detach", {"token": token})
    assert obs.ok
    assert _processes_with(token) == []


def test_forged_frames_never_become_an_answer_now_or_later(sandbox):
    obs = sandbox.execute("escape", "forge", {"text": "mine"})
    # it scribbled on its own result channel too: its own call fails, nobody else's answer changes
    assert "FORGED" not in obs.to_json() and (not obs.ok or obs.content == {"text": "mine"})
    deadline = time.monotonic() + 2.0
    n = 0
    while time.monotonic() < deadline:  # across the second in which the forger's thread would fire
        _echo_works(sandbox, f"call-{n}")
        n += 1
    assert n > 5


def test_a_call_cannot_change_another_tool_or_leave_module_state(sandbox):
    first = sandbox.execute("escape", "patch_echo", {})
    second = sandbox.execute("escape", "patch_echo", {})
    assert first.content == second.content == {"calls": 1}
    _echo_works(sandbox)


def test_killing_the_worker_is_an_error_for_that_call_only(sandbox):
    obs = sandbox.execute("escape", "kill_worker", {})
    assert not obs.ok
    _echo_works(sandbox)


def test_without_confinement_the_sandbox_refuses_unless_unsafe_is_asked(monkeypatch):
    from toolloom.sandbox import confinement, pool

    monkeypatch.setattr(pool, "confinement_problem", lambda: "bubblewrap is not installed (test)")
    refusing = Sandbox(CASES / "sandbox_root", unsafe=False)
    with pytest.raises(confinement.SandboxUnavailable, match="bubblewrap is not installed.*TOOLLOOM_UNSAFE_SANDBOX=1"):
        refusing.implementations("escape")
    unsafe = Sandbox(CASES / "sandbox_root", unsafe=True)
    try:
        obs = unsafe.execute("escape", "echo", {"text": "unconfined"})
        assert obs.ok and obs.content == {"text": "unconfined"}
    finally:
        unsafe.close()


def test_installed_libraries_are_loaded_once_and_no_call_changes_them_for_the_next():
    """numpy and pandas are in the worker before the collection's module runs (a call costs the call, not a
    2-second import, and the import is not on the call's CPU clock); an option one call sets is gone in the next."""
    sb = Sandbox(CASES / "sandbox_root", Limits(cpu_s=1.0, wall_s=20.0, workers_per_collection=1))
    try:
        first = sb.execute("heavy", "table_sum", {"values": [1, 2, 3.5], "rows_option": 7})
        second = sb.execute("heavy", "table_sum", {"values": [4]})
        assert first.ok and first.content["sum"] == 6.5 and first.content["preloaded"] is True, first.content
        assert second.ok and second.content["max_rows_seen"] == first.content["max_rows_seen"] != 7
    finally:
        sb.close()
