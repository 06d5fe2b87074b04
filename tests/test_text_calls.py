"""Tool calls a model wrote as text (no `tool_calls` from the endpoint) are recovered and marked;
text that has a call's shape but cannot be read rejects the episode with that reason."""

import json
from pathlib import Path

import pyarrow as pa
import pytest

from toolloom.agents.llm import ModelAssistant, ModelUser
from toolloom.executors.routing import ToolExecutor
from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger
from toolloom.llm import run_async
from toolloom.llm.fake_server import FakeModel, FakeServer
from toolloom.llm.text_calls import recover
from toolloom.prompts import render
from toolloom.sandbox import Sandbox
from toolloom.spec import ModelSpec, SimulateStage, load_pipeline
from toolloom.stages.simulate import simulate
from toolloom.stages.tasks import TASKS_SCHEMA
from toolloom.stages.tools import build_tools

from .conftest import PROJECT, fake_client

OFFERED = {"get_weather", "convert_currency"}


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
            [("get_weather", {"city": "Paris"})],
        ),
        (
            'Let me check.\n<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>\n'
            '<tool_call>{"name": "convert_currency", "arguments": "{\\"amount\\": 5}"}</tool_call>',
            [("get_weather", {"city": "Oslo"}), ("convert_currency", {"amount": 5})],
        ),
        ('```json\n{"name": "get_weather", "parameters": {"city": "Rome"}}\n```', [("get_weather", {"city": "Rome"})]),
        (
            '[{"name": "get_weather", "arguments": {"city": "Rome"}}, {"type": "function", "function": {"name": '
            '"convert_currency", '
            '"arguments": {"amount": 2}}}]',
            [("get_weather", {"city": "Rome"}), ("convert_currency", {"amount": 2})],
        ),
        ('{"tool_calls": [{"name": "get_weather", "arguments": {}}]}', [("get_weather", {})]),
        (
            '[get_weather(city="Lima", days=3), convert_currency(amount=1.5, to="EUR")]',
            [("get_weather", {"city": "Lima", "days": 3}), ("convert_currency", {"amount": 1.5, "to": "EUR"})],
        ),
        (
            "```python\nget_weather(city='Kyiv', detailed=True)\n```",
            [("get_weather", {"city": "Kyiv", "detailed": True})],
        ),
    ],
)
def test_each_written_form_is_recovered_as_openai_tool_calls(text, expected):
    found = recover(text, OFFERED)
    assert not found.problem
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in found.calls] == expected
    assert all(c["type"] == "function" and c["id"].startswith("call_") for c in found.calls)
    assert (
        len({c["id"] for c in found.calls}) == len(found.calls) and recover(text, OFFERED).calls == found.calls
    )  # unique, stable


def test_prose_around_hermes_tags_stays_as_the_message_content():
    found = recover('Let me check.\n<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>', OFFERED)
    assert found.content == "Let me check." and len(found.calls) == 1


@pytest.mark.parametrize(
    "text",
    [
        "The weather in Paris is sunny, 21 °C.",
        '{"name": "Paris", "population": 2148000}',
        "It costs 5 (five) euros.",
        '```json\n{"temperature": 21}\n```',
        "print(x)",
        "",
    ],
)
def test_ordinary_answers_are_not_calls(text):
    found = recover(text, OFFERED)
    assert found.calls == [] and not found.looked_like_call


@pytest.mark.parametrize(
    "text, reason",
    [
        ('<tool_call>{"name": "get_weather", "arguments": {"city"</tool_call>', "not JSON"),
        (
            '<tool_call>{"name": "book_flight", "arguments": {}}</tool_call>',
            "'book_flight', which is not an offered tool",
        ),
        ('{"name": "get_wether", "arguments": {"city": "Paris"}}', "'get_wether', which is not an offered tool"),
        ("get_wether(city='Paris')", "'get_wether', which is not an offered tool"),
        ("get_weather('Paris')", "by position"),
        ("get_weather(city=lookup('Paris'))", "not literal values"),
    ],
)
def test_a_call_shape_that_cannot_be_read_is_reported_with_why(text, reason):
    found = recover(text, OFFERED)
    assert found.calls == [] and reason in found.problem and found.looked_like_call


CALL = '{"name": "get_weather", "arguments": {"city": "Oslo"}}'
CONVERT = '{"name": "convert_currency", "arguments": {"amount": 5}}'


