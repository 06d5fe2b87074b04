"""What shards and the shared endpoint limit do where a model endpoint's latency is the bound (run through
`benchmarks/scale_out.py --latency-bound`). Prints throughput and ratios; asserts nothing."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import make_project  # noqa: E402
from toolloom.llm.fake_server import FakeServer  # noqa: E402

CLIENT = ROOT / "tests" / "cases" / "slot_client.py"
STAGES = {
    "tasks": {"per_tool": 3, "multi_hop": 30, "parallel": 6, "nested": 6, "seed": 3},
    "filter": {"checks": ["format", "execution", "dedup"]},
    "export": {"root": "exports", "formats": ["openai"]},
}


def _pipeline(url: str, limit: int, shards: int) -> str:
    return yaml.safe_dump(
        {
            "collections": [{"name": "demo", "path": "api_graphs/demo"}],
            "models": {"default": {"provider": "openai", "model": "fake", "base_url": url, "max_concurrency": limit}},
            "stages": STAGES,
            "execution": {"executor": "multiprocess", "max_concurrent": 8, "shards": shards},
        }
    )


def _run(project: Path, name: str, home: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "toolloom.cli", "--project", str(project), "--home", str(home), "run", name],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def shards_table(tmp: Path, latency: float) -> None:
    print(f"the demo pipeline (more tasks), every role a fake endpoint answering after {latency} s, multiprocess:")
    print(f"  {'endpoint limit':<15} {'shards':>6} {'requests':>9} {'wall s':>8} {'req/s':>7} {'vs 1 shard':>10} peak")
    for limit in (16, 256):
        base = None
        for shards in (1, 2, 4):
            with FakeServer(latency_s=latency) as server:
                name = f"l{limit}s{shards}"
                project = make_project(tmp / name, {name: _pipeline(server.base_url, limit, shards)})
                wall = _run(project, name, tmp / f"home-{name}")  # a fresh home: no cached answers
                sent, peak = len(server.model.history), server.peak_in_flight
            rate = sent / wall
            base = base or rate
            print(f"  {limit:<15} {shards:>6} {sent:>9} {wall:>8.1f} {rate:>7.1f} {rate / base:>9.2f}x {peak:>4}")


def shared_limit(tmp: Path, latency: float, rounds: int = 3, total: int = 192) -> None:
    """Four processes through one file-locked limit of 8 against one process with the same limit."""

    def once(processes: int, each: int, tag: str) -> float:
        go = tmp / f"go-{tag}"
        procs = [
            subprocess.Popen(
                [sys.executable, str(CLIENT), server.base_url, str(each), "8", "file", str(tmp / f"slots-{tag}")]
                + [str(tmp / f"c-{tag}-{i}.sqlite"), f"{tag}-{i}", str(go)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(processes)
        ]
        while len(list(tmp.glob(f"go-{tag}.*.ready"))) < processes:
            time.sleep(0.02)
        go.touch()
        # each process times its own requests from the moment it saw the start: the slowest is the wall
        return max(float(p.communicate()[0].split()[-1]) for p in procs)

    with FakeServer(latency_s=latency) as server:
        one = statistics.median(once(1, total, f"one{r}") for r in range(rounds))
        server.peak_in_flight = 0
        four = statistics.median(once(4, total // 4, f"four{r}") for r in range(rounds))
        peak = server.peak_in_flight
    ideal = total / 8 * latency
    print(f"{total} requests at {latency} s each through one limit of 8 (ideal {ideal:.1f} s), median of {rounds}:")
    print(f"  one process         {one:6.2f} s  {total / one:6.1f} req/s")
    print(
        f"  four processes      {four:6.2f} s  {total / four:6.1f} req/s  {one / four:5.2f}x one process, peak {peak}"
    )


def latency_bound(latency: float, only_limit: bool = False) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="toolloom-latency-bench-"))
    shared_limit(tmp, 0.2)
    if not only_limit:
        shards_table(tmp, latency)
