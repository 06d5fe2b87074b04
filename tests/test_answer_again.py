"""A model assistant's answer that misreports its results is asked again, greedily then sampled
(stages/episodes.py), and a dialogue's model answer that invents is said plainly (agents/realisers.py)."""

import json

import pyarrow.compute as pc
import pytest

from toolloom.executors.routing import ToolExecutor
from toolloom.llm.fake_server import FakeModel, FakeServer
from toolloom.sandbox import Sandbox
from toolloom.spec import SimulateStage, TasksStage, load_pipeline
from toolloom.stages.episodes import PLAIN_ANSWER
from toolloom.stages.simulate import run_metadata
from toolloom.stages.tasks import sample_tasks
from toolloom.stages.tools import build_tools

from .conftest import PROJECT, fake_client, simulated_by

pytestmark = pytest.mark.services


def _run(tmp_path, second: str | None, third: str | None = None, first: str | None = None, plain: bool = False):
    tools = build_tools(load_pipeline(PROJECT / "pipelines/demo.yaml"), PROJECT, Sandbox(PROJECT / "sandbox")).table
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), tools.to_pylist())
    tasks = sample_tasks(tools.filter(pc.equal(tools["name"], "get_country")), ex, TasksStage(per_tool=1, seed=2)).table
    code = json.loads(tasks["chain"][0].as_py())[0]["arguments"]["country_code"]
    country = ex.execute("get_country", {"country_code": code}).content
    made_up = f"Its capital is {country['capital']}; it was founded in 1871 by Otto von Bismarck."  # half invented
    model = FakeModel()
    model.enqueue(
        {"content": json.dumps({"request": f"Tell me about the country {code}."})},
        {"tool_calls": [{"name": "get_country", "arguments": {"country_code": code}}]},
        {"content": first or made_up},
        {"content": second or made_up},
        {"content": third or made_up},
    )
    with FakeServer(model) as server:
        client = fake_client(server, tmp_path / "c.sqlite")
        settings = SimulateStage(distractors=0, plain_answer_fallback=plain)
        (row,) = simulated_by(client, tasks, tools, ex, settings).table.to_pylist()
    return row, model, country, made_up


def test_an_answer_that_invents_is_asked_again_and_the_mended_one_kept(tmp_path):
    row, model, country, made_up = _run(tmp_path, second=None)
    assert row["final_answer"] == made_up and not row["answer_repaired"]  # asked twice, it said the same: kept
    asked = model.history[3]["messages"][-1]["content"]
    assert "That answer has a problem" in asked and "1871" in asked
    greedy, sampled = model.history[3], model.history[4]
    assert sampled["messages"] == greedy["messages"] and len(model.history) == 5
    assert sampled["temperature"] > 0 and sampled["seed"] != greedy["seed"]  # greedy would say it again


def test_an_answer_that_leaves_out_the_details_asked_for_is_asked_again(tmp_path):
    """The 0.5B model answered 'Show me the details of person 287.' with 'Brad Pitt is an American actor and film
    producer.' (answer_incomplete: the filter's completeness check, asked in the episode)."""
    _, _, country, _ = _run(tmp_path / "a", second=None)
    thin, full = (
        "Its capital is {capital}.".format(**country),
        "Its capital is {capital}, in {region}.".format(**country),
    )
    row, model, _, _ = _run(tmp_path / "b", first=thin, second=full)
    assert "the request asks for details" in model.history[3]["messages"][-1]["content"]
    assert row["final_answer"] == full and row["answer_repaired"]


def test_an_answer_still_misreporting_when_asked_again_is_the_plain_one_composed_from_the_results(tmp_path):
    row, model, country, made_up = _run(tmp_path, second=None, plain=True)
    assert len(model.history) == 5  # asked twice first
    assert made_up not in json.dumps(row["messages"]) and "1871" not in row["final_answer"]
    assert country["capital"] in row["final_answer"] and row["messages"][-1]["content"] == row["final_answer"]
    assert row["assistant_agent"].endswith(PLAIN_ANSWER) and not row["answer_repaired"]
    assert run_metadata([row])["answers_in_plain_wording"] == 1
    assert SimulateStage().plain_answer_fallback  # the default


def test_a_sampled_answer_mends_what_the_greedy_one_said_again(tmp_path):
    good = "The country's name is {name}; its capital is {capital}, in {region}."
    _, _, country, _ = _run(tmp_path / "a", second=None)
    row, model, country, made_up = _run(tmp_path / "b", second=None, third=good.format(**country))
    assert row["final_answer"] == good.format(**country) and row["answer_repaired"]
    assert made_up not in json.dumps(row["messages"])


def test_a_mended_answer_replaces_the_one_that_invented(tmp_path):
    good = "The country's name is {name}; its capital is {capital}, in {region}."
    first, _, country, _ = _run(tmp_path / "a", second=None)
    row, model, country, made_up = _run(tmp_path / "b", second=good.format(**country))
    assert row["final_answer"] == good.format(**country) and row["answer_repaired"]
    assert made_up not in json.dumps(row["messages"])  # the example keeps only the mended answer
    assert run_metadata([row])["answers_mended"] == 1 and run_metadata([first])["answers_mended"] == 0


def test_an_answer_asked_again_that_says_the_problem_back_does_not_mend_it(tmp_path):
    """The 0.5B model, told its answer had a problem, answered 'The final answer states Guernika is Guernica's,
    one of 5 records.' (a blind read: kept as mended)."""
    from toolloom.stages.episodes import echoes

    problem = "the final answer states Guernika is Guernica's, one of 5 records, and the answer does not say so"
    assert echoes("The final answer states Guernika is Guernica's, one of 5 records.", problem)
    assert not echoes("Guernika is one of the five upcoming films; Guernica is its English title.", problem)
    _, _, country, made_up = _run(tmp_path / "a", second=None)
    row, model, _, _ = _run(tmp_path / "b", second="The final answer states Its capital is " + country["capital"])
    asked = model.history[3]["messages"][-1]["content"]
    assert "the final answer states" in asked and not row["answer_repaired"] and row["final_answer"] == made_up
