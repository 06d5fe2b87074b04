import asyncio
import json
import subprocess
import sys
import time

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


def test_cache_answers_repeats_without_a_request_even_from_a_new_process(tmp_path):
    with FakeServer() as server:
        c = _client(server, tmp_path)
        _ask(c, "same")
        _ask(c, "same")
        assert server.requests == 1
        c.cache.flush()  # written behind the request (within cache.FLUSH_S); now, for the other process
        code = (
            "import asyncio,sys; from toolloom.llm import *; from toolloom.spec import ModelSpec;"
            f"c=ModelClient(ModelSpec(provider='openai', model='fake', base_url='{server.base_url}'), "
            f"cache=RequestCache(r'{tmp_path}/cache.sqlite'),"
            " ledger=UsageLedger(), budget=RunBudget(None));"
            "r=run_async(c.chat([{'role':'user','content':'same'}], stage='s', role='user')); sys.exit(0 if "
            "r.cache_hit else 3)"
        )
        assert subprocess.run([sys.executable, "-c", code]).returncode == 0
        assert server.requests == 1


def test_the_same_request_asked_twice_at_once_is_sent_once_and_shares_its_answer_or_failure(tmp_path):
    model = FakeModel()
    model.enqueue({"content": "only answer"})
    with FakeServer(model, latency_s=0.3) as server:
        ledger = UsageLedger()
        c = _client(server, tmp_path, ledger=ledger)

        async def twice(text):
            return await asyncio.gather(
                *(c.chat([{"role": "user", "content": text}], stage="s", role="user") for _ in range(2)),
                return_exceptions=True,
            )

        first, second = run_async(twice("same"))
        assert (
            server.requests == 1
            and first.message == second.message
            and [first.cache_hit, second.cache_hit] == [False, True]
        )
    with FakeServer(faults=Faults(rate=1.0, kinds=("server_error",), seed=1)) as server:
        c = _client(server, tmp_path / "other", max_retries=1)
        results = run_async(twice("fails"))
        assert all(isinstance(r, ModelCallError) for r in results) and server.requests == 2  # one request, retried once


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
    from toolloom.llm.client import looping
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


def test_rate_limit_shrinks_concurrency_and_honours_retry_after(tmp_path):
    with FakeServer(faults=Faults(rate=1.0, kinds=("rate_limit",), retry_after_s=0.3)) as server:
        c = _client(server, tmp_path, max_retries=2, max_concurrency=8)
        started, limiter = run_async(_timed(c))
        assert started >= 0.55  # two Retry-After waits of 0.3 s before giving up
        assert limiter.limit < 8 and limiter.rate_limited >= 3


async def _timed(c):
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    with pytest.raises(ModelCallError, match="gave up after 3 attempts"):
        await c.chat([{"role": "user", "content": "x"}], stage="s", role="user")
    return loop.time() - t0, c._session().endpoints[0].limiter  # before run_async closes the session


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


def test_limiter_halves_on_429_and_regrows_with_successes():
    from toolloom.llm.limiter import AdaptiveLimiter

    async def scenario():
        lim = AdaptiveLimiter(16)
        lim.on_rate_limited(None)
        lim.on_rate_limited(None)
        assert int(lim.limit) == 4
        for _ in range(200):
            lim.on_success()
        assert lim.limit == 16  # recovered, capped at the configured maximum
        lim = AdaptiveLimiter(2)
        active, peak = 0, 0

        async def job():
            nonlocal active, peak
            async with lim:
                active += 1
                peak = max(peak, active)
                await asyncio.sleep(0.01)
                active -= 1

        await asyncio.gather(*(job() for _ in range(10)))
        assert peak == 2

    run_async(scenario())


def test_limiter_wakes_one_waiter_per_freed_slot_in_arrival_order_and_survives_cancellation():
    from toolloom.llm.limiter import AdaptiveLimiter

    async def scenario():
        lim = AdaptiveLimiter(1)
        order, wakeups = [], 0
        gate = asyncio.Event()

        async def holder():
            async with lim:
                await gate.wait()

        async def waiter(i):
            nonlocal wakeups
            async with lim:
                wakeups += 1
                order.append(i)

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        waiters = [asyncio.create_task(waiter(i)) for i in range(50)]
        await asyncio.sleep(0)
        assert len(lim._waiters) == 50 and lim.in_flight == 1
        waiters[3].cancel()  # a cancelled waiter leaves the queue and takes no slot
        await asyncio.sleep(0)
        assert len(lim._waiters) == 49
        gate.set()
        await first
        await asyncio.gather(*waiters, return_exceptions=True)
        assert order == [i for i in range(50) if i != 3]  # first come, first served
        assert wakeups == 49  # each entered exactly once: nobody woke to find the slot taken
        assert lim.in_flight == 0 and not lim._waiters

        # a slot handed to a waiter that is cancelled in the same moment passes on to the next one
        lim = AdaptiveLimiter(1)
        await lim.__aenter__()
        a, b = asyncio.create_task(lim.__aenter__()), asyncio.create_task(lim.__aenter__())
        await asyncio.sleep(0)
        await lim.__aexit__(None, None, None)  # hands the slot to a ...
        a.cancel()  # ... which is cancelled before it runs
        await asyncio.gather(a, return_exceptions=True)
        await asyncio.wait_for(b, 1)  # b got the slot a gave back
        assert lim.in_flight == 1

    run_async(scenario())


def test_fake_server_rate_limit_answers_429_and_every_request_still_completes(tmp_path):
    with FakeServer(rate_limit=20.0) as server:
        ledger = UsageLedger()
        c = _client(server, tmp_path, ledger=ledger, max_concurrency=32, max_retries=20)

        async def many():
            return await asyncio.gather(
                *(c.chat([{"role": "user", "content": f"r{i}"}], stage="s", role="user") for i in range(40))
            )

        assert len(run_async(many())) == 40
    assert server.rate_limited > 0  # the bucket (20 a second) refused some requests with 429
    assert server.requests == 40  # each admitted exactly once
    assert sum(r.attempts for r in ledger.records) == 40 + server.rate_limited


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


def test_answers_are_written_behind_the_requests_and_all_of_them_by_close(tmp_path):
    import sqlite3

    def on_disk():
        with sqlite3.connect(tmp_path / "c.sqlite") as con:
            return dict(con.execute("SELECT key, response FROM responses"))

    cache = RequestCache(tmp_path / "c.sqlite")
    cache.put("a", "m", {"answer": "A"})
    assert cache.get("a") == {"answer": "A"}  # answered from memory before it is written
    deadline = time.monotonic() + 30
    while "a" not in on_disk() and time.monotonic() < deadline:  # the writer thread, on its own
        time.sleep(0.02)
    assert json.loads(on_disk()["a"]) == {"answer": "A"}
    for i in range(300):
        cache.put(f"k{i}", "m", {"answer": i})
    cache.close()  # whatever is pending is written
    assert len(on_disk()) == 301 and json.loads(on_disk()["k299"]) == {"answer": 299}


def test_a_cache_write_that_fails_is_raised_by_the_next_put_and_nothing_is_forgotten(tmp_path):
    from toolloom.llm.cache import CacheWriteError

    class FullDisk(RequestCache):
        def _write(self, rows):
            raise OSError(28, "No space left on device")

    cache = FullDisk(tmp_path / "c.sqlite")
    cache.put("a", "m", {"answer": "A"})
    with pytest.raises(OSError):
        cache.flush()
    assert cache.get("a") == {"answer": "A"}  # still answered, from memory
    with pytest.raises(CacheWriteError, match="No space left"):
        cache.put("b", "m", {"answer": "B"})
