"""A model's call with an optional text value nothing said (the 0.5B model's `region: "US"` on 'Show me the
upcoming movies.') runs without it, and a turn that only pages on through a list nobody asked more of is asked for
its answer instead (stages/episodes.py)."""

import json

import pyarrow.compute as pc
import pytest

from toolloom.executors.routing import ToolExecutor
from toolloom.llm.fake_server import FakeModel, FakeServer
from toolloom.sandbox import Sandbox
from toolloom.spec import SimulateStage, TasksStage, load_pipeline
from toolloom.stages.tasks import sample_tasks
from toolloom.stages.tools import build_tools

from .conftest import PROJECT, fake_client, simulated_by

pytestmark = pytest.mark.services


def _episode(tmp_path, request: str, *turns: dict) -> tuple[dict, FakeModel]:
    tools = build_tools(load_pipeline(PROJECT / "pipelines/demo.yaml"), PROJECT, Sandbox(PROJECT / "sandbox")).table
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), tools.to_pylist())
    picked = tools.filter(pc.equal(tools["name"], "countries_speaking"))
    tasks = sample_tasks(picked, ex, TasksStage(per_tool=1, seed=3)).table
    model = FakeModel()
    model.enqueue({"content": json.dumps({"request": request})}, *turns)
    with FakeServer(model) as server:
        (row,) = simulated_by(
            fake_client(server, tmp_path / "c.sqlite"), tasks, tools, ex, SimulateStage(distractors=0)
        ).table.to_pylist()
    return row, model


FRENCH = {"tool_calls": [{"name": "countries_speaking", "arguments": {"language_code": "fr", "region": "Europe"}}]}


def _call(tmp_path, request: str) -> tuple[dict, dict]:
    row, _ = _episode(tmp_path, request, FRENCH, {"content": "French is spoken in France, Belgium and Switzerland."})
    (call,) = json.loads(row["calls"]) if isinstance(row["calls"], str) else row["calls"]
    return row, call


def test_an_optional_value_nobody_stated_is_dropped_before_the_call_runs(tmp_path):
    row, call = _call(tmp_path, "Which countries speak French?")
    assert json.loads(call["arguments"]) == {"language_code": "fr"}  # all of them, not Europe's alone
    assert any("unstated: countries_speaking(region='Europe')" in d for d in call["dropped"])
    assert "Europe" not in json.dumps(row["messages"])


def test_an_optional_value_the_user_stated_is_kept(tmp_path):
    _, call = _call(tmp_path, "Which countries in Europe speak French?")
    assert json.loads(call["arguments"]) == {"language_code": "fr", "region": "Europe"} and not call.get("dropped")


def test_pages_of_a_list_nobody_asked_more_of_are_not_called():
    """The 0.5B model called pages 1, 2 and 3 of similar shows once page 1 had answered (tool_overuse)."""
    from toolloom.stages.episodes import _paged_on

    def call(i, args):
        return {"id": i, "type": "function", "function": {"name": "similar", "arguments": json.dumps(args)}}

    def so_far(request):
        return [
            {"role": "user", "content": request},
            {"role": "assistant", "content": None, "tool_calls": [call("a", {"tv_id": 31917, "page": 1})]},
            {"role": "tool", "tool_call_id": "a", "content": '{"page": 1, "results": [{"id": 1398}]}'},
        ]

    pages = [call("b", {"tv_id": 31917, "page": 1}), call("c", {"tv_id": 31917, "page": 2})]
    assert _paged_on(pages, so_far("Get similar TV shows of tv show 31917"))
    assert not _paged_on(pages, so_far("Show me more shows like tv show 31917, two pages"))  # asked for
    assert not _paged_on([call("b", {"tv_id": 1399, "page": 2})], so_far("Similar shows of 31917?"))  # another show
