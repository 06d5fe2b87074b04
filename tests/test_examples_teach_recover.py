"""What the recover and ask examples teach: a value in the forms a person writes it and the errors a model
can learn from, a recover episode that fails for real then corrects itself and passes the filter (or is a counted
rejection), the model judge told what a recover example teaches, and an ask example that must ask before calling."""

import json
import random

import pytest

from toolloom.domain import Step, Task, trajectory_of
from toolloom.executors.routing import ToolExecutor
from toolloom.llm import run_async
from toolloom.prompts import DEFAULT_ROOT
from toolloom.sandbox import Sandbox
from toolloom.spec import load_pipeline
from toolloom.agents.realisers import load_phrases
from toolloom.stages.recoveries import learnable, run_recovery, user_forms
from toolloom.stages.samples import check_execution
from toolloom.stages.tools import build_tools

from .conftest import PROJECT, fake_client


def test_recover_forms_and_learnable_errors():
    assert user_forms("new_york") == ["New York"]  # as a person writes it: not NEW_YORK
    assert user_forms("EUR") == ["eur"]
    assert user_forms("2026-05-18") == ["18/05/2026", "May 18, 2026"]
    assert learnable("no city with id 'Tokyo'", "tokyo", "Tokyo", "city identifier such as tokyo")
    assert learnable("unsupported currency 'eur'; supported: EUR, USD", "EUR", "eur", "")
    assert not learnable("no city with id 'Tokyo'", "tokyo", "Tokyo", "")


@pytest.fixture(scope="module")
def demo_executor():
    tools = build_tools(load_pipeline(PROJECT / "pipelines/demo.yaml"), PROJECT, Sandbox(PROJECT / "sandbox")).table
    return ToolExecutor(Sandbox(PROJECT / "sandbox"), tools.to_pylist())


@pytest.mark.services
def test_a_recover_episode_fails_for_real_then_corrects_and_passes_the_filter(demo_executor):
    from toolloom.agents.realisers import PhraseRealiser

    task = Task("t_1", "single", [Step("demo.get_city", "get_city", "", {"city_id": "tokyo"})], 1, {})
    ep = run_async(
        run_recovery(task, PhraseRealiser(), demo_executor, [], "sys", load_phrases(DEFAULT_ROOT), random.Random(0))
    )
    assert ep["outcome"] == "answered"
    assert [c["ok"] for c in ep["calls"]] == [False, True] and json.loads(ep["calls"][1]["arguments"]) == {
        "city_id": "tokyo"
    }
    assert (
        "no city with id" in ep["calls"][0]["error"]
        and "tokyo" not in json.loads(ep["calls"][0]["arguments"])["city_id"]
    )
    reference = json.loads(ep["messages"][-2]["content"])
    traj = {
        "kind": "recover",
        "calls": json.dumps(ep["calls"]),
        "messages": ep["messages"],
        "final_answer": ep["final_answer"],
        "reference_answer": json.dumps(reference),
        "shape": "single",
    }
    assert check_execution(trajectory_of(traj)) is None
    assert check_execution(trajectory_of({**traj, "calls": json.dumps(ep["calls"][:1])}))[0] == "not_recovered"
    assert (
        check_execution(trajectory_of({**traj, "kind": "single_turn"}))[0] == "tool_error"
    )  # elsewhere a failed call is still an error


def test_an_ask_example_must_ask_before_calling():
    messages = [
        {"role": "user", "content": "Please list cities."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "list_cities", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c", "content": '{"cities": []}'},
    ]
    traj = {
        "kind": "ask",
        "calls": json.dumps([{"name": "list_cities", "arguments": "{}", "ok": True}]),
        "messages": messages,
        "final_answer": "There are no cities.",
        "reference_answer": None,
        "shape": "single",
    }
    assert check_execution(trajectory_of(traj))[0] == "no_question"
    asked = [
        messages[0],
        {"role": "assistant", "content": "Which country code should I use?"},
        {"role": "user", "content": "FR."},
    ] + messages[1:]
    assert check_execution(trajectory_of({**traj, "messages": asked})) is None


def test_a_recover_task_without_a_learnable_error_is_a_counted_rejection(demo_executor):
    from toolloom.agents.realisers import PhraseRealiser

    task = Task("t_2", "single", [Step("demo.day_of_week", "day_of_week", "", {"day": "2026-12-25"})], 1, {})
    ep = run_async(
        run_recovery(task, PhraseRealiser(), demo_executor, [], "sys", load_phrases(DEFAULT_ROOT), random.Random(0))
    )
    assert ep["outcome"] == "no_recoverable_error" and ep["calls"] == [] and "day_of_week" in ep["error"]


def test_the_model_judge_is_told_what_a_recover_example_teaches(tmp_path):
    from toolloom.llm.fake_server import FakeModel, FakeServer
    from toolloom.agents.judges import ModelJudge

    verdict = {
        "reason": "ok",
        "calls_fit": True,
        "answer_responds": True,
        "answer_supported": True,
        "reads_naturally": True,
    }
    model = FakeModel(default=lambda request: {"content": json.dumps(verdict)})
    traj = {
        "tools_offered": "[]",
        "messages": [{"role": "user", "content": "Tokyo?", "tool_calls": None}],
        "kind": "recover",
    }
    with FakeServer(model) as server:
        client = fake_client(server, tmp_path / "c")
        judge = ModelJudge(client, DEFAULT_ROOT)
        assert (
            run_async(judge.judge(traj))[0] == "pass"
            and run_async(judge.judge({**traj, "kind": "single_turn"}))[0] == "pass"
        )
    prompts = [m["messages"][0]["content"] for m in model.history]
    assert "then corrected, is fine" in prompts[0] and "then corrected, is fine" not in prompts[1]
