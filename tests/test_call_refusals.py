"""A model's call with a made-up parameter or a value its schema forbids is answered with the API's 400 once,
before it counts: the corrected call stands in the example and the refused one is kept in the record."""

import json

import pyarrow.compute as pc
import pytest

from toolloom.agents.llm import ModelAssistant
from toolloom.executors.routing import ToolExecutor
from toolloom.sandbox import Sandbox
from toolloom.spec import SimulateStage, TasksStage, load_pipeline
from toolloom.stages.tasks import sample_tasks
from toolloom.stages.tools import build_tools
from toolloom.agents.refusals import refused_calls
from toolloom.llm import run_async
from toolloom.llm.fake_server import FakeModel, FakeServer

from .conftest import PROJECT, fake_client, simulated_by

MOVIE = {
    "type": "function",
    "function": {
        "name": "get_movie",
        "parameters": {
            "type": "object",
            "properties": {"movie_id": {"type": "integer"}, "page": {"type": "integer"}},
            "required": ["movie_id"],
        },
    },
}
ASKED = [{"role": "user", "content": "What is movie 550 about?"}]


def _step(tmp_path, *responses, messages=ASKED):
    model = FakeModel()
    model.enqueue(*responses)
    with FakeServer(model) as server:
        client = fake_client(server, tmp_path / "c.sqlite")
        return run_async(ModelAssistant(client).step(messages, [MOVIE])), model.history


ANSWERED = [
    *ASKED,
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            _tool_call := {
                "id": "c1",
                "type": "function",
                "function": {"name": "get_movie", "arguments": '{"movie_id": 550}'},
            }
        ],
    },
    {
        "role": "tool",
        "tool_call_id": "c1",
        "content": '{"movie_id": 550, "title": "Fight Club", "cast": [{"name": "Brad Pitt", "character": "Tyler"}]}',
    },
]


def _call(**arguments):
    return {"tool_calls": [{"name": "get_movie", "arguments": arguments}]}


def test_a_made_up_parameter_is_refused_and_the_corrected_call_stands(tmp_path):
    turn, history = _step(tmp_path, _call(movie_id=550, language="en"), _call(movie_id=550))
    assert [json.loads(c["function"]["arguments"]) for c in turn.tool_calls] == [{"movie_id": 550}]
    assert len(history) == 2
    told = history[1]["messages"][-1]  # the second request ends with the API's answer to the refused call
    assert told["role"] == "tool" and "'language' is no parameter of get_movie" in told["content"]
    assert "400" in told["content"] and "movie_id, page" in told["content"]
    assert any("refused before it was made" in d and "language" in d for d in turn.dropped)


def test_a_schema_violation_is_refused_too_and_a_correction_that_is_still_wrong_leaves_the_turn_as_written(tmp_path):
    turn, history = _step(tmp_path, _call(movie_id="fight club"), _call(movie_id="550", lang="en"))
    assert len(history) == 2  # asked once, not again and again
    assert [json.loads(c["function"]["arguments"]) for c in turn.tool_calls] == [{"movie_id": "fight club"}]
    assert not turn.dropped  # the example is what the model wrote, marked: the episode ends on it
    assert "'fight club' is not of type 'integer'" in turn.refused, turn.refused


def test_a_call_made_again_with_a_result_s_fields_is_told_so_and_the_answer_that_follows_stands(tmp_path):
    """The 0.5B model calls again with the fields of the result it has (`title`, a nested `character`)."""
    turn, history = _step(
        tmp_path,
        _call(movie_id=550, title="Fight Club", character="Tyler"),
        {"content": "Fight Club."},
        messages=ANSWERED,
    )
    told = history[1]["messages"][-1]["content"]
    assert "'character', 'title': a field of a result above, not a parameter" in told, told
    assert turn.content == "Fight Club." and not turn.tool_calls and not turn.refused
    assert any("refused before it was made" in d for d in turn.dropped)


def test_an_answer_in_place_of_the_first_call_does_not_stand_and_a_schema_as_arguments_is_told_so(tmp_path):
    turn, history = _step(
        tmp_path, _call(type="object", properties={"movie_id": {"type": "integer"}}), {"content": "It is good."}
    )
    told = history[1]["messages"][-1]["content"]
    assert "The arguments are values, not a schema" in told and "field of a result" not in told, told
    assert turn.refused and json.loads(turn.tool_calls[0]["function"]["arguments"])["type"] == "object"


