"""Adaptive concurrency: AIMD on the number of requests in flight, with a shared Retry-After pause."""

from __future__ import annotations

import asyncio
from collections import deque


class AdaptiveLimiter:
    """Halves the allowed concurrency on a 429 and grows it by one per window of successes.

    Waiters queue in arrival order and a freed slot is handed to exactly one of them (a Condition's
    notify_all would wake every waiter on every release: with 256 queued that is most of the CPU).
    """

    def __init__(self, max_in_flight: int, min_in_flight: int = 1):
        self.max = max_in_flight
        self.min = min_in_flight
        self.limit = float(max_in_flight)
        self.in_flight = 0
        self._waiters: deque[asyncio.Future] = deque()
        self._pause_until = 0.0
        self.rate_limited = 0

    async def __aenter__(self):
        if self._waiters or self.in_flight >= int(self.limit):
            slot = asyncio.get_running_loop().create_future()
            self._waiters.append(slot)
            try:
                await slot  # resolved by _hand_over, which has already counted us in flight
            except asyncio.CancelledError:
                if slot.done() and not slot.cancelled():  # handed a slot in the same moment: give it on
                    self._release()
                else:
                    self._waiters.remove(slot)
                raise
        else:
            self.in_flight += 1
        delay = self._pause_until - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)
        return self

    async def __aexit__(self, *exc):
        self._release()

    def _release(self) -> None:
        self.in_flight -= 1
        self._hand_over()

    def _hand_over(self) -> None:
        while self._waiters and self.in_flight < int(self.limit):
            slot = self._waiters.popleft()
            if not slot.done():
                self.in_flight += 1
                slot.set_result(None)

    def on_success(self) -> None:
        self.limit = min(self.max, self.limit + 1.0 / max(self.limit, 1.0))
        self._hand_over()  # a grown limit admits waiters now, not at the next release

    def on_rate_limited(self, retry_after_s: float | None) -> None:
        self.rate_limited += 1
        self.limit = max(self.min, self.limit / 2)
        if retry_after_s:
            loop = asyncio.get_running_loop()
            self._pause_until = max(self._pause_until, loop.time() + retry_after_s)