@pytest.mark.parametrize(
    "text, expected, dropped",
    [
        # one JSON object a line: a call, then a result the model made up (what Qwen2.5-Coder-0.5B wrote)
        (CALL + '\n{"city": "Oslo", "temperature_c": 4}', [("get_weather", {"city": "Oslo"})], 1),
        (CALL + "\n" + CONVERT, [("get_weather", {"city": "Oslo"}), ("convert_currency", {"amount": 5})], 0),
        (CALL + CONVERT, [("get_weather", {"city": "Oslo"}), ("convert_currency", {"amount": 5})], 0),
        # a call written after an invented result depends on it: dropped with the result
        (CALL + '\n{"temperature_c": 4}\n' + CONVERT, [("get_weather", {"city": "Oslo"})], 1),
        (
            "<tool_call>\n" + CALL + '\n</tool_call>\n<tool_response>\n{"temperature_c": 4}\n</tool_response>\n'
            "The weather in Oslo is 4 °C.",
            [("get_weather", {"city": "Oslo"})],
            1,
        ),
        (
            "```json\n" + CALL + "\n```\n```json\n" + CONVERT + "\n```",
            [("get_weather", {"city": "Oslo"}), ("convert_currency", {"amount": 5})],
            0,
        ),
        ("I will check the weather.\n" + CALL + "\nResult: sunny", [("get_weather", {"city": "Oslo"})], 1),
        # a call to a tool nobody offered is dropped; the offered one stands
        ('{"name": "book_flight", "arguments": {}}\n' + CALL, [("get_weather", {"city": "Oslo"})], 1),
        # a complete call stands when a broken one follows it
        (CALL + '\n{"name": "convert_currency", "arguments": {"amount": ', [("get_weather", {"city": "Oslo"})], 1),
        (
            "get_weather(city='Oslo')\nconvert_currency(amount=5)\nThe answer is 4 degrees.",
            [("get_weather", {"city": "Oslo"}), ("convert_currency", {"amount": 5})],
            1,
        ),
    ],
)
def test_every_complete_call_is_read_and_what_the_model_invented_after_them_is_dropped(text, expected, dropped):
    found = recover(text, OFFERED)
    assert not found.problem
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in found.calls] == expected
    assert len(found.dropped) == dropped, found.dropped
    assert "temperature" not in (found.content or "") and "4 °C" not in (found.content or "")


def test_a_model_writing_call_lines_until_the_token_limit_gets_its_first_call_without_more_requests(tmp_path):
    loop = (CALL + "\n" + CONVERT + "\n") * 12 + '{"name": "get_weather", "argu'
    assert [c["function"]["name"] for c in recover(loop, OFFERED).calls] == ["get_weather", "convert_currency"]
    model = FakeModel()
    model.enqueue({"content": loop, "finish_reason": "length"})
    with FakeServer(model) as server:
        client = fake_client(server, tmp_path / "c.sqlite")
        tools = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in OFFERED]
        turn = run_async(ModelAssistant(client).step([{"role": "user", "content": "Weather in Oslo?"}], tools))
    assert len(model.history) == 1  # not asked again with twice the room, nor resampled
    assert [c["function"]["name"] for c in turn.tool_calls] == ["get_weather"]  # a loop: its first call stands
    assert turn.call_source == "text" and any("loop" in d for d in turn.dropped)


def test_the_text_before_the_calls_is_the_content_without_fences_or_tags():
    found = recover("I will check.\n```json\n" + CALL + "\n```\n" + '{"temperature_c": 4}', OFFERED)
    assert found.content == "I will check." and len(found.calls) == 1


def _simulate(tmp_path: Path, server: FakeServer, n: int = 6):
    pipeline = load_pipeline(PROJECT / "pipelines" / "demo.yaml")
    sandbox = Sandbox(PROJECT / "sandbox")
    tools = build_tools(pipeline, PROJECT, sandbox).table
    executor = ToolExecutor(sandbox, tools.to_pylist())
    rows = []
    for i in range(n):
        name, args = (
            ("add_days", {"start_date": "2026-01-01", "days": i + 1})
            if i % 2
            else ("convert_currency", {"amount": i + 1, "from_currency": "EUR", "to_currency": "USD"})
        )
        chain = [{"tool_id": f"demo.{name}", "name": name, "arguments": args, "bindings": {}}]
        rows.append(
            {
                "task_id": f"t_{i:04d}",
                "shape": "single",
                "chain": json.dumps(chain),
                "reference_answer": executor.execute(name, args).to_json(),
                "seed": i,
            }
        )
    spec = ModelSpec(provider="openai", model="fake", base_url=server.base_url, timeout_s=10)
    client = ModelClient(
        spec, cache=RequestCache(tmp_path / "c.sqlite"), ledger=UsageLedger(), budget=RunBudget(None), backoff_s=0.01
    )
    try:
        return simulate(
            pa.Table.from_pylist(rows, schema=TASKS_SCHEMA),
            tools,
            user=ModelUser(client, PROJECT / "prompts"),
            assistant=ModelAssistant(client),
            executor=executor,
            params=SimulateStage(max_turns=4, distractors=3),
            system_prompt=render("simulate/assistant_system.j2", today=None),
            prompt_hash="t",
        )
    finally:
        sandbox.close()


