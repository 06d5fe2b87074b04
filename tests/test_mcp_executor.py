"""The `mcp` executor against real MCP servers over stdio: a probe server written with the official
SDK (tests/cases/mcp/probe_server.py) and the reference servers pipelines/mcp_servers.yaml uses."""

import json
import os
import sys
import time

import pytest

from toolloom.executors.routing import ToolExecutor
from toolloom.executors.mcp import McpExecutor
from toolloom.llm import run_async
from toolloom.sandbox import Sandbox, cgroups
from toolloom.spec import Pipeline, TasksStage, load_pipeline
from toolloom.stages.tasks import sample_tasks
from toolloom.stages.tools import build_tools

from .conftest import PROJECT

pytestmark = pytest.mark.services

PROBE = {
    "kind": "mcp",
    "command": sys.executable,
    "args": ["{project}/tests/cases/mcp/probe_server.py"],
    "timeout_s": 5,
}


def _pipeline(**executor) -> Pipeline:
    return Pipeline.model_validate(
        {"name": "mcp_probe", "collections": [{"name": "probe", "executor": {**PROBE, **executor}}]}
    )


def _tools(pipeline: Pipeline):
    sandbox = Sandbox(PROJECT / "sandbox")
    executor = McpExecutor(pipeline.collections[0].executor, "probe", PROJECT)
    result = build_tools(pipeline, PROJECT, sandbox, {"probe": executor})
    return result, ToolExecutor(sandbox, result.table.to_pylist(), executors={"probe": executor}), executor


def _server_pids() -> list[str]:
    """Probe-server processes alive on this machine."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                pids += [pid] if b"probe_server.py" in f.read() else []
        except OSError:
            pass
    return pids


def _servers_running() -> int:
    return len(_server_pids())


def _mcp_groups() -> dict[str, set[str]]:
    """For each control group hierarchy, the processes in this process's MCP server groups."""
    groups = {parent: parent.glob(f"{os.getpid()}-mcp-*") for parent in cgroups.hierarchy().parents}
    return {str(p): {pid for g in gs for pid in (g / "cgroup.procs").read_text().split()} for p, gs in groups.items()}


def test_tools_are_listed_from_the_live_server_and_fixed_arguments_are_hidden():
    result, executor, mcp = _tools(_pipeline(fixed_arguments={"repo_path": "{workdir}/repo"}))
    rows = {r["name"]: r for r in result.table.to_pylist()}
    assert set(rows) == {"remember", "recall", "where", "environment", "connect", "hang", "crash"}
    assert all(r["execution"] == "mcp" and r["executable"] and r["source_format"] == "mcp" for r in rows.values())
    assert "repo_path" not in json.loads(rows["where"]["parameters"])["properties"]
    obs = executor.execute("where", {})
    assert obs.ok and obs.content["repo_path"] == "/tmp/toolloom-workspace/repo"  # supplied by the executor
    mcp.close()


def test_an_allow_list_naming_a_tool_the_server_lacks_rejects_the_collection_with_the_reason():
    result, _, mcp = _tools(_pipeline(tools=["remember", "teleport"]))
    assert result.table.num_rows == 0 and result.accounted
    [rejection] = result.rejections
    assert rejection.reason == "tools_unlisted" and "teleport" in rejection.detail and "remember" in rejection.detail
    mcp.close()


def test_each_episode_gets_a_fresh_server_and_state_lives_within_the_episode():
    _, executor, mcp = _tools(_pipeline())

    async def scenario():
        first = executor.episode()
        assert (await first.call("remember", {"key": "hut", "value": "Trient"})).ok
        seen = await first.call("recall", {"key": "hut"})
        second = executor.episode()
        fresh = await second.call("recall", {"key": "hut"})
        first.close()
        second.close()
        return seen, fresh

    seen, fresh = run_async(scenario())
    assert seen.ok and seen.content["value"] == "Trient"
    assert (
        not fresh.ok
        and fresh.content["error"]["status"] == 400
        and "no note called hut" in fresh.content["error"]["message"]
    )
    mcp.close()
    deadline = time.monotonic() + 30  # stopping is not instant on a loaded machine; what matters is that it ends
    while _servers_running() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _servers_running() == 0


