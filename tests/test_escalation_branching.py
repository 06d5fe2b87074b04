"""The branch_on_result escalation operator: a second request that depends on a number in the first's result."""

import json
import random
import re

import pytest

from toolloom.domain import Step, Task, wording_meta
from toolloom.graph.branching import (
    branch_on_result,
    branch_problem,
    condition_phrase,
    related_calls,
    numeric_paths,
    round_thresholds,
    sibling_unit,
)
from toolloom.graph.chains import branch_arguments
from toolloom.graph.escalation import ChainEscalator, StructuralVerifier, reference_answer, shape_of, terminals
from toolloom.llm import run_async
from toolloom.llm.competent_model import competent
from toolloom.llm.fake_server import FakeModel
from toolloom.spec import EscalateStage
from toolloom.stages.demonstrations import rounds
from toolloom.text.wording import render_example

from .test_escalation_edgeless import _escalate_dates
from .test_escalations import EDGES, RecordingEscalator, _edge, _run, _step, demo, seed_table  # noqa: F401


def test_a_condition_is_said_with_the_unit_its_field_name_ends_in():
    cond = {"path": "subtotal_eur", "test": "above", "than": 55}
    assert condition_phrase(cond) == "the subtotal is above 55 EUR"
    assert condition_phrase({"path": "city|population", "test": "below", "than": 5000000}) == (
        "the population is below 5,000,000"
    )
    assert condition_phrase({"path": "standardRatePercent", "test": "above", "than": 20}) == (
        "the standard rate is above 20 percent"
    )
    assert condition_phrase({"path": "utc_offset_hours", "test": "below", "than": 1.5}) == (
        "the UTC offset is below 1.5 hours"
    )
    converted = {"value": 26.22, "unit": "mi", "rate": {"amount": 1155.27, "currency": "SEK"}}
    cond = {"path": "value", "test": "above", "than": 25, "unit": sibling_unit(converted, "value")}
    assert condition_phrase(cond) == "the result is above 25 mi"
    assert sibling_unit(converted, "rate|amount") == "SEK" and sibling_unit({"n": 3}, "n") is None


def test_thresholds_are_round_numbers_either_side_and_never_the_value():
    assert round_thresholds(23.4) == [20, 25, 30]
    assert round_thresholds(20) == [15, 25, 30] and round_thresholds(10.0) == [5, 15, 20]
    assert round_thresholds(0) == [] and round_thresholds(6) == [5, 7] and round_thresholds(1) == [2]
    assert 59.8 not in round_thresholds(59.8) and round_thresholds(59.8) == [50, 55, 60]


def test_only_measures_outside_lists_are_branched_on():
    result = {"id": 7, "order_number": 1002, "subtotal_eur": 59.8, "items": [{"price": 3}], "ok": True, "c": {"t": 2}}
    assert numeric_paths(result) == ["subtotal_eur", "c|t"]


def test_the_branch_taken_is_the_one_the_result_picks():
    cond = {"step": 0, "path": "rate", "test": "above", "than": 20, "then": {"x": 1}, "otherwise": {"x": 2}}
    assert branch_arguments(cond, {"rate": 25}) == {"x": 1}
    assert branch_arguments(cond, {"rate": 20}) == {"x": 2}
    assert branch_arguments(cond, {"rate": "25"}) is None and branch_arguments(cond, {"other": 1}) is None


def _branched(chains):
    seed = _run(chains, [_step(chains, "city_distance", from_city_id="paris", to_city_id="berlin")])
    for k in range(20):
        out = run_async(branch_on_result(chains, seed, random.Random(k), None))
        if out and out[1].condition["path"] == "distance_km":
            return seed, out
    raise AssertionError("no branch on the distance")


