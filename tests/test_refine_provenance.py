"""Refined documentation carries what the tool did, never what a mock server or the simulator said."""

import pyarrow as pa
import pytest

from toolloom.agents.refinement import FactAnalyzer, ProbeExplorer, TemplateRewriter
from toolloom.executors.routing import ToolExecutor
from toolloom.graph.embeddings import BagOfWordsEmbedder
from toolloom.sandbox import Observation
from toolloom.spec import RefineStage
from toolloom.stages.doc_revisions import about_the_tool, refine_docs

from .conftest import PROJECT

ROW = {
    "tool_id": "films.get_film",
    "collection": "films",
    "name": "get_film",
    "description": "A film by its id.",
    "parameters": '{"type": "object", "properties": {"film_id": {"type": "integer"}}, "required": ["film_id"]}',
    "returns": None,
    "source_format": "openapi",
    "source_file": "films.json",
    "spec_hash": "h",
    "executable": True,
    "execution": "http",
    "meta": '{"examples": [{"film_id": 7}]}',
}
ERROR = "no example response for GET /films/{film_id} with these parameters"


class Refusing:
    """A stand-in that refuses every call with its own error."""

    kind = "http"

    def __init__(self, answers: str):
        self.answers = answers

    def runs(self, name):
        return True

    async def call(self, tool, arguments, episode):
        return Observation(False, None, error=f"422 {ERROR}")

    def close(self):
        pass


def _refined(answers: str) -> str:
    tools = pa.Table.from_pylist([ROW])
    executor = ToolExecutor(None, [ROW], executors={"films": Refusing(answers)})
    result = refine_docs(
        tools,
        explorer=ProbeExplorer(),
        analyzer=FactAnalyzer(),
        rewriter=TemplateRewriter(PROJECT / "prompts"),
        executor=executor,
        embedder=BagOfWordsEmbedder(),
        params=RefineStage(max_rounds=3),
    )
    assert result.accounted
    return next(r["text"] for r in result.table.to_pylist() if r["final"])


@pytest.mark.parametrize("answers, kept", [("mock", False), ("real", True)])
def test_a_mock_servers_error_is_kept_out_and_the_real_tools_error_is_documented(answers, kept):
    assert (ERROR in _refined(answers)) is kept


def test_only_stand_in_errors_are_left_out_of_the_evidence():
    history = [
        {"ok": False, "error": "e1", "answered_by": "mock"},
        {"ok": False, "error": "e2", "answered_by": "simulated"},
        {"ok": False, "error": "e3", "answered_by": "none"},  # the schema check: documented
        {"ok": False, "error": "e4", "answered_by": "real"},
        {"ok": True, "response": {}, "answered_by": "mock"},
    ]
    assert [h.get("error") for h in about_the_tool(history)] == ["e3", "e4", None]


class InventingRewriter(TemplateRewriter):
    """Writes what a small model wrote for time_difference: parameters the tool does not have."""

    async def rewrite(self, tool, doc, analysis, original):
        return {"description": original + " It accepts start_date and end_date, both strings.", "suggestion": ""}


def test_a_revision_that_names_parameters_the_tool_does_not_have_is_refused():
    from toolloom.reports.tool_docs import unknown_names

    assert unknown_names("Takes `film_id` and release_date; see get_film.", {"film_id", "get_film"}) == ["release_date"]
    tools = pa.Table.from_pylist([ROW])
    result = refine_docs(
        tools,
        explorer=ProbeExplorer(),
        analyzer=FactAnalyzer(),
        rewriter=InventingRewriter(PROJECT / "prompts"),
        executor=ToolExecutor(None, [ROW], executors={"films": Refusing("real")}),
        embedder=BagOfWordsEmbedder(),
        params=RefineStage(max_rounds=2),
    )
    rows = result.table.to_pylist()
    refused = [r for r in rows if r["round"] > 0]
    assert refused and all("end_date, start_date" in r["evidence"] for r in refused)
    assert next(r["text"] for r in rows if r["final"]) == ROW["description"]


class Answering(Refusing):
    """A real service that answers every call with a slug."""

    async def call(self, tool, arguments, episode):
        return Observation(True, {"film_id": arguments.get("film_id"), "slug": "night_of_the_hunter"})


class QuotingRewriter(TemplateRewriter):
    async def rewrite(self, tool, doc, analysis, original):
        return {"description": original + " Films are named by slugs such as night_of_the_hunter.", "suggestion": ""}


@pytest.mark.parametrize("service, kept", [(Answering("real"), True), (Refusing("real"), False)])
def test_a_value_the_tools_answers_carried_may_be_named_and_one_they_did_not_may_not(service, kept):
    result = refine_docs(
        pa.Table.from_pylist([ROW]),
        explorer=ProbeExplorer(),
        analyzer=FactAnalyzer(),
        rewriter=QuotingRewriter(PROJECT / "prompts"),
        executor=ToolExecutor(None, [ROW], executors={"films": service}),
        embedder=BagOfWordsEmbedder(),
        params=RefineStage(max_rounds=2),
    )
    final = next(r["text"] for r in result.table.to_pylist() if r["final"])
    assert ("night_of_the_hunter" in final) is kept


def test_simulation_failures_answered_by_a_stand_in_are_not_fed_to_the_analyzer():
    import json

    from toolloom.stages.doc_revisions import tool_failures

    calls = [
        {"name": "get_film", "ok": False, "arguments": "{}", "error": "a", "answered_by": "simulated"},
        {"name": "get_film", "ok": False, "arguments": "{}", "error": "b", "answered_by": "mock"},
        {"name": "get_film", "ok": False, "arguments": "{}", "error": "c", "answered_by": "real"},
        {"name": "get_film", "ok": False, "arguments": "{}", "error": "d", "answered_by": "none"},
    ]
    failures = tool_failures([{"calls": json.dumps(calls)}], [])
    assert [f["problem"].split(": ")[-1] for f in failures["get_film"]] == ["c", "d"]
