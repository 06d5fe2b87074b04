"""Does the pipeline keep a model endpoint saturated? Requests per second, beside a plain loop.

A fake OpenAI-compatible server runs in its own process with a fixed latency per request (its CPU
is measured too: where it is near one core, the server is what bounds both loops).

Multi-turn (the default): the simulation stage's own code path (model user -> model assistant with
tools -> sandboxed tool -> model assistant answers: three requests per episode) at 64, 256 and 1,024
requests in flight, against a plain loop doing the same episodes: the very requests the pipeline
sent (recorded per episode), one after the other within an episode, the tool calls executed by the
same executor between them, on `openai.AsyncOpenAI` with a semaphore and nothing else. Rounds
alternate (pipeline, plain, pipeline, plain); each side's better round is kept. Target: the
pipeline >= 90% of the plain loop at 256 and 1,024 in flight. A last case puts a 429 rate limit on
the server and shows the rate the adaptive client settles at against that limit.

`--client` measures the model client alone: N single-message requests through `ModelClient.chat`
(cache, ledger, limiter, retries) against the same N through the plain loop, at 0.2 s latency,
two alternating rounds each, the better kept; it prints the rate ratio (target >= 95%) and CPU
seconds per 1,000 requests of each (target: no more than plain).

  python benchmarks/throughput.py [--latency 1.0] [--episodes-per-slot 2] [--in-flight 64,256,1024]
  python benchmarks/throughput.py --client [--requests 6000] [--in-flight 64,256]
"""

import argparse
import asyncio
import contextvars
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
from toolloom.executor import Episode, ToolExecutor  # noqa: E402
from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger  # noqa: E402
from toolloom.llm.endpoints import _http  # noqa: E402
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


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of another process (the fake server), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine spent busy (every core), from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


PLAIN_TRANSPORT = "httpx"  # --plain-transport


def plain_client(base_url: str, in_flight: int, latency: float) -> openai.AsyncOpenAI:
    """The plain loop's client: the SDK as it comes (httpx), or on the SDK's aiohttp transport, the one
    toolloom's client uses (a stronger peer: what is left is the framework's own cost)."""
    http = None
    if PLAIN_TRANSPORT == "aiohttp":
        http = openai.DefaultAioHttpClient(
            limits=_http.Limits(max_connections=in_flight + 8, max_keepalive_connections=in_flight + 8)
        )
    return openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0, timeout=60 + latency, http_client=http)


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


def plain_episodes_run(base_url: str, in_flight: int, episodes: list[list[dict]], executor, latency: float) -> dict:
    """The same episodes by a plain loop: each episode's recorded requests in order, the tool calls an
    answer asks for executed before the next request; a semaphore bounds the requests in flight."""

    async def main():
        async with plain_client(base_url, in_flight, latency) as client:
            gate = asyncio.Semaphore(in_flight)

            async def one(requests: list[dict]):
                episode = executor.episode()
                try:
                    for request in requests:
                        async with gate:
                            answer = await client.chat.completions.create(**request)
                        for call in answer.choices[0].message.tool_calls or []:
                            await episode.call(call.function.name, json.loads(call.function.arguments or "{}"))
                finally:
                    episode.close()

            await asyncio.gather(*(one(e) for e in episodes))

    n = sum(len(e) for e in episodes)
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    asyncio.run(main())
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    return {"requests": n, "seconds": wall, "rps": n / wall, "cpu_cores": cpu / wall, "cpu_per_1k": 1000 * cpu / n}


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


def baseline_run(base_url: str, in_flight: int, requests: int, latency: float, tag: str = "") -> dict:
    async def main():
        async with plain_client(base_url, in_flight, latency) as client:
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
    return {
        "requests": requests,
        "seconds": wall,
        "rps": requests / wall,
        "limit": in_flight / latency,
        "cpu_cores": cpu / wall,
        "cpu_per_1k": 1000 * cpu / requests,
    }


def alternate(rounds: int, sides: dict) -> dict:
    """Each side run `rounds` times, alternating; each side's fastest round (a busy moment of the
    machine hurts one round, not the ratio)."""
    best: dict[str, dict] = {}
    for round_ in range(rounds):
        for name, run in sides.items():
            r = run(round_)
            if name not in best or r["rps"] > best[name]["rps"]:
                best[name] = r
    return best


def bound(r: dict) -> str:
    """What held the rate down, from the CPU each process used (one core each at most) and the machine's."""
    if r["server_cores"] > 0.85:
        return f"the fake server's own CPU ({r['server_cores']:.2f} cores) bounds it"
    if r["cpu_cores"] > 0.85:
        return f"the client's CPU ({r['cpu_cores']:.2f} cores) bounds it"
    if r["tool_mean_s"] > r["latency"]:
        return (
            f"the sandbox: a tool call (waiting for one of the collection's workers included) takes longer "
            f"than a model request ({1000 * r['tool_mean_s']:.0f} ms mean; {r['machine_cores']:.2f} of "
            f"{os.cpu_count()} cores busy)"
        )
    if r["machine_cores"] > 0.85 * os.cpu_count():
        return (
            f"the machine's CPUs bound it ({r['machine_cores']:.2f} of {os.cpu_count()} cores busy: the client, "
            f"the server and the sandbox's tool processes)"
        )
    return f"no CPU is the bound ({r['machine_cores']:.2f} of {os.cpu_count()} cores busy)"


