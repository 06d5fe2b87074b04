"""Escalation operators that need no API-graph edge: described values and synthesised constraints."""

import json
import random
import re
from datetime import date, timedelta

import pytest

from toolloom.agents.llm import ModelAssistant
from toolloom.executors.routing import ToolExecutor
from toolloom.sandbox import Observation
from toolloom.graph.escalation import ChainEscalator, Harder, StructuralVerifier, reference_answer
from toolloom.llm import run_async
from toolloom.llm.competent_model import competent
from toolloom.llm.fake_server import FakeModel, FakeServer
from toolloom.spec import EscalateStage
from toolloom.stages.escalations import escalate
from toolloom.text.descriptions import describe, value_of

from .test_escalations import RecordingEscalator, _client, _run, _step, demo, seed_table  # noqa: F401 (fixture)


def test_every_day_of_two_years_is_described_once_and_read_back():
    day, seen = date(2026, 1, 1), set()
    while day.year < 2028:
        text = describe(day.isoformat())
        assert text not in seen and value_of(text, "2026-01-01") == day.isoformat(), text
        seen.add(text)
        day += timedelta(days=1)
    assert describe("2026-05-18") == "the third Monday of May 2026"
    assert describe("2026-07-31") == "the last Friday of July 2026"  # the fifth is also the last: said as last


def test_quarter_hours_are_described_and_read_back_and_other_values_are_not():
    for hour in range(24):
        for minute in (0, 15, 30, 45):
            clock = f"{hour:02d}:{minute:02d}"
            assert value_of(describe(clock), clock) == clock
    assert describe("14:30") == "half past two in the afternoon" and describe("00:00") == "midnight"
    assert describe("14:31") is None and describe("2026-02-30") is None
    assert describe("Paris") is None and describe(2026) is None


@pytest.mark.services  # runs the demo tools in sandbox worker processes
def test_describe_value_keeps_the_chain_and_describes_its_dates(demo):  # noqa: F811
    _, chains, _ = demo
    seed = _run(chains, [_step(chains, "is_holiday", country_code="FR", day="2026-07-14")])
    harder = run_async(chains.describe_value(seed, random.Random(0)))
    assert isinstance(harder, Harder) and harder.described == {"2026-07-14": "the second Tuesday of July 2026"}
    assert [s.arguments for s in harder.steps] == [s.arguments for s in seed]
    assert harder.steps[0].result == seed[0].result  # executed again, same answer
    nothing = _run(chains, [_step(chains, "get_city", city_id="paris")])
    assert run_async(chains.describe_value(nothing, random.Random(0))) is None
    # a weekday lookup: 'the last Friday of ...' would hand over its answer, so the date stays stated
    weekday = _run(chains, [_step(chains, "day_of_week", day="2026-12-25")])
    assert weekday[0].result["weekday"] == "Friday"
    assert run_async(chains.describe_value(weekday, random.Random(0))) is None
    # a span's two ends described ('from the first Thursday of January to the last Thursday of December') and
    # New Year's Day as 'the first Thursday of January 2026' read as puzzles: they stay stated
    span = _run(chains, [_step(chains, "days_between", start_date="2026-03-10", end_date="2026-05-19")])
    assert run_async(chains.describe_value(span, random.Random(0))) is None
    new_year = _run(chains, [_step(chains, "is_holiday", country_code="FR", day="2026-01-01")])
    assert run_async(chains.describe_value(new_year, random.Random(0))) is None


