"""Environments over a version's tasks (toolloom/rl): rewards from execution, episodes that keep their state apart,
and OpenEnv's own client speaking to `toolloom env serve`."""

import asyncio
import json
import math
import sys

import pytest

from toolloom.rl.cli import replay
from toolloom.rl.environment import as_action
from toolloom.rl.load import load_environment
from toolloom.rl.rewards import otc_tool_reward
from toolloom.rl.settings import RLSettings
from toolloom.spec import load_pipeline

from .conftest import PROJECT, env_server


def test_otc_tool_reward_is_highest_at_the_reference_count():
    assert otc_tool_reward(0, 0) == 1.0
    assert otc_tool_reward(2, 2) == pytest.approx(1.0)
    assert otc_tool_reward(3, 2) < 1.0 and otc_tool_reward(4, 2) < otc_tool_reward(3, 2)
    assert otc_tool_reward(1, 2) < 1.0 and otc_tool_reward(0, 2) == 0.0
    assert otc_tool_reward(1, 0) == pytest.approx(math.cos(math.pi / 3))


def test_weights_must_leave_something_to_reward():
    with pytest.raises(ValueError, match="at least one reward weight"):
        RLSettings(weights={"success": 0, "format": 0, "efficiency": 0})


@pytest.fixture(scope="module")
def demo_env(demo_run):
    loaded = load_environment(load_pipeline(PROJECT / "pipelines" / "demo.yaml"), PROJECT, demo_run.home, split="all")
    yield loaded
    loaded.close()


def _task(env, kind="single_turn", calls=1, where=lambda t: True):
    return next(t for t in env.tasks if t.kind == kind and len(json.loads(t.chain)) == calls and where(t))


def _reference_turns(task):
    return [m for m in task.reference[len(task.prompt) :] if m["role"] == "assistant"]


def test_every_reference_trajectory_earns_the_full_reward(demo_env):
    env = demo_env.env
    assert {t.kind for t in env.tasks} >= {"single_turn", "abstain", "ask"}
    assert demo_env.left_out.get("multi_turn", 0) > 0 and "multi_turn" not in {t.kind for t in env.tasks}
    results = [replay(env.reset(task_id=t.task_id)) for t in env.tasks]
    below = [(t.task_id, r["breakdown"]) for t, r in zip(env.tasks, results) if r["reward"] != 1.0]
    assert below == []
    assert all(r["done"] and r["breakdown"]["success"] == 1.0 for r in results)


def test_a_call_the_schema_refuses_lowers_the_format_part(demo_env):
    env = demo_env.env
    task = _task(
        env,
        where=lambda t: any(
            p.get("type") == "string"
            for tool in t.tools
            for p in tool["function"]["parameters"].get("properties", {}).values()
        ),
    )
    step = json.loads(task.chain)[0]
    params = next(t["function"]["parameters"] for t in task.tools if t["function"]["name"] == step["name"])
    key = next(k for k, p in params["properties"].items() if p.get("type") == "string" and k in step["arguments"])
    session = env.reset(task_id=task.task_id)
    out = session.step({"tool_name": step["name"], "arguments": {**step["arguments"], key: 12345}})
    assert not out["done"] and json.loads(out["messages"][0]["content"])["error"]["status"] == 400
    for turn in _reference_turns(task):  # then the right call and the answer: recovered, but one call was malformed
        out = session.step(as_action(turn))
    assert out["done"] and out["breakdown"]["format"] == 0.5 and out["reward"] < 1.0


def test_an_unrelated_extra_call_lowers_efficiency_only(demo_env):
    env = demo_env.env
    made = {}  # tool -> arguments some reference calls it with (they execute)
    for t in env.tasks:
        for s in json.loads(t.chain):
            made.setdefault(s["name"], s["arguments"])

    def distractors(t) -> list[str]:  # offered, not in the chain, and a lookup: it cannot change what the chain returns
        chain_tools = {s["name"] for s in json.loads(t.chain)}
        return [
            n
            for tool in t.tools
            if (n := tool["function"]["name"]) in made
            and n not in chain_tools
            and n.startswith(("get_", "list_", "search_"))
        ]

    task = _task(env, where=distractors)
    other = distractors(task)[0]
    session = env.reset(task_id=task.task_id)
    first = session.step({"tool_name": other, "arguments": made[other]})
    assert "error" not in json.loads(first["messages"][0]["content"])
    for turn in _reference_turns(task):
        out = session.step(as_action(turn))
    b = out["breakdown"]
    assert b["success"] == 1.0 and b["format"] == 1.0 and b["unrelated_calls"] == 1
    assert b["efficiency"] < otc_tool_reward(2, 1) < 1.0 and out["reward"] < 1.0


def test_answering_without_the_call_fails_the_task(demo_env):
    env = demo_env.env
    task = _task(env)
    final = _reference_turns(task)[-1]["content"]
    out = env.reset(task_id=task.task_id).step({"message": final})  # the right words, nothing executed
    b = out["breakdown"]
    assert out["done"] and b["success"] == 0.0 and b["efficiency"] == 0.0 and b["reason"].startswith("no_tool_call")
    assert out["reward"] == pytest.approx(0.2 / 1.4, abs=1e-6)  # the format part alone, at the default weights