def client_comparison(in_flights: list[int], requests: int, latency: float) -> None:
    server, url = start_server(latency)
    try:
        print(
            f"model client vs plain AsyncOpenAI ({PLAIN_TRANSPORT}) + semaphore: {requests} requests, "
            f"latency {latency}s, {os.cpu_count()} cores"
        )
        for in_flight in in_flights:
            best = alternate(
                2,
                {
                    "plain": lambda r, n=in_flight: baseline_run(url, n, requests, latency, tag=f"plain{n}r{r}"),
                    "toolloom": lambda r, n=in_flight: client_run(url, n, requests, latency, tag=f"toolloom{n}r{r}"),
                },
            )
            plain, ours = best["plain"], best["toolloom"]
            print(
                f"in flight {in_flight:>4}: toolloom {ours['rps']:6.1f} req/s, plain {plain['rps']:6.1f} req/s "
                f"(limit {in_flight / latency:.0f}): rate {ours['rps'] / plain['rps']:.0%} of plain (target >= 95%); "
                f"CPU s per 1,000 requests {ours['cpu_per_1k']:.2f} vs {plain['cpu_per_1k']:.2f} "
                f"({ours['cpu_per_1k'] / plain['cpu_per_1k']:.2f}x, target <= 1.00x)"
            )
    finally:
        server.terminate()


def episodes_comparison(url: str, server_pid: int, in_flight: int, n_episodes: int, latency: float) -> None:
    workload = tasks_table(n_episodes)
    recorded: list = []

    def measured(run):
        s0, m0 = process_cpu_seconds(server_pid), machine_busy_seconds()
        TimedEpisode.seconds = []
        r = run()
        r["tool_calls"] = tool_wait(TimedEpisode.seconds)
        r["tool_mean_s"] = sum(TimedEpisode.seconds) / max(len(TimedEpisode.seconds), 1)
        r["latency"] = latency
        r["server_cores"] = (process_cpu_seconds(server_pid) - s0) / r["seconds"]
        r["machine_cores"] = (machine_busy_seconds() - m0) / r["seconds"]
        return r

    def pipeline(round_):
        r = measured(lambda: pipeline_run(url, in_flight, workload, latency))
        recorded[:] = r.pop("episodes")
        return r

    def plain(round_):
        return measured(lambda: plain_episodes_run(url, in_flight, recorded, workload[2], latency))

    best = alternate(2, {"pipeline": pipeline, "plain": plain})
    p, b = best["pipeline"], best["plain"]
    print(
        f"in flight {in_flight:>4}: pipeline {p['rps']:6.1f} req/s, plain loop {b['rps']:6.1f} req/s "
        f"(limit {in_flight / latency:.0f}): {p['rps'] / b['rps']:.0%} of plain (target >= 90%); "
        f"{p['requests']} requests in {n_episodes} episodes, outcomes {json.dumps(p['outcomes'])}"
    )
    print(
        f"    CPU s per 1,000 requests: pipeline {p['cpu_per_1k']:.2f} ({p['cpu_cores']:.2f} cores), plain "
        f"{b['cpu_per_1k']:.2f} ({b['cpu_cores']:.2f} cores); fake server {p['server_cores']:.2f} / "
        f"{b['server_cores']:.2f} cores"
    )
    print(
        f"    pipeline: {bound(p)}; plain loop: {bound(b)}; a tool call (sandbox, waiting for a worker "
        f"included): pipeline {p['tool_calls']}, plain {b['tool_calls']}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--episodes-per-slot", type=int, default=2, help="episodes per request slot (3 requests each)")
    ap.add_argument("--rate-limit", type=float, default=100.0)
    ap.add_argument("--in-flight", default=None, help="comma-separated concurrency levels")
    ap.add_argument("--skip-rate-limit", action="store_true")
    ap.add_argument(
        "--client", action="store_true", help="the model client alone against the plain loop (0.2 s latency)"
    )
    ap.add_argument("--requests", type=int, default=6000, help="--client: requests per client and round")
    ap.add_argument(
        "--plain-transport",
        choices=["httpx", "aiohttp"],
        default="httpx",
        help="the plain loop's HTTP transport: the SDK's default, or its aiohttp one (toolloom's)",
    )
    args = ap.parse_args()
    global PLAIN_TRANSPORT
    PLAIN_TRANSPORT = args.plain_transport
    levels = args.in_flight if args.in_flight is not None else ("64,256" if args.client else "64,256,1024")
    in_flights = [int(x) for x in levels.split(",") if x]  # --in-flight "": the 429 case only
    if args.client:
        client_comparison(in_flights, args.requests, 0.2)
        return
    server, url = start_server(args.latency)
    try:
        print(
            f"fake endpoint latency {args.latency}s per request, {os.cpu_count()} cores; the plain loop on "
            f"AsyncOpenAI ({PLAIN_TRANSPORT}) + semaphore"
        )
        for in_flight in in_flights:
            episodes_comparison(url, server.pid, in_flight, in_flight * args.episodes_per_slot, args.latency)
    finally:
        server.terminate()
    if args.skip_rate_limit:
        return
    server, url = start_server(0.2, rate_limit=args.rate_limit)
    try:
        p = pipeline_run(url, 256, tasks_table(1000), 0.2)
        print(
            f"rate limit {args.rate_limit:.0f} req/s, 256 allowed in flight: pipeline settled at {p['rps']:.1f} req/s "
            f"= {p['rps'] / args.rate_limit:.0%} of the server's limit, {p['retries']} retries after 429, "
            f"outcomes {json.dumps(p['outcomes'])}"
        )
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
