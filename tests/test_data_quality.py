"""The pieces behind the export's data-quality checks, each shown failing where it should: the
documentation rules, the leak-free split, the verdicts against thresholds, duplicate tool offers."""

import hashlib
import json

from toolloom.reports.data_quality import verdicts
from toolloom.spec import ExportQuality
from toolloom.domain import trajectory_of
from toolloom.stages.samples import check_format
from toolloom.stages.episodes import Distractors
from toolloom.stages.splits import assign_splits
from toolloom.reports.tool_docs import fit, revision_problems, tool_error


def test_documentation_fits_its_budget_by_dropping_the_lowest_priority_sections():
    sections = [
        (1, "Purpose."),
        (2, "Parameters: " + "p" * 50),
        (3, "Errors: " + "e" * 50),
        (5, "Example: " + "x" * 200),
    ]
    text = fit(sections, 140)
    assert text.startswith("Purpose.\nParameters:") and "Errors:" in text and "Example" not in text and len(text) <= 140
    assert fit(sections, 20) == "Purpose."  # the purpose stays even when nothing else fits
    assert tool_error("404: no city with id 'zz-not-a-valid-value'") == "404: no city with id '<value>'"
    assert tool_error("500: internal error: TypeError: f() missing 1 argument (line 12)") is None


def test_a_revision_that_is_not_documentation_is_refused_with_the_reason():
    original = "Convert an amount between currencies at the reference rates."
    assert revision_problems(original + "\nErrors it reports: \"400: bad currency '<value>'\".", original, 1200) == []
    assert "pipeline internals" in revision_problems(original + " Mistakes callers made: x.", original, 1200)[0]
    assert "over the budget" in revision_problems(original + "y" * 1200, original, 1200)[0]
    assert "loses the original" in revision_problems("Tool convert_currency.", original, 1200)[0]
    assert revision_problems("Tool convert_currency.", original, 1200, original_contradicted=True) == []


def _traj(i: int, call: str, request: str) -> dict:
    name, args = call.split("(", 1)
    return {
        "task_id": f"t_{i}",
        "messages": [
            {"role": "user", "content": request},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"function": {"name": name, "arguments": "{" + args[:-1] + "}"}}],
            },
        ],
    }


def test_the_split_keeps_shared_calls_and_near_duplicate_requests_on_one_side_and_leaves_out_what_ties_both():
    requests = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(40)]  # unlike one another
    trajs = [_traj(i, f'get_city("id": "c{i}")', requests[i]) for i in range(40)]
    trajs.append(_traj(40, 'get_city("id": "c3")', "a different wording that repeats call 3"))
    trajs.append(_traj(41, 'get_city("id": "c999")', requests[5][:-1] + "!"))  # near-duplicate of request 5
    sides = assign_splits(trajs, 0.3, 0.9)
    assert sides[40] == sides[3] and sides[41] == sides[5]
    assert 0.15 <= sides.count("test") / len(sides) <= 0.45
    # an example placed after examples of both sides whose calls it repeats can go nowhere
    # (of the examples whose call nothing else makes: a third example with one call would make it widely shared)
    a, b = (next(i for i in range(40) if sides[i] == side and i not in (3, 5)) for side in ("train", "test"))
    order = {t["task_id"]: hashlib.sha256(t["task_id"].encode()).hexdigest() for t in trajs}
    late = next(
        f"t_late{k}"
        for k in range(1000)
        if hashlib.sha256(f"t_late{k}".encode()).hexdigest() > max(order[f"t_{a}"], order[f"t_{b}"])
    )
    both = {
        "task_id": late,
        "messages": [
            {"role": "user", "content": "zz unrelated words"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": trajs[a]["messages"][1]["tool_calls"] + trajs[b]["messages"][1]["tool_calls"],
            },
        ],
    }
    placed = assign_splits(trajs + [both], 0.3, 0.9)
    assert placed[-1] is None and placed[:-1] == sides


def test_verdicts_fail_past_their_thresholds_and_an_absent_checker_is_never_a_pass():
    report = {
        "conformance": {
            "xlam": {"checker": "layout", "rows": 10, "conforming": 9, "failures": []},
            "bfcl": {"checker": "bfcl-eval (not installed)", "rows": 5, "conforming": None, "failures": []},
        },
        "leakage": {
            "test_calls_seen_in_train": 1,
            "test_calls": 5,
            "test_requests_near_duplicate_of_train": 0,
            "test_examples": 3,
        },
        "documentation": {"with_internals": ["t"], "over_budget": [], "budget": 1200},
        "diversity": {"distinct_bigram_ratio": 0.2},
    }
    got = {
        v["name"]: (v["passed"], v["severity"]) for v in verdicts(report, ExportQuality(min_distinct_bigram_ratio=0.45))
    }
    assert got == {
        "conformance_xlam": (False, "ERROR"),
        "conformance_bfcl": (False, "WARN"),
        "split_leakage": (False, "ERROR"),
        "documentation": (False, "ERROR"),
        "diversity": (False, "WARN"),
    }
    lenient = {
        v["name"]: v["passed"]
        for v in verdicts(report, ExportQuality(min_conformance=0.9, max_test_calls_seen_in_train=1))
    }
    assert lenient["conformance_xlam"] and lenient["split_leakage"] and "diversity" not in lenient