def test_a_server_is_confined_no_network_no_secrets_and_a_private_folder(monkeypatch):
    monkeypatch.setenv("TOOLLOOM_TEST_API_KEY", "sk-planted-secret")
    try:
        _, executor, mcp = _tools(_pipeline(fixtures="sandbox/mcp_servers/files"))
        names = executor.execute("environment", {}).content["names"]
        where = executor.execute("where", {}).content
        net = executor.execute("connect", {"port": 22}).content
        groups = _mcp_groups() if cgroups.unavailable() is None else None
        servers = set(_server_pids())
    finally:
        mcp.close()
    assert "TOOLLOOM_TEST_API_KEY" not in names and "OPENAI_API_KEY" not in names
    assert where["cwd"] == "/tmp/toolloom-workspace" and where["files"] == ["data", "notes"]
    # the folder is the server's alone: on the host it is absent, or empty where another run left the path
    assert not os.path.exists("/tmp/toolloom-workspace") or os.listdir("/tmp/toolloom-workspace") == []
    assert net["connected"] is False
    if groups is not None:  # where this host has control groups, the server is in one of its own (in each hierarchy)
        assert all(servers & procs for procs in groups.values()), (servers, groups)
        assert not any(_mcp_groups().values())  # and they are gone after close


def test_a_hanging_or_crashing_server_gives_an_error_observation_and_the_next_episode_works():
    _, executor, mcp = _tools(_pipeline(timeout_s=4.0))
    hung = executor.execute("hang", {"seconds": 120})  # far past the call limit, however busy the machine
    crashed = executor.execute("crash", {})
    after = executor.execute("remember", {"key": "k", "value": "v"})
    mcp.close()
    assert not hung.ok and hung.content["error"]["status"] == 504
    assert not crashed.ok and crashed.content["error"]["status"] == 502
    assert after.ok and after.content["stored"] is True


def test_a_server_that_cannot_start_is_an_error_that_says_why():
    pipeline = _pipeline(args=["{project}/tests/cases/mcp/no_such_server.py"])
    result, _, mcp = _tools(pipeline)
    [rejection] = result.rejections
    assert rejection.reason == "tools_unlisted" and "no_such_server.py" in rejection.detail  # the server's own stderr
    mcp.close()


def test_reference_servers_reproduce_their_recorded_results():
    """pipelines/mcp_servers.yaml's git and time servers: every sampled task, executed again against a
    fresh server, gives the recorded reference answer."""
    shipped = load_pipeline(PROJECT / "pipelines" / "mcp_servers.yaml")
    pipeline = shipped.model_copy(
        update={"collections": [c for c in shipped.collections if c.name in ("clock", "repo")]}
    )
    sandbox = Sandbox(PROJECT / "sandbox")
    executors = {c.name: McpExecutor(c.executor, c.name, PROJECT) for c in pipeline.collections}
    tools = build_tools(pipeline, PROJECT, sandbox, executors)
    assert tools.accounted and {r["execution"] for r in tools.table.to_pylist()} == {"mcp"}
    executor = ToolExecutor(sandbox, tools.table.to_pylist(), executors=executors)
    tasks = sample_tasks(tools.table, executor, TasksStage(per_tool=1, seed=3))
    assert tasks.accounted and tasks.accepted >= 10
    again = ToolExecutor(sandbox, tools.table.to_pylist(), executors=executors)
    for row in tasks.table.to_pylist():
        [step] = json.loads(row["chain"])
        assert again.execute(step["name"], step["arguments"]).to_json() == row["reference_answer"], step
    for ex in executors.values():
        ex.close()


def test_a_collection_without_path_needs_an_executor_that_lists_tools():
    with pytest.raises(Exception, match="needs a path"):
        Pipeline.model_validate({"name": "x", "collections": [{"name": "c", "executor": "simulated"}]})
    with pytest.raises(Exception, match="mcp executor: command: Field required"):
        Pipeline.model_validate({"name": "x", "collections": [{"name": "c", "executor": {"kind": "mcp"}}]})
    with pytest.raises(Exception, match="unknown executor 'telnet'; known: http, mcp, python, simulated"):
        Pipeline.model_validate({"name": "x", "collections": [{"name": "c", "path": "p", "executor": "telnet"}]})


def test_a_server_thread_that_dies_before_connecting_is_reported_not_waited_for(monkeypatch):
    from toolloom.executors.mcp import McpConfig, McpServer

    async def dies(self):
        raise ImportError("no module named mcp.client (as a broken install would)")

    monkeypatch.setattr(McpServer, "_serve", dies)
    config = McpConfig.model_validate({**PROBE, "startup_timeout_s": 600})
    # a TimeoutError would mean the starter waited out startup_timeout_s for a thread that was already dead
    with pytest.raises(RuntimeError, match="failed to start: .*no module named mcp.client"):
        McpServer(config, PROJECT)
