"""Several OpenAI-compatible endpoints serving one model (vLLM replicas behind one role).

Each request goes to the least busy endpoint that is up (requests in flight and queued, relative to
that endpoint's own adaptive limit); an endpoint that fails to connect or times out is skipped for a
while (1 s, doubling to 30 s while it keeps failing) and the retry goes elsewhere; when every endpoint
is down, the one that comes back first is tried.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import openai

from .limiter import AdaptiveLimiter

MAX_DOWN_S = 30.0


def public(url: str) -> str:
    """The URL as records and logs show it: without user, password or query (where keys hide)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass
class Endpoint:
    url: str  # as configured (may carry credentials): for the HTTP client only
    client: openai.AsyncOpenAI
    limiter: AdaptiveLimiter
    down_until: float = 0.0
    failures: int = 0  # in a row
    usage: dict = field(default_factory=lambda: {"sent": 0, "answered": 0, "failed": 0})

    @property
    def name(self) -> str:
        return public(self.url)

    @property
    def load(self) -> float:
        return (self.limiter.in_flight + len(self.limiter._waiters)) / max(self.limiter.limit, 1.0)


class EndpointPool:
    """The endpoints of one model client on one event loop (httpx clients belong to one loop)."""

    def __init__(self, urls: list[str], api_key: str, timeout_s: float, max_concurrency: int):
        self.endpoints = [Endpoint(url, openai.AsyncOpenAI(base_url=url, api_key=api_key, max_retries=0,
                                                           timeout=timeout_s), AdaptiveLimiter(max_concurrency))
                          for url in urls]

    def pick(self) -> Endpoint:
        now = time.monotonic()
        up = [e for e in self.endpoints if e.down_until <= now]
        if not up:
            return min(self.endpoints, key=lambda e: e.down_until)
        return min(up, key=lambda e: e.load)  # ties: the first listed

    def failed(self, endpoint: Endpoint) -> None:
        endpoint.failures += 1
        endpoint.usage["failed"] += 1
        endpoint.down_until = time.monotonic() + min(MAX_DOWN_S, 2.0 ** (endpoint.failures - 1))

    def answered(self, endpoint: Endpoint) -> None:
        endpoint.failures, endpoint.down_until = 0, 0.0
        endpoint.usage["answered"] += 1

    async def close(self) -> None:
        for e in self.endpoints:
            await e.client.close()
