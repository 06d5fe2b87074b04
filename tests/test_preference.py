"""Preference pairs (toolloom/export/preference.py and the export's `preference` config): a verified chosen, a rejected
that failed for the model's own reason, on the same prompt; read by `datasets` and re-executed."""

import json

from datasets import load_dataset

from toolloom.export.preference import MODEL_FAULTS, preference_pairs
from toolloom.rl.environment import as_action
from toolloom.rl.load import load_environment
from toolloom.spec import load_pipeline
from toolloom.volatile import stable

from .conftest import PROJECT

SYSTEM = {"role": "system", "content": "Use the tools."}


def _turns(question: str, tool: str, answer: str) -> list[dict]:
    return [
        SYSTEM,
        {"role": "user", "content": question},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": tool, "arguments": ""}}],
        },
        {"role": "tool", "tool_call_id": "call_0", "name": tool, "content": "{}"},
        {"role": "assistant", "content": answer},
    ]


def _inputs():
    good = _turns("Capital of FR?", "get_capital", "Paris.")
    samples = [{"sample_id": "s_1", "traj_id": "tr_1", "task_id": "e_1", "level": 1, "split": "train"}]
    trajectories = [
        {"traj_id": "tr_1", "messages": good, "tools_offered": "[]"},
        {"traj_id": "tr_2", "messages": _turns("Capital of FR?", "get_country", "No idea."), "tools_offered": "[]"},
        {"traj_id": "tr_3", "messages": _turns("Capital of FR?", "get_capital", "Paris."), "tools_offered": "[]"},
        {"traj_id": "tr_4", "messages": _turns("Capital of DE?", "get_country", "Berlin?"), "tools_offered": "[]"},
    ]
    rejections = [
        {"stage": "filter", "item_id": "tr_2", "reason": "reference_not_reached"},
        {"stage": "filter", "item_id": "tr_3", "reason": "tool_error"},  # not the model's fault
        {"stage": "filter", "item_id": "tr_4", "reason": "answer_not_grounded"},
    ]  # another prompt
    attempts = [
        {
            "attempt": 0,
            "outcome": "failed",
            "reason": "no_tool_call",
            "messages": [
                SYSTEM,
                {"role": "user", "content": "Capital of FR?"},
                {"role": "assistant", "content": "Paris, I think."},
            ],
        },
        {"attempt": 1, "outcome": "error", "reason": "model_error", "messages": good[:2]},
    ]
    escalations = [
        {"task_id": "e_1", "kept": True, "attempts": json.dumps(attempts)},
        {"task_id": "e_2", "kept": True, "attempts": json.dumps(attempts)},
    ]  # no accepted example
    return samples, trajectories, rejections, escalations


def test_pairs_come_from_failed_tries_that_are_the_models_fault_on_the_same_prompt():
    pairs = preference_pairs(*_inputs())
    assert sorted((p["source"], p["reason"]) for p in pairs) == [
        ("escalation", "no_tool_call"),
        ("filter", "reference_not_reached"),
    ]
    for p in pairs:
        assert p["sample_id"] == "s_1" and [m["content"] for m in p["prompt"]] == ["Use the tools.", "Capital of FR?"]
        assert (
            p["chosen"][-1]["content"] == "Paris." and p["chosen"][0]["tool_calls"][0]["function"]["arguments"] == "{}"
        )  # no arguments: an empty object, which the json column holds
        assert p["rejected"][0]["role"] == "assistant" and p["rejected"] != p["chosen"]


def test_the_preference_config_loads_and_each_chosen_re_executes_to_its_results(demo_run):
    pairs = [r for split in load_dataset(demo_run.folder, "preference").values() for r in split]
    assert pairs and {p["source"] for p in pairs} >= {"escalation"}
    assert all(p["reason"] in MODEL_FAULTS for p in pairs)
    card = open(f"{demo_run.folder}/README.md").read()
    assert f"{len(pairs)} pairs (config `preference`)" in card
    loaded = load_environment(load_pipeline(PROJECT / "pipelines" / "demo.yaml"), PROJECT, demo_run.home, split="all")
    try:
        replayed = 0
        for p in pairs:
            if p["sample_id"] not in loaded.env.by_id:  # a dialogue's pair: the environment serves no dialogue
                continue
            session = loaded.env.reset(task_id=p["sample_id"])
            assert [m["content"] for m in session.observation()["messages"]] == [m["content"] for m in p["prompt"]]
            results = []
            for m in p["chosen"]:
                if m["role"] == "assistant":
                    results += [r["content"] for r in session.step(as_action(m))["messages"] if r["role"] == "tool"]
            recorded = [m["content"] for m in p["chosen"] if m["role"] == "tool"]
            assert [stable(json.loads(r)) for r in results] == [stable(json.loads(r)) for r in recorded], p["id"]
            assert session.reward.total == 1.0, session.reward
            replayed += 1
        assert replayed >= len(pairs) * 0.8
    finally:
        loaded.close()
