"""The model client every agent role uses: the `openai` package against any compatible endpoint.

Bounded, adaptive concurrency; retries with backoff that honour Retry-After; a content-addressed
cache consulted before any request; every call recorded in the usage ledger; a run-wide token
budget that stops cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import time
import weakref

import openai
from tenacity import AsyncRetrying, RetryError, retry_if_exception, stop_after_attempt

try:  # the HTTP library the openai SDK is built on (httpx2 in openai 3.x, httpx before)
    import httpx2 as _http
except ImportError:  # pragma: no cover - older SDKs
    import httpx as _http

from .model_spec import ModelSpec
from .cache import RequestCache, request_hash
from .call_errors import (
    BudgetExhausted,
    MalformedResponse,
    ModelCallError,
    RunBudget,
    ServerError,
    key_state,
    retry_after,
    retryable,
    root_cause,
)
from .completion import TRUNCATED_RETRY_TOKENS, TRUNCATION_RETRIES, Completion, answer_text, looping, parse_completion
from .ledger import PREFLIGHT, CallRecord, UsageLedger
from .endpoints import ROLE_HEADER, STAGE_HEADER, Endpoint, EndpointPool, public


_LIVE_CLIENTS: "weakref.WeakSet[ModelClient]" = weakref.WeakSet()


def run_async(coro):
    """asyncio.run, then close the HTTP sessions the model clients opened on that loop (else their
    sockets are closed by the garbage collector after the loop is gone, with noisy errors)."""

    async def wrapper():
        try:
            return await coro
        finally:
            for client in list(_LIVE_CLIENTS):
                await client.close_session()

    return asyncio.run(wrapper())


class ModelClient:
    """Client for one model endpoint; shared by the roles that name the same ModelSpec."""

    def __init__(
        self,
        spec: ModelSpec,
        *,
        cache: RequestCache,
        ledger: UsageLedger,
        budget: RunBudget,
        backoff_s: float = 1.0,
        supervisor=None,
        slots_for=None,
    ):
        """`supervisor`: the managed server behind the endpoint (managed_server.ManagedServer), asked to
        recover after a connection failure before the request is retried. `slots_for(url, size)`: each
        endpoint's limit shared with the run's other processes (llm/endpoint_slots.py), where it has several."""
        self.spec = spec.resolved()
        self.supervisor, self.slots_for = supervisor, slots_for
        self.cache, self.ledger, self.budget = cache, ledger, budget
        self.backoff_s = backoff_s
        self._per_loop: dict[int, EndpointPool] = {}
        self.endpoint_usage = {public(u): {"sent": 0, "answered": 0, "failed": 0} for u in self.spec.endpoints}
        self._in_flight: dict[tuple[int, str], asyncio.Future] = {}  # (event loop, request hash) -> its answer
        _LIVE_CLIENTS.add(self)

    async def close_session(self) -> None:
        """Close the HTTP client bound to the running loop, if any."""
        pool = self._per_loop.pop(id(asyncio.get_running_loop()), None)
        if pool is not None:
            await pool.close()

    def _session(self) -> EndpointPool:
        # httpx and asyncio primitives belong to one event loop; each stage run has its own loop
        key = id(asyncio.get_running_loop())
        if key not in self._per_loop:
            api_key = os.environ.get(self.spec.api_key_env) or "not-needed"
            pool = EndpointPool(
                self.spec.endpoints, api_key, self.spec.timeout_s, self.spec.max_concurrency, self.slots_for
            )
            for e in pool.endpoints:  # counted per client, across the loops of a run
                e.usage = self.endpoint_usage.setdefault(e.name, e.usage)
            self._per_loop = {key: pool}
        return self._per_loop[key]

    def _scrub(self, text: str) -> str:
        key = os.environ.get(self.spec.api_key_env)
        return text.replace(key, "***") if key else text

    async def chat(
        self,
        messages: list[dict],
        *,
        stage: str,
        role: str,
        tools: list[dict] | None = None,
        tool_choice: str | None = None,
        response_format: dict | None = None,
        seed_offset: int = 0,
        retry_cut: bool = True,
        temperature: float | None = None,
    ) -> Completion:
        """`seed_offset` > 0 asks for another independent sample (another seed, another cache entry);
        `retry_cut=False` returns an answer cut at the token limit as it is (the caller may use its start);
        `temperature` samples where the role's own decoding is greedy (an answer asked again)."""
        seed = (self.spec.seed or 0) + seed_offset if seed_offset else self.spec.seed
        request = {
            "model": self.spec.model,
            "messages": messages,
            "temperature": self.spec.temperature if temperature is None else temperature,
            "max_tokens": self.spec.max_tokens,
            "seed": seed,
        }
        if tools:
            request["tools"] = tools
            request["tool_choice"] = tool_choice or "auto"
        if response_format:
            request["response_format"] = response_format
        completion = await self._complete(request, stage=stage, role=role)
        limit = request["max_tokens"] or TRUNCATED_RETRY_TOKENS // 2
        for _ in range(TRUNCATION_RETRIES if retry_cut else 0):  # cut off by the token limit: twice the room
            if completion.finish_reason != "length" or looping(answer_text(completion.message)):
                break  # a loop goes on as long as it is let: more room only costs time (minutes on a CPU)
            limit *= 2
            request = {**request, "max_tokens": limit}
            completion = await self._complete(request, stage=stage, role=role)
        return completion

    def ping(self, *, role: str) -> Completion:
        """One tiny request (max_tokens 1), for the pre-flight check; cached like any other."""
        request = {
            "model": self.spec.model,
            "messages": [{"role": "user", "content": "Reply with OK."}],
            "temperature": 0.0,
            "max_tokens": 1,
            "seed": 0,
        }
        return run_async(self._complete(request, stage=PREFLIGHT, role=role))

    async def _complete(self, request: dict, *, stage: str, role: str) -> Completion:
        """One request: from the cache, from the same request in flight, or from the endpoint (retried)."""
        key = request_hash(request)
        cached = self.cache.get(key)
        if cached is not None:
            c = parse_completion(cached)
            c.cache_hit = True
            self.ledger.add(
                CallRecord(stage, role, self.spec.model, key, c.prompt_tokens, c.completion_tokens, 0.0, True, 0, "ok")
            )
            return c
        # the same request already on its way (two episodes asking the same thing at once): share its
        # answer, or its failure, so a run and its rerun from the cache see the same thing
        flight = (id(asyncio.get_running_loop()), key)
        if flight in self._in_flight:
            try:
                c = parse_completion(await asyncio.shield(self._in_flight[flight]))
            except ModelCallError as e:
                self._record_error(stage, role, key, time.monotonic(), 0, f"shared request: {e}"[:500])
                raise
            c.cache_hit = True
            self.ledger.add(
                CallRecord(stage, role, self.spec.model, key, c.prompt_tokens, c.completion_tokens, 0.0, True, 0, "ok")
            )
            return c
        shared = asyncio.get_running_loop().create_future()
        self._in_flight[flight] = shared
        try:
            completion, raw = await self._ask(request, key, stage=stage, role=role)
        except BaseException as e:
            shared.set_exception(e if isinstance(e, ModelCallError) else ModelCallError(f"{type(e).__name__}: {e}"))
            shared.exception()  # retrieved here: a failure nobody else waited for is not an unhandled error
            raise
        else:
            shared.set_result(raw)
            return completion
        finally:
            self._in_flight.pop(flight, None)

    async def _ask(self, request: dict, key: str, *, stage: str, role: str) -> tuple[Completion, dict]:
        try:
            self.budget.check()
        except BudgetExhausted as e:
            self.ledger.add(CallRecord(stage, role, self.spec.model, key, 0, 0, 0.0, False, 0, "budget", str(e)))
            raise
        pool = self._session()
        started, attempts, answered_by = time.monotonic(), 0, [""]
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.spec.max_retries + 1),
                retry=retry_if_exception(retryable),
                wait=self._wait,
            ):
                with attempt:
                    attempts += 1
                    raw = await self._send(pool, request, answered_by, {ROLE_HEADER: role, STAGE_HEADER: stage})
        except RetryError as e:
            exc = e.last_attempt.exception()
            reason = self._scrub(f"{type(exc).__name__}: {exc}{self._where(exc)}")[:500]
            self._record_error(stage, role, key, started, attempts, reason, answered_by[0])
            raise ModelCallError(f"gave up after {attempts} attempts: {reason}") from None
        except ServerError as exc:  # the managed server could not be brought back
            reason = self._scrub(str(exc))[:500]
            self._record_error(stage, role, key, started, attempts, reason, answered_by[0])
            raise ModelCallError(reason) from None
        except openai.APIError as exc:  # not retryable: 400, 401, 404, ...
            reason = self._scrub(f"{type(exc).__name__}: {exc}{self._where(exc)}")[:500]
            self._record_error(stage, role, key, started, attempts, reason, answered_by[0])
            raise ModelCallError(reason) from None
        completion = parse_completion(raw)
        self.cache.put(key, self.spec.model, raw)
        self.budget.spend(completion.prompt_tokens + completion.completion_tokens)
        self.ledger.add(
            CallRecord(
                stage,
                role,
                self.spec.model,
                key,
                completion.prompt_tokens,
                completion.completion_tokens,
                (time.monotonic() - started) * 1000,
                False,
                attempts,
                "ok",
                endpoint=answered_by[0],
                cached_prompt_tokens=completion.cached_prompt_tokens,
            )
        )
        return completion, raw

    async def _send(
        self, pool: EndpointPool, request: dict, answered_by: list[str], headers: dict[str, str] | None = None
    ) -> dict:
        """One attempt at the least busy endpoint that is up; `answered_by[0]` is set to its URL. `headers` say
        which role and stage ask (a proxy can log or route by them; the fake endpoint answers by them)."""
        endpoint: Endpoint = pool.pick()
        answered_by[0] = endpoint.name
        endpoint.usage["sent"] += 1
        limiter = endpoint.limiter
        shared = endpoint.slots.holding() if endpoint.slots else contextlib.nullcontext()
        async with limiter, shared:  # this process's adaptive limit, then the run's shared one
            try:
                # the body is already OpenAI wire format: posting it as is skips the SDK's recursive
                # parameter transform, which walks every tool schema (~6 ms of CPU a request)
                response = await endpoint.client.post(
                    "/chat/completions", body=request, cast_to=_http.Response, options={"headers": headers or {}}
                )
                text = response.text
            except openai.RateLimitError as e:
                limiter.on_rate_limited(retry_after(e) or self.backoff_s)
                raise
            except (openai.APIConnectionError, openai.APITimeoutError) as e:
                pool.failed(endpoint)  # the retry goes to another endpoint while this one is down
                e.toolloom_endpoint = endpoint.name
                if self.supervisor is not None:  # a managed server that died is restarted before the retry
                    await self.supervisor.recover()
                raise
        pool.answered(endpoint)
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as e:
            raise MalformedResponse(f"body is not JSON ({e.msg})") from None
        parse_completion(raw)  # validates shape; raises MalformedResponse
        limiter.on_success()
        return raw

    def _where(self, exc: BaseException) -> str:
        """What a user needs beside the error: the URL that did not answer, the variable of a refused key."""
        if isinstance(exc, (openai.APIConnectionError, openai.APITimeoutError)):
            return f" ({getattr(exc, 'toolloom_endpoint', self.spec.base_url)}: {root_cause(exc)})"
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return f" ({key_state(self.spec.api_key_env)})"
        return ""

    def _wait(self, retry_state) -> float:
        """tenacity wait: the server's Retry-After when it gave one, else jittered exponential backoff."""
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        after = retry_after(exc) if exc else None
        if after is not None:
            return min(after, 60.0)
        return min(30.0, self.backoff_s * (2 ** (retry_state.attempt_number - 1))) * random.uniform(0.5, 1.0)

    def _record_error(self, stage, role, key, started, attempts, reason, endpoint: str = "") -> None:
        self.ledger.add(
            CallRecord(
                stage,
                role,
                self.spec.model,
                key,
                0,
                0,
                (time.monotonic() - started) * 1000,
                False,
                attempts,
                "error",
                reason,
                endpoint,
            )
        )
