"""Progressive difficulty: the structural operators, the verifier, and escalation against a scripted frontier."""

import json
import re
import random

import pyarrow as pa
import pytest

from toolloom.agents.llm import ModelAssistant, ModelEscalator, ModelVerifier
from toolloom.agents.offline import TemplateEscalator
from toolloom.domain import tools_of
from toolloom.executors.routing import ToolExecutor
from toolloom.graph.escalation import (
    ChainEscalator,
    StructuralVerifier,
    alternative_answers,
    reference_answer,
    shape_of,
)
from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger, run_async
from toolloom.llm.competent_model import competent
from toolloom.llm.fake_server import FakeModel, FakeServer
from toolloom.sandbox import Sandbox
from toolloom.spec import EscalateStage, ModelSpec
from toolloom.stages.escalation_ladder import operator_order as _operator_order
from toolloom.stages.escalations import escalate
from toolloom.stages.tasks import TASKS_SCHEMA

from .conftest import PROJECT
from .test_stages import _tools

pytestmark = pytest.mark.services  # each test runs tools in sandbox worker processes

PROMPTS = PROJECT / "prompts"


def _edge(src, src_slot, dst, dst_slot):
    return {"src_tool": src, "src_slot": src_slot, "dst_tool": dst, "dst_slot": dst_slot}


# a hand-made path through the demo collection: capital -> city (-> country would loop back to the start)
EDGES = [
    _edge("find_country", "results|country_code", "get_capital_city", "country_code"),
    _edge("get_capital_city", "city_id", "get_city", "city_id"),
    _edge("get_city", "country_code", "get_country", "country_code"),
    _edge("get_country", "code", "get_vat_rate", "country_code"),  # echoes its input: never a hop
    _edge("get_country", "currency", "get_exchange_rate", "from_currency"),
    _edge("list_cities", "cities|city_id", "get_city", "city_id"),
    _edge("time_difference", "from_city_id", "city_distance", "from_city_id"),
]


@pytest.fixture(scope="module")
def demo():
    tools = _tools()
    rows = [{**t, "examples": t["meta"].get("examples") or []} for t in tools_of(tools)]
    executor = ToolExecutor(Sandbox(PROJECT / "sandbox"), rows)
    return tools, ChainEscalator(rows, EDGES, executor), executor


def _step(chains, name, **arguments):
    return chains.graph.step(name, arguments)


def _run(chains, steps):
    done, error = run_async(chains.execute(steps))
    assert done, error
    return done


def test_add_hop_appends_a_call_fed_by_the_last_result(demo):
    _, chains, _ = demo
    seed = _run(chains, [_step(chains, "get_capital_city", country_code="FR")])
    harder = run_async(chains.add_hop(seed, random.Random(0)))
    assert [s.name for s in harder] == ["get_capital_city", "get_city"]
    assert (
        harder[1].bindings == {"city_id": {"step": 0, "path": "city_id"}} and harder[1].arguments["city_id"] == "paris"
    )
    assert reference_answer(harder) == harder[1].result and harder[1].result["name"] == "Paris"
    assert shape_of(harder) == "multi_hop"


def test_an_echoed_argument_is_not_a_hop(demo):
    _, chains, _ = demo
    seed = _run(chains, [_step(chains, "time_difference", from_city_id="paris", to_city_id="tokyo", day="2026-01-15")])
    assert seed[0].result["from_city_id"] == "paris"  # the edge's value is only the call's own argument
    assert run_async(chains.add_hop(seed, random.Random(0))) is None


def test_replace_value_turns_a_stated_value_into_a_lookup_that_gives_it(demo):
    _, chains, _ = demo
    seed = _run(chains, [_step(chains, "get_city", city_id="berlin")])
    harder = run_async(chains.replace_value(seed, random.Random(0)))
    assert [s.name for s in harder] == ["get_capital_city", "get_city"]
    assert harder[1].bindings == {"city_id": {"step": 0, "path": "city_id"}}
    # of the capital lookup's documented examples, the one that gives berlin is chosen: the answer stays
    assert harder[0].arguments == {"country_code": "DE"} and reference_answer(harder) == seed[0].result
    other = run_async(
        chains.replace_value(_run(chains, [_step(chains, "get_city", city_id="paris")]), random.Random(0))
    )
    assert other[1].arguments["city_id"] != "paris"  # no example gives paris: another capital, a new answer