@pytest.mark.services
@pytest.mark.parametrize("form", ["hermes", "json", "pythonic"])
def test_an_endpoint_that_writes_calls_as_text_still_yields_episodes_with_marked_calls(tmp_path, form):
    with FakeServer(calls_as_text=form) as server:
        result = _simulate(tmp_path, server)
        sent = len(server.model.history)
        again = _simulate(tmp_path, server)  # the same cache: recovered calls keep their ids, so nothing is asked again
        assert len(server.model.history) == sent and again.table.to_pylist() == result.table.to_pylist()
    rows = result.table.to_pylist()
    answered = [r for r in rows if r["outcome"] == "answered"]
    assert len(answered) == 6, [(r["outcome"], r["error"]) for r in rows]
    for r in answered:
        calls = json.loads(r["calls"])
        assert calls and all(c["call_source"] == "text" and c["ok"] for c in calls)
        called = [m for m in r["messages"] if m["role"] == "assistant" and m["tool_calls"]]
        assert called and all(m["content"] is None for m in called)  # the example carries real tool_calls, not the text
    assert result.metadata["calls_from_text"] == sum(len(json.loads(r["calls"])) for r in answered)


@pytest.mark.services
def test_an_endpoint_whose_written_calls_are_garbage_rejects_each_episode_with_the_reason(tmp_path):
    with FakeServer(calls_as_text="garbage") as server:
        result = _simulate(tmp_path, server)
    assert result.accounted and result.table.num_rows == 6
    assert {r.reason for r in result.rejections} == {"unreadable_tool_call"} and len(result.rejections) == 6
    assert all("could not be used: not JSON" in r.detail for r in result.rejections)
    assert result.metadata["outcomes"] == {"unreadable_tool_call": 6}


def _episode(tmp_path, *replies):
    from toolloom.agents.offline import TemplateUser
    from toolloom.domain import Step, Task
    from toolloom.stages.episodes import run_episode

    sandbox = Sandbox(PROJECT / "sandbox")
    tools = build_tools(load_pipeline(PROJECT / "pipelines" / "demo.yaml"), PROJECT, sandbox).table
    executor = ToolExecutor(sandbox, tools.to_pylist())
    task = Task("t_1", "single", [Step("demo.get_city", "get_city", "", {"city_id": "tokyo"})], 1, {})
    offered = [{"type": "function", "function": {"name": "get_city", "parameters": {"type": "object"}}}]
    model = FakeModel()
    model.enqueue(*replies)
    try:
        with FakeServer(model) as server:
            client = fake_client(server, tmp_path / "c.sqlite")
            ep = run_async(run_episode(task, TemplateUser(), ModelAssistant(client), executor, offered, "sys", 4))
    finally:
        sandbox.close()
    return ep, model.history


@pytest.mark.services
def test_a_model_that_repeats_an_answered_call_is_asked_for_its_answer_without_tools(tmp_path):
    call = '{"name": "get_city", "arguments": {"city_id": "tokyo"}}'
    ep, history = _episode(
        tmp_path,
        {"content": call},
        {"content": call},
        {"content": "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."},
    )
    assert (
        ep["outcome"] == "answered"
        and ep["answer_asked"]
        and ep["final_answer"] == "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."
    )
    assert [m["role"] for m in ep["messages"]] == ["system", "user", "assistant", "tool", "assistant"]  # no repeat
    # asked as the conversation stands, without tools: no note the model could echo ('The answer to your request is:')
    asked = next(h for h in history if "tools" not in h)  # the answer, asked without tools (before any ask again)
    assert asked["messages"][-1]["role"] == "tool"
    assert (
        len(ep["calls"]) == 1
        and ep["messages"][-1]["content"] == "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."
    )
    # a call again, asked so: asked once more with a note; a call then too ends the episode
    noted, history = _episode(
        tmp_path / "n",
        *[{"content": call}] * 3,
        {"content": "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."},
    )
    assert (
        noted["answer_asked"] and noted["final_answer"] == "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."
    )
    assert "tools" not in history[-1] and "answer my question" in history[-1]["messages"][-1]["content"]
    assert [m["role"] for m in noted["messages"]] == ["system", "user", "assistant", "tool", "assistant"]
    # written to the token limit, asked so (the 0.5B model looped in 10 of 111 episodes): asked with the note too
    loop = {"content": "Tokyo " * 50, "finish_reason": "length"}
    looped, history = _episode(
        tmp_path / "l",
        {"content": call},
        {"content": call},
        loop,
        {"content": "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."},
    )
    assert (
        looped["outcome"] == "answered"
        and looped["final_answer"] == "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."
    )
    assert "answer my question" in history[-1]["messages"][-1]["content"]
    again, _ = _episode(tmp_path / "b", *[{"content": call}] * 4)
    assert again["outcome"] == "no_final_answer" and again["final_answer"] is None


