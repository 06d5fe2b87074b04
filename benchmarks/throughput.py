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
import json
import os
import sys
import time
from pathlib import Path

import openai

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from throughput_pipeline import TimedEpisode, client_run, pipeline_run, tasks_table, tool_wait  # noqa: E402
from throughput_processes import cpu_seconds, machine_busy_seconds, process_cpu_seconds, start_server  # noqa: E402
from toolloom.llm.endpoints import _http  # noqa: E402


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
