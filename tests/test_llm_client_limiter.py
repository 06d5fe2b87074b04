"""The model client's concurrency: a 429 shrinks it and its Retry-After is honoured, the adaptive limiter halves
and regrows and wakes one waiter per freed slot in arrival order, and the fake server's rate limit answers 429 while
every request still completes."""

import asyncio

import pytest

from toolloom.llm import ModelCallError, UsageLedger, run_async
from toolloom.llm.fake_server import FakeServer, Faults

from .test_llm_client import _client


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
