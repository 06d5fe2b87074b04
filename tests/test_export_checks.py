"""Each export config through the checker of the ecosystem it is named after: BFCL's own AST checker
(bfcl-eval), the published xLAM layout, Hermes function calling; shipped documentation that is
documentation; a split without leakage. On the demo and on tools this project never wrote."""

import json
import re

import pytest
from datasets import Dataset, concatenate_datasets, load_dataset

from toolloom.formats.bfcl import category
from toolloom.formats.conformance import calls_of, run_bfcl_checker
from toolloom.formats.hermes import hermes_problems
from toolloom.formats.xlam import xlam_id, xlam_problems
from toolloom.spec import Pipeline
from toolloom.stages.quality import calls_of as split_calls

from .conftest import CASES, PROJECT, materialize_export as _export

CORPORA = PROJECT.parent / "shared" / "corpora"
INTERNALS = re.compile(r"Mistakes callers made|Traceback|Error: .* line [0-9]+|zz-not-a-valid")


def _rows(folder: str, config: str) -> list[dict]:
    ds = load_dataset(folder, config)
    return [r for split in ds for r in ds[split]]


def test_bfcl_rows_pass_bfcls_own_checker_with_the_ground_truth_as_answer(demo_export, bfcl_checker):
    folder, checks = demo_export
    bfcl, default = _rows(folder, "bfcl"), {r["id"]: r for r in _rows(folder, "default")}
    assert len(bfcl) > 20
    verdicts = run_bfcl_checker(bfcl, {i: calls_of(r) for i, r in default.items()}, bfcl_checker)
    assert len(verdicts) == len(bfcl) and [v for v in verdicts if not v["valid"]] == []
    assert checks["conformance_bfcl"].passed
    for row in bfcl:  # the category is what the row is
        offered, calls = json.loads(row["function"]), calls_of(default[row["id"]])
        assert row["category"] == category(len(offered), len(calls))
        assert all(
            p["type"] in ("string", "integer", "float", "boolean", "array", "dict", "tuple", "any")
            for f in offered
            for p in f["parameters"]["properties"].values()
        )
    assert {r["category"] for r in bfcl} >= {"multiple", "parallel_multiple", "irrelevance"}
    for row in (r for r in bfcl if r["category"] == "irrelevance"):  # from abstain examples: nothing offered fits
        source = default[row["id"]]
        assert source["kind"] == "abstain" and calls_of(source) == [] and json.loads(row["ground_truth"]) == []
        assert "can't help with that here" in source["messages"][-1]["content"]  # the assistant declined
    # the checker can fail: a changed argument (of a call that has one: view_cart takes none), or a call too many
    row = next(r for r in bfcl if r["category"] == "multiple" and any(calls_of(default[r["id"]])[0].values()))
    ((name, args),) = calls_of(default[row["id"]])[0].items()
    wrong = {k: (v + 1 if isinstance(v, int) else f"{v}-not") for k, v in args.items()}
    bad = run_bfcl_checker(
        [row, {**row, "id": "twice"}], {row["id"]: [{name: wrong}], "twice": [{name: args}, {name: args}]}, bfcl_checker
    )
    assert [v["valid"] for v in bad] == [False, False]


def test_bfcls_own_files_are_written_for_its_runner(demo_export, bfcl_checker):
    from pathlib import Path

    folder, _ = demo_export
    native = Path(folder) / "bfcl_eval"
    ids = json.loads((native / "ids.json").read_text())
    default = {r["id"]: r for r in _rows(folder, "default")}
    held = {r["id"] for r in load_dataset(folder, "bfcl")["test"]}
    assert set(ids.values()) == held
    rows = []
    for path in native.glob("BFCL_v4_*.json"):
        cat = path.name.removeprefix("BFCL_v4_").removesuffix(".json")
        questions = [json.loads(line) for line in path.read_text().splitlines()]
        answers = (
            {}
            if cat == "irrelevance"
            else {
                json.loads(line)["id"]: json.loads(line)["ground_truth"]
                for line in (native / "possible_answer" / path.name).read_text().splitlines()
            }
        )
        for q in questions:
            assert q["id"].rsplit("_", 1)[0] == cat  # how BFCL reads the category from an id
            rows.append(
                {
                    "id": q["id"],
                    "category": cat,
                    "question": json.dumps(q["question"]),
                    "function": json.dumps(q["function"]),
                    "ground_truth": json.dumps(answers.get(q["id"], [])),
                }
            )
    verdicts = run_bfcl_checker(rows, {i: calls_of(default[s]) for i, s in ids.items()}, bfcl_checker)
    assert len(verdicts) == len(held) and all(v["valid"] for v in verdicts)


