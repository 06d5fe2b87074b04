"""Cost of the store's operations: a stage commit (table + rejections + ledger in one transaction), a
read, the versions listing, against the peer they replaced (a fresh DuckDB connection per operation,
loading the DuckLake extension each time; three separate commits per stage).

    .venv/bin/python benchmarks/store_ops.py [--ops 60]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from toolloom.lake.storage import load_sql
from toolloom.lake.store import Store, Write


def _rows(n: int, tag: str) -> pa.Table:
    return pa.table({"id": [f"{tag}-{i}" for i in range(n)], "payload": ["x" * 200] * n})


def _median_ms(fn, ops: int) -> float:
    times = []
    for i in range(ops):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def fresh_connection_read(store: Store, pipeline: str, table: str, version: str) -> pa.Table:
    """The peer: what every operation did before (connect, LOAD the extension, ATTACH, query, close)."""
    con = duckdb.connect()
    try:
        con.execute(load_sql("ducklake"))
        con.execute(store.catalog.attach_sql(pipeline, read_only=True))
        t = con.execute(f"SELECT * FROM {pipeline}.{table} WHERE version = ?", [version]).arrow()
        return t.read_all() if hasattr(t, "read_all") else t
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=60)
    args = ap.parse_args()
    store = Store(Path(tempfile.mkdtemp()))
    store.write("bench", "samples", _rows(200, "warm"), version="v0", run_id="r")  # the catalog and the engine exist

    def stage_commit(i: int) -> None:
        store.commit(
            "bench",
            [
                Write("samples", _rows(200, f"s{i}")),
                Write("rejections", _rows(20, f"r{i}")),
                Write("llm_calls", _rows(50, f"c{i}")),
            ],
            version=f"v{i}",
            run_id="r",
        )

    def three_commits(i: int) -> None:
        store.write("bench", "samples", _rows(200, f"s{i}"), version=f"w{i}", run_id="r")
        store.write("bench", "rejections", _rows(20, f"r{i}"), version=f"w{i}", run_id="r")
        store.write("bench", "llm_calls", _rows(50, f"c{i}"), version=f"w{i}", run_id="r")

    commit = _median_ms(stage_commit, args.ops)
    separate = _median_ms(three_commits, args.ops)
    read = _median_ms(lambda i: store.read("bench", "samples", f"v{i % args.ops}"), args.ops)
    peer_read = _median_ms(lambda i: fresh_connection_read(store, "bench", "samples", f"v{i % args.ops}"), args.ops)
    listing = _median_ms(lambda i: store.versions("bench"), max(5, args.ops // 10))
    print(
        f"stage commit (3 tables, one transaction): {commit:.1f} ms; three separate commits {separate:.1f} ms "
        f"-> {commit / separate:.2f}x"
    )
    print(
        f"read of one version (200 rows): {read:.1f} ms; fresh connection per read {peer_read:.1f} ms -> "
        f"{read / peer_read:.2f}x"
    )
    print(f"versions listing ({2 * args.ops + 1} versions, 3 tables): {listing:.1f} ms")


if __name__ == "__main__":
    main()