def test_abstain_and_ask_have_their_own_success_rules(demo_env):
    env = demo_env.env
    abstain = next(t for t in env.tasks if t.kind == "abstain")
    session = env.reset(task_id=abstain.task_id)  # a call when nothing fits fails, whatever it returns
    session.step({"tool_name": abstain.tools[0]["function"]["name"], "arguments": {}})
    out = session.step({"message": "Here it is."})
    assert out["breakdown"]["success"] == 0.0 and out["breakdown"]["reason"].startswith("called_when_nothing_fits")
    ask = next(t for t in env.tasks if t.kind == "ask")
    session = env.reset(task_id=ask.task_id)
    turns = _reference_turns(ask)
    out = session.step({"message": turns[0]["content"]})  # the clarifying question: the recorded user answers
    assert not out["done"] and out["messages"] == [{"role": "user", "content": ask.replies[0]}]
    session = env.reset(task_id=ask.task_id)  # calling at once, without asking, fails an ask task
    for turn in turns[1:]:
        out = session.step(as_action(turn))
    assert out["done"] and out["breakdown"]["success"] == 0.0


def test_a_malformed_action_is_refused_with_what_is_expected(demo_env):
    session = demo_env.env.reset(seed=1)
    with pytest.raises(ValueError, match="tool_calls"):
        session.step({"say": "hello"})
    session.step({"message": "I cannot help."})
    with pytest.raises(ValueError, match="is over"):
        session.step({"message": "again"})


def test_openenv_clients_run_64_episodes_at_once_on_one_server_each_with_its_own_state(demo_run, demo_env, tmp_path):
    from openenv.core.generic_client import GenericEnvClient

    task = _task(demo_env.env, where=lambda t: any(s["name"] == "add_to_cart" for s in json.loads(t.chain)))
    product = next(s for s in json.loads(task.chain) if s["name"] == "add_to_cart")["arguments"]["product_id"]
    with env_server(demo_run.home, tmp_path / "serve.log") as port:

        async def episode(i: int) -> tuple[int, list]:
            async with GenericEnvClient(base_url=f"http://127.0.0.1:{port}", message_timeout_s=300) as client:
                first = await client.reset(task_id=task.task_id)
                assert first.observation["task_id"] == task.task_id and first.observation["tools"]
                args = {"product_id": product, "quantity": 1}
                await client.step({"type": "call_tool", "tool_name": "add_to_cart", "arguments": args})
                second = await client.step({"type": "call_tool", "tool_name": "add_to_cart", "arguments": args})
                cart = json.loads(second.observation["messages"][0]["content"])
                end = await client.step({"type": "message", "message": "Done."})
                assert end.done and set(end.observation["breakdown"]) >= {"success", "format", "efficiency"}
                return i, cart["items"]

        async def all_episodes():
            return await asyncio.gather(*(episode(i) for i in range(64)))

        for i, items in asyncio.run(all_episodes()):
            # its own two additions, none of the 63 other episodes' (the stock would refuse them all together)
            assert [(it["product_id"], it["quantity"]) for it in items] == [(product, 1)] * 2, (i, items)


def test_rollouts_with_an_endpoint_as_the_policy_are_rewarded_by_what_it_calls(demo_env):
    """The loop a trainer runs, with the fake endpoint as the policy: a competent policy earns more than one whose
    every call has wrong types or names a tool nobody offered; each episode is scored, none dropped."""
    from toolloom.llm.fake_server import FakeServer, Faults
    from toolloom.rl.rollout import evaluate

    with FakeServer() as good:
        competent = evaluate(demo_env.env, good.base_url, "fake", episodes=16)
    with FakeServer(faults=Faults(rate=1.0, kinds=("wrong_types", "unknown_tool"), seed=1)) as bad:
        faulty = evaluate(demo_env.env, bad.base_url, "fake", episodes=16)
    assert competent["episodes"] == competent["scored"] == faulty["episodes"] == faulty["scored"] == 16
    assert competent["reward"] > 0.5 > faulty["reward"] and faulty["format"] < competent["format"] == 1.0


def test_serving_without_openenv_installed_says_what_to_install(demo_run, monkeypatch, capsys):
    from toolloom.cli import main

    monkeypatch.delitem(sys.modules, "toolloom.rl.openenv_app", raising=False)
    monkeypatch.setitem(sys.modules, "openenv.core.env_server.http_server", None)  # as if not installed
    assert main(["--project", str(PROJECT), "--home", str(demo_run.home), "env", "serve", "demo"]) == 2
    assert "pip install 'toolloom[rl]'" in capsys.readouterr().err


def test_results_reached_with_the_state_changed_besides_fail_the_task(demo_env):
    """The product's details come back as the reference's did, but the policy also put it in the cart: the shop's
    state ends other than the verified trajectory leaves it."""
    env = demo_env.env
    task = _task(
        env,
        where=lambda t: (
            [s["name"] for s in json.loads(t.chain)] == ["get_product"]
            and "add_to_cart" in {x["function"]["name"] for x in t.tools}
        ),
    )
    product = json.loads(task.chain)[0]["arguments"]["product_id"]
    session = env.reset(task_id=task.task_id)
    session.step({"tool_name": "add_to_cart", "arguments": {"product_id": product, "quantity": 1}})
    for turn in _reference_turns(task):
        out = session.step(as_action(turn))
    assert out["breakdown"]["success"] == 0.0 and out["breakdown"]["reason"].startswith("final_state_differs")
