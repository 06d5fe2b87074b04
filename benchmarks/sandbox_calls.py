"""How much a sandboxed tool call costs, against starting a fresh interpreter per call.

Prints calls per second through the reusable worker pool and the ratio to the cost of one
`python -c pass` start (the price of not reusing workers). Run: python benchmarks/sandbox_calls.py
"""
import statistics
import subprocess
import sys
import time
from pathlib import Path

from toolloom.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent


def main(calls: int = 2000) -> None:
    sb = Sandbox(ROOT / "sandbox")
    sb.execute("demo", "add_days", {"start_date": "2026-01-01", "days": 1})  # warm one worker
    t0 = time.perf_counter()
    for i in range(calls):
        obs = sb.execute("demo", "add_days", {"start_date": "2026-01-01", "days": i % 365})
        assert obs.ok
    per_call = (time.perf_counter() - t0) / calls
    starts = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        starts.append(time.perf_counter() - t)
    start = statistics.median(starts)
    sb.close()
    print(f"sandboxed call: {per_call * 1000:.3f} ms ({1 / per_call:,.0f} calls/s, one worker, {calls} calls)")
    print(f"interpreter start: {start * 1000:.1f} ms (median of 5)")
    print(f"ratio interpreter start / sandboxed call: {start / per_call:.0f}x")


if __name__ == "__main__":
    main()
