"""The `accounted` check counts what a stage wrote: a stage that silently loses an item fails it."""

import pytest
import pyarrow as pa

from toolloom.agents.offline import RetrievalAssistant, TemplateUser
from toolloom.executors.routing import ToolExecutor
from toolloom.ingest import Rejection
from toolloom.prompts import render
from toolloom.sandbox import Sandbox
from toolloom.spec import SimulateStage, TasksStage, load_pipeline
from toolloom.stages import StageResult
from toolloom.stages import simulate as simulate_module
from toolloom.stages.simulate import simulate
from toolloom.stages.tasks import sample_tasks
from toolloom.stages.tools import build_tools

from .conftest import PROJECT


def test_counts_come_from_rows_and_rejections_not_from_each_other():
    table = pa.table({"id": ["a", "b", "c"], "ok": [True, False, True]})
    result = StageResult(
        table, [Rejection("s", "b", "c", "r")], ["a", "b", "c", "d"], "id", accepted_if=lambda r: r["ok"]
    )
    assert (result.inputs, result.accepted, len(result.rejections)) == (4, 2, 1)
    assert not result.accounted and result.unaccounted() == {"missing": ["d"], "extra": []}
    twice = StageResult(table, [Rejection("s", "a", "c", "r")], ["a", "c"], "id", accepted_if=lambda r: r["ok"])
    assert not twice.accounted and twice.unaccounted() == {"missing": [], "extra": ["a"]}  # accepted and rejected
    whole = StageResult(table, [Rejection("s", "b", "c", "r")], ["a", "b", "c"], "id", accepted_if=lambda r: r["ok"])
    assert whole.accounted


def _simulation(monkeypatch=None):
    tools = build_tools(load_pipeline(PROJECT / "pipelines/demo.yaml"), PROJECT, Sandbox(PROJECT / "sandbox")).table
    executor = ToolExecutor(Sandbox(PROJECT / "sandbox"), tools.to_pylist())
    tasks = sample_tasks(tools.slice(0, 6), executor, TasksStage(per_tool=1)).table
    return simulate(
        tasks,
        tools,
        user=TemplateUser(),
        assistant=RetrievalAssistant(),
        executor=executor,
        params=SimulateStage(distractors=1),
        system_prompt=render("simulate/assistant_system.j2", today=None),
        prompt_hash="h",
    ), tasks


@pytest.mark.services
def test_a_simulation_that_loses_an_episode_is_not_accounted(monkeypatch):
    result, tasks = _simulation()
    assert result.accounted and result.inputs == tasks.num_rows
    real = simulate_module.run_async
    monkeypatch.setattr(simulate_module, "run_async", lambda coro: real(coro)[:-1])  # a result lost, no rejection
    lossy, _ = _simulation()
    assert not lossy.accounted
    assert (
        len(lossy.unaccounted()["missing"]) == 1
        and lossy.unaccounted()["missing"][0][3:] == tasks["task_id"][-1].as_py()[2:]
    )


def test_a_steps_model_calls_are_its_own_whatever_role_made_them():
    """The tasks stage executes reference calls through the model simulator, whose requests say `simulate`:
    they are still the tasks step's calls, committed and summed with it, never dropped."""
    import dataclasses

    from toolloom.llm.ledger import CallRecord, UsageLedger

    fields = {
        f.name: (0 if f.type in ("int", "float") else False if f.type == "bool" else "x")
        for f in dataclasses.fields(CallRecord)
    }
    ledger = UsageLedger()
    ledger.add(CallRecord(**{**fields, "stage": "ingest"}))
    since = len(ledger.records)
    for stage, role, tokens in (("tasks", "user", 10), ("simulate", "executor", 7)):
        ledger.add(CallRecord(**{**fields, "stage": stage, "role": role, "prompt_tokens": tokens}))
    step = ledger.of_step("tasks", since)
    assert [(r.stage, r.role) for r in step] == [("tasks", "user"), ("tasks", "executor")]
    assert ledger.summary("tasks", since)["prompt_tokens"] == 17
