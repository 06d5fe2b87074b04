"""Several OpenAI-compatible endpoints serving one model (vLLM replicas behind one role).

Each request goes to the least busy endpoint that is up (requests in flight and queued, relative to
that endpoint's own adaptive limit); an endpoint that fails to connect or times out is skipped for a
while (1 s, doubling to 30 s while it keeps failing) and the retry goes elsewhere; when every endpoint
is down, the one that comes back first is tried.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

import openai

try:  # the HTTP library the openai SDK is built on (httpx2 in openai 3.x, httpx before)
    import httpx2 as _http
except ImportError:  # pragma: no cover - older SDKs
    import httpx as _http

from .endpoint_slots import SharedSlots
from .limiter import AdaptiveLimiter

MAX_DOWN_S = 30.0
# every request says which model role and stage ask: a proxy (LiteLLM, a vLLM router) can log or route by them,
# and the fake endpoint answers by the role, not by the wording of a prompt
ROLE_HEADER, STAGE_HEADER = "X-Toolloom-Role", "X-Toolloom-Stage"


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
    slots: SharedSlots | None = None  # the limit shared with the run's other processes (endpoint_slots.py)
    down_until: float = 0.0
    failures: int = 0  # in a row
    usage: dict = field(default_factory=lambda: {"sent": 0, "answered": 0, "failed": 0})

    @property
    def name(self) -> str:
        return public(self.url)

    @property
    def load(self) -> float:
        return (self.limiter.in_flight + len(self.limiter._waiters)) / max(self.limiter.limit, 1.0)


def http_client(url: str, max_concurrency: int):
    """The SDK's own aiohttp transport where it has one: httpx's connection pool does O(pool) work per
    request, which at 256 in flight cost more CPU than everything else a request does
    (benchmarks/throughput.py --client). Connections: one per request allowed in flight, all kept alive."""
    limits = _http.Limits(max_connections=max_concurrency + 8, max_keepalive_connections=max_concurrency + 8)
    # aiohttp refuses a URL's user:password beside the SDK's Authorization header; httpx sends them
    if urlsplit(url).username is None and hasattr(openai, "DefaultAioHttpClient"):
        try:
            return openai.DefaultAioHttpClient(limits=limits)
        except RuntimeError:  # the SDK without its aiohttp extra
            pass
    return openai.DefaultAsyncHttpxClient(limits=limits)


class EndpointPool:
    """The endpoints of one model client on one event loop (httpx clients belong to one loop)."""

    def __init__(
        self,
        urls: list[str],
        api_key: str,
        timeout_s: float,
        max_concurrency: int,
        slots_for: Callable[[str, int], SharedSlots] | None = None,
    ):
        """`slots_for(url, size)`: the endpoint's limit shared across processes, where the run has several."""
        self.endpoints = [
            Endpoint(
                url,
                openai.AsyncOpenAI(
                    base_url=url,
                    api_key=api_key,
                    max_retries=0,
                    timeout=timeout_s,
                    http_client=http_client(url, max_concurrency),
                ),
                AdaptiveLimiter(max_concurrency),
                slots_for(public(url), max_concurrency) if slots_for else None,
            )
            for url in urls
        ]

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