def test_a_tool_a_chain_calls_twice_is_offered_once_and_a_repeated_offer_is_rejected():
    tool = {"name": "get_city", "description": "city facts", "parameters": json.dumps({"type": "object"})}
    offered = Distractors([tool]).offer([tool, tool], 0)
    assert [t["function"]["name"] for t in offered] == ["get_city"]
    traj = {"tools_offered": json.dumps(offered * 2), "messages": []}
    assert check_format(trajectory_of(traj)) == ("duplicate_tool", "the same tool name is offered twice")
    assert check_format(trajectory_of({**traj, "tools_offered": json.dumps(offered)})) is None


def test_the_length_budget_judges_what_toolloom_wrote_and_a_long_source_description_only_warns():
    from toolloom.reports.data_quality import documentation

    long = "Get the keywords that have been added to a movie. " * 40  # RestBench's own prose, 2,000 characters
    tools = [
        {"name": "keywords", "description": long},
        {"name": "refined", "description": "x" * 1300, "original_description": "short"},
    ]
    docs = documentation([], tools, 1200)
    assert docs["long_originals"] == ["keywords"] and docs["over_budget"] == ["refined"]
    report = {
        "conformance": {},
        "leakage": {"test_calls_seen_in_train": 0, "test_requests_near_duplicate_of_train": 0},
        "documentation": {**docs, "over_budget": [], "with_internals": []},
        "diversity": {},
    }
    (doc,) = [v for v in verdicts(report, ExportQuality()) if v["name"] == "documentation"]
    assert (doc["passed"], doc["severity"]) == (False, "WARN")
    assert "1 source descriptions are longer" in doc["description"]
    report["documentation"]["over_budget"] = ["refined"]
    (doc,) = [v for v in verdicts(report, ExportQuality()) if v["name"] == "documentation"]
    assert (doc["passed"], doc["severity"]) == (False, "ERROR")


def test_a_filter_check_is_given_calls_tools_and_chain_as_lists(monkeypatch):
    """The check a plug-in author writes first, `len(traj["calls"]) > 2`, counts calls, not characters."""
    import pyarrow as pa

    from toolloom import registry
    from toolloom.spec import FilterStage
    from toolloom.stages.samples import filter_samples

    seen = []

    def many_calls(traj):
        seen.append((type(traj["calls"]), type(traj["tools_offered"]), type(traj["chain"]), len(traj["calls"])))
        return ("too_many_calls", "over 2") if len(traj["calls"]) > 2 else None

    monkeypatch.setitem(registry.FILTER_CHECKS._items, "many_calls", many_calls)
    call = {"name": "get_city", "arguments": "{}", "ok": True, "error": None}
    row = {
        "traj_id": "tr_1",
        "task_id": "t_1",
        "shape": "single",
        "kind": "single_turn",
        "outcome": "answered",
        "messages": [{"role": "user", "content": "Paris?"}],
        "final_answer": "Paris.",
        "reference_answer": None,
        "calls": json.dumps([call]),
        "tools_offered": "[]",
        "chain": json.dumps([{"name": "get_city"}]),
    }
    result = filter_samples(
        pa.Table.from_pylist([row, {**row, "traj_id": "tr_2", "calls": json.dumps([call] * 3)}]),
        FilterStage(checks=["many_calls"]),
        test_share=0.0,
    )
    assert seen == [(list, list, list, 1), (list, list, list, 3)]
    assert [r.item_id for r in result.rejections] == ["tr_2"]


def test_an_example_with_a_widely_shared_call_never_opens_the_test_side_so_fewer_are_left_out():
    words = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(60)]
    # 20 examples with one unique call; 40 that also make a call 20 others make ('the capital of Australia')
    trajs = [_traj(i, f'get_city("id": "c{i}")', words[i]) for i in range(20)]
    trajs += [_traj(i, f'get_capital("id": "{"AU" if i % 2 else "DE"}")', words[i]) for i in range(20, 60)]
    sides = assign_splits(trajs, 0.3, 0.9)
    assert None not in sides  # each hub stays on one side: nothing ties both
    assert {sides[i] for i in range(20, 60)} == {"train"}
    assert sides[:20].count("test") >= 5
    hubs_only = assign_splits(trajs[20:], 0.3, 0.9)  # where every example shares widely, test still gets its share
    assert None not in hubs_only and hubs_only.count("test") == 20
