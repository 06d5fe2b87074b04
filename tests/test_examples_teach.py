"""What the examples teach: answers in sentences that state what was asked, dependencies that are
real lookups, harder levels that need more dependent calls, ToolDial pair dialogues, and the
abstain / ask / recover kinds. Unit cases for each piece, then the demo export measured whole."""

import json
import random
import re
from pathlib import Path

import pytest

from toolloom.domain import Step, Task, trajectory_of
from toolloom.agents.offline import RetrievalAssistant

from .offline_episode import demo_tools, play
from toolloom.wording import bound_phrase, render_example
from toolloom.answer_checks import call_inputs, grounded, unstated
from toolloom.answers import answer_from, sentence
from toolloom.example_quality import example_quality
from toolloom.executor import ToolExecutor
from toolloom.graph.chains import chain_problem
from toolloom.llm import run_async
from toolloom.prompts import DEFAULT_ROOT
from toolloom.sandbox import Sandbox
from toolloom.spec import load_pipeline
from toolloom.agents.realisers import load_phrases
from toolloom.stages.recoveries import learnable, run_recovery, user_forms
from toolloom.stages.samples import check_completeness, check_execution
from toolloom.stages.tools import build_tools

from .conftest import PROJECT
from .test_export_checks import _rows

FIELD_DUMP = re.compile(r"\b[a-z_]+: [^;]+; [a-z_ ]+: |\b(True|False|None)\b|Here is what I found")


def test_an_answer_is_sentences_with_the_asked_fields_first_and_no_python_reprs():
    result = {
        "calling_code": "+27",
        "capital": "Pretoria",
        "code": "ZA",
        "population": 62027503,
        "name": "South Africa",
        "is_landlocked": False,
        "note": None,
    }
    text = sentence(result, "What is the population of ZA?", {"country_code": "ZA"})
    assert text == "The population of South Africa is 62,027,503."  # what was asked, and nothing nobody asked for
    lookup = sentence(result, "Look up ZA.", {"country_code": "ZA"})  # nothing named: the subject, two facts
    assert lookup == "The calling code of South Africa is +27 and its capital is Pretoria."
    assert sentence(result, "Tell me about ZA.", {"country_code": "ZA"}) == (  # asked for everything: four
        "The calling code of South Africa is +27, its capital is Pretoria, its population is 62,027,503 and it is not "
        "landlocked."
    )
    assert not FIELD_DUMP.search(lookup) and "None" not in lookup and "not known" not in lookup
    found = {"results": [{"name": "Noise-cancelling headphones", "price_eur": 279}]}
    assert sentence(found, 'Do you sell anything for "headphones"?').startswith("Yes, I found one result")
    assert sentence({"results": []}, 'Do you sell anything for "kites"?').startswith("No, I found no results")
    note = {"as_of": "2026-01-01", "note": "no single national rate", "standard_rate_percent": None}
    assert (
        sentence(note, "How high is VAT in US?", {"country_code": "US"})
        == "No single national rate (as of 2026-01-01)."
    )
    assert (
        sentence({"distance_km": 1149.4, "from_city_id": "tokyo"}, "How far?", {"from_city_id": "tokyo"})
        == "The distance is 1149.4 km."
    )
    holiday = sentence(
        {"country_code": "CA", "is_holiday": True, "name": "Victoria Day"}, "Is it a holiday?", {"country_code": "CA"}
    )
    assert holiday.startswith("Yes, it is a holiday")
    listing = sentence(
        {"holidays": [{"name": f"H{i}", "date": f"2027-01-{i + 1:02d}"} for i in range(27)]}, "Which holidays?"
    )  # a listing request gets its list; only a very long one is counted
    assert listing.startswith("I found 27 holidays: H0 (2027-01-01)") and "H24 (2027-01-25) and 2 more" in listing


def test_completeness_names_the_requested_field_the_answer_leaves_out():
    reference = {"population": 62027503, "capital": "Pretoria", "region": "Africa"}
    assert unstated("What are the capital and population of ZA?", reference, "The capital is Pretoria.") == [
        "population"
    ]
    assert unstated("What are the capital and population of ZA?", reference, "Pretoria, with 62027503 people.") == []
    assert (
        unstated("Which countries are in Africa, by region?", reference, "Pretoria.") == []
    )  # the request gave the region
    traj = {
        "kind": "single_turn",
        "reference_answer": json.dumps(reference),
        "final_answer": "The capital is Pretoria.",
        "messages": [{"role": "user", "content": "What are the capital and population of ZA?"}],
    }
    assert check_completeness(traj)[0] == "answer_incomplete"