@pytest.mark.services  # runs the demo tools in sandbox worker processes
def test_the_second_call_is_about_what_the_first_names_and_depends_on_its_result(demo):  # noqa: F811
    _, chains, _ = demo
    seed, out = _branched(chains)
    cond = out[1].condition
    assert cond["step"] == 0 and out[0].result["distance_km"] == 877.5
    assert out[1].arguments == branch_arguments(cond, out[0].result)  # the branch the distance picks
    # about the same two cities, the branches differing in one value ('by train' or 'by car'), with other results
    assert out[1].name == "travel_time" and {cond["then"]["from_city_id"], cond["then"]["to_city_id"]} == {
        "paris",
        "berlin",
    }
    differing = [p for p in cond["then"] if cond["then"][p] != cond["otherwise"].get(p)]
    assert differing == ["mode"]
    untaken = cond["otherwise"] if out[1].arguments == cond["then"] else cond["then"]
    alone = _run(chains, [_step(chains, "travel_time", **untaken)])
    assert alone[0].result != out[1].result
    # the branched call needs the first result: a later round, the only part of the answer, a chain of two
    assert rounds(out) == [[0], [1]] and terminals(out) == [1] and shape_of(out) == "multi_hop"
    assert reference_answer(out) == out[1].result
    assert run_async(StructuralVerifier(chains).verify("q", out, reference_answer(out))) is None
    # stored and read back as a chain row, the condition comes with it
    assert Step.from_row(json.loads(json.dumps(out[1].row(with_result=True)))).condition == cond


@pytest.mark.services  # runs the demo tools in sandbox worker processes
def test_no_other_operator_changes_a_branch_or_feeds_on_it(demo):  # noqa: F811
    _, chains, executor = demo
    # a product, then 1 or 2 or 3 of it into the cart; edges that could feed the branched call's quantity from a
    # day count, or feed its subtotal to a currency conversion
    edges = EDGES + [
        _edge("days_between", "days", "add_to_cart", "quantity"),
        _edge("add_to_cart", "subtotal_eur", "convert_currency", "amount"),
    ]
    wired = ChainEscalator(list(chains.graph.tools.values()), edges, executor)
    seed = _run(wired, [_step(wired, "get_product", product_id="p102")])
    tries = (run_async(branch_on_result(wired, seed, random.Random(k), None)) for k in range(20))
    out = next(o for o in tries if o and o[1].name == "add_to_cart" and o[1].arguments["quantity"] > 1)
    for k in range(5):
        assert run_async(wired.add_hop(out, random.Random(k))) is None
        for op in (wired.replace_value, wired.add_constraint):  # the first call may change, the branch may not
            harder = run_async(op(out, random.Random(k)))
            branched = next(s for s in harder or out if s.condition)
            assert not branched.bindings and branched.condition == out[1].condition


@pytest.mark.services  # runs the demo tools in sandbox worker processes
def test_a_branch_needs_a_related_call_and_a_measure_in_the_result(demo):  # noqa: F811
    _, chains, _ = demo
    # a weekday says no number; a lookup of a language names nothing another tool takes with a second value
    weekday = _run(chains, [_step(chains, "day_of_week", day="2026-12-25")])
    assert run_async(branch_on_result(chains, weekday, random.Random(0), None)) is None
    # a request of two parts already: a condition after them reads as a third request glued on
    two = _run(
        chains, [_step(chains, "get_capital_city", country_code="DE"), _step(chains, "get_city", city_id="berlin")]
    )
    assert run_async(branch_on_result(chains, two, random.Random(0), None)) is None
    calls = related_calls(chains, _run(chains, [_step(chains, "get_product", product_id="p102")]))
    assert calls and all("p102" in json.dumps(second.arguments) for second, _, _ in calls)


@pytest.mark.services  # runs the demo tools in sandbox worker processes
def test_a_branched_request_says_the_condition_and_both_branches(demo):  # noqa: F811
    tools, chains, _ = demo
    _, out = _branched(chains)
    rows = {t["tool_id"]: t for t in chains.graph.tools.values()}
    task = Task("e_1", "multi_hop", [s.planned() for s in out], 0, {t: wording_meta(rows[t]) for t in rows})
    text = render_example(task, random.Random(0))
    cond = out[1].condition
    assert f"If the distance is {cond['test']} {cond['than']} km, " in text and " Otherwise, " in text
    first, second = text.split(" Otherwise, ")
    for part, branch in zip((first, second), ("then", "otherwise")):  # each branch's mode, in its own part
        assert cond[branch]["mode"] in part.split("km, ")[-1]
    # both branches in the same words, only their values differ ('add 1 piece to my cart. Otherwise, add 3 units
    # to the basket' read as a template)
    values = [str(v) for b in ("then", "otherwise") for v in cond[b].values()]
    strip = lambda t: re.sub("|".join(map(re.escape, values)), "_", t)  # noqa: E731
    assert strip(first.split("km, ")[-1]).lower() == strip(second).lower(), text


