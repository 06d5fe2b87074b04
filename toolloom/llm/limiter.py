"""Adaptive concurrency: AIMD on the number of requests in flight, with a shared Retry-After pause."""
from __future__ import annotations

import asyncio


class AdaptiveLimiter:
    """Halves the allowed concurrency on a 429 and grows it by one per window of successes."""

    def __init__(self, max_in_flight: int, min_in_flight: int = 1):
        self.max = max_in_flight
        self.min = min_in_flight
        self.limit = float(max_in_flight)
        self.in_flight = 0
        self._cond = asyncio.Condition()
        self._pause_until = 0.0
        self.rate_limited = 0

    async def __aenter__(self):
        loop = asyncio.get_running_loop()
        async with self._cond:
            while self.in_flight >= int(self.limit):
                await self._cond.wait()
            self.in_flight += 1
        delay = self._pause_until - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        return self

    async def __aexit__(self, *exc):
        async with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def on_success(self) -> None:
        self.limit = min(self.max, self.limit + 1.0 / max(self.limit, 1.0))

    def on_rate_limited(self, retry_after_s: float | None) -> None:
        self.rate_limited += 1
        self.limit = max(self.min, self.limit / 2)
        if retry_after_s:
            loop = asyncio.get_running_loop()
            self._pause_until = max(self._pause_until, loop.time() + retry_after_s)
