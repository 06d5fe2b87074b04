"""One model client for every agent role: OpenAI-compatible endpoints, cache, ledger, budget."""

from .cache import RequestCache, request_hash
from .call_errors import BudgetExhausted, ModelCallError, RunawayOutput, RunBudget
from .client import ModelClient, run_async
from .ledger import UsageLedger

__all__ = [
    "run_async",
    "ModelClient",
    "ModelCallError",
    "RunawayOutput",
    "BudgetExhausted",
    "RunBudget",
    "RequestCache",
    "request_hash",
    "UsageLedger",
]
