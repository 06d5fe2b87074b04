import json

from toolloom.executor import ToolExecutor
from toolloom.sandbox import Sandbox

from .conftest import PROJECT

SCHEMA = {
    "type": "object",
    "properties": {"country_code": {"type": "string", "pattern": "^[A-Z]{2}$"}},
    "required": ["country_code"],
}


def test_demo_tools_are_discovered_and_run():
    sb = Sandbox(PROJECT / "sandbox")
    impls = sb.implementations("demo")
    assert {"get_country", "convert_currency", "add_days", "city_distance"} <= set(impls)
    obs = sb.execute("demo", "get_country", {"country_code": "JP"}, SCHEMA)
    assert obs.ok and obs.content["capital"] == "Tokyo" and obs.content["currency"] == "JPY"


def test_bad_arguments_get_api_style_errors():
    sb = Sandbox(PROJECT / "sandbox")
    missing = sb.execute("demo", "get_country", {}, SCHEMA)
    assert not missing.ok and missing.content["error"]["status"] == 400
    assert "'country_code' is a required property" in missing.error
    wrong = sb.execute("demo", "get_country", {"country_code": "Japan"}, SCHEMA)
    assert not wrong.ok and "does not match" in wrong.error
    unknown = sb.execute("demo", "get_country", {"country_code": "JP", "x": 1}, SCHEMA)
    assert not unknown.ok and "unknown argument(s): x" in unknown.error


def test_tool_errors_become_observations():
    sb = Sandbox(PROJECT / "sandbox")
    not_found = sb.execute("demo", "get_country", {"country_code": "ZZ"}, SCHEMA)
    assert not not_found.ok and not_found.content == {"error": {"status": 404, "message": "no country with code 'ZZ'"}}
    assert sb.execute("demo", "nope", {}).content["error"]["status"] == 404
    assert sb.implementations("no_such_collection") == []


def test_executor_simulates_tools_without_implementation_consistently():
    tool = {
        "name": "weather",
        "collection": "x",
        "executable": False,
        "parameters": json.dumps({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        "returns": json.dumps(
            {
                "type": "object",
                "properties": {"temp_c": {"type": "number"}, "sky": {"type": "string", "enum": ["clear", "rain"]}},
            }
        ),
    }
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), [tool])
    a, b = ex.execute("weather", {"city": "Oslo"}), ex.execute("weather", {"city": "Oslo"})
    assert a.ok and a.content == b.content
    assert isinstance(a.content["temp_c"], float) and a.content["sky"] in ("clear", "rain")
    bad = ex.execute("weather", {"city": 3})
    assert not bad.ok and bad.content["error"]["status"] == 400
    assert ex.execute("nope", {}).content["error"]["status"] == 404