@pytest.mark.services
def test_an_answer_that_narrates_its_calls_by_tool_name_is_asked_for_again(tmp_path):
    """The 1.5B model's 'To find ..., I called the `get_city` function with ...': asked once more, without tools,
    for the answer a person reads; an answer that names no tool stands as it is."""
    call = '{"name": "get_city", "arguments": {"city_id": "tokyo"}}'
    narrated = {
        "content": "I called the `get_city` function with city id tokyo. "
        "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."
    }
    ep, history = _episode(
        tmp_path, {"content": call}, narrated, {"content": "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."}
    )
    assert ep["answer_asked"] and ep["final_answer"] == "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."
    assert "tools" not in history[-1] and [m["role"] for m in ep["messages"]][-2:] == ["tool", "assistant"]
    plain, _ = _episode(
        tmp_path / "b", {"content": call}, {"content": "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."}
    )
    assert (
        not plain["answer_asked"]
        and plain["final_answer"] == "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."
    )
    # the same narration beside a call: the call stays, the text goes (kept in the call's record as dropped)
    said = {"content": "I will call the `get_city` function for Tokyo.\n" + call}
    ep, _ = _episode(tmp_path / "c", said, {"content": "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."})
    turn = next(m for m in ep["messages"] if m.get("tool_calls"))
    assert not turn.get("content") and "get_city" in " ".join(ep["calls"][0]["dropped"])


@pytest.mark.services
def test_an_answer_that_is_the_result_s_json_is_asked_for_again_in_plain_language(tmp_path):
    call = '{"name": "get_city", "arguments": {"city_id": "tokyo"}}'
    pasted = {"content": '{"name": "Tokyo", "population": 14094034}'}
    ep, history = _episode(
        tmp_path, {"content": call}, pasted, {"content": "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."}
    )
    assert ep["answer_asked"] and ep["final_answer"] == "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."
    asked = next(h for h in history if "tools" not in h)  # the answer, asked without tools (before any ask again)
    assert asked["messages"][-1]["role"] == "tool"
    # asked so, the result's JSON again: asked with the note
    ep, history = _episode(
        tmp_path / "b",
        {"content": call},
        pasted,
        pasted,
        {"content": "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."},
    )
    assert (
        ep["final_answer"] == "Tokyo, in the Asia/Tokyo time zone, has 14,094,034 people."
        and "answer my question" in history[-1]["messages"][-1]["content"]
    )


def test_a_call_fed_its_own_result_back_is_a_loop_and_other_second_calls_are_not():
    """The 0.5B model converts 42.195 km to 26.2188 mi, then converts 26.2188 'km' again."""
    from toolloom.stages.episodes import _fed_back

    def call(i, name, args):
        return {"id": i, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}

    first = call("a", "convert_units", {"value": 42.195, "from_unit": "km", "to_unit": "mi"})
    so_far = [
        {"role": "user", "content": "Can you express 42.195 km as mi?"},
        {"role": "assistant", "content": None, "tool_calls": [first]},
        {"role": "tool", "tool_call_id": "a", "content": '{"unit": "mi", "value": 26.2188}'},
    ]
    assert _fed_back([call("b", "convert_units", {"value": 26.2188, "from_unit": "km", "to_unit": "mi"})], so_far)
    assert not _fed_back([call("b", "convert_units", {"value": 42.195, "from_unit": "km", "to_unit": "yd"})], so_far)
    assert not _fed_back([call("b", "convert_currency", {"value": 26.2188})], so_far)  # another tool
    paged = [*so_far[:2], {"role": "tool", "tool_call_id": "a", "content": '{"items": [], "cursor": "c2"}'}]
    assert not _fed_back([call("b", "convert_units", {"cursor": "c2"})], paged)  # a cursor passed on: paging
