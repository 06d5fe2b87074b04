"""Tools with no implementation are simulated: schema-checked JSON, repair once, episode history."""
import asyncio
import json

from toolloom.agents.llm import ModelSimulator
from toolloom.executor import ToolExecutor
from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger
from toolloom.llm.fake_server import FakeModel, FakeServer
from toolloom.prompts import DEFAULT_ROOT
from toolloom.sandbox import Sandbox
from toolloom.spec import ModelSpec

from .conftest import PROJECT

WEATHER = {"name": "get_weather", "collection": "ext", "executable": False, "description": "Current weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
           "returns": {"type": "object", "properties": {"temp_c": {"type": "number"}, "sky": {"type": "string"}}, "required": ["temp_c", "sky"]}}


def _executor(server, tmp_path):
    client = ModelClient(ModelSpec(provider="openai", model="fake", base_url=server.base_url), cache=RequestCache(tmp_path / "c.sqlite"),
                         ledger=UsageLedger(), budget=RunBudget(None), backoff_s=0.01)
    return ToolExecutor(Sandbox(PROJECT / "sandbox"), [WEATHER], simulator=ModelSimulator(client, DEFAULT_ROOT))


def test_valid_answer_and_history_and_repeat(tmp_path):
    model = FakeModel()
    model.enqueue({"content": json.dumps({"temp_c": 7.5, "sky": "rain"})}, {"content": '```json\n{"temp_c": 9, "sky": "clear"}\n```'})
    with FakeServer(model) as server:
        ex = _executor(server, tmp_path)

        async def episode():
            ep = ex.episode()
            first = await ep.call("get_weather", {"city": "Bergen"})
            again = await ep.call("get_weather", {"city": "Bergen"})
            other = await ep.call("get_weather", {"city": "Oslo"})
            return first, again, other

        first, again, other = asyncio.run(episode())
    assert first.ok and first.content == {"temp_c": 7.5, "sky": "rain"}
    assert again.content == first.content  # a repeated call agrees without asking
    assert other.ok and other.content == {"temp_c": 9, "sky": "clear"}
    assert len(model.history) == 2
    second_prompt = model.history[1]["messages"][0]["content"]
    history = second_prompt.split("Earlier calls in this session", 1)[1].split("Call:", 1)[0]
    assert '"Bergen"' in history and '"rain"' in history
    assert model.history[1]["response_format"] == {"type": "json_object"}


def test_invalid_answer_is_repaired_once_then_reported(tmp_path):
    model = FakeModel()
    model.enqueue({"content": "sunny, 20 degrees"}, {"content": json.dumps({"temp_c": 20, "sky": "sunny"})},
                  {"content": json.dumps({"temp_c": "warm"})}, {"content": "still not json"})
    with FakeServer(model) as server:
        ex = _executor(server, tmp_path)
        repaired = ex.execute("get_weather", {"city": "Rome"})
        failed = ex.execute("get_weather", {"city": "Nice"})
    assert repaired.ok and repaired.content == {"temp_c": 20, "sky": "sunny"}
    assert "cannot be used: not valid JSON" in model.history[1]["messages"][-1]["content"]
    assert not failed.ok and failed.content["error"]["status"] == 502 and "unusable after one repair" in failed.error


def test_simulated_errors_and_bad_arguments(tmp_path):
    model = FakeModel()
    model.enqueue({"content": json.dumps({"error": {"status": 404, "message": "city 'Atlantis' not found"}})})
    with FakeServer(model) as server:
        ex = _executor(server, tmp_path)
        missing = ex.execute("get_weather", {"city": "Atlantis"})
        bad = ex.execute("get_weather", {"town": "Oslo"})
        assert len(model.history) == 1  # bad arguments never reach the model
    assert missing.content == {"error": {"status": 404, "message": "city 'Atlantis' not found"}}
    assert not bad.ok and bad.content["error"]["status"] == 400 and "'city' is a required property" in bad.error