def test_a_constraint_takes_a_value_the_parameter_description_names():
    """No enum, no example: the value comes from the parameter's own description; paging is never one."""
    tool = {
        "tool_id": "c.search",
        "name": "search",
        "collection": "c",
        "execution": "http",
        "description": "Search films.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "genre": {"type": "string", "description": "One of: drama, comedy, horror."},
                "page": {"type": "integer", "description": "Page, e.g. 2"},
            },
            "required": ["query"],
        },
        "examples": [],
    }

    class Films:  # a service whose answer depends on every argument
        kind, answers = "http", "real"

        def runs(self, name):
            return True

        async def call(self, tool, arguments, episode):
            return Observation(True, {"films": [arguments.get("genre", "any"), arguments.get("page", 1)]})

        def close(self):
            pass

    chains = ChainEscalator([tool], [], ToolExecutor(None, [tool], executors={"c": Films()}))
    seed = _run(chains, [_step(chains, "search", query="night")])
    harder = run_async(chains.add_constraint(seed, random.Random(1)))
    assert harder[0].arguments["genre"] in ("drama", "comedy", "horror") and "page" not in harder[0].arguments


def _date_seeds(chains):
    return seed_table(
        [
            chains.graph.step("is_holiday", {"country_code": c, "day": d})
            for c, d in (("FR", "2026-07-14"), ("DE", "2026-10-03"))
        ]
    )


def _escalate_dates(demo, tmp_path, model, escalator, seeds, params=None):  # noqa: F811
    """The seeds escalated (by describe_value alone unless `params` say), up to level 2, against the scripted
    frontier `model`."""
    tools, chains, executor = demo
    with FakeServer(model) as server:
        return escalate(
            seeds,
            tools,
            [],
            frontier=ModelAssistant(_client(server, tmp_path), stage="escalate", role="frontier"),
            escalator=escalator,
            verifier_for=StructuralVerifier,
            executor=executor,
            params=params or EscalateStage(max_level=2, operators={"describe_value": 1.0}),
            system_prompt="s",
            prompt_hash="h",
        )


def _literal_dates_only(escalator):
    """A frontier that calls the right tool when the request states its date, and gives up on a described one."""

    def respond(request):
        if not request.get("tools"):
            return competent(request)
        messages = request["messages"]
        question = next(m["content"] for m in messages if m["role"] == "user")
        if not re.search(r"\d{4}-\d{2}-\d{2}", question):
            return {"content": "I cannot work out which day you mean."}
        results = [m["content"] for m in messages if m["role"] == "tool"]
        if not results:
            step = escalator.chains[question][0]
            return {"tool_calls": [{"name": step.name, "arguments": step.arguments}]}
        return {"content": "Here is what I found: " + " | ".join(results)}

    return respond


@pytest.mark.services  # runs the demo tools in sandbox worker processes
def test_a_frontier_that_cannot_work_out_a_described_date_fails_the_level_above(demo, tmp_path):  # noqa: F811
    tools, chains, executor = demo
    escalator = RecordingEscalator()
    model = FakeModel(default=_literal_dates_only(escalator))
    result = _escalate_dates(demo, tmp_path, model, escalator, _date_seeds(chains))
    assert result.accounted and result.accepted == 2
    for seed in ("t_0", "t_1"):
        levels = sorted((r for r in result.table.to_pylist() if r["seed_id"] == seed), key=lambda r: r["level"])
        assert [(r["level"], r["outcome"]) for r in levels] == [(0, "solved"), (1, "failed")]
        kept = levels[1]
        assert kept["kept"] and kept["operator"] == "describe_value" and kept["chain"] == levels[0]["chain"]
        assert not re.search(r"\d{4}-\d{2}-\d{2}", kept["question"]) and " of " in kept["question"]
        day = json.loads(kept["chain"])[0]["arguments"]["day"]
        assert describe(day) in kept["question"]


@pytest.mark.parametrize("asked", ["What day?", "Which date do you mean?"])
def test_the_question_user_answers_a_clarification_with_the_description(asked):
    from toolloom.domain import Step, Task
    from toolloom.stages.escalation_ladder import QuestionUser

    user = QuestionUser("Is the second Tuesday of July 2026 a holiday in FR?", {"2026-07-14": "the second Tuesday"})
    task = Task("t", "single", [Step("x.is_holiday", "is_holiday", "", {"country_code": "FR", "day": "2026-07-14"})], 0)
    reply = run_async(user.details(task, user.question, asked))
    assert "2026-07-14" not in reply and "the second Tuesday" in reply and "FR" in reply