def test_grounding_reads_yes_no_empty_lists_and_the_answers_own_number_forms():
    assert grounded({"hours": -9.0}, "It is -9 hours.")
    assert grounded({"is_holiday": False, "name": None}, "No, it is not a holiday.")
    assert grounded({"countries": []}, "There are no countries.")
    assert not grounded({"capital": "Pretoria"}, "I could not say.")


def _steps(*specs):
    return [Step(f"demo.{n}", n, "", a, b, r) for n, a, b, r in specs]


def test_chain_problems_fake_dependency_ambiguity_degenerate_and_circular():
    country = {"code": "IN", "name": "India"}
    fake = _steps(
        ("get_country", {"country_code": "IN"}, {}, country),
        ("get_vat_rate", {"country_code": "IN"}, {"country_code": {"step": 0, "path": "code"}}, {"rate": 18}),
    )
    assert chain_problem(fake)[0] == "fake_dependency"
    circular = _steps(
        ("get_country", {"country_code": "IN"}, {}, country),
        (
            "find_country",
            {"name": "India"},
            {"name": {"step": 0, "path": "name"}},
            {"results": [{"country_code": "IN", "name": "India"}]},
        ),
    )
    assert chain_problem(circular)[0] == "circular_lookup"
    several = _steps(
        ("list_cities", {"country_code": "US"}, {}, {"cities": [{"city_id": "a"}, {"city_id": "b"}]}),
        ("get_city", {"city_id": "a"}, {"city_id": {"step": 0, "path": "cities|city_id"}}, {"name": "A"}),
    )
    assert chain_problem(several)[0] == "ambiguous_binding"
    redundant = _steps(  # 'Find headphones. Then add 3 to my cart. Then show me the product of that cart.'
        ("search_products", {"query": "headphones"}, {}, {"results": [{"product_id": "p300"}]}),
        (
            "add_to_cart",
            {"product_id": "p300", "quantity": 3},
            {"product_id": {"step": 0, "path": "results|product_id"}},
            {"items": [{"product_id": "p300"}], "total": 8},
        ),
        ("get_product", {"product_id": "p300"}, {"product_id": {"step": 1, "path": "items|product_id"}}, {"stock": 9}),
    )
    assert chain_problem(redundant)[0] == "redundant_lookup" and chain_problem(redundant[:2]) is None
    same = _steps(("travel_time", {"from_city_id": "tokyo", "to_city_id": "Tokyo", "mode": "car"}, {}, {"hours": 0}))
    assert chain_problem(same)[0] == "degenerate_call"
    real = _steps(
        ("get_city", {"city_id": "toronto"}, {}, {"country_code": "CA"}),
        (
            "is_holiday",
            {"country_code": "CA", "day": "2026-05-18"},
            {"country_code": {"step": 0, "path": "country_code"}},
            {"is_holiday": True, "name": "Victoria Day"},
        ),
    )
    assert chain_problem(real) is None


@pytest.mark.parametrize("seed", range(6))
def test_a_request_describes_a_looked_up_value_and_the_offline_assistant_resolves_it(seed):
    step0 = Step("demo.get_city", "get_city", "", {"city_id": "toronto"})
    step1 = Step(
        "demo.is_holiday",
        "is_holiday",
        "",
        {"country_code": "CA", "day": "2026-05-18"},
        {"country_code": {"step": 0, "path": "country_code"}},
    )
    meta = {"demo.is_holiday": {"utterances": ["Is {day} a public holiday in {country_code}?"]}}
    text = render_example(Task("t", "multi_hop", [step0, step1], seed, meta), random.Random(seed))
    assert "from step" not in text and " CA" not in text
    # as a person says it: where the value comes from ('the country Toronto is in'), or a reference to the
    # result of a lookup asked for first ("that city's country")
    assert re.search(
        r"(country of th(at|is) city|that city's country|its country|the country Toronto is in|"
        r"the country of Toronto)\b",
        text,
    ), text
    tools = demo_tools("get_city", "is_holiday", "get_country")
    results = {"get_city": [{"city_id": "toronto", "country_code": "CA"}], "is_holiday": [{"is_holiday": True}]}
    assert play(text, tools, results) == [
        ("get_city", {"city_id": "toronto"}),
        ("is_holiday", {"country_code": "CA", "day": "2026-05-18"}),
    ], text
    assert bound_phrase({"step": 0, "path": "city_id"}, 1, "get_city") == "that city"