def test_a_number_written_as_a_string_and_a_schema_as_the_arguments_of_a_tool_without_any_are_read_as_meant(tmp_path):
    """The 0.5B model on TMDB kept `person_id: "17419"` and `GET_tv-latest({"type": "object", ...})` after the 400."""
    from toolloom.agents.refusals import NORMALISED

    turn, history = _step(tmp_path, _call(movie_id="550"))
    assert len(history) == 1 and not turn.refused  # no 400: read as 550
    assert json.loads(turn.tool_calls[0]["function"]["arguments"]) == {"movie_id": 550}
    assert turn.dropped == [f'{NORMALISED}: get_movie({{"movie_id": "550"}})']
    latest = {
        "type": "function",
        "function": {"name": "get_latest", "parameters": {"type": "object", "properties": {}}},
    }
    model = FakeModel()
    model.enqueue({"tool_calls": [{"name": "get_latest", "arguments": {"type": "object", "properties": {}}}]})
    with FakeServer(model) as server:
        turn = run_async(ModelAssistant(fake_client(server, tmp_path / "d.sqlite")).step(ASKED, [latest]))
    assert json.loads(turn.tool_calls[0]["function"]["arguments"]) == {} and not turn.refused
    assert turn.dropped and turn.dropped[0].startswith(NORMALISED)


def test_a_valid_call_is_not_asked_again(tmp_path):
    turn, history = _step(tmp_path, _call(movie_id=550, page=1))
    assert len(history) == 1 and not turn.dropped and not turn.refused


def test_what_counts_as_refused_matches_the_filter():
    calls = [
        {"id": "a", "function": {"name": "get_movie", "arguments": '{"movie_id": 1}'}},
        {"id": "b", "function": {"name": "get_movie", "arguments": '{"movie_id": 1, "sort": "x"}'}},
        {"id": "c", "function": {"name": "get_movie", "arguments": "{}"}},
        {"id": "d", "function": {"name": "not_offered", "arguments": '{"x": 1}'}},  # the episode answers it (404)
        {"id": "e", "function": {"name": "get_movie", "arguments": "{not json"}},  # a cut call: asked again already
    ]
    refused = refused_calls(calls, [MOVIE])
    assert set(refused) == {"b", "c"}
    assert "'sort' is no parameter" in refused["b"] and "movie_id" in refused["c"]


@pytest.mark.services
def test_an_episode_ends_on_a_call_still_refused_and_goes_on_after_a_corrected_one(tmp_path):
    """No request more is spent on an example the format check would reject; a corrected call is executed and
    the example holds only it (the refused one in the call's record)."""
    tools = build_tools(load_pipeline(PROJECT / "pipelines/demo.yaml"), PROJECT, Sandbox(PROJECT / "sandbox")).table
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), tools.to_pylist())
    tasks = sample_tasks(tools.filter(pc.equal(tools["name"], "get_country")), ex, TasksStage(per_tool=1, seed=2)).table
    code = json.loads(tasks["chain"][0].as_py())[0]["arguments"]["country_code"]
    request = {"content": json.dumps({"request": f"Tell me about the country with code {code}."})}
    wrong = {"tool_calls": [{"name": "get_country", "arguments": {"country_code": code, "verbose_mode": "yes"}}]}
    right = {"tool_calls": [{"name": "get_country", "arguments": {"country_code": code}}]}
    country = ex.execute("get_country", {"country_code": code}).content  # an answer that is grounded and complete
    rows = {}
    for name, script in (
        ("kept", [request, wrong, wrong]),
        (
            "corrected",
            [request, wrong, right, {"content": f"Its capital is {country['capital']}, in {country['region']}."}],
        ),
    ):
        model = FakeModel()
        model.enqueue(*script)
        with FakeServer(model) as server:
            client = fake_client(server, tmp_path / f"{name}.sqlite")
            (rows[name],) = simulated_by(client, tasks, tools, ex, SimulateStage(distractors=0)).table.to_pylist()
        assert len(model.history) == len(script), name  # nothing asked after the refused turn
    kept, corrected = rows["kept"], rows["corrected"]
    assert kept["outcome"] == "refused_call" and "'verbose_mode' is no parameter of get_country" in kept["error"]
    assert json.loads(kept["calls"]) == []  # never executed
    assert corrected["outcome"] == "answered"
    calls = json.loads(corrected["calls"])
    assert [json.loads(c["arguments"]) for c in calls] == [{"country_code": code}]
    assert "refused before it was made" in calls[0]["dropped"][0]
    assert "verbose_mode" not in json.dumps(corrected["messages"])
