"""What the examples' answers teach: sentences that state what was asked, complete and grounded in the
result, written offline from the conversation; example quality counted from rows; then the demo export measured
whole (answers, real dependencies, varied requests, ToolDial pairs, harder levels, and the abstain / ask / recover
kinds). Chains and requests are in test_examples_teach_chains.py, recover and ask examples in
test_examples_teach_recover.py."""

import json
import random
import re
from pathlib import Path

from toolloom.agents.offline import RetrievalAssistant
from toolloom.messages import REQUEST
from toolloom.checks.answers import call_inputs, grounded, unstated
from toolloom.answers.sentence import answer_from, sentence
from toolloom.reports.example_quality import example_quality
from toolloom.stages.samples import check_completeness

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
    assert lookup == "The capital of South Africa is Pretoria and its population is 62,027,503."  # a code last
    assert sentence(result, "Tell me about ZA.", {"country_code": "ZA"}) == (  # asked for everything: four
        "The capital of South Africa is Pretoria, its population is 62,027,503, it is not landlocked and its calling "
        "code is +27."
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


SAMPLE_BIGRAMS = 2000  # the requests' first bigrams whose distinct share is measured


def _distinct_bigrams(requests: list[str], draws: int = 20) -> float:
    """The mean share of distinct word pairs among the first SAMPLE_BIGRAMS of the requests, in `draws` orders."""
    shares = []
    for seed in range(draws):
        order = random.Random(seed).sample(requests, len(requests))
        pairs = [tuple(w[i : i + 2]) for w in (q.lower().split() for q in order) for i in range(len(w) - 1)]
        assert len(pairs) >= SAMPLE_BIGRAMS
        shares.append(len(set(pairs[:SAMPLE_BIGRAMS])) / SAMPLE_BIGRAMS)
    return sum(shares) / draws


def _asking_turns(row: dict) -> list[str]:
    """A follow-up dialogue's user turns that ask (its plan marks them); [] for other examples."""
    plan = json.loads(row["actions"]) if row["actions"] else {}
    if plan.get("scenario") != "follow_up":
        return []
    said = [a for a in plan["actions"] if a[0] == "user"]
    users = [m["content"] for m in row["messages"] if m["role"] == "user"]
    return [text for a, text in zip(said, users) if len(a) > 2 and a[2] == REQUEST]


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
    # a follow-up dialogue's request is its asking turns ('How many people live in Cape Town?' ... 'Which big
    # cities does its country have?'), a turn each
    asked = [
        q
        for r in rows
        for q in (_asking_turns(r) or [next(m["content"] for m in r["messages"] if m["role"] == "user")])
    ]
    # the share of distinct bigrams falls as a sample grows, so it is taken of a fixed number, the mean of 20 fixed
    # shuffles: in export order it moved from 0.499 to 0.466 when only the split placed other rows first (at
    # 53f80c4 export order read 0.502, shuffled 0.510)
    share = _distinct_bigrams(asked)
    print("distinct bigram share", share)
    assert share >= 0.48
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


def test_an_answer_may_write_a_value_as_a_person_would():
    from toolloom.checks.answers import forms

    reference = {"as_of": "2026-01-02", "population": 14094034, "local_time": "2026-03-01T23:30"}
    answer = "As of January 2, 2026, 14,094,034 people live there; it is 11:30 PM now."
    assert unstated("population, local time, as of when?", reference, answer) == []
    assert grounded({"local_time": "2026-03-01T23:30"}, "It is 23:30 there.")
    assert {"january 2, 2026", "2 january 2026"} <= forms("2026-01-02") and "14,094,034" in forms(14094034)
    assert unstated("What is the population?", reference, "The population is 140,940,34.") == ["population"]
