"""The toolloom side of benchmarks/throughput.py: the simulation stage and the model client, timed, with the
requests each episode sent recorded for the plain loop to send again."""

import asyncio
import contextvars
import json
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from throughput_processes import cpu_seconds  # noqa: E402
from toolloom.agents.llm import ModelAssistant, ModelUser  # noqa: E402
from toolloom.executors.routing import Episode, ToolExecutor  # noqa: E402
from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger  # noqa: E402
from toolloom.prompts import render  # noqa: E402
from toolloom.sandbox import Sandbox  # noqa: E402
from toolloom.spec import ModelSpec, SimulateStage, load_pipeline  # noqa: E402
from toolloom.stages.simulate import simulate  # noqa: E402
from toolloom.stages.tasks import TASKS_SCHEMA  # noqa: E402
from toolloom.stages.tools import build_tools  # noqa: E402


class TimedEpisode(Episode):
    """An episode whose tool calls are timed (queueing for a sandbox worker included)."""

    seconds: list[float] = []

    async def call(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return await super().call(*args, **kwargs)
        finally:
            TimedEpisode.seconds.append(time.perf_counter() - t0)


def tool_wait(seconds: list[float]) -> str:
    s = sorted(seconds)
    return f"{1000 * sum(s) / len(s):.0f} ms mean, p90 {1000 * s[int(len(s) * 0.9)]:.0f} ms" if s else "none"


EPISODE: contextvars.ContextVar[str | None] = contextvars.ContextVar("episode", default=None)


class RecordingUser(ModelUser):
    """Marks the episode its requests belong to (a context variable: it holds for the rest of the task)."""

    async def instruction(self, task):
        EPISODE.set(task.task_id)
        return await super().instruction(task)


class RecordingClient(ModelClient):
    """Keeps every request body it sends, by episode, for the plain loop to send the same ones."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent: dict[str, list[dict]] = {}

    async def _ask(self, request, key, *, stage, role):
        self.sent.setdefault(EPISODE.get() or key, []).append(request)
        return await super()._ask(request, key, stage=stage, role=role)


def tasks_table(n: int):
    """n distinct single-call tasks (distinct numbers, so no two prompts are alike: no cache hits)."""
    pipeline = load_pipeline(ROOT / "pipelines" / "demo.yaml")
    tools = build_tools(pipeline, ROOT, Sandbox(ROOT / "sandbox")).table
    executor = ToolExecutor(Sandbox(ROOT / "sandbox"), tools.to_pylist())
    executor.episode = lambda: TimedEpisode(executor)
    rows = []
    for i in range(n):
        name, args = (
            ("add_days", {"start_date": "2026-01-01", "days": i})
            if i % 2
            else ("convert_currency", {"amount": i + 1, "from_currency": "EUR", "to_currency": "USD"})
        )
        chain = [{"tool_id": f"demo.{name}", "name": name, "arguments": args, "bindings": {}}]
        rows.append(
            {
                "task_id": f"t_{i:06d}",
                "shape": "single",
                "chain": json.dumps(chain),
                "reference_answer": executor.execute(name, args).to_json(),
                "seed": i,
            }
        )
    return pa.Table.from_pylist(rows, schema=TASKS_SCHEMA), tools, executor


def pipeline_run(base_url: str, in_flight: int, workload: tuple, latency: float) -> dict:
    """The simulation stage over the tasks, a fresh cache (every request sent); keeps what it sent."""
    tasks, tools, executor = workload
    spec = ModelSpec(
        provider="openai", model="fake", base_url=base_url, max_concurrency=in_flight, timeout_s=60 + latency
    )
    with tempfile.TemporaryDirectory() as tmp:
        ledger = UsageLedger()
        client = RecordingClient(
            spec, cache=RequestCache(Path(tmp) / "c.sqlite"), ledger=ledger, budget=RunBudget(None)
        )
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        result = simulate(
            tasks,
            tools,
            user=RecordingUser(client, ROOT / "prompts"),
            assistant=ModelAssistant(client),
            executor=executor,
            params=SimulateStage(max_turns=4, distractors=3),
            system_prompt=render("simulate/assistant_system.j2", today=None),
            prompt_hash="bench",
        )
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    sent = sum(not r.cache_hit for r in ledger.records)
    return {
        "requests": sent,
        "seconds": wall,
        "rps": sent / wall,
        "limit": in_flight / latency,
        "cpu_cores": cpu / wall,
        "cpu_per_1k": 1000 * cpu / sent,
        "outcomes": result.metadata["outcomes"],
        "retries": sum(r.attempts - 1 for r in ledger.records if not r.cache_hit),
        "episodes": list(client.sent.values()),
    }


def client_run(base_url: str, in_flight: int, requests: int, latency: float, tag: str) -> dict:
    """`requests` distinct one-message requests through ModelClient.chat (a fresh cache: all sent)."""
    spec = ModelSpec(
        provider="openai", model="fake", base_url=base_url, max_concurrency=in_flight, timeout_s=60 + latency
    )
    with tempfile.TemporaryDirectory() as tmp:
        client = ModelClient(
            spec, cache=RequestCache(Path(tmp) / "c.sqlite"), ledger=UsageLedger(), budget=RunBudget(None)
        )

        async def main():
            await asyncio.gather(
                *(
                    client.chat([{"role": "user", "content": f"{tag} q{i}"}], stage="bench", role="user")
                    for i in range(requests)
                )
            )
            await client.close_session()

        cpu0, t0 = cpu_seconds(), time.perf_counter()
        asyncio.run(main())
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
        sent = sum(not r.cache_hit for r in client.ledger.records)
    return {"requests": sent, "seconds": wall, "rps": sent / wall, "cpu_per_1k": 1000 * cpu / sent}
