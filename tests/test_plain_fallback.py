"""A model user's request refused twice becomes the plain wording it was shown, and the row says so."""

import json

import pyarrow.compute as pc
import pycountry
import pytest

from toolloom.executors.routing import ToolExecutor
from toolloom.llm.fake_server import FakeModel, FakeServer
from toolloom.sandbox import Sandbox
from toolloom.spec import SimulateStage, TasksStage, load_pipeline
from toolloom.stages.episodes import PLAIN_FALLBACK
from toolloom.stages.simulate import run_metadata
from toolloom.stages.tasks import sample_tasks
from toolloom.stages.tools import build_tools

from .conftest import PROJECT, fake_client, simulated_by

pytestmark = pytest.mark.services


def _run(tmp_path, fallback: bool):
    tools = build_tools(load_pipeline(PROJECT / "pipelines/demo.yaml"), PROJECT, Sandbox(PROJECT / "sandbox")).table
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), tools.to_pylist())
    tasks = sample_tasks(tools.filter(pc.equal(tools["name"], "get_country")), ex, TasksStage(per_tool=1, seed=2)).table
    code = json.loads(tasks["chain"][0].as_py())[0]["arguments"]["country_code"]
    model = FakeModel()
    model.enqueue(
        {"content": json.dumps({"request": "Tell me about a country."})},  # leaves the code out
        {"content": json.dumps({"request": "Tell me about that country, please."})},  # and again
        {"tool_calls": [{"name": "get_country", "arguments": {"country_code": code}}]},
        {"content": "Done."},
    )
    with FakeServer(model) as server:
        client = fake_client(server, tmp_path / "c.sqlite")
        result = simulated_by(
            client,
            tasks,
            tools,
            ex,
            SimulateStage(distractors=0, plain_request_fallback=fallback, plain_answer_fallback=False),
        )
    return result.table.to_pylist(), model, code


def test_a_request_refused_twice_is_the_plain_wording_and_says_who_wrote_it(tmp_path):
    (row,), model, code = _run(tmp_path, fallback=True)
    request = row["messages"][1]["content"]
    named = pycountry.countries.get(alpha_2=code).name  # the plain wording says the country as a person does
    assert (code in request or named in request) and request not in (
        "Tell me about a country.",
        "Tell me about that country, please.",
    )
    assert row["user_agent"] == PLAIN_FALLBACK and row["assistant_agent"] == "fake"
    assert row["outcome"] == "answered"
    assert "must state these values" in model.history[1]["messages"][-1]["content"]  # asked again with the problem
    assert run_metadata([row])["requests_in_plain_wording"] == 1


def test_without_the_fallback_a_refused_request_is_a_model_error(tmp_path):
    (row,), model, _ = _run(tmp_path, fallback=False)
    assert row["outcome"] == "model_error" and "must state these values" in row["error"]
    assert row["user_agent"] == "fake" and len(model.history) == 2  # no assistant turn was asked for
    assert run_metadata([row])["requests_in_plain_wording"] == 0