def test_add_constraint_sets_an_optional_parameter_that_changes_the_result(demo):
    _, chains, _ = demo
    seed = _run(chains, [_step(chains, "list_countries_by_region", region="Europe")])
    harder = run_async(chains.add_constraint(seed, random.Random(0)))
    assert harder[0].arguments["min_population"] in (50000000, 100000000)
    assert 0 < len(harder[0].result["countries"]) < len(seed[0].result["countries"])
    # no optional parameter left: the operator does not apply
    assert (
        run_async(chains.add_constraint(_run(chains, [_step(chains, "get_city", city_id="paris")]), random.Random(0)))
        is None
    )


def test_merge_is_no_escalation_operator():
    from pydantic import ValidationError

    from toolloom.spec import EscalateStage

    with pytest.raises(ValidationError, match="longer, not harder"):
        EscalateStage(operators={"add_hop": 1.0, "merge": 0.5})


def test_a_value_picked_from_a_list_of_several_has_alternative_answers(demo):
    _, chains, _ = demo
    chain = _run(
        chains,
        [
            _step(chains, "list_cities", country_code="US"),
            chains.graph.step("get_city", {"city_id": "x"}, {"city_id": {"step": 0, "path": "cities|city_id"}}),
        ],
    )
    assert "candidates for city_id" in alternative_answers(chain)
    verdict = run_async(StructuralVerifier(chains).verify("q", chain, reference_answer(chain)))
    assert verdict.startswith("alternative_answer:")
    single = _run(chains, [_step(chains, "get_capital_city", country_code="FR")])
    assert run_async(StructuralVerifier(chains).verify("q", single, reference_answer(single))) is None


def test_operator_weights_order_and_exclude():
    orders = [
        _operator_order({"add_hop": 10.0, "replace_value": 1.0, "add_constraint": 0.0}, random.Random(i))
        for i in range(200)
    ]
    assert all(set(o) == {"add_hop", "replace_value"} for o in orders)
    assert sum(o[0] == "add_hop" for o in orders) > 150


def seed_table(steps) -> pa.Table:
    """One single-call seed task per step: t_0, t_1, ..."""
    rows = [
        {"task_id": f"t_{i}", "shape": "single", "chain": json.dumps([s.row()]), "reference_answer": "{}", "seed": i}
        for i, s in enumerate(steps)
    ]
    return pa.Table.from_pylist(rows, schema=TASKS_SCHEMA)


def _seed_tasks(chains):
    # every hop is a real lookup: the request names a country by a part of its name, never by the name that says its
    # code ('Germany' is DE at once) nor the code a later call takes
    return seed_table([chains.graph.step("find_country", {"name": n}) for n in ("Korea", "Africa", "Kingdom")])


class RecordingEscalator(TemplateEscalator):
    """The offline escalator, remembering each request's chain so a scripted frontier can know it."""

    def __init__(self):
        self.chains = {}

    async def phrase(self, task, operator, previous):
        question = await super().phrase(task, operator, previous)
        self.chains[question] = task.chain
        return question


def _right_up_to(max_hops: int, escalator: RecordingEscalator):
    """A frontier model that makes exactly the right calls while a request has at most `max_hops`
    hops, and gives up beyond."""

    def respond(request):
        messages = request["messages"]
        if not request.get("tools"):
            return competent(request)
        chain = escalator.chains[next(m["content"] for m in messages if m["role"] == "user")]
        if len(chain) - 1 > max_hops:
            return {"content": "I cannot work that out."}
        results = [m["content"] for m in messages if m["role"] == "tool"]
        if len(results) < len(chain):
            step = chain[len(results)]
            return {"tool_calls": [{"name": step.name, "arguments": step.arguments}]}
        return {"content": "Here is what I found: " + " | ".join(results)}

    return respond


