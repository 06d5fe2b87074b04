"""The tasks and simulate stages on the demo tools: documented or synthesised arguments (a tool with none, or only
degenerate ones, rejected with its reason), offline simulation with verified calls, abstain examples, and
distractors that never offer two tools of one name. `_tools` is the demo tool table other tests reuse; the filter
stage is in test_stages_filter.py."""

import pytest
import json

import pyarrow as pa

from toolloom.agents.offline import RetrievalAssistant, TemplateUser
from toolloom.checks.arguments import argument_errors, schema_errors
from toolloom.prompts import render
from toolloom.sandbox import Sandbox
from toolloom.spec import SimulateStage, TasksStage, load_pipeline
from toolloom.stages.simulate import simulate
from toolloom.stages.tasks import sample_tasks
from toolloom.stages.tools import build_tools
from toolloom.executors.routing import ToolExecutor

from .conftest import PROJECT


def _tools():
    result = build_tools(load_pipeline(PROJECT / "pipelines/demo.yaml"), PROJECT, Sandbox(PROJECT / "sandbox"))
    assert result.accounted and result.rejections == []
    return result.table


@pytest.mark.services
def test_tasks_use_documented_or_synthesised_arguments_and_reject_only_tools_that_give_none():
    tools = _tools()
    first = tools.slice(0, 1).to_pylist()[0]
    returns = {
        "type": "object",
        "properties": {"city_id": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city_id"],
    }
    ghost = {
        **first,
        "tool_id": "demo.ghost",
        "name": "ghost",
        "executable": False,
        "execution": "simulated",
        "meta": "{}",
        "returns": json.dumps(returns),
    }  # no code, no example: simulated, with synthesised arguments
    untyped = {
        **ghost,
        "tool_id": "demo.untyped",
        "name": "untyped",
        "parameters": json.dumps({"type": "object", "properties": {"blob": {}}, "required": ["blob"]}),
    }
    table = pa.concat_tables([tools, pa.Table.from_pylist([ghost, untyped], schema=tools.schema)])
    result = sample_tasks(
        table, ToolExecutor(Sandbox(PROJECT / "sandbox"), table.to_pylist()), TasksStage(per_tool=2, seed=1)
    )
    assert result.accounted
    no_arguments = [r for r in result.rejections if r.reason == "no_arguments"]
    assert [r.item_id for r in no_arguments] == ["demo.untyped"] and "`blob`" in no_arguments[0].detail
    rows = result.table.to_pylist()
    ghost_rows = [r for r in rows if json.loads(r["chain"])[0]["name"] == "ghost"]
    assert len(ghost_rows) == 2
    for r in ghost_rows:
        assert argument_errors(json.loads(ghost["parameters"]), json.loads(r["chain"])[0]["arguments"]) == []
        assert schema_errors(returns, json.loads(r["reference_answer"])) == []
    for tool in tools.to_pylist():  # a documented example is used before anything is made up
        examples = json.loads(tool["meta"] or "{}").get("examples") or []
        used = [
            json.loads(r["chain"])[0]["arguments"] for r in rows if json.loads(r["chain"])[0]["name"] == tool["name"]
        ]
        if examples and used:
            assert used[0] in examples
    again = sample_tasks(
        table, ToolExecutor(Sandbox(PROJECT / "sandbox"), table.to_pylist()), TasksStage(per_tool=2, seed=1)
    )
    assert again.table.equals(result.table)  # seeded


@pytest.mark.services
def test_offline_simulation_answers_with_verified_calls():
    tools = _tools()
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), tools.to_pylist())
    tasks = sample_tasks(tools, ex, TasksStage(per_tool=2)).table
    seen = []
    result = simulate(
        tasks,
        tools,
        user=TemplateUser(),
        assistant=RetrievalAssistant(),
        executor=ex,
        params=SimulateStage(distractors=2),
        system_prompt=render("simulate/assistant_system.j2", today=None),
        prompt_hash="h",
        progress=lambda d, t: seen.append((d, t)),
    )
    assert result.accounted and result.inputs == tasks.num_rows
    assert seen[-1] == (tasks.num_rows, tasks.num_rows)
    rows = result.table.to_pylist()
    answered = [r for r in rows if r["outcome"] == "answered"]
    assert len(answered) >= 0.8 * len(rows)
    r = answered[0]
    roles = [m["role"] for m in r["messages"]]
    assert roles[:3] == ["system", "user", "assistant"] and "tool" in roles
    assert len(json.loads(r["tools_offered"])) == 3  # the needed tool and two distractors


