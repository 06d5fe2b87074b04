"""The `http` executor: requests built from OpenAPI operations against a local server the test
starts (what goes where), and a real mock server (Stoplight Prism) over a spec."""

import asyncio
import json
import os
import threading

import pytest
from aiohttp import web

from toolloom.executors.routing import ToolExecutor
from toolloom.executors.http import HttpConfig, HttpExecutor
from toolloom.sandbox import Sandbox
from toolloom.spec import Pipeline, TasksStage
from toolloom.stages.tasks import sample_tasks
from toolloom.stages.tools import build_tools

from .conftest import CASES, PROJECT

pytestmark = pytest.mark.services

SPEC = CASES / "http" / "huts_openapi.json"


class RecordingServer:
    """A local HTTP service that records every request and answers like the huts API."""

    def __init__(self):
        self.requests: list[dict] = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait(10)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "body": json.loads(body) if body else None,
            }
        )
        if "/go/" in request.path:  # .../go/PORT/rest: a redirect to that port (another origin, or this one)
            port, _, rest = request.path.split("/go/", 1)[1].partition("/")
            raise web.HTTPFound(f"http://127.0.0.1:{port}/{rest}")
        if request.path.endswith("/huts/404"):
            return web.json_response({"message": "no hut 404"}, status=404)
        if request.path.endswith("/slow"):
            await asyncio.sleep(5)
        return web.json_response({"ok": True, "echo": request.path}, status=201 if request.method == "POST" else 200)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()


@pytest.fixture(scope="module")
def service():
    return RecordingServer()


def _collection(**executor):
    return Pipeline.model_validate(
        {"name": "huts", "collections": [{"name": "huts", "path": str(SPEC), "executor": {"kind": "http", **executor}}]}
    )


def _setup(pipeline):
    coll = pipeline.collections[0]
    http = HttpExecutor(coll.executor, "huts", SPEC, PROJECT, PROJECT / ".toolloom")
    sandbox = Sandbox(PROJECT / "sandbox")
    tools = build_tools(pipeline, PROJECT, sandbox, {"huts": http})
    return tools, ToolExecutor(sandbox, tools.table.to_pylist(), executors={"huts": http}), http


def test_each_argument_goes_where_the_operation_says_and_the_credential_from_the_environment(service, monkeypatch):
    monkeypatch.setenv("HUTS_KEY", "k-123-secret")
    tools, executor, http = _setup(
        _collection(
            base_url=f"http://127.0.0.1:{service.port}/v1", auth_env="HUTS_KEY", auth_header="X-Api-Key", auth_scheme=""
        )
    )
    assert {r["execution"] for r in tools.table.to_pylist()} == {"http"}
    service.requests.clear()
    assert executor.execute("search_huts", {"country": "Switzerland", "limit": 2}).ok
    assert executor.execute("get_hut", {"hut_id": 17}).ok
    booked = executor.execute("book_hut", {"hut_id": 17, "night": "2026-07-12", "guests": 2})
    search, hut, booking = service.requests
    assert (search["method"], search["path"], search["query"]) == (
        "GET",
        "/v1/huts",
        {"country": "Switzerland", "limit": "2"},
    )
    assert search["headers"]["X-Api-Key"] == "k-123-secret"
    assert (hut["method"], hut["path"], hut["body"]) == ("GET", "/v1/huts/17", None)
    assert (booking["method"], booking["path"], booking["body"]) == (
        "POST",
        "/v1/bookings",
        {"hut_id": 17, "night": "2026-07-12", "guests": 2},
    )
    assert booked.content == {"ok": True, "echo": "/v1/bookings"}
    assert "k-123-secret" not in json.dumps([r.to_json() for r in (booked,)])


def test_http_errors_are_observations_with_the_service_message_and_never_the_key(service, monkeypatch):
    monkeypatch.setenv("HUTS_KEY", "k-456-secret")
    _, executor, _ = _setup(
        _collection(base_url=f"http://127.0.0.1:{service.port}/v1", auth_env="HUTS_KEY", auth_query="key", timeout_s=10)
    )
    missing = executor.execute("get_hut", {"hut_id": 404})
    assert not missing.ok and missing.content["error"] == {"status": 404, "message": "no hut 404"}
    assert service.requests[-1]["query"] == {"key": "k-456-secret"}
    refused = HttpExecutor(
        HttpConfig(base_url="http://127.0.0.1:9/v1", auth_env="HUTS_KEY", auth_query="key"),
        "huts",
        SPEC,
        PROJECT,
        PROJECT / ".toolloom",
    )
    tool = {
        "name": "get_hut",
        "meta": {"method": "GET", "path": "/huts/{hut_id}", "params": {"hut_id": ["path", "hut_id"]}},
    }
    obs = asyncio.run(refused.call(tool, {"hut_id": 1}, None))
    assert not obs.ok and obs.content["error"]["status"] == 502 and "k-456-secret" not in obs.to_json()