# (a third hop, get_country from get_city, would look up the country the chain started from: redundant_lookup)
@pytest.mark.parametrize("max_hops", [0, 1])
def test_escalation_stops_exactly_one_level_past_what_the_frontier_can_do(demo, tmp_path, max_hops):
    tools, chains, executor = demo
    escalator = RecordingEscalator()
    model = FakeModel(default=_right_up_to(max_hops, escalator))
    with FakeServer(model) as server:
        spec = ModelSpec(provider="openai", model="frontier", base_url=server.base_url, timeout_s=5)
        client = ModelClient(
            spec,
            cache=RequestCache(tmp_path / "cache.sqlite"),
            ledger=UsageLedger(),
            budget=RunBudget(None),
            backoff_s=0.01,
        )
        result = escalate(
            _seed_tasks(chains),
            tools,
            EDGES,
            frontier=ModelAssistant(client, stage="escalate", role="frontier"),
            escalator=escalator,
            verifier_for=lambda c: ModelVerifier(client, PROMPTS, StructuralVerifier(c)),
            executor=executor,
            params=EscalateStage(max_level=5, operators={"add_hop": 1.0}),
            system_prompt="You use tools.",
            prompt_hash="h",
        )
    assert result.accounted and result.inputs == 3 and result.accepted == 3
    rows = result.table.to_pylist()
    for seed in ("t_0", "t_1", "t_2"):
        levels = sorted((r for r in rows if r["seed_id"] == seed), key=lambda r: r["level"])
        assert [r["outcome"] for r in levels] == ["solved"] * (max_hops + 1) + ["failed"]
        kept = levels[-1]
        assert kept["kept"] and kept["level"] == max_hops + 1 and kept["stop_reason"] == "frontier_failed"
        assert len(json.loads(kept["chain"])) == max_hops + 2 and kept["parent_id"] == levels[-2]["task_id"]
        assert json.loads(kept["attempts"])[0]["reason"] == "no_tool_call"
    prompts = [m["messages"][-1]["content"] for m in model.history if not m.get("tools")]
    assert sum("second_answer_exists" in p for p in prompts) == 3 * (max_hops + 2)  # the model verified every level
    assert all(m.get("response_format", {}).get("type") == "json_schema" for m in model.history if not m.get("tools"))


def test_a_verifier_that_finds_a_second_answer_drops_the_level(demo, tmp_path):
    tools, chains, executor = demo

    def respond(request):
        prompt = request["messages"][-1]["content"] or ""
        # a level above the seed: its calls list a second one
        if '"second_answer_exists"' in prompt and re.search(r"^2\. \w+\(", prompt, re.M):
            verdict = {
                "reason": "either city fits",
                "factual": True,
                "second_answer_exists": True,
                "second_answer": "Lyon",
            }
            return {"content": json.dumps(verdict)}
        return competent(request)

    model = FakeModel(default=respond)
    with FakeServer(model) as server:
        spec = ModelSpec(provider="openai", model="frontier", base_url=server.base_url, timeout_s=5)
        client = ModelClient(
            spec,
            cache=RequestCache(tmp_path / "c.sqlite"),
            ledger=UsageLedger(),
            budget=RunBudget(None),
            backoff_s=0.01,
        )
        result = escalate(
            _seed_tasks(chains).slice(0, 1),
            tools,
            EDGES,
            frontier=ModelAssistant(client, stage="escalate", role="frontier"),
            escalator=ModelEscalator(client, PROMPTS),
            verifier_for=lambda c: ModelVerifier(client, PROMPTS, StructuralVerifier(c)),
            executor=executor,
            params=EscalateStage(max_level=3, operators={"add_hop": 1.0}),
            system_prompt="You use tools.",
            prompt_hash="h",
        )
    assert result.accounted and result.accepted == 0
    rows = result.table.to_pylist()
    assert [r["outcome"] for r in rows] == ["solved", "dropped"]
    assert (
        rows[1]["reason"].startswith("alternative_answer: Lyon") and rows[1]["stop_reason"] == "no_verified_escalation"
    )
    assert [(r.checker, r.reason) for r in result.rejections] == [("escalation", "no_verified_escalation")]
    rewords = [m for m in model.history if "<request>" in (m["messages"][-1]["content"] or "")]
    assert len(rewords) == 2 and rewords[0]["response_format"]["json_schema"]["name"] == "question"


def _client(server, tmp_path, ledger=None):
    spec = ModelSpec(provider="openai", model="frontier", base_url=server.base_url, timeout_s=5)
    return ModelClient(
        spec,
        cache=RequestCache(tmp_path / "cache.sqlite"),
        ledger=ledger or UsageLedger(),
        budget=RunBudget(None),
        backoff_s=0.01,
    )


