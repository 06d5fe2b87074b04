"""Does the pipeline keep a model endpoint saturated? Requests per second against the limit.

A fake OpenAI-compatible server runs in its own process with a fixed latency per request. The
workload is the simulation stage's own code path (model user -> model assistant with tools ->
sandboxed tool -> model assistant answers: three requests per episode) at 64 and 256 requests in
flight; the limit is in_flight / latency. The baseline is the same number of requests sent by a
plain asyncio loop on the `openai` client with a semaphore. A last case puts a 429 rate limit on
the server and shows the rate the adaptive client settles at against that limit.

`--client` measures the model client alone: N single-message requests through `ModelClient.chat`
(cache, ledger, limiter, retries) against the same N through the plain loop, in the same run, at
0.2 s latency; it prints the rate ratio (target >= 95%) and the CPU-per-request ratio (target
<= 1.3x), each client measured twice, alternating, the better round kept.

  python benchmarks/throughput.py [--latency 1.0] [--episodes-per-slot 4]
  python benchmarks/throughput.py --client [--requests 6000] [--in-flight 64,256]
"""
import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolloom.agents.llm import ModelAssistant, ModelUser  # noqa: E402
from toolloom.executor import ToolExecutor  # noqa: E402
from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger  # noqa: E402
from toolloom.prompts import render  # noqa: E402
from toolloom.sandbox import Sandbox  # noqa: E402
from toolloom.spec import ModelSpec, SimulateStage, load_pipeline  # noqa: E402
from toolloom.stages.simulate import simulate  # noqa: E402
from toolloom.stages.tasks import TASKS_SCHEMA  # noqa: E402
from toolloom.stages.tools import build_tools  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(latency: float, rate_limit: float | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "toolloom.cli", "fake-server", "--port", str(port), "--latency", str(latency)]
    if rate_limit:
        cmd += ["--rate-limit", str(rate_limit)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    proc.stdout.readline()  # "fake OpenAI-compatible endpoint at ..."
    return proc, f"http://127.0.0.1:{port}/v1"


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def tasks_table(n: int):
    """n distinct single-call tasks (distinct numbers, so no two prompts are alike: no cache hits)."""
    pipeline = load_pipeline(ROOT / "pipelines" / "demo.yaml")
    tools = build_tools(pipeline, ROOT, Sandbox(ROOT / "sandbox")).table
    executor = ToolExecutor(Sandbox(ROOT / "sandbox"), tools.to_pylist())
    rows = []
    for i in range(n):
        name, args = (("add_days", {"start_date": "2026-01-01", "days": i}) if i % 2 else
                      ("convert_currency", {"amount": i + 1, "from_currency": "EUR", "to_currency": "USD"}))
        chain = [{"tool_id": f"demo.{name}", "name": name, "arguments": args, "bindings": {}}]
        rows.append({"task_id": f"t_{i:06d}", "shape": "single", "chain": json.dumps(chain),
                     "reference_answer": executor.execute(name, args).to_json(), "seed": i})
    return pa.Table.from_pylist(rows, schema=TASKS_SCHEMA), tools, executor


def pipeline_run(base_url: str, in_flight: int, episodes: int, latency: float) -> dict:
    tasks, tools, executor = tasks_table(episodes)
    spec = ModelSpec(
        provider="openai", model="fake", base_url=base_url, max_concurrency=in_flight, timeout_s=60 + latency
    )
    with tempfile.TemporaryDirectory() as tmp:
        ledger = UsageLedger()
        client = ModelClient(spec, cache=RequestCache(Path(tmp) / "c.sqlite"), ledger=ledger, budget=RunBudget(None))
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        result = simulate(
            tasks,
            tools,
            user=ModelUser(client, ROOT / "prompts"),
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
        "outcomes": result.metadata["outcomes"],
        "retries": sum(r.attempts - 1 for r in ledger.records if not r.cache_hit),
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
            await asyncio.gather(*(client.chat([{"role": "user", "content": f"{tag} q{i}"}], stage="bench", role="user")
                                   for i in range(requests)))
            await client.close_session()

        cpu0, t0 = cpu_seconds(), time.perf_counter()
        asyncio.run(main())
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
        sent = sum(not r.cache_hit for r in client.ledger.records)
    return {"requests": sent, "seconds": wall, "rps": sent / wall, "cpu_per_request_ms": 1000 * cpu / sent}


def baseline_run(base_url: str, in_flight: int, requests: int, latency: float, tag: str = "") -> dict:
    async def main():
        async with openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0, timeout=60 + latency) as client:
            gate = asyncio.Semaphore(in_flight)

            async def one(i):
                async with gate:
                    await client.chat.completions.create(
                        model="fake", messages=[{"role": "user", "content": f"{tag} q{i}"}]
                    )

            await asyncio.gather(*(one(i) for i in range(requests)))

    cpu0, t0 = cpu_seconds(), time.perf_counter()
    asyncio.run(main())
    wall = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    return {"requests": requests, "seconds": wall, "rps": requests / wall, "limit": in_flight / latency,
            "cpu_cores": cpu / wall, "cpu_per_request_ms": 1000 * cpu / requests}


def client_comparison(in_flights: list[int], requests: int, latency: float) -> None:
    server, url = start_server(latency)
    try:
        print(
            f"model client vs plain AsyncOpenAI + semaphore: {requests} requests, latency {latency}s, "
            f"{os.cpu_count()} cores"
        )
        for in_flight in in_flights:
            best: dict[str, dict] = {}
            for round_ in range(
                2
            ):  # alternate, keep each client's better round: a busy moment hurts one round, not the ratio
                for name, run in (("plain", baseline_run), ("toolloom", client_run)):
                    r = run(url, in_flight, requests, latency, tag=f"{name}{in_flight}r{round_}")
                    if name not in best or r["rps"] > best[name]["rps"]:
                        best[name] = r
            plain, ours = best["plain"], best["toolloom"]
            print(f"in flight {in_flight:>3}: toolloom {ours['rps']:7.1f} req/s, plain {plain['rps']:7.1f} req/s "
                  f"(limit {in_flight / latency:.0f}): rate ratio {ours['rps'] / plain['rps']:.0%} (target >= 95%); "
                  f"CPU per request {ours['cpu_per_request_ms']:.2f} ms vs {plain['cpu_per_request_ms']:.2f} ms: "
                  f"{ours['cpu_per_request_ms'] / plain['cpu_per_request_ms']:.2f}x (target <= 1.3x)")
    finally:
        server.terminate()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--episodes-per-slot", type=int, default=8, help="episodes per request slot (3 requests each)")
    ap.add_argument("--rate-limit", type=float, default=100.0)
    ap.add_argument("--in-flight", default="64,256", help="comma-separated concurrency levels")
    ap.add_argument("--skip-rate-limit", action="store_true")
    ap.add_argument(
        "--client", action="store_true", help="the model client alone against the plain loop (0.2 s latency)"
    )
    ap.add_argument("--requests", type=int, default=6000, help="--client: requests per client and round")
    args = ap.parse_args()
    if args.client:
        client_comparison([int(x) for x in args.in_flight.split(",") if x], args.requests, 0.2)
        return
    server, url = start_server(args.latency)
    try:
        print(f"fake endpoint latency {args.latency}s per request, {os.cpu_count()} cores")
        for in_flight in [int(x) for x in args.in_flight.split(",") if x]:  # --in-flight "": the 429 case only
            p = pipeline_run(url, in_flight, in_flight * args.episodes_per_slot, args.latency)
            b = baseline_run(url, in_flight, p["requests"], args.latency)
            print(
                f"in flight {in_flight:>3}: pipeline {p['rps']:7.1f} req/s = {p['rps'] / p['limit']:.0%} of limit "
                f"{p['limit']:.0f} "
                f"({p['requests']} requests, {p['seconds']:.1f}s, {p['cpu_cores']:.2f} cores, outcomes "
                f"{json.dumps(p['outcomes'])}); "
                f"plain asyncio loop {b['rps']:7.1f} req/s = {b['rps'] / b['limit']:.0%} ({b['cpu_cores']:.2f} cores)"
            )
    finally:
        server.terminate()
    if args.skip_rate_limit:
        return
    server, url = start_server(0.2, rate_limit=args.rate_limit)
    try:
        p = pipeline_run(url, 256, 1000, 0.2)
        print(
            f"rate limit {args.rate_limit:.0f} req/s, 256 allowed in flight: pipeline settled at {p['rps']:.1f} req/s "
            f"= {p['rps'] / args.rate_limit:.0%} of the server's limit, {p['retries']} retries after 429, "
            f"outcomes {json.dumps(p['outcomes'])}"
        )
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
