"""The add_distractor escalation operator: the same chain offered beside nearly right tools."""

import json
import random

import pytest

from toolloom.executors.routing import ToolExecutor
from toolloom.graph.escalation import ChainEscalator, Harder
from toolloom.graph.near_tools import takes_call
from toolloom.llm import run_async
from toolloom.llm.competent_model import competent
from toolloom.llm.fake_server import FakeModel
from toolloom.sandbox import Observation
from toolloom.spec import EscalateStage

from .test_escalation_edgeless import _escalate_dates
from .test_escalations import RecordingEscalator, _run, _step, demo, seed_table  # noqa: F401 (fixture)


def test_a_tool_takes_a_call_when_it_has_every_argument_and_requires_no_other():
    schema = {"properties": {"movie_id": {}, "language": {}}, "required": ["movie_id"]}
    assert takes_call(schema, {"movie_id": 550})
    assert takes_call(schema, {"movie_id": 550, "language": "en"})
    assert not takes_call(schema, {"query": "Fight Club"})  # a parameter it lacks
    assert not takes_call(
        {"properties": {"movie_id": {}, "season": {}}, "required": ["movie_id", "season"]}, {"movie_id": 1}
    )
    assert not takes_call({"properties": {}}, {})  # a call with no arguments says nothing about its shape


def _movie_tool(name, description, parameters):
    return {
        "tool_id": f"m.{name}",
        "name": name,
        "collection": "m",
        "execution": "http",
        "description": description,
        "parameters": {
            "type": "object",
            "properties": {p: {"type": "integer"} for p in parameters},
            "required": list(parameters),
        },
        "examples": [],
    }


class Movies:
    """A movie service: keywords and credits differ per movie; images answers as keywords does."""

    kind, answers = "http", "real"

    def runs(self, name):
        return True

    async def call(self, tool, arguments, episode):
        if tool["name"] == "get_movie_credits":
            return Observation(True, {"id": arguments["movie_id"], "cast": ["Edward Norton"]})
        if tool["name"] == "get_movie_lists":
            return Observation(False, None, "404 not found")
        if tool["name"] == "get_person":
            return Observation(True, {"id": arguments["person_id"], "name": "Brad Pitt"})
        return Observation(True, {"id": arguments["movie_id"], "keywords": ["fight", "soap"]})

    def close(self):
        pass


def test_a_nearly_right_tool_takes_the_same_call_and_answers_it_differently():
    tools = [
        _movie_tool("get_movie_keywords", "Get the keywords of a movie.", ["movie_id"]),
        _movie_tool("get_movie_credits", "Get the cast and crew of a movie.", ["movie_id"]),
        _movie_tool("get_movie_images", "Get the images of a movie.", ["movie_id"]),  # the same answer
        _movie_tool("get_movie_lists", "Get the lists a movie belongs to.", ["movie_id"]),  # fails on the call
        _movie_tool("get_person", "Get a person of a movie's cast.", ["person_id"]),  # another call shape
    ]
    chains = ChainEscalator(tools, [], ToolExecutor(None, tools, executors={"m": Movies()}))
    seed = _run(chains, [_step(chains, "get_movie_keywords", movie_id=550)])
    harder = run_async(chains.add_distractor(seed, random.Random(0)))
    assert isinstance(harder, Harder) and harder.distractors == ["get_movie_credits"]
    assert [s.row(with_result=True) for s in harder.steps] == [s.row(with_result=True) for s in seed]
    alone = [tools[0], tools[2]]  # no tool answers the call differently: the operator does not apply
    chains = ChainEscalator(alone, [], ToolExecutor(None, alone, executors={"m": Movies()}))
    assert (
        run_async(
            chains.add_distractor(_run(chains, [_step(chains, "get_movie_keywords", movie_id=550)]), random.Random(0))
        )
        is None
    )


@pytest.mark.services  # runs the demo tools in sandbox worker processes
def test_the_demo_tools_nearly_right_for_a_call_are_real_other_answers(demo):  # noqa: F811
    _, chains, _ = demo
    seed = _run(chains, [_step(chains, "get_capital_city", country_code="FR")])
    harder = run_async(chains.add_distractor(seed, random.Random(0)))
    assert harder and harder.distractors
    for name in harder.distractors:
        assert takes_call(chains.params[name], {"country_code": "FR"})
        assert _run(chains, [_step(chains, name, country_code="FR")])[0].result != seed[0].result


def _confusable(escalator):
    """A frontier that calls the last offered tool (by name) that takes the request's call, right or not."""

    def respond(request):
        if not request.get("tools"):
            return competent(request)
        messages = request["messages"]
        results = [m["content"] for m in messages if m["role"] == "tool"]
        if results:
            return {"content": "Here is what I found: " + " | ".join(results)}
        step = escalator.chains[next(m["content"] for m in messages if m["role"] == "user")][0]
        offered = [t["function"] for t in request["tools"]]
        last = [f["name"] for f in offered if takes_call(f["parameters"], step.arguments)][-1]
        return {"tool_calls": [{"name": last, "arguments": step.arguments}]}

    return respond


@pytest.mark.services  # runs the demo tools in sandbox worker processes
def test_a_frontier_that_confuses_same_shaped_tools_fails_the_level_that_offers_one(demo, tmp_path):  # noqa: F811
    _, chains, _ = demo
    seeds = seed_table([chains.graph.step("get_capital_city", {"country_code": c}) for c in ("FR", "DE")])
    escalator = RecordingEscalator()
    params = EscalateStage(max_level=2, operators={"add_distractor": 1.0}, distractors=0)
    result = _escalate_dates(demo, tmp_path, FakeModel(default=_confusable(escalator)), escalator, seeds, params)
    assert result.accounted and result.accepted == 2
    for seed in ("t_0", "t_1"):
        levels = sorted((r for r in result.table.to_pylist() if r["seed_id"] == seed), key=lambda r: r["level"])
        assert [(r["level"], r["outcome"]) for r in levels] == [(0, "solved"), (1, "failed")]
        kept, near = levels[1], json.loads(levels[1]["distractors"])
        assert kept["kept"] and kept["operator"] == "add_distractor" and kept["chain"] == levels[0]["chain"]
        assert near and json.loads(levels[0]["distractors"]) == []
        assert kept["question"] == levels[0]["question"]  # only the offer changed
        called = json.loads(kept["attempts"])[0]["calls"][0][0]
        assert called in near  # the frontier took a nearly right tool, and the execution check failed it
