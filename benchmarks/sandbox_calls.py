"""What a confined tool call costs: median per-call time through the sandbox, confined (bubblewrap
+ seccomp, a fresh process forked per call) and, for comparison, in the unsafe mode (the same
worker and fork per call, no confinement), against the 5 ms target and a fresh interpreter start.

Run: python benchmarks/sandbox_calls.py [--calls 500]
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolloom.sandbox import Sandbox  # noqa: E402
from toolloom.sandbox.confinement import confinement_problem  # noqa: E402

TARGET_S = 0.005


def per_call(unsafe: bool, calls: int) -> list[float]:
    sb = Sandbox(ROOT / "sandbox", unsafe=unsafe)
    sb.execute("demo", "add_days", {"start_date": "2026-01-01", "days": 1})  # start one worker
    times = []
    for i in range(calls):
        t = time.perf_counter()
        obs = sb.execute("demo", "add_days", {"start_date": "2026-01-01", "days": i % 365})
        times.append(time.perf_counter() - t)
        assert obs.ok, obs
    sb.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=500)
    a = ap.parse_args()
    problem = confinement_problem()
    if problem:
        print(f"this host cannot confine tool code ({problem}); only the unsafe mode is measured")
    starts = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        starts.append(time.perf_counter() - t)
    print(f"interpreter start: {statistics.median(starts) * 1000:.1f} ms (median of 5)")
    for label, unsafe in (("confined", False), ("unsafe (no confinement)", True)):
        if label == "confined" and problem:
            continue
        t = per_call(unsafe, a.calls)
        med, p90 = statistics.median(t), statistics.quantiles(t, n=10)[-1]
        print(f"{label:24s} median {med * 1000:.2f} ms, p90 {p90 * 1000:.2f} ms a call ({a.calls} calls, one worker) "
              f"= {med / TARGET_S:.2f} of the 5 ms target")


if __name__ == "__main__":
    main()
