import json

import pytest

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
    renamed = next(t for t in tools if t.meta.get("renamed_from") == "ping")  # a different tool under a taken name
    assert names == sorted(["bfcl_style", "no_description", "ping", renamed.name])
    reasons = sorted(r.reason for r in rejected)
    assert reasons == [
        "duplicate_name",
        "empty_spec",
        "invalid_json",
        "invalid_schema",
        "missing_name",
        "unknown_format",
    ]
    assert "identically" in next(r.detail for r in rejected if r.reason == "duplicate_name")
    invalid = next(r for r in rejected if r.reason == "invalid_json")
    assert "invalid.json" in invalid.detail and "\n" not in invalid.detail
    # accepted + rejected = input entries (7 in good.json) + 3 files that hold no tool
    assert len(tools) + len(rejected) == 7 + 3


def test_bfcl_python_types_become_json_schema():
    tools, _ = ingest_collection(CASES / "broken_collection")
    bfcl = next(t for t in tools if t.name == "bfcl_style")
    assert bfcl.parameters["type"] == "object"
    assert bfcl.parameters["properties"]["ratio"]["type"] == "number"
    assert bfcl.parameters["properties"]["items"]["type"] == "array"
    assert "type" not in bfcl.parameters["properties"]["items"]["items"]


def test_spec_hash_changes_with_content(tmp_path):
    spec = [
        {
            "type": "function",
            "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    (tmp_path / "a.json").write_text(json.dumps(spec))
    (first,), _ = ingest_collection(tmp_path)
    spec[0]["function"]["description"] = "changed"
    (tmp_path / "a.json").write_text(json.dumps(spec))
    (second,), _ = ingest_collection(tmp_path)
    assert first.spec_hash != second.spec_hash


def test_missing_collection_path_is_a_rejection(tmp_path):
    tools, rejected = ingest_collection(tmp_path / "nope")
    assert tools == [] and rejected[0].reason == "missing_path"


def _by_name(tools):
    return {t.name: t for t in tools}


def test_openapi3_refs_cycles_bodies_media_and_broken_refs():
    tools, rejected = ingest_collection(CASES / "specs" / "petstore_oas3.json")
    t = _by_name(tools)
    assert set(t) == {"listPets", "createPet", "getPet", "getPhoto"}
    assert [r.reason for r in rejected] == ["unresolvable_ref"] and "getOwner" not in t
    assert t["listPets"].parameters["properties"]["limit"]["maximum"] == 100  # "100" repaired
    assert t["createPet"].parameters["required"] == ["name"] and "tag" in t["createPet"].parameters["properties"]
    pet = t["getPet"].returns
    assert pet["properties"]["parent"]["description"].startswith("(recursive")  # cycle cut, not looped
    assert t["getPet"].parameters["required"] == ["pet_id"]
    assert t["getPhoto"].returns == {"type": "string", "contentMediaType": "image/png"}
    assert t["getPet"].meta == {
        "method": "GET",
        "path": "/pets/{pet_id}",
        "params": {"pet_id": ["path", "pet_id"]},
        "servers": [],
    }


def test_swagger2_body_and_form_parameters():
    t = _by_name(ingest_collection(CASES / "specs" / "petstore_swagger2.json")[0])
    assert t["showPet"].parameters["properties"]["fields"] == {"type": "array", "items": {"type": "string"}}
    assert t["updatePet"].parameters["required"] == ["petId", "name"]
    assert t["updatePet"].parameters["properties"]["photo"] == {"type": "string", "format": "binary"}
    assert t["showPet"].returns["properties"]["age"] == {"type": "integer"}


def test_mcp_tools_list_keeps_good_tools():
    tools, rejected = ingest_collection(CASES / "specs" / "mcp_tools_list.json")
    assert [x.name for x in tools] == ["read_file"] and tools[0].source_format == "mcp"
    assert sorted(r.reason for r in rejected) == ["bad_parameters", "missing_name"]


def test_rapidapi_types_defaults_inferred_returns_and_bad_lines():
    tools, rejected = ingest_collection(CASES / "specs" / "rapidapi_tools.jsonl")
    t = _by_name(tools)
    search = t["Movie_DB__Search"]
    assert search.parameters["properties"]["q"] == {"type": "string", "description": "words", "default": "alien"}
    assert search.parameters["required"] == ["q"] and search.parameters["properties"]["year"] == {"type": "number"}
    assert search.returns["properties"]["results"]["items"]["properties"]["movie_id"] == {"type": "integer"}
    assert t["Movie_DB__Details"].returns == {"type": "object", "properties": {"title": {"type": "string"}}}
    assert sorted(r.reason for r in rejected) == ["invalid_json", "missing_name"]


CORPORA = PROJECT.parent / "shared" / "corpora"
EXPECTED = {  # corpus -> (tools, rejected), as ingested on 2026-11-24
    "restbench/tmdb_oas.json": (54, 0),
    "restbench/spotify_oas.json": (40, 0),
    "toolalpaca/eval_real.json": (40, 0),
    "toolalpaca/eval_simulated.json": (54, 0),
    "livemcpbench/tools.json": (527, 0),
    "bfcl/BFCL_v4_simple_python.json": (400, 0),
    "rapidapi/tools_sample.jsonl.gz": (5126, 27),
}


@pytest.mark.skipif(
    not CORPORA.exists(), reason="../shared/corpora is not present (it is not shipped with the project)"
)
@pytest.mark.parametrize("corpus", sorted(EXPECTED))
def test_real_corpora_ingest(corpus):
    tools, rejected = ingest_collection(CORPORA / corpus)
    assert (len(tools), len(rejected)) == EXPECTED[corpus]
    assert len({t.name for t in tools}) == len(tools)
    assert all(r.detail for r in rejected)


def test_toolbench_query_layout_is_its_own_format():
    tools, rejected = ingest_collection(CASES / "specs" / "toolbench_queries.json")
    assert {t.name: t.source_format for t in tools} == {
        "Open_Weather__forecast": "toolbench",
        "Currency_Exchange__convert": "toolbench",
    }
    weather = next(t for t in tools if t.name == "Open_Weather__forecast")
    assert weather.parameters["required"] == ["city"] and weather.parameters["properties"]["city"]["default"] == "Lyon"
    assert weather.returns["properties"]["days"]["type"] == "array" and weather.meta["query"].startswith(
        "What's the weather"
    )
    assert sorted(r.reason for r in rejected) == [
        "duplicate_name",
        "missing_name",
    ]  # the repeat, and the entry with no tool_name
    from toolloom.ingest import toolbench

    [bad] = toolbench.parse({"query_id": 7, "api_list": ["not an object"]}, "q.json")
    assert bad.reason == "bad_entry" and "entry 0 is not an object" in bad.detail


def test_deep_references_are_expanded_and_only_a_cycle_is_called_recursive(tmp_path):
    import json

    # nine schemas, each holding the next: deeper than 12 levels of JSON, but no cycle (Spotify's search)
    schemas = {
        f"L{k}": {"type": "object", "properties": {f"level{k}": {"$ref": f"#/components/schemas/L{k + 1}"}}}
        for k in range(9)
    }
    schemas["L9"] = {"type": "object", "properties": {"id": {"type": "string"}}}
    schemas["Node"] = {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Node"}}}
    ok = {
        "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/L0"}}}}
    }
    loop = {
        "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}
    }
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "components": {"schemas": schemas},
        "paths": {
            "/deep": {"get": {"operationId": "deep", "responses": ok}},
            "/tree": {"get": {"operationId": "tree", "responses": loop}},
        },
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    tools, rejected = ingest_collection(tmp_path / "spec.json")
    returns = {t.name: json.dumps(t.returns) for t in tools}
    assert not rejected
    deep = next(v for k, v in returns.items() if "deep" in k)
    assert '"id": {"type": "string"}' in deep and "recursive" not in deep and "not expanded" not in deep
    assert "(recursive: Node)" in next(v for k, v in returns.items() if "tree" in k)


