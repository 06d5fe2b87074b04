"""What the leak-free split costs (toolloom.stages.splits.assign_splits): wall time and peak memory
growth for synthetic examples with template-like requests, against the near-duplicate filter of the
same stage as a peer, at sizes up to GLOBAL_LIMIT (every request pair compared, in row blocks).

Run: python benchmarks/split_leakage.py [--sizes 1000 5000 20000]
"""

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolloom.stages.quality import near_duplicates  # noqa: E402
from toolloom.stages.splits import assign_splits  # noqa: E402

TOOLS = ["get_country", "get_city", "convert_currency", "add_days", "travel_time", "search_products", "get_vat_rate"]
WORDS = "what is the capital population currency of please tell me how far from to convert in show find".split()


def example(i: int, rng: random.Random) -> dict:
    tool = rng.choice(TOOLS)
    args = {"code": f"C{rng.randrange(400)}", "n": rng.randrange(50)}
    request = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(6, 14))) + f" {args['code']} {args['n']}"
    return {
        "task_id": f"t_{i}",
        "traj_id": f"tr_{i}",
        "messages": [
            {"role": "user", "content": request},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"function": {"name": tool, "arguments": json.dumps(args)}}],
            },
        ],
    }


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    sizes = ap.parse_args().sizes
    print(
        f"{'examples':>9} {'split s':>8} {'dedup s':>8} {'ratio':>6} {'peak MB':>8} {'test share':>10} {'left out':>8}"
    )
    for n in sizes:
        rng = random.Random(n)
        rows = [example(i, rng) for i in range(n)]
        before = peak_mb()
        t = time.perf_counter()
        sides = assign_splits(rows, 0.2, 0.9)
        split_s = time.perf_counter() - t
        grown = peak_mb() - before
        t = time.perf_counter()
        near_duplicates(rows, 0.95)
        dedup_s = time.perf_counter() - t
        test, out = sides.count("test"), sides.count(None)
        print(
            f"{n:>9} {split_s:>8.2f} {dedup_s:>8.2f} {split_s / max(dedup_s, 1e-9):>6.1f} {grown:>8.0f} "
            f"{test / max(n - out, 1):>10.3f} {out:>8}"
        )


if __name__ == "__main__":
    main()