def test_attempts_are_independent_samples_and_any_success_solves_a_level(demo, tmp_path):
    tools, chains, executor = demo
    escalator = RecordingEscalator()
    right = _right_up_to(5, escalator)

    def first_try_fails(request):  # the frontier gets it right only on its second sample
        if request.get("tools") and request["seed"] == 0:
            return {"content": "I cannot work that out."}
        return right(request)

    model = FakeModel(default=first_try_fails)
    with FakeServer(model) as server:
        client = _client(server, tmp_path)
        result = escalate(
            _seed_tasks(chains).slice(0, 1),
            tools,
            EDGES,
            frontier=ModelAssistant(client, stage="escalate", role="frontier"),
            escalator=escalator,
            verifier_for=StructuralVerifier,
            executor=executor,
            params=EscalateStage(max_level=1, attempts=2, operators={"add_hop": 1.0}),
            system_prompt="s",
            prompt_hash="h",
        )
    rows = result.table.to_pylist()
    assert [r["outcome"] for r in rows] == ["solved", "solved"] and rows[-1]["stop_reason"] == "level_cap"
    assert all([a["outcome"] for a in json.loads(r["attempts"])] == ["failed", "solved"] for r in rows)
    assert {m["seed"] for m in model.history if m.get("tools")} == {0, 1}  # the second attempt was not a cache hit
    assert result.accepted == 0 and [x.reason for x in result.rejections] == ["level_cap"]


def test_the_stage_token_budget_stops_escalation_with_the_reason(demo, tmp_path):
    tools, chains, executor = demo
    escalator = RecordingEscalator()
    ledger = UsageLedger()
    with FakeServer(FakeModel(default=_right_up_to(5, escalator))) as server:
        client = _client(server, tmp_path, ledger)
        result = escalate(
            _seed_tasks(chains),
            tools,
            EDGES,
            frontier=ModelAssistant(client, stage="escalate", role="frontier"),
            escalator=escalator,
            verifier_for=StructuralVerifier,
            executor=executor,
            params=EscalateStage(max_level=5, operators={"add_hop": 1.0}, max_tokens=1),
            system_prompt="s",
            prompt_hash="h",
            tokens_spent=lambda: sum(r.prompt_tokens + r.completion_tokens for r in ledger.records),
        )
    assert result.accounted and result.inputs == 3
    assert {x.reason for x in result.rejections} == {"budget_exhausted"}
    assert all(r["level"] == 0 for r in result.table.to_pylist())  # no level above the seed was tried


def test_an_operator_leaves_the_chain_it_was_given_unchanged(demo):
    """The operators build new chains from copies: before domain.Step, add_constraint wrote the constraint
    into the given chain's arguments, so the operators tried after it saw a chain whose arguments no
    longer matched its results."""
    _, chains, _ = demo
    seed = _run(chains, [_step(chains, "list_countries_by_region", region="Europe")])
    before = [(s.arguments.copy(), s.bindings.copy(), s.result) for s in seed]
    for op in ("add_constraint", "add_hop", "replace_value"):
        run_async(getattr(chains, op)(seed, random.Random(0)))
        assert [(s.arguments, s.bindings, s.result) for s in seed] == before, op


def test_a_second_answer_that_restates_the_reference_or_is_empty_is_none():
    from toolloom.agents.llm import second_answer

    reference = {"name": "Paris", "population": 2102650}
    said = {"reason": "r", "factual": True, "second_answer_exists": True}
    assert second_answer({**said, "second_answer": "Lyon"}, reference) == "Lyon"
    assert second_answer({**said, "second_answer": "paris"}, reference) is None  # the reference itself
    assert second_answer({**said, "second_answer": " "}, reference) is None
    assert second_answer({**said, "second_answer_exists": False, "second_answer": "Lyon"}, reference) is None


def test_a_frontier_too_small_to_judge_can_leave_verification_to_the_structural_checks(tmp_path):
    from toolloom.runtime import Runtime
    from toolloom.spec import Collection, Pipeline

    with FakeServer(FakeModel(default=competent)) as server:
        models = {"frontier": {"provider": "openai", "model": "m", "base_url": server.base_url}}
        for verifies, kind in ((True, ModelVerifier), (False, StructuralVerifier)):
            pipeline = Pipeline(
                name="p",
                collections=[Collection(name="demo", path="api_graphs/demo")],
                models=models,
                stages={"escalate": {"frontier_verifies": verifies}},
            )
            rt = Runtime(pipeline, PROJECT, tmp_path / "home")
            try:
                assert isinstance(rt.verifier(None), kind)
            finally:
                rt.close()
