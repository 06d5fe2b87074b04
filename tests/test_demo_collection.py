"""The bundled demo collection: specs and implementations agree, examples run, tools connect."""

import pytest

from toolloom.executors.routing import ToolExecutor
from toolloom.ingest import ingest_collection
from toolloom.sandbox import Sandbox

from .conftest import PROJECT

pytestmark = pytest.mark.services  # each test runs tools in sandbox worker processes


def _specs():
    tools, rejected = ingest_collection(PROJECT / "api_graphs" / "demo")
    assert rejected == []
    return tools


def test_every_spec_has_an_implementation_and_vice_versa():
    names = {t.name for t in _specs()}
    assert names == set(Sandbox(PROJECT / "sandbox").implementations("demo"))
    assert len(names) >= 30
    domains = {t.source_file.split("/")[-1] for t in _specs()}
    assert len(domains) >= 6


def test_documented_examples_run_and_fit_the_response_schema():
    from toolloom.checks.arguments import schema_errors

    tools = _specs()
    rows = [
        {"name": t.name, "collection": "demo", "executable": True, "parameters": t.parameters, "returns": t.returns}
        for t in tools
    ]
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), rows)
    ran = 0
    for t in tools:
        for example in t.meta.get("examples", []):
            obs = ex.execute(t.name, example)
            assert obs.ok, (t.name, example, obs.error)
            assert schema_errors(t.returns, obs.content) == [], (t.name, example)
            ran += 1
    assert ran >= 80


def test_outputs_feed_inputs_so_chains_can_be_multi_hop():
    tools = _specs()

    def leaves(schema, prefix=""):
        if not isinstance(schema, dict):
            return set()
        if schema.get("type") == "array":
            return leaves(schema.get("items"), prefix)
        props = schema.get("properties") or {}
        return {
            k for k, v in props.items() if not isinstance(v, dict) or "properties" not in v and v.get("type") != "array"
        } | {x for v in props.values() for x in leaves(v)}

    outputs = {t.name: leaves(t.returns) for t in tools}
    inputs = {t.name: set(t.parameters.get("required", [])) for t in tools}
    edges = {(a, b) for a in outputs for b in inputs if a != b and outputs[a] & inputs[b]}
    assert ("get_capital_city", "get_city") in edges  # city_id
    assert ("find_country", "get_country") in edges  # country_code
    assert ("place_order", "get_order_status") in edges  # order_id
    assert len({b for _, b in edges}) >= 15


def test_the_shop_is_stateful_per_episode():
    tools = _specs()
    rows = [
        {"name": t.name, "collection": "demo", "executable": True, "parameters": t.parameters, "returns": t.returns}
        for t in tools
    ]
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), rows)
    import asyncio

    async def shop_episode():
        ep = ex.episode()
        await ep.call("add_to_cart", {"product_id": "p102", "quantity": 2})
        order = await ep.call("place_order", {"country_code": "DE"})
        status = await ep.call("get_order_status", {"order_id": order.content["order_id"]})
        return order, status

    order, status = asyncio.run(shop_episode())
    assert order.ok and status.ok and status.content["status"] == "processing"
    assert round(2 * 29.9 * 1.19, 2) == order.content["total_eur"]
    fresh = ex.execute("get_order_status", {"order_id": order.content["order_id"]})
    assert not fresh.ok and fresh.content["error"]["status"] == 404


def test_japans_calendar_has_its_national_holidays_with_the_equinoxes_substitute_and_citizens_days():
    rows = [
        {"name": t.name, "collection": "demo", "executable": True, "parameters": t.parameters, "returns": t.returns}
        for t in _specs()
        if t.name == "list_holidays"
    ]
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), rows)
    days = {
        h["name"]: h["date"]
        for h in ex.execute("list_holidays", {"country_code": "JP", "year": 2026}).content["holidays"]
    }
    # 16 national holidays; Constitution Day falls on a Sunday (rest on Wednesday 6 May, after Greenery and
    # Children's Day), and 22 September lies between two holidays
    assert len(days) == 18
    assert days["Constitution Memorial Day (substitute day)"] == "2026-05-06"
    assert days["Citizens' Holiday"] == "2026-09-22"
    assert (days["Vernal Equinox Day"], days["Autumnal Equinox Day"]) == ("2026-03-20", "2026-09-23")
    assert (days["Marine Day"], days["Respect for the Aged Day"], days["Sports Day"]) == (
        "2026-07-20",
        "2026-09-21",
        "2026-10-12",
    )
    later = {
        h["name"]: h["date"]
        for h in ex.execute("list_holidays", {"country_code": "JP", "year": 2027}).content["holidays"]
    }
    assert later["Vernal Equinox Day"] == "2027-03-21"
    uk = ex.execute("list_holidays", {"country_code": "GB", "year": 2026}).content["holidays"]
    assert {"date": "2026-12-28", "name": "Boxing Day (substitute day)", "weekday": "Monday"} in uk
