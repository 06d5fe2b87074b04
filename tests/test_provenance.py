"""Every call says who answered it (real, mock, simulated, none); an example's provenance is its weakest
call's, and the card calls only `real` examples verified by execution."""

import json

from toolloom.reports.card import provenance_lines
from toolloom.executors.routing import ToolExecutor
from toolloom.sandbox import Observation
from toolloom.stages.samples import provenance_of

TOOL = {
    "name": "get_movie",
    "collection": "tmdb",
    "description": "A movie",
    "execution": "http",
    "parameters": {"type": "object", "properties": {"movie_id": {"type": "integer"}}, "required": ["movie_id"]},
    "returns": {"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}},
}


class MockServerExecutor:
    kind, answers = "http", "mock"

    def runs(self, name):
        return True

    async def call(self, tool, arguments, episode):
        return Observation(True, {"id": 550, "title": "Fight Club"})  # the spec's example, whatever was asked

    def close(self):
        pass


class RealExecutor(MockServerExecutor):
    answers = "real"

    async def call(self, tool, arguments, episode):
        return Observation(True, {"id": arguments["movie_id"], "title": "Heat"})


def test_each_call_records_who_answered_it():
    mocked = ToolExecutor(None, [TOOL], executors={"tmdb": MockServerExecutor()})
    real = ToolExecutor(None, [TOOL], executors={"tmdb": RealExecutor()})
    simulated = ToolExecutor(None, [{**TOOL, "execution": "simulated"}])
    assert mocked.execute("get_movie", {"movie_id": 949}).answered_by == "mock"
    assert real.execute("get_movie", {"movie_id": 949}).answered_by == "real"
    assert simulated.execute("get_movie", {"movie_id": 949}).answered_by == "simulated"
    refused = real.execute("get_movie", {"movie_id": "x"})
    assert not refused.ok and refused.answered_by == "none"  # the argument check refused it: no tool saw it


def test_an_examples_provenance_is_its_weakest_call_and_only_real_is_called_verified():
    def traj(*by):
        return {"calls": json.dumps([{"name": "f", "answered_by": b} for b in by])}

    assert provenance_of(traj("real", "real")) == "real"
    assert provenance_of(traj("real", "mock")) == "mock"
    assert provenance_of(traj("mock", "simulated", "real")) == "simulated"
    assert provenance_of(traj()) == provenance_of(traj("none")) == "none"
    lines = "\n".join(provenance_lines([{"provenance": "real"}, {"provenance": "mock"}, {"provenance": "mock"}]))
    assert "- 2 `mock`: executed against a mock server" in lines and "verify nothing" in lines
    assert "- 1 `real`: verified by execution" in lines and lines.count("verified by execution") == 1


def test_a_result_about_another_entity_than_the_call_asked_for_is_rejected():
    from toolloom.domain import trajectory_of
    from toolloom.stages.samples import check_execution

    def traj(result: dict) -> dict:
        args = json.dumps({"movie_id": 24428})
        call = {"id": "c", "type": "function", "function": {"name": "get_movie", "arguments": args}}
        return {
            "kind": "single_turn",
            "shape": "single",
            "reference_answer": None,
            "final_answer": "It is Heat.",
            "calls": json.dumps([{"name": "get_movie", "arguments": args, "ok": True, "error": None}]),
            "messages": [
                {"role": "user", "content": "Movie 24428?"},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "content": json.dumps(result)},
                {"role": "assistant", "content": "It is Heat."},
            ],
        }

    assert check_execution(trajectory_of(traj({"id": 550, "title": "Heat"}))) == (
        "not_about_the_call",
        "get_movie: id is 550, the call asked for 24428",
    )
    assert check_execution(trajectory_of(traj({"id": 24428, "title": "Heat"}))) is None
