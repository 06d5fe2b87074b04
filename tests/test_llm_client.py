"""The model client against the fake server: scripted answers, tool calls and history, a completion cut off by the
token limit asked again with more room (not where it loops), transient faults retried, permanent errors recorded,
the budget, an API key sent but never recorded, a connection failure named, and a tool call cut mid-JSON asked
again. `_client` and `_ask` are shared with test_llm_client_limiter.py (concurrency and 429s) and
test_llm_client_cache.py (the request cache)."""

import asyncio

import pytest

from toolloom.llm import BudgetExhausted, ModelCallError, ModelClient, RequestCache, RunBudget, UsageLedger, run_async
from toolloom.llm.fake_server import FakeModel, FakeServer, Faults
from toolloom.spec import ModelSpec

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_country",
            "description": "country facts",
            "parameters": {"type": "object", "properties": {"country_code": {"type": "string"}}},
        },
    }
]


def _client(server, tmp_path, ledger=None, budget=None, **spec):
    spec = ModelSpec(
        provider="openai", model="fake", base_url=server.base_url, timeout_s=spec.pop("timeout_s", 5.0), **spec
    )
    return ModelClient(
        spec,
        cache=RequestCache(tmp_path / "cache.sqlite"),
        ledger=ledger or UsageLedger(),
        budget=budget or RunBudget(None),
        backoff_s=0.01,
    )


def _ask(client, text="hello", **kw):
    return run_async(client.chat([{"role": "user", "content": text}], stage="s", role="user", **kw))


def test_scripted_answers_tool_calls_and_history(tmp_path):
    model = FakeModel()
    model.enqueue({"content": "first"}, {"tool_calls": [{"name": "get_country", "arguments": {"country_code": "FR"}}]})
    with FakeServer(model) as server:
        c = _client(server, tmp_path)
        assert _ask(c, "a").message["content"] == "first"
        second = _ask(c, "b", tools=TOOLS)
        assert second.message["tool_calls"][0]["function"] == {
            "name": "get_country",
            "arguments": '{"country_code": "FR"}',
        }
        assert second.finish_reason == "tool_calls"
    assert [r["messages"][0]["content"] for r in model.history] == ["a", "b"]
    assert model.history[1]["tools"] == TOOLS


def test_a_completion_cut_off_by_the_token_limit_is_asked_again_with_more_room(tmp_path):
    with FakeServer(faults=Faults(rate=1.0, kinds=("truncated",), seed=2)) as server:  # every answer cut off
        ledger = UsageLedger()
        c = _client(server, tmp_path, ledger=ledger, max_tokens=100)
        result = _ask(c, "long answer please")
        assert result.finish_reason == "length" and server.requests == 3  # the first ask and two with more room
        assert len({r.request_hash for r in ledger.records}) == 3
        c.cache.close()  # the run ends
        again = _client(server, tmp_path, ledger=UsageLedger(), max_tokens=100)
        assert _ask(again, "long answer please").cache_hit and server.requests == 3  # a rerun asks nothing
    # seed 4 at rate 0.5 draws: the first request cut off, the next one whole
    with FakeServer(faults=Faults(rate=0.5, kinds=("truncated",), seed=4)) as server:
        c = _client(server, tmp_path / "once", max_tokens=100)
        answer = _ask(c, "q")
        assert server.requests == 2 and answer.finish_reason != "length" and answer.message["content"]


def test_an_answer_cut_off_in_a_loop_is_not_given_more_room(tmp_path):
    from toolloom.llm.completion import looping
    from toolloom.llm.fake_server import FakeModel

    loop = '{"overview": "A heist film. ' + "The crew plans the heist again. " * 20
    model = FakeModel()
    long = "A long answer, " + " ".join(f"w{i}" for i in range(40))
    model.enqueue(
        {"content": loop, "finish_reason": "length"},
        {"content": long, "finish_reason": "length"},
        {"content": "A long answer, and its end.", "finish_reason": "stop"},
    )
    with FakeServer(model) as server:
        c = _client(server, tmp_path, max_tokens=100)
        assert _ask(c, "loop").finish_reason == "length" and len(model.history) == 1  # more room would loop on
        assert _ask(c, "long").finish_reason == "stop" and len(model.history) == 3  # more room ends it
    assert looping("\n" * 80) and not looping("It costs 1000000000 dollars...") and not looping("word " * 5)


@pytest.mark.parametrize("kind", ["rate_limit", "server_error", "malformed_json", "timeout"])
def test_transient_faults_are_retried(tmp_path, kind):
    # only the injected fault makes a request fail: the client's timeout is short only where the fault is a hang
    # (a loaded machine can delay any answer past 0.5 s)
    with FakeServer(faults=Faults(rate=0.5, kinds=(kind,), seed=3, hang_s=1.0)) as server:
        ledger = UsageLedger()
        c = _client(server, tmp_path, ledger=ledger, timeout_s=0.5 if kind == "timeout" else 30, max_retries=10)

        async def many():
            return await asyncio.gather(
                *(c.chat([{"role": "user", "content": f"q{i}"}], stage="s", role="user") for i in range(12))
            )

        results = run_async(many())
        assert len(results) == 12 and all(r.message["content"] for r in results)
        assert server.faults_injected.get(kind, 0) > 0
        attempts = sum(r.attempts for r in ledger.records)
        if kind == "timeout":  # an attempt that timed out before the server read it is the client's alone
            assert attempts >= server.requests > 12
        else:
            assert attempts == server.requests > 12