def test_references_read_only_the_specs_own_folder_and_never_the_network(tmp_path):
    """A `$ref` to a file beside the spec is read; one outside its folder (relative or file://) and one to a URL
    are rejections naming the reference, and nothing is fetched."""
    import http.server
    import threading

    fetched = []

    class Recording(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            fetched.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"Leak": {"type": "string", "description": "fetched"}}')

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (tmp_path / "outside.json").write_text(json.dumps({"Secret": {"type": "string", "description": "host secret"}}))
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    (spec_dir / "common.yaml").write_text("Id:\n  type: integer\n  description: beside the spec\n")

    def op(ref: str) -> dict:
        return {
            "get": {
                "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"$ref": ref}}],
                "responses": {"200": {"description": "ok"}},
            }
        }

    paths = {
        "/beside": op("common.yaml#/Id"),
        "/up": op("../outside.json#/Secret"),
        "/absolute": op((tmp_path / "outside.json").as_uri() + "#/Secret"),
        "/remote": op(f"http://127.0.0.1:{server.server_address[1]}/defs.json#/Leak"),
    }
    (spec_dir / "api.json").write_text(
        json.dumps({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": paths})
    )
    try:
        tools, rejections = ingest_collection(spec_dir / "api.json")
    finally:
        server.shutdown()
    assert [t.meta["path"] for t in tools] == ["/beside"]
    assert tools[0].parameters["properties"]["q"]["description"] == "beside the spec"
    refused = {r.item_id.rsplit(" ", 1)[-1]: r for r in rejections}
    assert set(refused) == {"/up", "/absolute", "/remote"} and {r.reason for r in rejections} == {"refused_ref"}
    assert "outside.json#/Secret" in refused["/up"].detail and "/defs.json#/Leak" in refused["/remote"].detail
    assert fetched == [] and "host secret" not in json.dumps([t.__dict__ for t in tools], default=str)


def test_different_tools_under_one_name_are_all_kept_even_when_their_short_hashes_collide(tmp_path):
    """Variants 1103 and 3157 share the first 6 hex digits of their content hash: the second is named by more
    of it, never dropped as 'defined again, identically'; an identical repeat still is."""

    def tool(i: int) -> dict:
        return {"name": "lookup", "description": f"variant {i}", "parameters": {"type": "object", "properties": {}}}

    (tmp_path / "tools.json").write_text(json.dumps([tool(0), tool(1103), tool(3157), tool(3157)]))
    tools, rejected = ingest_collection(tmp_path / "tools.json")
    assert len(tools) == 3 and len({t.name for t in tools}) == 3 and tools[1].spec_hash[:6] == tools[2].spec_hash[:6]
    assert tools[0].name == "lookup" and len(tools[2].name) > len(tools[1].name)
    assert [r.reason for r in rejected] == ["duplicate_name"]


def test_names_keep_their_letters_and_a_collection_outside_the_project_is_named(tmp_path, caplog):
    from toolloom.ingest.records import safe_name
    from toolloom.sandbox import Sandbox
    from toolloom.spec import Pipeline
    from toolloom.stages.tools import build_tools

    assert [safe_name(n) for n in ("émoji", "Ärger über", "get weather")] == ["emoji", "Arger_uber", "get_weather"]
    assert safe_name("天气查询").startswith("tool_") and safe_name("天气查询") != safe_name("汇率查询")
    (tmp_path / "tools.json").write_text(
        json.dumps([{"name": "ping", "description": "Ping.", "parameters": {"type": "object", "properties": {}}}])
    )
    pipeline = Pipeline.model_validate({"name": "outside", "collections": [{"name": "o", "path": str(tmp_path)}]})
    with caplog.at_level("WARNING"):
        result = build_tools(pipeline, PROJECT, Sandbox(PROJECT / "sandbox"))
    assert result.table.num_rows == 1 and "outside the project" in caplog.text and str(tmp_path) in caplog.text


def test_remote_references_are_fetched_only_from_allowed_hosts_and_never_across_a_redirect(tmp_path):
    """With `ref_hosts` naming the server, its `$ref` is fetched; a redirect from it to another host (127.0.0.2 is
    another name for this machine) is refused, and that host is never asked; with no allow-list nothing is fetched."""
    import http.server
    import threading

    fetched = []

    class Server(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            fetched.append((self.headers["Host"], self.path))
            if self.path.startswith("/away"):
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.2:{self.server.server_address[1]}/defs.json")
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'Remote: {type: integer, description: "from the allowed host"}\n')

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    def op(ref: str) -> dict:
        return {
            "get": {
                "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"$ref": ref}}],
                "responses": {"200": {"description": "ok"}},
            }
        }

    paths = {
        "/allowed": op(f"http://127.0.0.1:{port}/defs.yaml#/Remote"),
        "/redirected": op(f"http://127.0.0.1:{port}/away.yaml#/Remote"),
    }
    (tmp_path / "api.json").write_text(
        json.dumps({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": paths})
    )
    try:
        tools, rejections = ingest_collection(tmp_path / "api.json", ref_hosts=("127.0.0.1",))
        asked_with_list = list(fetched)
        fetched.clear()
        none_tools, none_rejections = ingest_collection(tmp_path / "api.json")
    finally:
        server.shutdown()
    assert [t.meta["path"] for t in tools] == ["/allowed"]
    assert tools[0].parameters["properties"]["q"]["description"] == "from the allowed host"
    assert [(r.reason, r.item_id.rsplit(" ", 1)[-1]) for r in rejections] == [("refused_ref", "/redirected")]
    assert "a host not in ref_hosts" in rejections[0].detail
    assert sorted(p for _, p in asked_with_list) == ["/away.yaml", "/defs.yaml"]
    assert not any(host.startswith("127.0.0.2") for host, _ in asked_with_list)
    assert none_tools == [] and {r.reason for r in none_rejections} == {"refused_ref"} and fetched == []


def test_a_documented_response_example_is_kept_for_the_simulator(tmp_path):
    ok = {
        "description": "ok",
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
                "examples": {"response": {"value": {"id": 550, "title": "Fight Club"}}},
            }
        },
    }
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/movie/{movie_id}": {
                "get": {
                    "operationId": "getMovie",
                    "responses": {"200": ok},
                    "parameters": [{"name": "movie_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                }
            },
            "/genres": {
                "get": {
                    "operationId": "genres",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "array", "example": [{"id": 18, "name": "Drama"}]}
                                }
                            },
                        }
                    },
                }
            },
            "/plain": {"get": {"operationId": "plain", "responses": {"200": {"description": "ok"}}}},
        },
    }
    (tmp_path / "api.json").write_text(json.dumps(spec))
    t = _by_name(ingest_collection(tmp_path / "api.json")[0])
    assert t["getMovie"].meta["example_response"] == {"id": 550, "title": "Fight Club"}
    assert t["genres"].meta["example_response"] == [{"id": 18, "name": "Drama"}]  # the schema's own example
    assert "example_response" not in t["plain"].meta
