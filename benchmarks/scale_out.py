"""Scale-out: the catalog's cost per commit (DuckDB file vs PostgreSQL, attached per operation or held for a
stage) and the same pipeline run in one process vs a process per step (Dagster's multiprocess executor), with
its simulation in one asset or two shards.

Starts its own PostgreSQL server (Debian's binaries, as the tests do) and moto's S3 server; prints medians
and ratios, asserts nothing.

    .venv/bin/python benchmarks/scale_out.py [--commits 40] [--pipeline-runs 1]
    .venv/bin/python benchmarks/scale_out.py --latency-bound [--latency 0.5]

`--latency-bound` instead measures what shards buy where the bound is a model endpoint's latency: the same
pipeline with a fake endpoint answering after `--latency` seconds in every role, 1, 2 and 4 shards, at an
endpoint limit that one process fills (16) and one it cannot (256); and the shared endpoint limit itself:
four processes sending through one limit of 8 against one process at the same limit.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import SMALL, make_project  # noqa: E402
from tests.scale_services import create_bucket, create_database, postgres_server, s3_server  # noqa: E402
from toolloom.lake.storage import StorageSpec  # noqa: E402
from toolloom.lake.store import Store, Write  # noqa: E402


def _rows(n: int, tag: str) -> pa.Table:
    return pa.table({"id": [f"{tag}-{i}" for i in range(n)], "payload": ["x" * 200] * n})


def commit_ms(store: Store, commits: int, *, held: bool) -> float:
    """Median milliseconds of one stage commit (3 tables in one transaction)."""
    store.write("bench", "samples", _rows(200, "warm"), version="v0", run_id="r")
    times = []
    with store.session("bench") if held else contextlib.nullcontext():
        for i in range(commits):
            t = time.perf_counter()
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
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def run_s(project: Path, pipeline: str, home: Path, env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "toolloom.cli", "--project", str(project), "--home", str(home), "run", pipeline],
        check=True,
        capture_output=True,
        env={**os.environ, **env},
    )
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=40)
    ap.add_argument("--pipeline-runs", type=int, default=1)
    ap.add_argument("--latency-bound", action="store_true")
    ap.add_argument("--latency", type=float, default=0.5)
    args = ap.parse_args()
    if args.latency_bound:
        from benchmarks.latency_bound import latency_bound

        return latency_bound(args.latency)
    tmp = Path(tempfile.mkdtemp(prefix="toolloom-scale-bench-"))
    os.chmod(tmp, 0o755)
    with postgres_server(tmp / "pg") as server, s3_server() as endpoint:
        s3_env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_ENDPOINT_URL": endpoint}
        os.environ.update(s3_env)
        create_bucket(endpoint, "bench")
        file_ms = commit_ms(Store(tmp / "file"), args.commits, held=False)
        rows = {"file catalog, local files": file_ms}
        for label, held in (
            ("postgres catalog, local files, attached per operation", False),
            ("postgres catalog, local files, held for the stage", True),
        ):
            spec = StorageSpec(catalog=create_database(server, f"c{int(held)}"), data_path=str(tmp / f"d{held}"))
            rows[label] = commit_ms(Store(tmp / f"h{held}", spec), args.commits, held=held)
        spec = StorageSpec(catalog=create_database(server, "s3"), data_path="s3://bench/lake")
        rows["postgres catalog, files on S3 (moto), held"] = commit_ms(
            Store(tmp / "hs3", spec), args.commits, held=True
        )
        print(f"catalog cost per stage commit (3 tables, 270 rows; median of {args.commits}):")
        for label, ms in rows.items():
            print(f"  {label:<58} {ms:7.1f} ms  {ms / file_ms:5.2f}x the file catalog")

        mp = SMALL + "execution: {executor: multiprocess, max_concurrent: 4}\n"
        sharded = SMALL + "execution: {executor: multiprocess, max_concurrent: 4, shards: 2}\n"
        project = make_project(tmp / "project", {"inproc": SMALL, "multi": mp, "sharded": sharded})
        scaled_env = {
            **s3_env,
            "TOOLLOOM_CATALOG": create_database(server, "runs"),
            "TOOLLOOM_DATA_PATH": "s3://bench/runs",
        }
        timings = {
            "in-process, file catalog": [],
            "multiprocess, file catalog": [],
            "multiprocess, postgres + S3": [],
            "multiprocess, 2 shards, postgres + S3": [],
        }
        for i in range(args.pipeline_runs):  # a fresh home each time: no request cache or embeddings reused
            timings["in-process, file catalog"].append(run_s(project, "inproc", tmp / f"a{i}", {}))
            timings["multiprocess, file catalog"].append(run_s(project, "multi", tmp / f"b{i}", {}))
            timings["multiprocess, postgres + S3"].append(run_s(project, "multi", tmp / f"c{i}", scaled_env))
            timings["multiprocess, 2 shards, postgres + S3"].append(
                run_s(project, "sharded", tmp / f"d{i}", scaled_env)
            )
        base = statistics.median(timings["in-process, file catalog"])
        print(
            f"the same pipeline (tests' SMALL: 31 tools, ~40 tasks, offline models), wall clock, "
            f"median of {args.pipeline_runs}:"
        )
        for label, ts in timings.items():
            print(f"  {label:<58} {statistics.median(ts):7.1f} s   {statistics.median(ts) / base:5.2f}x in-process")


if __name__ == "__main__":
    main()