def test_permanent_errors_are_recorded_not_retried(tmp_path):
    model = FakeModel()
    model.enqueue({"status": 400, "message": "bad request"})
    with FakeServer(model) as server:
        ledger = UsageLedger()
        c = _client(server, tmp_path, ledger=ledger)
        with pytest.raises(ModelCallError, match="400"):
            _ask(c)
        assert server.requests == 1
        assert ledger.records[0].status == "error" and "400" in ledger.records[0].error


def test_budget_stops_new_requests_but_cache_still_answers(tmp_path):
    with FakeServer() as server:
        budget = RunBudget(max_tokens=1)
        ledger = UsageLedger()
        c = _client(server, tmp_path, ledger=ledger, budget=budget)
        _ask(c, "one")  # spends more than the budget
        with pytest.raises(BudgetExhausted):
            _ask(c, "two")
        assert _ask(c, "one").cache_hit
        assert server.requests == 1
        assert [r.status for r in ledger.records] == ["ok", "budget", "ok"]


def test_api_key_is_sent_but_never_recorded(tmp_path, monkeypatch):
    secret = "sk-test-SECRET-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    model = FakeModel()
    model.enqueue({"status": 401, "message": f"invalid key {secret}"})
    with FakeServer(model) as server:
        ledger = UsageLedger()
        c = _client(server, tmp_path, ledger=ledger)
        with pytest.raises(ModelCallError) as err:
            _ask(c)
    assert secret not in str(err.value)
    assert all(secret not in r.error for r in ledger.records)
    assert secret.encode() not in (tmp_path / "cache.sqlite").read_bytes()


def test_a_connection_failure_during_a_run_names_the_url_and_the_cause(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = ModelSpec(
        provider="openai", model="fake", base_url=f"http://127.0.0.1:{port}/v1", timeout_s=2, max_retries=1
    )
    ledger = UsageLedger()
    c = ModelClient(
        spec, cache=RequestCache(tmp_path / "c.sqlite"), ledger=ledger, budget=RunBudget(None), backoff_s=0.01
    )
    with pytest.raises(ModelCallError) as err:
        run_async(c.chat([{"role": "user", "content": "hi"}], stage="s", role="user"))
    assert f"http://127.0.0.1:{port}/v1" in str(err.value) and "refused" in str(err.value).lower()
    assert ledger.records[-1].status == "error" and f"127.0.0.1:{port}" in ledger.records[-1].error


def test_a_tool_call_cut_mid_json_is_asked_again_before_it_costs_the_episode(tmp_path):
    from toolloom.agents.llm import CUT_REASKS, ModelAssistant

    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_city",
                "parameters": {"type": "object", "properties": {"id": {"type": "string"}}},
            },
        }
    ]
    model = FakeModel()
    model.enqueue(
        {"tool_calls": [{"name": "get_city", "arguments": '{"id": "c1'}]},  # cut mid-JSON, finish_reason "tool_calls"
        {"content": '<tool_call>{"name": "get_city", "arguments": {"id": '},  # cut mid-JSON, written as text
        {"tool_calls": [{"name": "get_city", "arguments": '{"id": "c1"}'}]},
    )
    with FakeServer(model) as server:
        turn = run_async(
            ModelAssistant(_client(server, tmp_path, temperature=0.7)).step(
                [{"role": "user", "content": "city c1?"}], tools
            )
        )
        assert [c["function"]["arguments"] for c in turn.tool_calls] == ['{"id": "c1"}']
        assert server.requests == 3 and len({r["seed"] for r in model.history}) == 3  # each re-ask another sample
        model.enqueue(*[{"tool_calls": [{"name": "get_city", "arguments": '{"id'}]}] * (CUT_REASKS + 1))
        turn = run_async(
            ModelAssistant(_client(server, tmp_path / "b", temperature=0.7)).step(
                [{"role": "user", "content": "again?"}], tools
            )
        )
        assert (
            server.requests == 3 + CUT_REASKS + 1 and turn.tool_calls
        )  # still cut: the simulator answers it with a 400
        # greedy decoding (temperature 0) would only write the same cut call again: it is not asked again
        model.enqueue({"tool_calls": [{"name": "get_city", "arguments": '{"id'}]})
        turn = run_async(
            ModelAssistant(_client(server, tmp_path / "c")).step([{"role": "user", "content": "once?"}], tools)
        )
        assert server.requests == 3 + CUT_REASKS + 2 and turn.tool_calls


def test_every_request_names_its_role_and_stage_and_the_fake_answers_by_the_role(tmp_path):
    """A prompt's data tags are all the fake reads: the same text asked as the rewriter keeps the documentation,
    asked as the judge gets the judge's verdict, whatever the template's wording around them."""
    import json as _json

    seen = []

    class Recording(FakeModel):
        def respond(self, request, role=None):
            seen.append(role)
            return super().respond(request, role)

    prompt = (
        'Reworded freely. <documentation>Adds two numbers.</documentation> Answer {"description": ..., '
        '"suggestion": ...}. Also {"calls_fit": ...}? The conversation: User: hi Questions: none'
    )
    with FakeServer(model=Recording()) as server:
        client = _client(server, tmp_path)
        rewritten = run_async(client.chat([{"role": "user", "content": prompt}], stage="refine", role="rewriter"))
        again = prompt + " "  # the request cache keys the messages, not the role: another text
        judged = run_async(client.chat([{"role": "user", "content": again}], stage="filter", role="judge"))
    assert seen == ["rewriter", "judge"]
    assert _json.loads(rewritten.message["content"])["description"] == "Adds two numbers."
    assert "calls_fit" in _json.loads(judged.message["content"])
