"""Progressive difficulty with a model as the frontier agent: per level, what the frontier solved, the
escalations tried, dropped (and why) and kept, and the operators that made the kept levels.

Runs a pipeline in a throwaway project and home: the collection's tasks, then escalation with
`provider: llamacpp` (toolloom starts llama.cpp's server for the GGUF file) in the frontier role (its
verifier too), every other role offline. Prints the per-level table (`reports/escalation_report.py`,
the same the dataset card shows), the frontier's requests and tokens, and the kept levels' requests.

  python benchmarks/escalation.py --collection demo --seeds 30
  python benchmarks/escalation.py --collection tmdb --seeds 30      # RestBench TMDB, simulated offline
  python benchmarks/escalation.py --collection shipped              # demo tools, an MCP server, a live HTTP service
  python benchmarks/escalation.py --collection rapidapi --apis 242  # a RapidAPI slice (a sparse graph), simulated
  python benchmarks/escalation.py --offline                          # the BM25 assistant as the frontier
  python benchmarks/escalation.py --structural-only                  # the model does not verify its own levels

The GGUF comes from `--gguf`, else $TOOLLOOM_GGUF, else the 0.5B file ../shared/models/small_model.sh writes.
"""

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolloom.lake.store import Store  # noqa: E402
from toolloom.reports.escalation_report import ladder_table  # noqa: E402
from toolloom.spec import load_pipeline  # noqa: E402
from toolloom.stage_settings import BUILTIN_OPERATORS  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
COLLECTIONS = {
    "demo": {"name": "demo", "path": "api_graphs/demo"},
    "tmdb": {"name": "tmdb", "path": str(CORPORA / "restbench" / "tmdb_oas.json"), "executor": "simulated"},
    "spotify": {"name": "spotify", "path": str(CORPORA / "restbench" / "spotify_oas.json"), "executor": "simulated"},
    "rapidapi": {"name": "rapidapi", "path": "rapidapi.jsonl", "executor": "simulated"},  # a slice, in the project
}
DEFAULT_GGUF = "~/.cache/toolloom/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


def shipped() -> list[dict]:
    """What a fresh clone reaches: the demo tools, a real MCP server and a live Jupyter Server (local_model.yaml)."""
    return yaml.safe_load((ROOT / "pipelines" / "local_model.yaml").read_text())["collections"]


def local_model(gguf: str | None) -> dict:
    """A role's settings for the GGUF file served by llama.cpp on this machine's CPU."""
    return {
        "provider": "llamacpp",
        "model": str(Path(gguf or DEFAULT_GGUF).expanduser()),
        "max_tokens": 384,
        "temperature": 0.0,
        "llamacpp": {"slots": 2, "ctx_per_slot": 6144},
    }


def pipeline_spec(args) -> dict:
    frontier = {"provider": "offline"} if args.offline else local_model(args.gguf)
    return {
        "description": f"progressive difficulty on {args.collection} with a model frontier",
        "collections": shipped() if args.collection == "shipped" else [COLLECTIONS[args.collection]],
        "models": {"default": {"provider": "offline"}, "frontier": frontier},
        "stages": {
            "tasks": {"per_tool": 1, "multi_hop": args.chains, "parallel": 0, "nested": 0, "seed": 7},
            "escalate": {
                "max_level": args.max_level,
                "seeds": args.seeds,
                "seed": 7,
                "distractors": 2,
                "max_turns": 4,
                "operators": {op: 1.0 for op in BUILTIN_OPERATORS},
                "frontier_verifies": not args.structural_only,
            },
            "simulate": {"max_turns": 4, "distractors": 2},
            "filter": {"checks": ["format", "execution", "dedup"]},
            "export": {"formats": ["openai"]},
        },
    }


def project(tmp: Path, args) -> None:
    for name in ("prompts", "sandbox", "api_graphs"):
        (tmp / name).symlink_to(ROOT / name)
    if args.collection == "rapidapi":  # the corpus's first APIs: each line is one API with its endpoints
        with gzip.open(CORPORA / "rapidapi" / "tools_sample.jsonl.gz", "rt") as f:
            (tmp / "rapidapi.jsonl").write_text("".join(line for _, line in zip(range(args.apis), f)))
    (tmp / "pipelines").mkdir()
    (tmp / "pipelines" / "bench.yaml").write_text(yaml.safe_dump(pipeline_spec(args), sort_keys=False))


def report(home: Path, wall_s: float) -> None:
    pipeline = load_pipeline(home.parent / "project" / "pipelines" / "bench.yaml")
    store = Store(home, pipeline.storage)
    version = [v for v in store.versions("bench", include_incomplete=True) if v["tables"].get("escalations")][-1]
    rows = store.read("bench", "escalations", version["version"]).to_pylist()
    calls = store.read("bench", "llm_calls", version["version"]).to_pylist()
    sent = [c for c in calls if not c["cache_hit"] and c["stage"] == "escalate"]
    header, body = ladder_table(rows)
    print(f"frontier: {rows[0]['frontier'] if rows else '-'}; seeds: {len({r['seed_id'] for r in rows})}")
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for line in body:
        print("| " + " | ".join(str(c) for c in line) + " |")
    prompt, generated = sum(c["prompt_tokens"] for c in sent), sum(c["completion_tokens"] for c in sent)
    print(
        f"wall {wall_s:.0f} s; frontier requests {len(sent)} ({dict(Counter(c['role'] for c in sent))}), "
        f"prompt tokens {prompt}, generated {generated}, errors {sum(c['status'] != 'ok' for c in sent)}"
    )
    failed_seed = Counter(r["reason"] for r in rows if r["level"] == 0 and r["outcome"] == "failed")
    print(f"why the frontier failed seeds: {dict(failed_seed)}")
    print("kept levels:")
    for r in rows:
        if r["kept"]:
            print(f"  L{r['level']} {r['operator']}: {r['question']}  [{r['reason']}]")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gguf", default=os.environ.get("TOOLLOOM_GGUF"), help="the frontier's GGUF model file")
    ap.add_argument("--offline", action="store_true", help="the offline BM25 assistant as the frontier")
    ap.add_argument("--collection", choices=[*sorted(COLLECTIONS), "shipped"], default="demo")
    ap.add_argument("--seeds", type=int, default=30, help="seed tasks escalated")
    ap.add_argument("--chains", type=int, default=20, help="multi-hop tasks sampled beside one task per tool")
    ap.add_argument("--max-level", type=int, default=3)
    ap.add_argument("--apis", type=int, default=242, help="with --collection rapidapi: the corpus's first N APIs")
    ap.add_argument(
        "--structural-only", action="store_true", help="levels verified by the executed checks alone, not the frontier"
    )
    ap.add_argument(
        "--keep", default=None, help="folder for the project and home (kept; an existing home is reused, its cache too)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="toolloom-escalation-") as tmp:
        tmp = Path(args.keep or tmp)
        shutil.rmtree(tmp / "project", ignore_errors=True)  # a kept home is reused: its request cache answers again
        (tmp / "project").mkdir(parents=True)
        project(tmp / "project", args)
        started = time.monotonic()
        cmd = [sys.executable, "-m", "toolloom.cli", "--project", str(tmp / "project"), "--home", str(tmp / "home")]
        run = subprocess.run([*cmd, "run", "bench"], text=True, capture_output=True)
        wall = time.monotonic() - started
        print(run.stderr[-2000:], file=sys.stderr)
        try:
            report(tmp / "home", wall)
        except Exception as e:  # a run that stopped before escalation
            print(f"no report: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
