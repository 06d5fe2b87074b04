"""Collections with no code for their tools: tasks from synthesised arguments, a graph with no edges,
executors chosen per collection (a plug-in one included), and the real corpora when present."""

import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from datasets import load_dataset

from toolloom.executors.routing import ToolExecutor
from toolloom.sandbox import Sandbox
from toolloom.spec import Pipeline, TasksStage
from toolloom.stages.tasks import sample_tasks
from toolloom.stages.tools import build_tools
from toolloom.lake.store import Store
from toolloom.text.synthesis import has_source

from .conftest import PROJECT
from .test_pipeline_materialize import _materialize, _metadata

CORPORA = PROJECT.parent / "shared" / "corpora"


def _pipeline(tmp_path, executor="simulated") -> Pipeline:
    return Pipeline.model_validate(
        {
            "name": "geometry",
            "collections": [{"name": "geometry", "path": "tests/cases/functions/geometry.json", "executor": executor}],
            "stages": {
                "tasks": {"per_tool": 2, "multi_hop": 3, "parallel": 2, "seed": 1},
                "export": {"root": str(tmp_path / "exports")},
            },
        }
    )


@pytest.mark.pipeline
def test_a_collection_without_code_or_edges_becomes_a_dataset(tmp_path):
    result = _materialize(_pipeline(tmp_path), tmp_path / "home")
    assert result.success
    md = _metadata(result)
    for asset in ("tools", "api_edges", "tasks", "trajectories", "samples"):
        assert md[asset]["accepted"] + md[asset]["rejected"] == md[asset]["inputs"], asset
    # three tools x 2 single calls (the fourth has no typed parameter) and two parallel pairs; no edges, so no multi-hop
    assert md["api_edges"]["accepted"] == 0 and md["tasks"]["shapes"] == {"single": 6, "parallel": 2}
    store = Store(tmp_path / "home")
    rejected = store.read("geometry", "rejections", md["tasks"]["version"]).to_pylist()
    assert [(r["item_id"], r["reason"]) for r in rejected if r["stage"] == "tasks" and r["checker"] == "sampler"][
        0
    ] == ("geometry.polygon_area", "no_arguments")
    ds = load_dataset(md["dataset"]["path"])
    rows = list(ds["train"]) + list(ds["test"]) if "test" in ds else list(ds["train"])
    assert rows and {r["execution"] for r in rows} == {"simulated"}


@pytest.mark.pipeline
def test_a_plug_in_executor_named_by_import_path_runs_its_tools(tmp_path):
    executor = {"kind": "tests.cases.plugins.echo_executor:plugin", "greeting": "bonjour"}
    result = _materialize(_pipeline(tmp_path, executor), tmp_path / "home")
    assert result.success
    md = _metadata(result)
    store = Store(tmp_path / "home")
    tools = {t["name"]: t["execution"] for t in store.read("geometry", "tools", md["tools"]["version"]).to_pylist()}
    assert tools == {
        "calculate_triangle_area": "echo",
        "circle_circumference": "echo",
        "convert_length": "echo",
        "polygon_area": "simulated",
    }
    tasks = store.read("geometry", "tasks", md["tasks"]["version"]).to_pylist()
    answer = json.loads(tasks[0]["reference_answer"])
    assert answer["greeting"] == "bonjour" and answer["arguments"] == json.loads(tasks[0]["chain"])[0]["arguments"]
    samples = store.read("geometry", "samples", md["samples"]["version"]).to_pylist()
    assert samples and {s["execution"] for s in samples} == {"echo"}


CORPUS_PATHS = {
    "rapidapi": "rapidapi/tools_sample.jsonl.gz",
    "bfcl": "bfcl",
    "livemcpbench": "livemcpbench/tools.json",
    "tmdb": "restbench/tmdb_oas.json",
    "spotify": "restbench/spotify_oas.json",
    "toolalpaca": "toolalpaca",
}


@pytest.mark.skipif(
    not CORPORA.is_dir(), reason="../shared/corpora is not present (it is not shipped with the project)"
)
@pytest.mark.parametrize("corpus", sorted(CORPUS_PATHS))
def test_every_real_corpus_gives_tasks_for_most_of_its_tools(corpus):
    pipeline = Pipeline.model_validate(
        {
            "name": corpus,
            "collections": [{"name": corpus, "path": str(CORPORA / CORPUS_PATHS[corpus]), "executor": "simulated"}],
        }
    )
    sandbox = Sandbox(PROJECT / "sandbox")
    tools = build_tools(pipeline, PROJECT, sandbox)
    rows = tools.table.to_pylist()
    tasks = sample_tasks(tools.table, ToolExecutor(sandbox, rows), TasksStage(per_tool=1, seed=1))
    assert tools.accounted and tasks.accounted
    covered = {json.loads(c)[0]["name"] for c in tasks.table["chain"].to_pylist()}

    def eligible(t):
        schema = json.loads(t["parameters"])
        return all(has_source((schema.get("properties") or {}).get(p, {})) for p in schema.get("required") or [])

    can = [t for t in rows if eligible(t)]
    assert sum(t["name"] in covered for t in can) >= 0.8 * len(can)
    for r in tasks.rejections:  # every tool left out says what is missing
        assert r.reason in ("no_arguments", "reference_call_failed", "degenerate_call") and r.detail


