"""The `http` executor's `service:`: a real Jupyter Server started per episode from the shipped pipeline's
own configuration, its state real within an episode and never shared between two, its token never logged."""

import asyncio
import os
from pathlib import Path

import pytest

from toolloom.executors.routing import ToolExecutor
from toolloom.executors.http import HttpExecutor
from toolloom.sandbox import Sandbox
from toolloom.spec import load_pipeline
from toolloom.stages.tools import build_tools

from .conftest import PROJECT

pytestmark = pytest.mark.services


@pytest.fixture
def jupyter(tmp_path, monkeypatch):
    monkeypatch.delenv("JUPYTER_TOKEN", raising=False)
    pipeline = load_pipeline(PROJECT / "pipelines" / "openapi.yaml")
    coll = pipeline.collections[0]
    http = HttpExecutor(coll.executor, coll.name, PROJECT / coll.path, PROJECT, tmp_path)
    sandbox = Sandbox(PROJECT / "sandbox")
    tools = build_tools(pipeline, PROJECT, sandbox, {coll.name: http})
    executor = ToolExecutor(sandbox, tools.table.to_pylist(), executors={coll.name: http})
    yield http, executor
    http.close()


def _calls(executor, *calls):
    async def run():
        episode = executor.episode()
        try:
            return [await episode.call(name, args) for name, args in calls], episode
        finally:
            episode.close()

    return asyncio.run(run())


def test_a_file_created_in_an_episode_is_listed_renamed_and_read_back_there_and_nowhere_else(jupyter, tmp_path):
    http, executor = jupyter
    (created, listed, renamed, read), _ = _calls(
        executor,
        ("post__api_contents_path", {"path": "notes", "type": "file", "ext": ".md"}),
        ("get__api_contents_path", {"path": "notes"}),
        ("patch__api_contents_path", {"path": "notes/untitled.md", "body_path": "notes/plan.md"}),
        ("get__api_contents_path", {"path": "notes/plan.md", "type": "file", "format": "text"}),
    )
    assert created.ok and created.content["path"] == "notes/untitled.md"
    assert created.answered_by == "real"
    assert "untitled.md" in {f["name"] for f in listed.content["content"]}
    assert renamed.ok and renamed.content["path"] == "notes/plan.md"
    assert read.ok and read.content["content"] == ""
    # a fresh episode starts from the fixtures again: the file and its rename never happened there
    (other,), _ = _calls(executor, ("get__api_contents_path", {"path": "notes"}))
    assert {f["name"] for f in other.content["content"]} == {"todo.md", "packing_list.txt"}
    # a real error is a real error (the service's own words)
    (missing,), _ = _calls(executor, ("get__api_contents_path", {"path": "notes/plan.md"}))
    assert not missing.ok and missing.error.startswith("404") and "does not exist" in missing.error


def test_the_token_is_required_made_for_the_run_and_never_written_to_a_log(jupyter, tmp_path):
    import urllib.error
    import urllib.request

    http, executor = jupyter
    token = http._secret()
    assert token and len(token) >= 24
    server = http.services.shared()
    with pytest.raises(urllib.error.HTTPError) as refused:  # the service really checks it
        urllib.request.urlopen(f"{server.base_url}/api/contents/notes", timeout=10)
    assert refused.value.code == 403
    (status,), _ = _calls(executor, ("get__api_status", {}))
    assert status.ok and "started" in status.content
    logs = list((tmp_path / "logs").glob("service-jupyter-*.log"))
    assert logs and all(token not in log.read_text() for log in logs)


def test_closing_the_executor_stops_every_service_and_removes_its_root(jupyter):
    http, executor = jupyter

    async def open_episode():
        episode = executor.episode()
        assert (await episode.call("get__api_status", {})).ok
        return episode

    episode = asyncio.run(open_episode())  # still open: its server runs (and a spare may be starting)
    servers = list(http.services._live)
    assert servers
    http.close()
    assert all(s.proc.poll() is not None for s in servers)
    assert not any(Path(s.root).exists() for s in servers)
    episode.close()


def test_a_missing_service_command_stops_the_run_before_any_stage(tmp_path):
    from toolloom.executors.base import executor_config

    config = executor_config({"kind": "http", "service": {"command": ["no-such-jupyter"]}})
    with pytest.raises(FileNotFoundError, match="no-such-jupyter"):
        config.preflight(tmp_path)
    with pytest.raises(ValueError, match="exclude each other"):
        executor_config({"kind": "http", "mock": {}, "service": {"command": ["x"]}})
    assert os.environ.get("JUPYTER_TOKEN") is None
