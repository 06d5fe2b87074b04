"""A model's call with a made-up parameter or a value its schema forbids is answered with the API's 400 once,
before it counts: the corrected call stands in the example and the refused one is kept in the record."""

import json

from toolloom.agents.llm import ModelAssistant
from toolloom.agents.refusals import refused_calls
from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger, run_async
from toolloom.llm.fake_server import FakeModel, FakeServer
from toolloom.spec import ModelSpec

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


def _step(tmp_path, *responses):
    model = FakeModel()
    model.enqueue(*responses)
    with FakeServer(model) as server:
        client = ModelClient(
            ModelSpec(provider="openai", model="fake", base_url=server.base_url),
            cache=RequestCache(tmp_path / "c.sqlite"),
            ledger=UsageLedger(),
            budget=RunBudget(None),
            backoff_s=0.01,
        )
        return run_async(ModelAssistant(client).step(ASKED, [MOVIE])), model.history


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
    assert not turn.dropped  # the example is what the model wrote: the filter rejects it with its reason


def test_a_valid_call_is_not_asked_again(tmp_path):
    turn, history = _step(tmp_path, _call(movie_id=550, page=1))
    assert len(history) == 1 and not turn.dropped


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
