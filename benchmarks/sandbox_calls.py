"""What a confined tool call costs: median per-call time through the sandbox, confined (bubblewrap
+ seccomp, a fresh process forked per call) and, for comparison, in the unsafe mode (the same
worker and fork per call, no confinement), against the 5 ms target and a fresh interpreter start.
Then a collection that imports numpy and pandas (tests/cases/sandbox_root/heavy) against a light tool
of the same collection: the worker loads the libraries once, so the ratio should stay under 2.

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


def heavy_against_light(calls: int) -> tuple[float, float]:
    """Median seconds a call of a numpy/pandas tool and of a light tool, in one confined collection."""
    sb = Sandbox(ROOT / "tests" / "cases" / "sandbox_root")
    sb.execute("heavy", "light", {"x": 0})  # start the worker (it loads numpy and pandas once)
    out = []
    for tool, args in (("table_sum", {"values": [1, 2, 3]}), ("light", {"x": 1})):
        times = []
        for _ in range(calls):
            t = time.perf_counter()
            obs = sb.execute("heavy", tool, args)
            times.append(time.perf_counter() - t)
            assert obs.ok, obs
        out.append(statistics.median(times))
    sb.close()
    return out[0], out[1]


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
    confined_median = None
    for label, unsafe in (("confined", False), ("unsafe (no confinement)", True)):
        if label == "confined" and problem:
            continue
        t = per_call(unsafe, a.calls)
        med, p90 = statistics.median(t), statistics.quantiles(t, n=10)[-1]
        confined_median = med if label == "confined" else confined_median
        print(
            f"{label:24s} median {med * 1000:.2f} ms, p90 {p90 * 1000:.2f} ms a call ({a.calls} calls, one worker) "
            f"= {med / TARGET_S:.2f} of the 5 ms target"
        )
    heavy_report(min(a.calls, 100), confined_median)


def heavy_report(calls: int, demo_light: float | None = None) -> None:
    heavy, light = heavy_against_light(calls)
    print(
        f"numpy/pandas tool median {heavy * 1000:.1f} ms, light tool {light * 1000:.1f} ms a call ({calls} calls "
        f"each) = {heavy / light:.2f}x the light tool of its collection (limit 2x)"
    )
    if demo_light:  # a light tool in a collection that loads nothing: the fork of a smaller worker
        print(f"  = {heavy / demo_light:.2f}x the demo's light tool confined (limit 2x)")


if __name__ == "__main__":
    main()
