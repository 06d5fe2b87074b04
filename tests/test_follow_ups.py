"""Follow-up dialogues: a multi-hop chain asked one step a turn, each step called and answered before the next."""

import json

import pyarrow as pa
import pytest

from toolloom.domain import Step, Task
from toolloom.messages import request_of
from toolloom.spec import FilterStage
from toolloom.stages.follow_ups import can_follow_up, follow_up_plan
from toolloom.stages.samples import filter_samples

from .test_dialogues import _inputs, _played

CAPITAL_DISTANCE = (
    ("get_capital_city", {"country_code": "AU"}),
    ("city_distance", {"to_city_id": "canberra", "from_city_id": "london"}, "city_id"),  # the bound one first
)


def _step(name: str, bindings: dict | None = None, condition: dict | None = None) -> Step:
    return Step(f"demo.{name}", name, "", {}, bindings or {}, condition=condition)


def test_a_chain_of_bound_single_calls_can_be_followed_up_and_its_plan_asks_calls_and_answers_each_step():
    bound = {"country_code": {"step": 0, "path": "country_code"}}
    assert can_follow_up(Task("t", "multi_hop", [_step("get_city"), _step("get_vat_rate", bound)], 0, {}))
    assert not can_follow_up(Task("t", "single", [_step("get_city")], 0, {}))
    assert not can_follow_up(Task("t", "multi_hop", [_step("get_city"), _step("get_vat_rate")], 0, {}))
    branch = {"step": 0, "path": "population", "op": ">", "value": 1}
    assert not can_follow_up(Task("t", "multi_hop", [_step("get_city"), _step("get_vat_rate", bound, branch)], 0, {}))
    plan = follow_up_plan(3)
    assert plan.count("S:call_step") == plan.count("S:response") == 3
    assert plan.count("U:inform_intent_followup") == 2 and plan[-2:] == ["U:user_bye", "S:system_bye"]


def test_the_chains_one_request_would_stitch_are_followed_up_first():
    from toolloom.stages.follow_ups import chance

    assert [chance(x, True) for x in (0.0, 0.25, 0.5, 1.0)] == [0.0, 0.5, 1.0, 1.0]
    assert [chance(x, False) for x in (0.0, 0.5, 0.75, 1.0)] == [0.0, 0.0, 0.5, 1.0]


@pytest.mark.services
@pytest.mark.parametrize("chain", [None, CAPITAL_DISTANCE])
def test_each_step_is_asked_called_and_answered_in_its_own_turn_and_the_episode_passes_the_filter(chain):
    tasks, tools, ex = _inputs(*chain) if chain else _inputs()
    result = _played(tasks, tools, ex, "follow_up")
    (row,) = [r for r in result.table.to_pylist() if r["kind"] == "multi_turn"]
    assert row["outcome"] == "answered" and json.loads(row["actions"])["scenario"] == "follow_up"
    msgs = [m for m in row["messages"] if m["role"] != "system"]
    # user, call, result, answer; user, call, result, answer; thanks, goodbye
    assert [m["role"] for m in msgs] == ["user", "assistant", "tool", "assistant"] * 2 + ["user", "assistant"]
    first, second = json.loads(msgs[2]["content"]), json.loads(msgs[6]["content"])
    (bound,) = json.loads(tasks.to_pylist()[-1]["chain"])[1]["bindings"].items()
    called = json.loads(msgs[5]["tool_calls"][0]["function"]["arguments"])
    assert called[bound[0]] == first[bound[1]["path"]]  # the second call takes the first result's value
    follow_up = msgs[4]["content"]
    assert not follow_up.startswith(("Then", "And then")) and first[bound[1]["path"]] not in follow_up
    # each answer is about its own turn's result: the second does not repeat the first's
    answers = [msgs[3]["content"], msgs[7]["content"]]
    assert row["final_answer"] == answers[1] and answers[0] != answers[1]
    assert request_of(row["messages"], json.loads(row["actions"])) == follow_up
    assert second  # a real result came back
    kept = filter_samples(pa.Table.from_pylist([row], schema=result.table.schema), FilterStage(), 0.0)
    assert kept.accepted == 1, [r.detail for r in kept.rejections]


class _Recorder:
    """A user realiser that says the plain example and records the facts it was given for each act."""

    name = "recorder"

    def __init__(self):
        self.given: list[tuple[str, dict]] = []

    async def utter(self, speaker, action, example, facts, history) -> str:
        self.given.append((action, dict(facts)))
        return example


@pytest.mark.services
def test_a_model_user_is_not_given_the_value_a_follow_up_takes_from_the_last_answer():
    from toolloom.agents.offline import RetrievalAssistant, TemplateUser
    from toolloom.agents.realisers import PhraseRealiser, load_phrases
    from toolloom.prompts import DEFAULT_ROOT, render
    from toolloom.spec import SimulateStage
    from toolloom.stages.simulate import simulate

    tasks, tools, ex = _inputs(*CAPITAL_DISTANCE)
    user = _Recorder()
    simulate(
        tasks.slice(tasks.num_rows - 1),  # the two-step chain alone
        tools,
        user=TemplateUser(),
        assistant=RetrievalAssistant(),
        executor=ex,
        params=SimulateStage(follow_up_share=1.0, scenarios=["follow_up"]),
        system_prompt=render("simulate/assistant_system.j2", today=None),
        prompt_hash="h",
        dialogue=(user, PhraseRealiser(), load_phrases(DEFAULT_ROOT)),
    )
    asks = [facts for action, facts in user.given if action == "inform_intent_clear"]
    # the first asks about Australia; the follow-up names London, and 'that city' for Canberra
    assert asks == [{"country_code": "AU"}, {"from_city_id": "london"}]
