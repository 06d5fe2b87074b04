"""Documentation refinement (DRAFT): offline facts from executions, the diversity rule, convergence,
failures fed to the analyzer, and the export shipping the refined documentation."""

import json
import shutil
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
from datasets import load_dataset

from toolloom.agents.refinement import FactAnalyzer, ProbeExplorer, TemplateRewriter
from toolloom.orchestration.dagster_defs import ToolloomResource, pipeline_assets
from toolloom.executors.routing import ToolExecutor
from toolloom.graph.embeddings import BagOfWordsEmbedder
from toolloom.sandbox import Sandbox
from toolloom.spec import Collection, RefineStage
from toolloom.stages.doc_revisions import refine_docs, similarity, tool_failures
from toolloom.lake.store import Store

from .conftest import PROJECT
from .test_stages import _tools

PROMPTS = PROJECT / "prompts"
WRONG = {"get_vat_rate": "", "list_countries_by_region": "Returns the weather forecast for a city."}


def _broken_tools():
    rows = [{**t, "description": WRONG.get(t["name"], t["description"])} for t in _tools().to_pylist()]
    return pa.Table.from_pylist(rows)


def _refine(tools, params, embedder=None, **kw):
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), tools.to_pylist())
    return refine_docs(
        tools,
        explorer=kw.pop("explorer", ProbeExplorer()),
        analyzer=FactAnalyzer(),
        rewriter=TemplateRewriter(PROMPTS),
        executor=ex,
        embedder=embedder or BagOfWordsEmbedder(),
        params=params,
        **kw,
    )


def _final(result, name):
    return next(r for r in result.table.to_pylist() if r["name"] == name and r["final"])


@pytest.mark.services
def test_refined_documentation_states_what_executions_showed():
    result = _refine(_broken_tools(), RefineStage(tools=list(WRONG)))
    assert result.accounted and result.accepted == 2
    vat = _final(result, "get_vat_rate")["text"]
    assert "country_code (string, required" in vat
    assert "no VAT data for" in vat  # the error the tool really gives for an unknown code
    assert "Example (a recorded call): get_vat_rate(" in vat and "standard_rate_percent" in vat
    region = _final(result, "list_countries_by_region")["text"]
    assert "weather" not in region  # nothing the tool showed supports the wrong description: it is dropped
    assert "Accepted values: Europe, Americas, Asia, Africa, Oceania" in region
    assert "unknown region" in region and "min_population (integer, optional)" in region
    rows = [r for r in result.table.to_pylist() if r["name"] == "list_countries_by_region"]
    assert [r["round"] for r in rows] == list(range(len(rows))) and rows[0]["text"] == WRONG["list_countries_by_region"]
    assert rows[0]["similarity_to_previous"] is None and all(0 <= r["similarity_to_previous"] <= 1 for r in rows[1:])
    evidence = json.loads(rows[1]["evidence"])
    assert evidence["query"] and evidence["arguments"] and "observation" in evidence
    assert rows[-1]["stop_reason"] in ("converged", "max_rounds", "explorer_exhausted")
    assert "before_after" in result.metadata and result.metadata["tools_changed"] == "2 of 2"


@pytest.mark.services
def test_stops_when_consecutive_revisions_are_similar_and_records_why():
    converged = _refine(_broken_tools(), RefineStage(tools=["get_vat_rate"], stop_similarity=0.5))
    fast = [r for r in converged.table.to_pylist()]
    assert fast[-1]["stop_reason"] == "converged" and fast[-1]["similarity_to_previous"] > 0.5
    patient = _refine(
        _broken_tools(), RefineStage(tools=["get_vat_rate"], stop_similarity=1.0, max_rounds=3)
    ).table.to_pylist()
    assert len(patient) == 4 and patient[-1]["stop_reason"] == "max_rounds"
    score, bleu, cosine = similarity("a b c d e", "a b c d e", BagOfWordsEmbedder().embed)
    assert score == pytest.approx(1.0) and bleu == pytest.approx(1.0)


class Repetitive(ProbeExplorer):
    """An explorer that keeps asking the same thing in other words (and, at last, in the same)."""

    name = "repetitive"

    async def explore(self, tool, doc, history, suggestion, rejected):
        words = ["what", "is", "the", "vat", "rate", "of", "sweden", "now"]
        return {
            "query": " ".join(words[: 8 - min(len(rejected), 1)]),
            "arguments": {"country_code": "SE"},
            "kind": "typical",
            "param": None,
        }