def test_xlam_rows_are_answered_from_the_query_and_load_beside_published_rows(demo_export):
    folder, checks = demo_export
    xlam = load_dataset(folder, "xlam")
    published = Dataset.from_json(str(CASES / "xlam_published.jsonl"))
    for split in xlam:
        assert xlam[split].features == published.features
        assert concatenate_datasets([published, xlam[split]]).num_rows == published.num_rows + xlam[split].num_rows
    default = {r["id"]: r for r in _rows(folder, "default")}
    by_xlam_id = {xlam_id(i): r for i, r in default.items()}
    rows = _rows(folder, "xlam")
    assert len(rows) > 20 and all(xlam_problems(r) == [] for r in rows) and checks["conformance_xlam"].passed
    for row in rows:
        source = by_xlam_id[row["id"]]
        assert not any(s.get("bindings") for s in json.loads(source["reference_chain"]))  # nothing from a tool result
        assert [{"name": n, "arguments": a} for c in calls_of(source) for n, a in c.items()] == json.loads(
            row["answers"]
        )
        tools = json.loads(row["tools"])  # xlam keeps the published layout: JSON text
        assert all(set(spec) == {"type", "description", "default"} for t in tools for spec in t["parameters"].values())
    assert all(xlam_problems(r) == [] for r in published.to_list())  # the published rows meet the same check
    assert xlam_problems({**rows[0], "id": "x"}) and xlam_problems(
        {**rows[0], "answers": '[{"name": "nope", "arguments": {}}]'}
    )


def test_sharegpt_is_hermes_function_calling(demo_export):
    folder, checks = demo_export
    rows = _rows(folder, "sharegpt")
    assert rows and all(hermes_problems(r) == [] for r in rows) and checks["conformance_sharegpt"].passed
    system = rows[0]["conversations"][0]["value"]
    assert "<tool_call>" in system and '{"type": "function", "function": {' in system
    broken = [dict(t) for t in rows[0]["conversations"]]
    i = next(k for k, t in enumerate(broken) if t["from"] == "gpt" and "<tool_call>" in t["value"])
    broken[i]["value"] = "<tool_call>\n{not json}\n</tool_call>"
    assert hermes_problems({**rows[0], "conversations": broken}) == [f"turn {i}: a <tool_call> is not JSON"]


def test_shipped_documentation_is_documentation_within_budget(demo_export):
    folder, checks = demo_export
    texts = [t["description"] for t in _rows(folder, "tools")]
    texts += [t["function"]["description"] for r in _rows(folder, "default") for t in r["tools"]]
    texts += [f["description"] for r in _rows(folder, "bfcl") for f in json.loads(r["function"])]
    texts += [t["description"] for r in _rows(folder, "xlam") for t in json.loads(r["tools"])]
    assert texts and [t for t in texts if INTERNALS.search(t)] == [] and max(map(len, texts)) <= 1200
    tools = _rows(folder, "tools")
    kept = [t for t in tools if t["original_description"] and t["original_description"] in t["description"]]
    assert len(kept) == len([t for t in tools if t["original_description"]])  # the source's facts stay
    assert checks["documentation"].passed


def test_no_call_and_no_near_duplicate_request_on_both_sides_of_the_split(demo_export):
    folder, checks = demo_export
    ds = load_dataset(folder)
    train, test = list(ds["train"]), list(ds["test"])
    rows = train + test
    assert test and train and 0.1 <= len(test) / len(rows) <= 0.3  # the demo asks for 0.2
    train_calls = {c for r in train for c in split_calls(r)}
    assert not [c for r in test for c in split_calls(r) if c in train_calls]
    assert checks["split_leakage"].passed


@pytest.mark.pipeline
@pytest.mark.skipif(
    not (CORPORA / "toolalpaca").is_dir(), reason="../shared/corpora is not present (it is not shipped)"
)
def test_an_export_over_tools_never_seen_here_passes_the_same_checkers(tmp_path, bfcl_checker):
    pipeline = Pipeline.model_validate(
        {
            "name": "alpaca",
            "collections": [
                {"name": "alpaca", "path": str(CORPORA / "toolalpaca" / "eval_real.json"), "executor": "simulated"}
            ],
            "stages": {
                "tasks": {"per_tool": 2, "multi_hop": 10, "parallel": 6, "seed": 3},
                "refine": {"max_rounds": 2},
                "export": {"test_share": 0.2, "formats": ["openai", "sharegpt", "xlam", "bfcl"]},
            },
        }
    )
    folder, checks = _export(pipeline, tmp_path)
    failed = {name: c.description for name, c in checks.items() if not c.passed}
    assert failed == {}
    bfcl, default = _rows(folder, "bfcl"), {r["id"]: r for r in _rows(folder, "default")}
    verdicts = run_bfcl_checker(bfcl, {i: calls_of(r) for i, r in default.items()}, bfcl_checker)
    assert bfcl and all(v["valid"] for v in verdicts)
    tools = _rows(folder, "tools")
    assert not [t for t in tools if INTERNALS.search(t["description"])]
    # simulated answers cannot contradict a spec: every source description is kept, and no made-up result is shown
    assert all(
        t["original_description"].strip() in t["description"] for t in tools if t["original_description"].strip()
    )
    assert not [t for t in tools if "Example (a recorded call)" in t["description"]]