@pytest.mark.services  # runs the demo tools in sandbox worker processes
@pytest.mark.parametrize("trouble, outcome", [({"finish_reason": "length"}, "failed"), ({"status": 500}, "error")])
def test_a_frontier_that_writes_to_its_limit_fails_the_level_and_a_failing_endpoint_leaves_it_undecided(
    demo,  # noqa: F811
    tmp_path,
    trouble,
    outcome,
):
    tools, chains, executor = demo
    escalator = RecordingEscalator()
    right = _literal_dates_only(escalator)

    def respond(request):
        question = next((m["content"] for m in request["messages"] if m["role"] == "user"), "")
        if request.get("tools") and not re.search(r"\d{4}-\d{2}-\d{2}", question):
            return {"content": "Let me think. " * 40, **trouble}  # the level above the seed
        return right(request)

    result = _escalate_dates(demo, tmp_path, FakeModel(default=respond), escalator, _date_seeds(chains).slice(0, 1))
    rows = sorted(result.table.to_pylist(), key=lambda r: r["level"])
    assert [(r["level"], r["outcome"]) for r in rows] == [(0, "solved"), (1, outcome)]
    assert rows[1]["kept"] is (outcome == "failed") and result.accounted
    reason = json.loads(rows[1]["attempts"])[-1]["reason"]
    assert reason == ("runaway_output" if outcome == "failed" else "model_error")


def test_constraint_values_are_documented_or_a_flags_other_side_never_the_default(demo):  # noqa: F811
    _, chains, _ = demo
    assert chains._constraint_values("x", "adult", {"type": "boolean"}) == ["true"]
    assert chains._constraint_values("x", "adult", {"type": "boolean", "default": True}) == ["false"]
    sizes = {"type": "string", "enum": ["s", "m", "l"], "default": "m"}
    assert sorted(chains._constraint_values("x", "size", sizes)) == ['"l"', '"s"']


def test_a_level_whose_request_states_none_of_the_values_it_would_describe_is_dropped():
    from toolloom.stages.escalation_ladder import not_described

    described = {"2026-07-14": "the second Tuesday of July 2026"}
    assert not_described("Is 2026-07-14 a holiday in France?", described) is None
    assert not_described("Is Bastille Day a holiday in France?", described).startswith("not_described:")
    assert not_described("Anything.", {}) is None  # an operator that describes nothing


def test_a_live_services_fresh_timestamps_neither_fail_verification_nor_count_as_a_constraint():
    """A service that stamps every answer anew (a Jupyter file's last_modified, a kernel's uuid): the same
    chain run again verifies, and a constraint whose only effect is a new stamp changes nothing."""
    tool = {
        "tool_id": "c.get_file",
        "name": "get_file",
        "collection": "c",
        "execution": "http",
        "description": "A file's model.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "format": {"type": "string", "enum": ["text", "base64"]}},
            "required": ["path"],
        },
        "examples": [],
    }

    class Stamping:
        kind, answers, calls = "http", "real", 0

        def runs(self, name):
            return True

        async def call(self, tool, arguments, episode):
            Stamping.calls += 1
            stamp = f"2026-12-05T10:{Stamping.calls % 60:02d}:00.{Stamping.calls:06d}Z"
            uid = f"{Stamping.calls:08x}-0000-4000-8000-000000000000"
            return Observation(True, {"name": arguments["path"], "last_modified": stamp, "session": uid})

        def close(self):
            pass

    chains = ChainEscalator([tool], [], ToolExecutor(None, [tool], executors={"c": Stamping()}))
    seed = _run(chains, [_step(chains, "get_file", path="notes.md")])
    again = _run(chains, [_step(chains, "get_file", path="notes.md")])
    assert again[0].result != seed[0].result  # the raw answers differ by their stamps alone
    assert run_async(StructuralVerifier(chains).verify("q", seed, reference_answer(seed))) is None
    assert run_async(chains.add_constraint(seed, random.Random(0))) is None  # 'format' changes only the stamp