@pytest.mark.services
def test_abstain_examples_offer_only_unrelated_tools_and_any_call_rejects_them():
    from toolloom.domain import trajectory_of
    from toolloom.stages.samples import check_execution

    tools = _tools()
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), tools.to_pylist())
    tasks = sample_tasks(tools.slice(0, 8), ex, TasksStage(per_tool=1)).table
    result = simulate(
        tasks,
        tools,
        user=TemplateUser(),
        assistant=RetrievalAssistant(),
        executor=ex,
        params=SimulateStage(distractors=3, abstain_share=1.0),
        system_prompt=render("simulate/assistant_system.j2", today=None),
        prompt_hash="h",
    )
    assert result.accounted
    rows = result.table.to_pylist()
    abstain = [r for r in rows if r["kind"] == "abstain"]
    assert len(abstain) == tasks.num_rows  # one per single-call task, beside its ordinary episode
    by_task = {r["task_id"]: json.loads(r["chain"])[0]["name"] for r in tasks.to_pylist()}
    for r in abstain:
        offered = [t["function"]["name"] for t in json.loads(r["tools_offered"])]
        assert len(offered) == 3 and by_task[r["task_id"]] not in offered and r["chain"] == "[]"
    declined = [r for r in abstain if r["outcome"] == "answered" and check_execution(trajectory_of(r)) is None]
    assert declined and all(not json.loads(r["calls"]) for r in declined)
    called = {**declined[0], "calls": json.dumps([{"name": "x", "arguments": "{}", "ok": True, "error": ""}])}
    assert check_execution(trajectory_of(called))[0] == "called_when_nothing_fits"


def test_two_collections_tools_of_one_name_are_never_offered_together():
    from toolloom.stages.episodes import Distractors

    def tool(name, collection, description):
        return {
            "name": name,
            "tool_id": f"{collection}.{name}",
            "description": description,
            "parameters": {"type": "object"},
        }

    tools = [
        tool("get_weather", "a", "weather now in a city"),
        tool("get_weather", "b", "weather now in a city"),
        tool("get_forecast", "a", "weather forecast for a city"),
        tool("get_forecast", "b", "weather forecast"),
        tool("convert_units", "a", "convert a length"),
    ]
    offer = Distractors(tools).offer([tools[0]], 3)
    names = [t["function"]["name"] for t in offer]
    assert len(names) == len(set(names)) == 3 and "get_weather" in names
    far = Distractors(tools).unrelated([tools[4]], 3)
    assert len({t["function"]["name"] for t in far}) == len(far) == 2  # only two other names exist


def test_a_tool_whose_every_argument_set_is_degenerate_is_rejected_with_its_reason():
    same = {
        "name": "convert_units",
        "tool_id": "c.convert_units",
        "description": "Convert",
        "collection": "c",
        "parameters": json.dumps(
            {
                "type": "object",
                "properties": {
                    "from_unit": {"type": "string", "enum": ["m"]},
                    "to_unit": {"type": "string", "enum": ["m"]},
                },
                "required": ["from_unit", "to_unit"],
            }
        ),
        "returns": None,
        "source_format": "function_json",
        "source_file": "f",
        "spec_hash": "h",
        "executable": False,
        "execution": "simulated",
        "meta": "{}",
    }
    from toolloom.stages.tools import TOOLS_SCHEMA

    table = pa.Table.from_pylist([same], schema=TOOLS_SCHEMA)
    result = sample_tasks(
        table, ToolExecutor(None, [dict(same, parameters=json.loads(same["parameters"]))]), TasksStage(per_tool=1)
    )
    assert result.accounted and result.table.num_rows == 0
    assert [(r.item_id, r.reason) for r in result.rejections] == [("c.convert_units", "no_arguments")]
