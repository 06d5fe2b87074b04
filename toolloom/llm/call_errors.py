"""Why a model call fails and when it is tried again: the error types, the run's token budget, and the
retry rules (what is retried, how long the server asked to wait)."""

from __future__ import annotations

import os
import threading

import openai


class ModelCallError(Exception):
    """A request that failed for good (after retries); carries a one-line reason."""


class RunawayOutput(ModelCallError):
    """The endpoint answered, but the model wrote until its token limit, also when asked again: the
    model's own failure, not the endpoint's (an escalation level it happens on is failed, not undecided)."""


class BudgetExhausted(Exception):
    """The run's token budget is spent; callers record the remaining work as not done."""


class ServerError(RuntimeError):
    """A server toolloom manages could not be (re)started; managed_server.ServerStartError is one."""


class MalformedResponse(Exception):
    """The endpoint answered 200 with a body that is not a usable completion."""


class RunBudget:
    def __init__(self, max_tokens: int | None):
        self.max_tokens = max_tokens
        self.used = 0
        self._lock = threading.Lock()

    def check(self) -> None:
        if self.max_tokens is not None and self.used >= self.max_tokens:
            raise BudgetExhausted(f"token budget of {self.max_tokens} reached ({self.used} used)")

    def spend(self, tokens: int) -> None:
        with self._lock:
            self.used += tokens


def root_cause(exc: BaseException) -> str:
    """The innermost reason of a chained failure ("[Errno 111] Connection refused")."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__
    if isinstance(exc, OSError) and exc.errno:  # asyncio says "Connect call failed"; the errno says why
        return f"{os.strerror(exc.errno)} ({exc})"
    return str(exc) or type(exc).__name__


def key_state(var: str) -> str:
    """Where a key comes from, for messages about refused keys (never the key itself)."""
    return f"the key is read from ${var}, which is {'set' if os.environ.get(var) else 'not set'}"


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError, MalformedResponse)):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


def retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