@pytest.mark.services
def test_a_query_too_close_to_an_earlier_one_is_rejected_and_retried_three_times():
    rows = _refine(
        _broken_tools(), RefineStage(tools=["get_vat_rate"], stop_similarity=1.0), explorer=Repetitive()
    ).table.to_pylist()
    assert [r["round"] for r in rows] == [0, 1] and rows[-1]["stop_reason"] == "explorer_exhausted"
    detail = json.loads(rows[-1]["evidence"])["stop_detail"]
    assert "after 4 tries" in detail and "what is the vat rate of sweden" in detail  # the first ask and three retries
    loose = _refine(
        _broken_tools(),
        RefineStage(tools=["get_vat_rate"], stop_similarity=1.0, max_rounds=2, diversity_threshold=0.99),
        explorer=Repetitive(),
    ).table.to_pylist()
    assert [r["round"] for r in loose] == [0, 1, 2]  # 7 of 8 words in common is cosine 0.935: below a 0.99 threshold


@pytest.mark.services
def test_mistakes_from_simulation_and_escalation_reach_the_analyzer():
    trajectories = [
        {
            "calls": json.dumps(
                [
                    {
                        "name": "get_vat_rate",
                        "arguments": '{"country_code": "XX"}',
                        "ok": False,
                        "error": "404: no VAT data for 'XX'",
                    }
                ]
            )
        }
    ]
    escalations = [
        {
            "outcome": "failed",
            "chain": json.dumps([{"name": "add_vat", "arguments": {"net_amount": 10, "country_code": "FR"}}]),
            "attempts": json.dumps(
                [{"calls": [["get_vat_rate", '{"country_code": "FR"}'], ["add_vat", '{"net_amount": 1}']]}]
            ),
        }
    ]
    failures = tool_failures(trajectories, escalations)
    assert [f["source"] for f in failures["get_vat_rate"]] == ["simulation", "escalation"]
    assert "the right call was" in failures["add_vat"][0]["problem"]
    result = _refine(_broken_tools(), RefineStage(tools=["get_vat_rate"]), failures=failures)
    text = _final(result, "get_vat_rate")["text"]
    assert "Mistakes callers made" not in text and "called with" not in text  # evidence, not documentation
    evidence = json.loads(result.table.to_pylist()[1]["evidence"])
    assert evidence["failures_used"] == 2 and any(
        "chosen where the task needed ['add_vat']" in m for m in evidence["analysis"]["caller_mistakes"]
    )


def test_restbench_specs_refine_to_completion_with_simulated_execution(tmp_path):
    corpora = PROJECT.parent / "shared" / "corpora" / "restbench"
    if not corpora.exists():
        pytest.skip("../shared/corpora/restbench is not present")
    from toolloom.stages.tools import build_tools
    from toolloom.spec import Pipeline

    pipeline = Pipeline(
        name="rb",
        collections=[
            Collection(name="spotify", path=str(corpora / "spotify_oas.json")),
            Collection(name="tmdb", path=str(corpora / "tmdb_oas.json")),
        ],
    )
    tools = build_tools(pipeline, PROJECT, Sandbox(PROJECT / "sandbox")).table
    assert tools.num_rows > 80 and not any(tools["executable"].to_pylist())
    result = _refine(tools, RefineStage())
    assert result.accounted and result.accepted == tools.num_rows
    rows = result.table.to_pylist()
    assert {r["tool_id"] for r in rows} == set(tools["tool_id"].to_pylist())
    finals = [r for r in rows if r["stop_reason"]]
    assert len(finals) == tools.num_rows and all(r["final"] for r in finals)
    assert all(json.loads(r["evidence"]).get("observation") for r in rows if r["round"] > 0)