@pytest.mark.services  # runs the demo tools in sandbox worker processes
def test_executing_a_branch_again_takes_the_branch_its_result_picks_and_needs_a_number_there(demo):  # noqa: F811
    _, chains, _ = demo
    _, out = _branched(chains)
    flipped = [s.planned() for s in out]
    cond = flipped[1].condition
    cond["test"] = "below" if cond["test"] == "above" else "above"  # the other branch now holds
    again = _run(chains, flipped)
    assert again[1].arguments == branch_arguments(cond, again[0].result) != out[1].arguments
    missing = [s.planned() for s in out]
    missing[1].condition["path"] = "from_city_id"  # a name, not a number
    done, error = run_async(chains.execute(missing))
    assert done is None and "no number at from_city_id" in error


def test_calling_the_branch_not_taken_is_a_wrong_branch():
    cond = {"step": 0, "path": "rate", "test": "above", "than": 20, "then": {"c": "SE"}, "otherwise": {"c": "DE"}}
    steps = [Step("t.a", "a", "", {}, result={"rate": 25}), Step("t.b", "b", "", {"c": "SE"}, condition=cond)]
    right = [{"name": "a", "arguments": "{}"}, {"name": "b", "arguments": '{"c": "SE"}'}]
    assert branch_problem(steps, right) is None
    both = right + [{"name": "b", "arguments": '{"c": "DE"}'}]
    reason, detail = branch_problem(steps, both)
    assert reason == "wrong_branch" and "the rate is above 20" in detail


def _frontier(escalator, careful: bool):
    """Calls a request's chain in order; at a branched step, the careful one reads the earlier result and makes the
    call it picks, the hasty one makes both calls."""

    def respond(request):
        if not request.get("tools"):
            return competent(request)
        messages = request["messages"]
        question = next(m["content"] for m in messages if m["role"] == "user")
        chain = escalator.chains[question]
        results = [json.loads(m["content"]) for m in messages if m["role"] == "tool"]
        calls = [m for m in messages if m["role"] == "assistant" and m.get("tool_calls")]
        if len(calls) < len(chain):
            step = chain[len(calls)]
            if not step.condition:
                return {"tool_calls": [{"name": step.name, "arguments": step.arguments}]}
            branches = [step.condition["then"], step.condition["otherwise"]]
            picked = [branch_arguments(step.condition, results[step.condition["step"]])]
            return {"tool_calls": [{"name": step.name, "arguments": a} for a in (picked if careful else branches)]}
        return {"content": "Here is what I found: " + " | ".join(json.dumps(r) for r in results)}

    return respond


@pytest.mark.services  # runs the demo tools in sandbox worker processes
@pytest.mark.parametrize("careful", [False, True])
def test_a_frontier_that_calls_both_branches_fails_the_level_and_one_that_reads_the_result_solves_it(
    demo,  # noqa: F811
    tmp_path,
    careful,
):
    _, chains, _ = demo
    escalator = RecordingEscalator()
    seeds = seed_table(
        [
            _step(chains, "city_distance", from_city_id="paris", to_city_id="berlin"),
            _step(chains, "get_vat_rate", country_code="SE"),
        ]
    )
    params = EscalateStage(max_level=1, operators={"branch_on_result": 1.0})
    result = _escalate_dates(demo, tmp_path, FakeModel(default=_frontier(escalator, careful)), escalator, seeds, params)
    assert result.accounted
    levels = [r for r in result.table.to_pylist() if r["level"] == 1 and r["outcome"] != "dropped"]
    assert levels and all(r["operator"] == "branch_on_result" for r in levels)
    for row in levels:
        assert re.search(r"If the [a-z ]+ is (above|below) [\d,.]+.+ Otherwise, ", row["question"])
        if careful:
            assert row["outcome"] == "solved" and row["stop_reason"] == "level_cap" and not row["kept"]
        else:
            assert row["outcome"] == "failed" and row["reason"] == "wrong_branch" and row["kept"]
