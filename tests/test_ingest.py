import json

from toolloom.ingest import ingest_collection

from .conftest import CASES, PROJECT


def test_demo_collection_ingests_completely():
    tools, rejected = ingest_collection(PROJECT / "api_graphs" / "demo")
    assert rejected == []
    assert len(tools) >= 10
    assert len({t.name for t in tools}) == len(tools)
    assert all(t.parameters["type"] == "object" and t.returns for t in tools)


def test_broken_items_are_rejected_with_reasons_and_the_rest_goes_on():
    tools, rejected = ingest_collection(CASES / "broken_collection")
    names = sorted(t.name for t in tools)
    assert names == ["bfcl_style", "no_description", "ping"]
    reasons = sorted(r.reason for r in rejected)
    assert reasons == ["duplicate_name", "invalid_json", "invalid_schema", "missing_name", "unknown_format"]
    invalid = next(r for r in rejected if r.reason == "invalid_json")
    assert "invalid.json" in invalid.detail and "\n" not in invalid.detail
    # accepted + rejected = input entries (6 in good.json) + 2 files that could not be read as tools
    assert len(tools) + len(rejected) == 6 + 2


def test_bfcl_python_types_become_json_schema():
    tools, _ = ingest_collection(CASES / "broken_collection")
    bfcl = next(t for t in tools if t.name == "bfcl_style")
    assert bfcl.parameters["type"] == "object"
    assert bfcl.parameters["properties"]["ratio"]["type"] == "number"
    assert bfcl.parameters["properties"]["items"]["type"] == "array"
    assert "type" not in bfcl.parameters["properties"]["items"]["items"]


def test_spec_hash_changes_with_content(tmp_path):
    spec = [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}}}]
    (tmp_path / "a.json").write_text(json.dumps(spec))
    (first,), _ = ingest_collection(tmp_path)
    spec[0]["function"]["description"] = "changed"
    (tmp_path / "a.json").write_text(json.dumps(spec))
    (second,), _ = ingest_collection(tmp_path)
    assert first.spec_hash != second.spec_hash


def test_missing_collection_path_is_a_rejection(tmp_path):
    tools, rejected = ingest_collection(tmp_path / "nope")
    assert tools == [] and rejected[0].reason == "missing_path"

