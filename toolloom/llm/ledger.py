"""Usage ledger: one record per model request (the `llm_calls` table)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass, replace

import pyarrow as pa


PREFLIGHT = "preflight"  # the stage name pre-flight requests are recorded under


@dataclass
class CallRecord:
    stage: str
    role: str
    model: str
    request_hash: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    cache_hit: bool
    attempts: int
    status: str  # ok | error | budget
    error: str = ""
    endpoint: str = ""  # the URL that answered (or last failed); empty for cache hits
    cached_prompt_tokens: int = 0  # prompt tokens the server took from its own prompt cache (llama.cpp, vLLM)


class UsageLedger:
    def __init__(self):
        self._lock = threading.Lock()
        self.records: list[CallRecord] = []

    def add(self, record: CallRecord) -> None:
        with self._lock:
            self.records.append(record)

    def for_stage(self, stage: str, since: int = 0) -> list[CallRecord]:
        """The stage's records, from the `since`-th record on (a shard's, when shards share a process)."""
        with self._lock:
            return [r for r in self.records[since:] if r.stage == stage]

    def of_step(self, stage: str, since: int) -> list[CallRecord]:
        """Every record from the `since`-th on, made by the stage's step, as the stage's: a simulator or a
        judge another stage uses labels its requests with its own role's stage (the tasks stage executes
        its reference calls through the simulator), and they are still this step's calls."""
        with self._lock:  # a pre-flight check made in the step's process is no stage's work
            return [
                r if r.stage == stage else replace(r, stage=stage) for r in self.records[since:] if r.stage != PREFLIGHT
            ]

    def summary(self, stage: str, since: int = 0) -> dict:
        rs = self.of_step(stage, since)
        return {
            "requests": len(rs),
            "sent": sum(not r.cache_hit for r in rs),
            "cache_hits": sum(r.cache_hit for r in rs),
            "errors": sum(r.status != "ok" for r in rs),
            "prompt_tokens": sum(r.prompt_tokens for r in rs),
            "completion_tokens": sum(r.completion_tokens for r in rs),
            "cached_prompt_tokens": sum(r.cached_prompt_tokens for r in rs if not r.cache_hit),
            "endpoints": dict(Counter(r.endpoint for r in rs if r.endpoint and not r.cache_hit)),
        }

    @staticmethod
    def to_arrow(records: list[CallRecord]) -> pa.Table:
        schema = pa.schema(
            [
                ("stage", pa.string()),
                ("role", pa.string()),
                ("model", pa.string()),
                ("request_hash", pa.string()),
                ("prompt_tokens", pa.int64()),
                ("completion_tokens", pa.int64()),
                ("latency_ms", pa.float64()),
                ("cache_hit", pa.bool_()),
                ("attempts", pa.int64()),
                ("status", pa.string()),
                ("error", pa.string()),
                ("endpoint", pa.string()),
                ("cached_prompt_tokens", pa.int64()),
            ]
        )
        return pa.Table.from_pylist([asdict(r) for r in records], schema=schema)