def _model_user(tmp_path, server, retries=6):
    from toolloom.agents.llm import ModelUser
    from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger
    from toolloom.spec import ModelSpec

    spec = ModelSpec(provider="openai", model="user", base_url=server.base_url, timeout_s=5, max_retries=retries)
    ledger = UsageLedger()
    client = ModelClient(
        spec, cache=RequestCache(tmp_path / "cache.sqlite"), ledger=ledger, budget=RunBudget(None), backoff_s=0.01
    )
    return ModelUser(client, PROJECT / "prompts"), ledger


def test_a_model_user_proposes_arguments_from_the_documentation_and_invalid_ones_are_not_used(tmp_path):
    from toolloom.llm.fake_server import FakeModel, FakeServer

    pipeline = _pipeline(tmp_path)
    sandbox = Sandbox(PROJECT / "sandbox")
    tools = build_tools(pipeline, PROJECT, sandbox)
    convert = tools.table.filter(pc.equal(tools.table["name"], "convert_length"))
    good = {"value": 6.5, "from_unit": "ft", "to_unit": "m"}
    model = FakeModel()
    model.enqueue(
        {
            "content": json.dumps(
                {
                    "calls": [
                        {"request": "How many metres is 6.5 feet?", "arguments": good},
                        {
                            "request": "Convert to furlongs",
                            "arguments": {"value": 1, "from_unit": "ft", "to_unit": "furlong"},
                        },
                    ]
                }
            )
        }
    )
    with FakeServer(model) as server:
        user, ledger = _model_user(tmp_path, server)
        result = sample_tasks(
            convert, ToolExecutor(sandbox, convert.to_pylist()), TasksStage(per_tool=2, seed=1), user=user
        )
    prompt = model.history[0]["messages"][0]["content"]
    assert (
        "Convert a length between units." in prompt and '"furlong"' not in prompt and '"ft"' in prompt
    )  # documentation and enum hints
    used = [json.loads(c)[0]["arguments"] for c in result.table["chain"].to_pylist()]
    assert (
        used[0] == good and len(used) == 2 and used[1] != good
    )  # the invalid proposal is replaced by a synthesised set
    assert result.metadata["argument_proposals"] == {"used": 1, "invalid": 1}


def test_a_proposal_the_tool_refuses_is_followed_by_a_synthesised_set(tmp_path):
    """A small model's made-up value that the service refuses (a session id that does not exist) is a rejected task,
    and the tool still gets the task synthesis gives it; chains take the set that worked."""
    from toolloom.llm.fake_server import FakeModel, FakeServer
    from toolloom.sandbox import Observation

    sandbox = Sandbox(PROJECT / "sandbox")
    tools = build_tools(_pipeline(tmp_path), PROJECT, sandbox)
    convert = tools.table.filter(pc.equal(tools.table["name"], "convert_length"))
    made_up = {"value": 6.5, "from_unit": "ft", "to_unit": "m"}

    class Refusing:  # a service that knows no 6.5
        kind, answers = "http", "real"

        def runs(self, name):
            return True

        async def call(self, tool, arguments, episode):
            if arguments.get("value") == 6.5:
                return Observation(False, None, "404: no such length")
            return Observation(True, {"converted": arguments["value"]})

        def close(self):
            pass

    model = FakeModel()
    model.enqueue({"content": json.dumps({"calls": [{"request": "6.5 feet in metres?", "arguments": made_up}]})})
    rows = [dict(r, execution="http") for r in convert.to_pylist()]  # answered by the service, not the simulator
    with FakeServer(model) as server:
        user, _ = _model_user(tmp_path, server)
        executor = ToolExecutor(None, rows, executors={rows[0]["collection"]: Refusing()})
        table = pa.Table.from_pylist(rows, schema=convert.schema)
        result = sample_tasks(table, executor, TasksStage(per_tool=1, seed=1), user=user)
    used = [json.loads(c)[0]["arguments"] for c in result.table["chain"].to_pylist()]
    assert len(used) == 1 and used[0] != made_up and used[0]["value"] != 6.5
    refused = [r for r in result.rejections if r.reason == "reference_call_failed"]
    assert len(refused) == 1 and "no such length" in refused[0].detail
    assert result.accounted


