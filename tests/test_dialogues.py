"""Multi-turn dialogues (ToolDial actions): plans, state-driven calls, realised offline or by a model."""
import json

import pytest

from toolloom.prompts import DEFAULT_ROOT, render
from toolloom.sandbox import Sandbox
from toolloom.spec import DIALOGUE_SCENARIOS, FilterStage, SimulateStage, TasksStage, load_pipeline
from toolloom.stages.dialogues import SCENARIOS, PhraseRealiser, load_phrases
from toolloom.stages.samples import filter_samples
from toolloom.stages.simulate import simulate
from toolloom.stages.tasks import sample_tasks
from toolloom.stages.tools import build_tools
from toolloom.agents.offline import RetrievalAssistant, TemplateUser
from toolloom.executor import ToolExecutor

from .conftest import PROJECT

USER_ACTIONS = {"inform_intent_clear", "inform_intent_clear_add", "inform_intent_vague", "inform", "fail_inform", "affirm", "negate", "user_bye"}
SYSTEM_ACTIONS = {"retriever_call", "request", "clarify", "suggest", "call", "response", "response_fail", "system_bye"}


def _inputs():
    tools = build_tools(load_pipeline(PROJECT / "pipelines/demo.yaml"), PROJECT, Sandbox(PROJECT / "sandbox")).table
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), tools.to_pylist())
    return sample_tasks(tools, ex, TasksStage(per_tool=2, seed=4)).table, tools, ex


@pytest.mark.parametrize("scenario", DIALOGUE_SCENARIOS)
def test_each_scenario_gives_a_verified_dialogue(scenario):
    tasks, tools, ex = _inputs()
    result = simulate(tasks, tools, user=TemplateUser(), assistant=RetrievalAssistant(), executor=ex,
                      params=SimulateStage(multi_turn_share=1.0, scenarios=[scenario]),
                      system_prompt=render("simulate/assistant_system.j2", today=None), prompt_hash="h",
                      dialogue=(PhraseRealiser(), PhraseRealiser(), load_phrases(DEFAULT_ROOT)))
    rows = result.table.to_pylist()
    assert result.accounted and all(r["kind"] == "multi_turn" for r in rows)
    assert all(r["outcome"] == "answered" for r in rows)
    for r in rows:
        plan = json.loads(r["actions"])
        speakers = {(a[0], a[1]) for a in plan["actions"]}
        assert all((s == "user" and a in USER_ACTIONS) or (s == "system" and a in SYSTEM_ACTIONS) for s, a in speakers)
        assert ("system", "call") in speakers and plan["actions"][-1][1] == "system_bye"
        roles = [m["role"] for m in r["messages"]]
        assert roles.count("user") >= 2 and "tool" in roles
    kept = filter_samples(result.table, FilterStage(), 0.0)
    assert kept.accepted == len(rows), [r.detail for r in kept.rejections][:3]
    used = {json.loads(r["actions"])["scenario"] for r in rows}
    assert scenario in used


def test_every_action_of_the_inventory_is_used():
    used = {a.split(":")[1] for plan in SCENARIOS.values() for a in plan}
    used |= {"inform_intent_clear", "suggest"}  # written as inform_intent_missing / suggest_other in plans
    assert USER_ACTIONS | SYSTEM_ACTIONS <= used