def _hop(http, path: str):
    tool = {"name": "hop", "meta": {"method": "GET", "path": path, "params": {}}}
    return asyncio.run(http.call(tool, {}, None))


@pytest.mark.parametrize(
    "where", [{"auth_header": "X-Api-Key", "auth_scheme": ""}, {"auth_query": "key"}, {}]
)  # a custom header, a query parameter, the default Authorization header
def test_the_credential_goes_to_the_configured_origin_only(service, monkeypatch, where):
    """A redirect within the origin keeps the credential; one to another origin is followed without it; a path
    that would change the host ('@host:port/...') is refused before anything is sent, as a rejection."""
    other = RecordingServer()
    monkeypatch.setenv("HUTS_KEY", "k-789-secret")
    http = HttpExecutor(
        HttpConfig(base_url=f"http://127.0.0.1:{service.port}/v1", auth_env="HUTS_KEY", **where),
        "huts",
        SPEC,
        PROJECT,
        PROJECT / ".toolloom",
    )
    assert _hop(http, f"/go/{service.port}/home").ok
    assert "k-789-secret" in json.dumps(service.requests[-1])  # the same origin: the key goes along
    assert _hop(http, f"/go/{other.port}/away").ok
    assert other.requests[-1]["path"] == "/away" and "k-789-secret" not in json.dumps(other.requests)
    sent = len(other.requests)
    bare = HttpExecutor(
        HttpConfig(base_url=f"http://127.0.0.1:{service.port}", auth_env="HUTS_KEY", **where),
        "huts",
        SPEC,
        PROJECT,
        PROJECT / ".toolloom",
    )  # no path after the host: '@' would start one
    refused = _hop(bare, f"@127.0.0.1:{other.port}/stolen")
    assert not refused.ok and refused.content["error"]["status"] == 400 and "refused" in refused.error
    assert len(other.requests) == sent and "k-789-secret" not in refused.to_json()


def test_ingest_rejects_a_path_that_would_change_the_host():
    from toolloom.ingest.openapi import parse
    from toolloom.ingest.records import Rejection

    ok = {"get": {"operationId": "op", "responses": {"200": {"description": "ok"}}}}
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"@evil.example:80/steal": ok, "//evil.example/x": ok, "/fine": ok},
    }
    out = list(parse(spec, "spec.json"))
    assert [t.meta["path"] for t in out if not isinstance(t, Rejection)] == ["/fine"]
    assert [r.reason for r in out if isinstance(r, Rejection)] == ["bad_path", "bad_path"]


def test_a_missing_credential_variable_is_an_error_naming_it(service, monkeypatch):
    monkeypatch.delenv("HUTS_KEY", raising=False)
    _, executor, _ = _setup(_collection(base_url=f"http://127.0.0.1:{service.port}/v1", auth_env="HUTS_KEY"))
    obs = executor.execute("get_hut", {"hut_id": 1})
    assert not obs.ok and "HUTS_KEY is not set" in obs.content["error"]["message"]


def test_a_prism_mock_of_the_spec_answers_with_its_examples_and_stops_with_the_executor(node_tools):
    tools, executor, http = _setup(_collection(auth_env="HUTS_KEY", auth_header="X-Api-Key", auth_scheme="", mock={}))
    hut = executor.execute("get_hut", {"hut_id": 17})
    assert hut.ok and hut.content == {
        "hut_id": 17,
        "name": "Trient",
        "country": "Switzerland",
        "altitude_m": 3170,
        "beds": 130,
    }
    wrong = executor.execute("search_huts", {"country": "Switzerland", "limit": 2})
    assert wrong.ok and [h["name"] for h in wrong.content["huts"]] == ["Trient", "Mont Fort"]
    # the mock validates requests against the spec, as the real service would
    invalid = asyncio.run(
        http.call(
            {
                "name": "get_hut",
                "meta": {"method": "GET", "path": "/huts/{hut_id}", "params": {"hut_id": ["path", "hut_id"]}},
            },
            {"hut_id": "abc"},
            None,
        )
    )
    assert not invalid.ok and invalid.content["error"]["status"] in (400, 422)
    proc = http._mock.proc
    http.close()
    assert proc.poll() is not None


def test_tasks_over_a_mocked_spec_reproduce_their_reference_answers(node_tools):
    tools, executor, http = _setup(_collection(auth_env="HUTS_KEY", auth_header="X-Api-Key", auth_scheme="", mock={}))
    tasks = sample_tasks(tools.table, executor, TasksStage(per_tool=2, seed=4))
    assert tasks.accounted and {json.loads(c)[0]["name"] for c in tasks.table["chain"].to_pylist()} == {
        "search_huts",
        "get_hut",
        "book_hut",
    }
    for row in tasks.table.to_pylist():
        [step] = json.loads(row["chain"])
        assert executor.execute(step["name"], step["arguments"]).to_json() == row["reference_answer"]
    http.close()
    assert not os.environ.get("HUTS_KEY")