@pytest.mark.pipeline
def test_the_export_ships_refined_documentation_and_a_later_run_starts_from_it(tmp_path, demo_pipeline):
    collection = tmp_path / "demo_specs"
    shutil.copytree(PROJECT / "api_graphs" / "demo", collection)
    for path in collection.glob("*.json"):
        specs = json.loads(path.read_text())
        for s in specs:
            if s["function"]["name"] in WRONG:
                s["function"]["description"] = WRONG[s["function"]["name"]]
        path.write_text(json.dumps(specs))
    stages = demo_pipeline.stages.model_copy(
        update={
            "refine": RefineStage(tools=list(WRONG) + ["get_city"], start_from="previous"),
            "tasks": demo_pipeline.stages.tasks.model_copy(
                update={"per_tool": 1, "multi_hop": 5, "parallel": 3, "nested": 3}
            ),
        }
    )
    pipeline = demo_pipeline.model_copy(
        update={"collections": [Collection(name="demo", path=str(collection))], "stages": stages}
    )
    resources = {"toolloom": ToolloomResource(project_root=str(PROJECT), home=str(tmp_path / "home"))}
    first = dg.materialize(pipeline_assets(pipeline), resources=resources)
    assert first.success
    md = {
        e.asset_key.path[-1]: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in first.get_asset_materialization_events()
    }
    folder = md["dataset"]["path"]
    tools = {t["name"]: t for t in load_dataset(folder, "tools")["train"]}
    assert (
        tools["get_vat_rate"]["original_description"] == ""
        and "Example (a recorded call): get_vat_rate(" in tools["get_vat_rate"]["description"]
    )
    assert "weather" not in tools["list_countries_by_region"]["description"]
    assert tools["get_country"]["description"] == tools["get_country"]["original_description"]  # not refined: unchanged
    shipped = [r["tools"] for r in load_dataset(folder)["train"]]
    vat_docs = {t["function"]["description"] for ts in shipped for t in ts if t["function"]["name"] == "get_vat_rate"}
    assert vat_docs == {tools["get_vat_rate"]["description"]}
    # a second run starts from the first run's refined documentation
    second = dg.materialize(pipeline_assets(pipeline), resources=resources)
    assert second.success
    store = Store(tmp_path / "home")
    v1, v2 = [v["version"] for v in store.versions("demo")]
    start = [
        r
        for r in store.read("demo", "doc_revisions", v2).to_pylist()
        if r["round"] == 0 and r["name"] == "get_vat_rate"
    ][0]
    assert json.loads(start["evidence"])["source"] == "earlier version"
    first_final = [
        r["text"]
        for r in store.read("demo", "doc_revisions", v1).to_pylist()
        if r["final"] and r["name"] == "get_vat_rate"
    ][0]
    assert start["text"] == first_final
    # and the second run's agents were shown that documentation
    offered = {
        t["function"]["description"]
        for traj in store.read("demo", "trajectories", v2).to_pylist()
        for t in json.loads(traj["tools_offered"])
        if t["function"]["name"] == "get_vat_rate"
    }
    assert offered == {first_final}
    # each example says which version's documentation it was made with, and the card counts them
    first_rows, second_rows = load_dataset(folder)["train"], load_dataset(md_of(second)["dataset"]["path"])["train"]
    assert set(first_rows["docs_version"]) == {""}
    refined_names = set(WRONG) | {"get_city"}
    offers_refined = [any(t["function"]["name"] in refined_names for t in r["tools"]) for r in second_rows]
    assert second_rows["docs_version"] == [v1 if refined else "" for refined in offers_refined]
    assert any(offers_refined) and not all(offers_refined)
    second_all = load_dataset(md_of(second)["dataset"]["path"])
    shown = sum(split["docs_version"].count(v1) for split in second_all.values())
    card = (Path(md_of(second)["dataset"]["path"]) / "README.md").read_text()
    assert shown > 0 and f"| refined in version {v1} | {shown} |" in card


def md_of(result) -> dict:
    return {
        e.asset_key.path[-1]: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }


class LeakyRewriter(TemplateRewriter):
    """Writes what it saw into the documentation: the stage must refuse it."""

    async def rewrite(self, tool, doc, analysis, original):
        return {"description": original + "\nMistakes callers made: simulation: called with {}", "suggestion": ""}


@pytest.mark.services
def test_a_revision_carrying_pipeline_internals_is_refused_and_the_documentation_stays():
    tools = _tools()
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), tools.to_pylist())
    result = refine_docs(
        tools,
        explorer=ProbeExplorer(),
        analyzer=FactAnalyzer(),
        rewriter=LeakyRewriter(PROMPTS),
        executor=ex,
        embedder=BagOfWordsEmbedder(),
        params=RefineStage(tools=["get_city"], max_rounds=2),
    )
    rows = result.table.to_pylist()
    assert result.accounted and [r["round"] for r in rows] == [0, 1, 2]
    assert all(r["text"] == rows[0]["text"] for r in rows)  # the original, never the leaky text
    for r in rows[1:]:
        evidence = json.loads(r["evidence"])
        assert (
            "pipeline internals" in evidence["revision_refused"][0]
            and "Mistakes callers made" in evidence["refused_text"]
        )


def test_a_list_of_plain_values_is_a_returned_field_too():
    from toolloom.agents import refinement

    leaves = refinement.leaf_keys({"code": "FR", "languages": ["fr"], "cities": [{"city_id": "paris"}]})
    assert leaves == ["code", "languages", "cities[].city_id"]


def test_a_refusal_that_names_another_field_is_not_documented_as_this_parameters():
    """time_difference's bad `day` was refused as "utc_time must look like ...": no rule about `day`."""
    from toolloom.agents.refinement import INVALID, _about

    assert not _about(f"400: utc_time must look like 2026-03-01T14:30, got '{INVALID}:00'", "day")
    assert _about(f"400: day must look like 2026-03-01, got '{INVALID}'", "day")
    assert _about(f"404: no country with code '{INVALID}'", "country_code")
    assert not _about("409: the cart is empty", "country_code")