def test_recover_forms_and_learnable_errors():
    assert user_forms("new_york") == ["New York"]  # as a person writes it: not NEW_YORK
    assert user_forms("EUR") == ["eur"]
    assert user_forms("2026-05-18") == ["18/05/2026", "May 18, 2026"]
    assert learnable("no city with id 'Tokyo'", "tokyo", "Tokyo", "city identifier such as tokyo")
    assert learnable("unsupported currency 'eur'; supported: EUR, USD", "EUR", "eur", "")
    assert not learnable("no city with id 'Tokyo'", "tokyo", "Tokyo", "")


@pytest.fixture(scope="module")
def demo_executor():
    tools = build_tools(load_pipeline(PROJECT / "pipelines/demo.yaml"), PROJECT, Sandbox(PROJECT / "sandbox")).table
    return ToolExecutor(Sandbox(PROJECT / "sandbox"), tools.to_pylist())


def test_a_recover_episode_fails_for_real_then_corrects_and_passes_the_filter(demo_executor):
    from toolloom.agents.realisers import PhraseRealiser

    task = Task("t_1", "single", [Step("demo.get_city", "get_city", "", {"city_id": "tokyo"})], 1, {})
    ep = run_async(
        run_recovery(task, PhraseRealiser(), demo_executor, [], "sys", load_phrases(DEFAULT_ROOT), random.Random(0))
    )
    assert ep["outcome"] == "answered"
    assert [c["ok"] for c in ep["calls"]] == [False, True] and json.loads(ep["calls"][1]["arguments"]) == {
        "city_id": "tokyo"
    }
    assert (
        "no city with id" in ep["calls"][0]["error"]
        and "tokyo" not in json.loads(ep["calls"][0]["arguments"])["city_id"]
    )
    reference = json.loads(ep["messages"][-2]["content"])
    traj = {
        "kind": "recover",
        "calls": json.dumps(ep["calls"]),
        "messages": ep["messages"],
        "final_answer": ep["final_answer"],
        "reference_answer": json.dumps(reference),
        "shape": "single",
    }
    assert check_execution(trajectory_of(traj)) is None
    assert check_execution(trajectory_of({**traj, "calls": json.dumps(ep["calls"][:1])}))[0] == "not_recovered"
    assert (
        check_execution(trajectory_of({**traj, "kind": "single_turn"}))[0] == "tool_error"
    )  # elsewhere a failed call is still an error


