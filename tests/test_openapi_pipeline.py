"""The shipped `openapi` pipeline, as a fresh clone has it: exits 0, every call of every example answered by
the live Jupyter Server, and each example's calls, made again on a freshly started server, return what the
example recorded (but for the timestamps and uuids a server makes anew)."""

import asyncio
import json
import shutil

import pytest

from toolloom.cli import main
from toolloom.executors.routing import ToolExecutor
from toolloom.executors.http import HttpExecutor
from toolloom.sandbox import Sandbox
from toolloom.spec import load_pipeline
from toolloom.stages.tools import build_tools
from toolloom.volatile import stable

from .conftest import PROJECT

pytestmark = [pytest.mark.pipeline, pytest.mark.services]


def _replay(executor, messages) -> list[tuple[str, object, object]]:
    """(tool, recorded result, result now) for every call of one example, in one fresh episode."""
    calls = {c["id"]: c["function"] for m in messages if m["role"] == "assistant" for c in m["tool_calls"] or []}

    async def run():
        episode = executor.episode()
        try:
            out = []
            for m in messages:
                if m["role"] == "tool":
                    fn = calls[m["tool_call_id"]]
                    obs = await episode.call(fn["name"], fn["arguments"])  # exported as an object
                    out.append((fn["name"], json.loads(m["content"]), obs.content))
            return out
        finally:
            episode.close()

    return asyncio.run(run())


def test_openapi_runs_from_a_fresh_clone_against_the_live_service_and_its_calls_reproduce(tmp_path, monkeypatch):
    from datasets import load_dataset

    monkeypatch.delenv("JUPYTER_TOKEN", raising=False)
    project = tmp_path / "clone"
    (project / "pipelines").mkdir(parents=True)
    shutil.copy(PROJECT / "pipelines" / "openapi.yaml", project / "pipelines")
    shutil.copytree(PROJECT / "sandbox" / "jupyter_server", project / "sandbox" / "jupyter_server")
    assert main(["--project", str(project), "--home", str(tmp_path / "home"), "run", "openapi"]) == 0

    rows = [r for split in load_dataset(str(project / "exports" / "openapi" / "latest")).values() for r in split]
    assert len(rows) >= 5
    assert {r["provenance"] for r in rows} == {"real"}
    assert all(set(json.loads(r["answered_by"])) == {"real"} for r in rows if r["num_calls"])

    pipeline = load_pipeline(project / "pipelines" / "openapi.yaml")
    coll = pipeline.collections[0]
    http = HttpExecutor(coll.executor, coll.name, project / coll.path, project, tmp_path / "replay")
    sandbox = Sandbox(project / "sandbox")
    tools = build_tools(pipeline, project, sandbox, {coll.name: http})
    executor = ToolExecutor(sandbox, tools.table.to_pylist(), executors={coll.name: http})
    try:
        replayed = [call for r in rows for call in _replay(executor, r["messages"])]
    finally:
        http.close()
    assert replayed
    differ = [(name, was, now) for name, was, now in replayed if stable(was) != stable(now)]
    assert not differ, differ[:3]
