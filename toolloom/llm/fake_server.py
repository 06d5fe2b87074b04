"""A local OpenAI-compatible server that answers from a script and injects faults on demand.

Real HTTP, so tests drive the real `openai` client. Scripted answers are queued with `enqueue()`;
with the queue empty it plays a competent model: it calls the offered tool whose documentation
best fits the request (the offline assistant's choice) and then answers from the tool results.
Every request is kept in `history`.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from aiohttp import web

from .competent_model import competent, hash_bucket
from .endpoints import ROLE_HEADER

FAULT_KINDS = ("rate_limit", "server_error", "timeout", "malformed_json", "truncated", "unknown_tool", "wrong_types")


@dataclass
class Faults:
    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    retry_after_s: float = 0.05
    hang_s: float = 2.0  # a "timeout" fault answers only after this long


@dataclass
class FakeModel:
    """The script: queued responses first, then the default responder."""

    default: Callable[[dict], dict] | None = None
    queue: deque = field(default_factory=deque)
    history: list = field(default_factory=list)

    def enqueue(self, *responses: dict) -> None:
        """Each response: {"content": str} and/or {"tool_calls": [{"name", "arguments"}]} (and "finish_reason"
        to override the one the server gives), or {"status": 500}."""
        self.queue.extend(responses)

    def respond(self, request: dict, role: str | None = None) -> dict:
        """The next queued response; else the default responder's, or the competent model's for `role` (the role
        the request's client named: toolloom's client always names it)."""
        if self.queue:
            return self.queue.popleft()
        return self.default(request) if self.default else competent(request, role)


def calls_as_text(calls: list[dict], form: str) -> str:
    """Tool calls written into the message text, as models without a server-side parser write them."""
    parsed = [
        (c["name"], json.loads(c["arguments"]) if isinstance(c["arguments"], str) else c["arguments"]) for c in calls
    ]
    if form == "hermes":
        return "\n".join(f"<tool_call>\n{json.dumps({'name': n, 'arguments': a})}\n</tool_call>" for n, a in parsed)
    if form == "json":
        body = [{"name": n, "parameters": a} for n, a in parsed]
        return "```json\n" + json.dumps(body[0] if len(body) == 1 else body, indent=2) + "\n```"
    if form == "pythonic":
        return "[" + ", ".join(f"{n}(" + ", ".join(f"{k}={v!r}" for k, v in a.items()) + ")" for n, a in parsed) + "]"
    if form == "garbage":
        return '<tool_call>\n{"name": "' + parsed[0][0] + '", "arguments": {"oops"\n</tool_call>'
    raise ValueError(f"unknown calls_as_text form {form!r}: hermes, json, pythonic or garbage")


def _completion(request: dict, reply: dict, finish: str | None = None) -> dict:
    calls = None
    if reply.get("tool_calls"):
        calls = [
            {
                "id": f"call_{uuid.uuid4().hex[:8]}",
                "type": "function",
                "function": {
                    "name": c["name"],
                    "arguments": c["arguments"] if isinstance(c["arguments"], str) else json.dumps(c["arguments"]),
                },
            }
            for c in reply["tool_calls"]
        ]
    prompt_tokens = sum(len(str(m.get("content") or "")) // 4 + 4 for m in request.get("messages", []))
    completion_tokens = len(reply.get("content") or "") // 4 + 8 * len(calls or [])
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "finish_reason": finish or ("tool_calls" if calls else "stop"),
                "message": {"role": "assistant", "content": reply.get("content"), "tool_calls": calls},
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class FakeServer:
    """Runs the fake endpoint on 127.0.0.1 in a background thread: `with FakeServer() as s: s.base_url`."""

    def __init__(
        self,
        model: FakeModel | None = None,
        faults: Faults | None = None,
        port: int = 0,
        latency_s: float = 0.0,
        rate_limit: float | None = None,
        api_key: str | None = None,
        served: tuple[str, ...] | None = None,
        calls_as_text: str | None = None,
    ):
        """`rate_limit`: requests per second admitted (a token bucket); the rest get 429 + Retry-After.
        `api_key`: requests without `Authorization: Bearer <it>` get 401. `served`: the model names
        /v1/models lists, and the only ones chat answers for (404 for others, as vLLM does); unset,
        the list is ["fake"] and chat answers any name (as llama.cpp's server does). `calls_as_text`: answer tool
        calls only as message text, the way many small models do: "hermes", "json", "pythonic", or "garbage" (a
        broken call)."""
        self.calls_as_text = calls_as_text
        self.model = model or FakeModel()
        self.api_key, self.served = api_key, served
        self.faults = faults or Faults()
        self.latency_s = latency_s
        self.rate_limit = rate_limit
        self._bucket, self._bucket_at = (rate_limit or 0.0), time.monotonic()
        self.rate_limited = 0
        self.port = port
        self.requests = 0
        self.in_flight = self.peak_in_flight = 0  # requests being answered now, and the most at any moment
        self.faults_injected: dict[str, int] = {}
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _draw_fault(self) -> str | None:
        with self._lock:
            self.requests += 1
            if self.faults.rate and self._rng.random() < self.faults.rate:
                kind = self._rng.choice(self.faults.kinds)
                self.faults_injected[kind] = self.faults_injected.get(kind, 0) + 1
                return kind
        return None

    def _admit(self) -> float | None:
        """None when the request may go on, else the seconds until the bucket has a token."""
        if not self.rate_limit:
            return None
        with self._lock:
            now = time.monotonic()
            self._bucket = min(self.rate_limit, self._bucket + (now - self._bucket_at) * self.rate_limit)
            self._bucket_at = now
            if self._bucket >= 1.0:
                self._bucket -= 1.0
                return None
            self.rate_limited += 1
            return (1.0 - self._bucket) / self.rate_limit

    def _refused(self, http_request: web.Request) -> web.StreamResponse | None:
        if self.api_key is None or http_request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        return web.json_response(
            {
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            },
            status=401,
        )

    async def _chat(self, http_request: web.Request) -> web.StreamResponse:
        refused = self._refused(http_request)
        if refused is not None:
            return refused
        request = await http_request.json()
        if self.served is not None and request.get("model") not in self.served:
            return web.json_response(
                {
                    "error": {
                        "message": f"The model `{request.get('model')}` does not exist.",
                        "type": "NotFoundError",
                        "code": 404,
                    }
                },
                status=404,
            )
        wait = self._admit()
        if wait is not None:
            return web.json_response(
                {"error": {"message": "rate limit exceeded", "type": "rate_limit"}},
                status=429,
                headers={"Retry-After": f"{wait:.3f}"},
            )
        self.model.history.append(request)
        self.in_flight += 1  # counted on the server's one event loop: no lock needed
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._answer(request, http_request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: dict, http_request: web.Request) -> web.StreamResponse:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        fault = self._draw_fault()
        if fault == "rate_limit":
            return web.json_response(
                {"error": {"message": "rate limited", "type": "rate_limit"}},
                status=429,
                headers={"Retry-After": str(self.faults.retry_after_s)},
            )
        if fault == "server_error":
            return web.json_response({"error": {"message": "injected server error"}}, status=500)
        if fault == "timeout":
            await asyncio.sleep(self.faults.hang_s)
        if fault == "malformed_json":
            return web.Response(
                text='{"id": "chatcmpl-broken", "choices": [{"message": {"content": "trunc',
                content_type="application/json",
            )
        reply = self.model.respond(request, http_request.headers.get(ROLE_HEADER))
        if "status" in reply:
            return web.json_response(
                {"error": {"message": reply.get("message", "scripted error")}}, status=reply["status"]
            )
        tools = request.get("tools") or []
        if fault == "truncated":
            text = reply.get("content") or json.dumps(reply.get("tool_calls"))
            return web.json_response(_completion(request, {"content": text[: max(1, len(text) // 3)]}, finish="length"))
        if fault == "unknown_tool" and tools:
            reply = {"tool_calls": [{"name": "no_such_tool_" + uuid.uuid4().hex[:4], "arguments": "{}"}]}
        if fault == "wrong_types" and tools:
            fn = tools[0]["function"]
            props = (fn.get("parameters") or {}).get("properties") or {}
            reply = {"tool_calls": [{"name": fn["name"], "arguments": json.dumps({k: [1, 2] for k in props})}]}
        if self.calls_as_text and reply.get("tool_calls"):
            reply = {"content": calls_as_text(reply["tool_calls"], self.calls_as_text)}
        return web.json_response(_completion(request, reply, finish=reply.get("finish_reason")))

    async def _embeddings(self, http_request: web.Request) -> web.StreamResponse:
        """Deterministic vectors from character trigrams: similar texts get similar vectors."""
        request = await http_request.json()
        self.model.history.append(request)
        with self._lock:
            self.requests += 1
        texts = request["input"] if isinstance(request["input"], list) else [request["input"]]
        data = []
        for i, text in enumerate(texts):
            vec = [0.0] * 64
            padded = f"  {text.lower()} "
            for k in range(len(padded) - 2):
                vec[hash_bucket(padded[k : k + 3])] += 1.0
            data.append({"object": "embedding", "index": i, "embedding": vec})
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": request.get("model", "fake"),
                "usage": {
                    "prompt_tokens": sum(len(t) // 4 for t in texts),
                    "total_tokens": sum(len(t) // 4 for t in texts),
                },
            }
        )

    async def _models(self, http_request: web.Request):
        return self._refused(http_request) or web.json_response(
            {"object": "list", "data": [{"id": name, "object": "model"} for name in self.served or ("fake",)]}
        )

    async def _health(self, _):
        return web.Response(text="ok")

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/health", self._health)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def start(self) -> "FakeServer":
        self._thread = threading.Thread(target=self._serve, daemon=True, name="toolloom-fake-openai")
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake server did not start")
        return self

    def stop(self) -> None:
        if self._loop:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