def test_an_ask_example_must_ask_before_calling():
    messages = [
        {"role": "user", "content": "Please list cities."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "list_cities", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c", "content": '{"cities": []}'},
    ]
    traj = {
        "kind": "ask",
        "calls": json.dumps([{"name": "list_cities", "arguments": "{}", "ok": True}]),
        "messages": messages,
        "final_answer": "There are no cities.",
        "reference_answer": None,
        "shape": "single",
    }
    assert check_execution(trajectory_of(traj))[0] == "no_question"
    asked = [
        messages[0],
        {"role": "assistant", "content": "Which country code should I use?"},
        {"role": "user", "content": "FR."},
    ] + messages[1:]
    assert check_execution(trajectory_of({**traj, "messages": asked})) is None


def test_offline_final_answer_is_written_from_the_conversation():
    messages = [
        {"role": "user", "content": "What is the capital of CA?"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c0", "function": {"name": "get_capital_city", "arguments": '{"country_code": "CA"}'}}
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "c0",
            "content": json.dumps({"city_id": "ottawa", "country_code": "CA", "name": "Ottawa"}),
        },
    ]
    # what it is, from the tool name and its one id
    assert answer_from(messages) == "The capital city of Canada is Ottawa."
    turn = RetrievalAssistant().decide([{"role": "system", "content": "s"}] + messages, [])
    assert turn.content == "The capital city of Canada is Ottawa." and not turn.tool_calls


def test_the_demo_export_teaches_what_the_issue_asks(demo_export):
    folder, _ = demo_export
    rows = _rows(folder, "default")
    report = json.loads((Path(folder) / "manifest.json").read_text())["quality"]["examples"]
    # answers: sentences, complete (counted here from the rows, and by the report)
    assert not [r["final_answer"] for r in rows if FIELD_DUMP.search(r["final_answer"] or "")]
    answered = [r for r in rows if r["reference_answer"] and r["kind"] != "abstain"]
    request = {r["id"]: " ".join(m["content"] or "" for m in r["messages"] if m["role"] == "user") for r in rows}
    assert [
        r["id"]
        for r in answered
        if unstated(request[r["id"]], json.loads(r["reference_answer"]), r["final_answer"], call_inputs(r["messages"]))
    ] == []
    assert report["answers"]["complete"] == report["answers"]["answers"] == len(answered)
    # dependencies: values taken from earlier results are not in the request
    bound = [
        (r["id"], s["arguments"][p])
        for r in rows
        for s in json.loads(r["reference_chain"] or "[]")
        for p in (s.get("bindings") or {})
    ]
    absent = [
        v
        for i, v in bound
        if not re.search(r"(?<![\w-])" + re.escape(str(v).lower()) + r"(?![\w-])", request[i].lower())
    ]
    assert len(bound) > 20 and len(absent) >= 0.8 * len(bound)
    # requests: varied wording, no pipeline words
    firsts = [next(m["content"] for m in r["messages"] if m["role"] == "user") for r in rows]
    bigrams = [tuple(w[i : i + 2]) for w in (q.lower().split() for q in firsts) for i in range(len(w) - 1)]
    # 0.45 until codes were said by name: 'the United States' repeats two bigrams where 'US' repeated none
    assert len(set(bigrams)) / len(bigrams) >= 0.44
    assert not [q for q in firsts if "from step" in q or re.search(r"\bthe the\b", q)]
    # ToolDial pairs: the source is called before the target
    pairs = [r for r in rows if r["actions"] and json.loads(r["actions"])["scenario"] == "missing_parameter"]
    assert pairs
    for r in pairs:
        chain = json.loads(r["reference_chain"])
        calls = [c["function"]["name"] for m in r["messages"] for c in (m.get("tool_calls") or [])]
        assert calls == [chain[0]["name"], chain[1]["name"]]
        assert not any("description" in (m["content"] or "").lower() for m in r["messages"] if m["role"] == "user")
    # levels above 0 need more dependent calls
    levels = report["levels"]
    assert all(levels[k]["mean_dependent_calls"] > levels["0"]["mean_dependent_calls"] for k in levels if k != "0")
    # the kinds
    assert {"single_turn", "multi_turn", "abstain", "ask", "recover"} <= {r["kind"] for r in rows}
    assert sum(report["dialogues"]["actions"].values()) > 0 and report["call_patterns"]["random_walk_baseline"] > 0


def test_example_quality_counts_from_rows():
    rows = [
        {
            "kind": "single_turn",
            "level": 0,
            "tools": "[]",
            "final_answer": "capital: X; population: 5",
            "reference_answer": json.dumps({"population": 5}),
            "actions": None,
            "reference_chain": json.dumps([{"name": "a", "arguments": {"x": 1}, "bindings": {}}]),
            "messages": [
                {"role": "user", "content": "population?"},
                {"role": "assistant", "tool_calls": [{"function": {"name": "a"}}]},
            ],
        }
    ]
    q = example_quality(rows, [{"name": "a"}, {"name": "b"}], [{"src_tool": "a", "dst_tool": "b"}])
    assert {k: q["answers"][k] for k in ("answers", "complete", "field_dumps", "field_lists")} == {
        "answers": 1,
        "complete": 1,
        "field_dumps": 1,
        "field_lists": 0,
    }
    assert q["answers"]["mean_length_by_kind"] == {"single_turn": len("capital: X; population: 5")}
    assert q["levels"]["0"]["mean_calls"] == 1 and q["call_patterns"]["distinct"] == 1


def test_tool_names_give_words_entities_and_plain_purposes():
    from toolloom.wording import entity_of, param_phrase, plain_purpose, purpose
    from toolloom.withholding import vague

    assert entity_of("Cataas__findCatByTag") == "cat" and purpose("Cataas__findCatByTag") == "find cats by tag"
    assert entity_of("list_countries_by_region") == "country" and entity_of("get_order_status") == "order"
    assert purpose("get_order_status") == "look up the order status" and purpose("get_city") == "look up a city"
    assert purpose("add_to_cart", {"required": ["product_id", "quantity"]}) == "add a product to the cart"
    assert purpose("tmdb__GET_search-movie") == "search for movies"
    # a short plain documentation sentence says it better than a name that reads as no phrase
    assert (
        purpose("countries_speaking", None, "List the countries where a language is official.")
        == "list the countries where a language is official"
    )
    assert (
        purpose("days_between", None, "Number of days from one date to another.")
        == "count the days from one date to another"
    )
    assert (
        purpose("is_holiday", None, "Whether a date is a national public holiday in a country, and which.")
        == "check whether a date is a national public holiday in a country"
    )
    assert purpose("get_vat_rate", None, "A country's standard VAT/GST rate in percent.") == "look up the VAT rate"
    assert purpose("tmdb__GET_movie-keywords", None, "Get Movie Keywords") == "look up the movie keywords"
    assert (param_phrase("from_city_id"), param_phrase("product_id")) == ("starting city", "product")
    assert (vague("to_city_id", "x"), vague("quantity", 2), vague("country_code", "FR"), vague("product_id", "p1")) == (
        "a city",
        "some",
        "my country",
        "a product",
    )  # a person's own country, but one of two cities
    messy = "Is today a public holiday The calculation is made on the basis of UTC time.<br />"
    assert plain_purpose(messy, "Nager_Date__PublicHolidayIsToday") == "Public holiday is today"
    assert plain_purpose("Get country info for the given country", "x") == "Get country info for the given country"


def test_a_suggestion_names_the_offered_tool_closest_to_the_request():
    from toolloom.stages.dialogues import Dialogue

    target = Step(
        "demo.list_holidays",
        "list_holidays",
        "Public holidays of a country in a year.",
        {"country_code": "JP", "year": 2027},
    )
    offered = [
        {"function": {"name": n, "description": d}}
        for n, d in (
            ("add_to_cart", "Put a product in the cart."),
            ("list_holidays", "Public holidays of a country in a year."),
            ("next_holiday", "The next public holiday of a country after a date."),
            ("convert_units", "Convert a length."),
        )
    ]
    tools = {"list_holidays": {"parameters": {"required": ["country_code", "year"]}}}
    state = Dialogue(
        Task("t", "single", [target], 1, {}), None, tools, offered, load_phrases(DEFAULT_ROOT), random.Random(0)
    )
    assert state.other == "next_holiday"


def test_a_recover_task_without_a_learnable_error_is_a_counted_rejection(demo_executor):
    from toolloom.agents.realisers import PhraseRealiser

    task = Task("t_2", "single", [Step("demo.day_of_week", "day_of_week", "", {"day": "2026-12-25"})], 1, {})
    ep = run_async(
        run_recovery(task, PhraseRealiser(), demo_executor, [], "sys", load_phrases(DEFAULT_ROOT), random.Random(0))
    )
    assert ep["outcome"] == "no_recoverable_error" and ep["calls"] == [] and "day_of_week" in ep["error"]


def test_the_model_judge_is_told_what_a_recover_example_teaches(tmp_path):
    from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger
    from toolloom.llm.fake_server import FakeModel, FakeServer
    from toolloom.spec import ModelSpec
    from toolloom.agents.judges import ModelJudge

    verdict = {
        "reason": "ok",
        "calls_fit": True,
        "answer_responds": True,
        "answer_supported": True,
        "reads_naturally": True,
    }
    model = FakeModel(default=lambda request: {"content": json.dumps(verdict)})
    traj = {
        "tools_offered": "[]",
        "messages": [{"role": "user", "content": "Tokyo?", "tool_calls": None}],
        "kind": "recover",
    }
    with FakeServer(model) as server:
        client = ModelClient(
            ModelSpec(provider="openai", model="fake", base_url=server.base_url),
            cache=RequestCache(tmp_path / "c"),
            ledger=UsageLedger(),
            budget=RunBudget(None),
            backoff_s=0.01,
        )
        judge = ModelJudge(client, DEFAULT_ROOT)
        assert (
            run_async(judge.judge(traj))[0] == "pass"
            and run_async(judge.judge({**traj, "kind": "single_turn"}))[0] == "pass"
        )
    prompts = [m["messages"][0]["content"] for m in model.history]
    assert "then corrected, is fine" in prompts[0] and "then corrected, is fine" not in prompts[1]


def test_an_answer_may_write_a_value_as_a_person_would():
    from toolloom.answer_checks import forms

    reference = {"as_of": "2026-01-02", "population": 14094034, "local_time": "2026-03-01T23:30"}
    answer = "As of January 2, 2026, 14,094,034 people live there; it is 11:30 PM now."
    assert unstated("population, local time, as of when?", reference, answer) == []
    assert grounded({"local_time": "2026-03-01T23:30"}, "It is 23:30 there.")
    assert {"january 2, 2026", "2 january 2026"} <= forms("2026-01-02") and "14,094,034" in forms(14094034)
    assert unstated("What is the population?", reference, "The population is 140,940,34.") == ["population"]