def test_a_tool_that_takes_no_arguments_is_not_given_to_the_model_user_to_propose_for(tmp_path):
    """A parameterless endpoint ('GET /api/kernels'): a small model asked for its arguments made up keys, its own
    schema among them, which the request then had to state ('the kernels with properties {}')."""
    from toolloom.llm.fake_server import FakeModel, FakeServer

    sandbox = Sandbox(PROJECT / "sandbox")
    tools = build_tools(_pipeline(tmp_path), PROJECT, sandbox)
    rows = [dict(r, parameters=json.dumps({"type": "object", "properties": {}})) for r in tools.table.to_pylist()[:1]]
    table = pa.Table.from_pylist(rows, schema=tools.table.schema)
    model = FakeModel()
    with FakeServer(model) as server:
        user, _ = _model_user(tmp_path, server)
        result = sample_tasks(table, ToolExecutor(sandbox, rows), TasksStage(per_tool=1, seed=1), user=user)
    assert model.history == [] and not result.metadata.get("argument_proposals")
    assert result.accounted


def test_a_failing_model_user_falls_back_to_synthesis_and_the_failure_is_counted(tmp_path):
    from toolloom.llm.fake_server import FakeModel, FakeServer

    pipeline = _pipeline(tmp_path)
    sandbox = Sandbox(PROJECT / "sandbox")
    tools = build_tools(pipeline, PROJECT, sandbox)
    model = FakeModel(default=lambda request: {"status": 500})
    with FakeServer(model) as server:
        user, ledger = _model_user(tmp_path, server, retries=1)
        result = sample_tasks(
            tools.table, ToolExecutor(sandbox, tools.table.to_pylist()), TasksStage(per_tool=1, seed=1), user=user
        )
    assert result.accounted and result.accepted == 3  # every typed tool still has its task
    assert result.metadata["argument_proposals"] == {"failed": 4}
    assert sum(r.status != "ok" for r in ledger.records) >= 4  # each failed call is in the usage ledger


def test_proposals_with_stand_in_ids_are_asked_again_and_defaults_are_left_out(tmp_path):
    from toolloom.agents.llm import tidy_proposal
    from toolloom.llm import run_async
    from toolloom.llm.fake_server import FakeModel, FakeServer

    search = {
        "name": "search_tv",
        "description": "Search TV shows.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "page": {"type": "integer", "default": 1},
                "network_id": {"type": "integer"},
            },
            "required": ["query"],
        },
    }
    model = FakeModel()
    fake, real = {"query": "Dark", "network_id": 12345}, {"query": "Dark", "network_id": 213}
    model.enqueue(*({"content": json.dumps({"calls": [{"request": "x", "arguments": a}]})} for a in (fake, real)))
    with FakeServer(model) as server:
        user, _ = _model_user(tmp_path, server)
        proposed = run_async(user.propose_arguments(search, 1, {}))
    assert "network_id: 12345" in model.history[1]["messages"][-1]["content"]  # the stand-in is named
    assert proposed == [{"query": "Dark", "network_id": 213}]
    assert tidy_proposal(search, {"query": "Dark", "page": 2}) == {"query": "Dark"}  # paging: never asked for
    assert tidy_proposal(search, {"query": "Dark", "language": "English"}) == {"query": "Dark"}  # no such parameter
    # a tool that takes nothing ('GET /api/kernels'): a proposal's keys are all made up, its schema among them
    kernels = {"name": "get__api_kernels", "parameters": {"type": "object", "properties": {}}}
    assert tidy_proposal(kernels, {"properties": {}, "required": [], "type": "object"}) == {}


def test_the_proposals_grammar_holds_arguments_to_the_tools_parameters(tmp_path):
    """The 1.5B model wrote prose as argument keys ('"To search for a TV show named ...": ...') until its token
    limit: the schema sent with the request allows the tool's own parameters only, typed, with free text bounded."""
    from toolloom.llm import run_async
    from toolloom.llm.fake_server import FakeModel, FakeServer

    search = {
        "name": "GET_search-tv",
        "description": "Search TV shows.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "page": {"type": "integer"},
                "include_adult": {"type": "boolean"},
                "sort": {"type": "string", "enum": ["popularity", "date"]},
            },
            "required": ["query"],
        },
    }
    model = FakeModel()
    model.enqueue(
        {"content": json.dumps({"calls": [{"request": "x", "arguments": {"query": "Dark", "A user wants...": 1}}]})},
        {"content": json.dumps({"calls": [{"request": "x", "arguments": {"query": "Dark", "sort": "date"}}]})},
    )
    with FakeServer(model) as server:
        user, _ = _model_user(tmp_path, server)
        proposed = run_async(user.propose_arguments(search, 1, {}))
    sent = model.history[0]["response_format"]["json_schema"]["schema"]
    arguments = sent["properties"]["calls"]["items"]["properties"]["arguments"]
    assert arguments["additionalProperties"] is False and arguments["required"] == ["query"]
    assert set(arguments["properties"]) == {"query", "include_adult", "sort"}  # optional paging: never asked for
    assert arguments["properties"]["query"] == {"type": "string", "maxLength": 160}
    assert arguments["properties"]["sort"] == {"type": "string"}  # an enum is the caller's check, call by call
    assert len(model.history) == 2 and proposed == [{"query": "Dark", "sort": "date"}]  # the made-up key: asked again
