"""A small local model in every role, measured: what a pipeline costs and yields on this machine's CPU.

Runs a pipeline with `provider: llamacpp` (toolloom starts llama.cpp's server for the GGUF file) in a
throwaway project and home, then reads its tables and prints:
- requests sent, prompt and generated tokens, the share of prompt tokens the server's prompt cache
  served, generated tokens a second (over the model stages' wall time), per role;
- examples accepted (and exported: placeholders excluded) and accepted examples an hour; the requests
  that are the plain wording because the model's was refused twice, and the exported examples among them;
- rejection reasons by stage, the episodes whose tool call could not be read, and the share of
  assistant turns with calls whose calls were read from text;
- the accepted examples in full, written to a markdown file for the hand read.

  python benchmarks/local_model.py                                   # pipelines/local_model.yaml
  python benchmarks/local_model.py --gguf ~/.cache/toolloom/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
  python benchmarks/local_model.py --collection tmdb --tools 16      # RestBench TMDB, simulated by the model
  python benchmarks/local_model.py --collection shipped --per-tool 3 # every collection, 3 single-call tasks a tool
  python benchmarks/local_model.py --collection tmdb --cache KEPT/home/llm_cache.sqlite  # a replay of a kept run

The GGUF comes from `--gguf`, else $TOOLLOOM_GGUF, else the 0.5B file ../shared/models/small_model.sh writes.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolloom.spec import load_pipeline  # noqa: E402
from toolloom.lake.store import Store  # noqa: E402
from toolloom.stages.episodes import PLAIN_ANSWER, PLAIN_FALLBACK  # noqa: E402
from toolloom.agents.refusals import NORMALISED  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
SIMULATED = {"tmdb": "restbench/tmdb_oas.json", "spotify": "restbench/spotify_oas.json"}


def project(tmp: Path, args) -> str:
    """A throwaway project: the shipped prompts, sandbox and collections, and the pipeline to run."""
    for name in ("prompts", "sandbox", "api_graphs"):
        (tmp / name).symlink_to(ROOT / name)
    spec = yaml.safe_load((ROOT / "pipelines" / "local_model.yaml").read_text())
    if args.collection == "demo":  # the demo tools alone ("shipped": every collection of local_model.yaml)
        spec["collections"] = [c for c in spec["collections"] if c["name"] == "demo"]
    if args.collection in SIMULATED:  # a real collection, every call answered by the model simulator
        doc = json.loads((CORPORA / SIMULATED[args.collection]).read_text())
        if args.tools:  # the spec's first operations only: a run that fits the hour
            doc["paths"] = dict(list(doc["paths"].items())[: args.tools])
        (tmp / f"{args.collection}.json").write_text(json.dumps(doc))
        spec["collections"] = [{"name": args.collection, "path": f"{args.collection}.json", "executor": "simulated"}]
        spec["stages"]["tasks"].update(per_tool=1, multi_hop=args.chains, parallel=0)
        spec["description"] = f"RestBench {args.collection} simulated by a small local model"
    if args.per_tool is not None:
        spec["stages"]["tasks"]["per_tool"] = args.per_tool
    if args.gguf:
        for role in spec["models"].values():
            role["model"] = str(Path(args.gguf).expanduser())
    (tmp / "pipelines").mkdir()
    (tmp / "pipelines" / "bench.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return "bench"


def read(store: Store, table: str, version: str) -> list[dict]:
    try:
        return store.read("bench", table, version).to_pylist()
    except Exception:  # an optional stage that did not run
        return []


def report(home: Path, wall_s: float, out: Path) -> dict:
    pipeline = load_pipeline(home.parent / "project" / "pipelines" / "bench.yaml")
    store = Store(home, pipeline.storage)
    version = [v for v in store.versions("bench", include_incomplete=True) if v["tables"].get("trajectories")][-1][
        "version"
    ]  # complete or not: a run whose samples were empty still has its episodes
    calls = [c for c in read(store, "llm_calls", version) if not c["cache_hit"] and c["stage"] != "preflight"]
    trajs = read(store, "trajectories", version)
    samples = read(store, "samples", version)
    rejections = read(store, "rejections", version)
    model_s = sum(c["latency_ms"] for c in calls) / 1000
    prompt = sum(c["prompt_tokens"] for c in calls)
    by_role = Counter()
    for c in calls:
        by_role[c["role"]] += 1
    turns = [m for t in trajs for m in t["messages"] if m["role"] == "assistant" and m.get("tool_calls")]
    text_calls = sum(1 for t in trajs for c in json.loads(t["calls"]) if c.get("call_source") == "text")
    unreadable = sum(1 for t in trajs if t["outcome"] == "unreadable_tool_call")
    exported = [s for s in samples if s["content"] != "placeholder"]
    by_traj = {t["traj_id"]: t for t in trajs}
    figures = {
        "requests_sent": len(calls),
        "by_role": dict(by_role),
        "errors": sum(c["status"] != "ok" for c in calls),
        "prompt_tokens": prompt,
        "generated_tokens": sum(c["completion_tokens"] for c in calls),
        "cached_prompt_share": round(sum(c["cached_prompt_tokens"] for c in calls) / max(prompt, 1), 3),
        "wall_s": round(wall_s, 1),
        "model_request_s": round(model_s, 1),
        "generated_tokens_per_s": round(sum(c["completion_tokens"] for c in calls) / max(wall_s, 1e-9), 2),
        "episodes": len(trajs),
        "outcomes": dict(Counter(t["outcome"] for t in trajs)),
        "assistant_turns_with_calls": len(turns),
        "calls_read_from_text": text_calls,
        "unreadable_tool_call_episodes": unreadable,
        # calls refused with the API's 400 before they counted (a made-up parameter), then corrected (agents/refusals)
        "calls_corrected_after_a_400": sum(
            1
            for t in trajs
            for c in json.loads(t["calls"])
            for d in c.get("dropped") or []
            if d.startswith("refused before it was made")
        ),
        # a number written as a string, a schema as the arguments of a tool without any: read as meant (refusals)
        "calls_read_as_meant": sum(
            1 for t in trajs for c in json.loads(t["calls"]) for d in c.get("dropped") or [] if d.startswith(NORMALISED)
        ),
        "answers_asked_for": sum(bool(t.get("answer_asked")) for t in trajs),
        "answers_asked_again_and_mended": sum(bool(t.get("answer_repaired")) for t in trajs),
        "unreadable_share": round(unreadable / max(len(turns) + unreadable, 1), 3),
        "requests_in_plain_wording": sum(t["user_agent"] == PLAIN_FALLBACK for t in trajs),
        "answers_in_plain_wording": sum(t["assistant_agent"].endswith(PLAIN_ANSWER) for t in trajs),
        "accepted": len(samples),
        "exported": len(exported),
        # exported examples whose request is the plain wording (the model's was refused twice), by id
        "exported_in_plain_wording": [
            s["sample_id"] for s in exported if by_traj[s["traj_id"]]["user_agent"] == PLAIN_FALLBACK
        ],
        # exported examples whose final answer is the plain one composed from the results, by id
        "exported_with_plain_answers": [
            s["sample_id"] for s in exported if by_traj[s["traj_id"]]["assistant_agent"].endswith(PLAIN_ANSWER)
        ],
        "accepted_per_hour": round(len(exported) / (wall_s / 3600), 1),
        "rejections": dict(Counter(f"{r['stage']}:{r['checker']}:{r['reason']}" for r in rejections).most_common()),
    }
    lines = [f"# accepted examples ({len(exported)})", ""]
    for s in exported:
        t = by_traj[s["traj_id"]]
        lines += [f"## {s['sample_id']} ({t['kind']}, {t['shape']}, {s['execution']})", ""]
        for m in t["messages"]:
            if m["role"] == "system":
                continue
            calls_text = " ".join(
                f"[call {c['function']['name']}({c['function']['arguments']})]" for c in m.get("tool_calls") or []
            )
            lines.append(f"- **{m['role']}**: {m.get('content') or ''} {calls_text}".rstrip())
        lines.append("")
    out.write_text("\n".join(lines), encoding="utf-8")
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gguf", default=os.environ.get("TOOLLOOM_GGUF"), help="the GGUF model file")
    ap.add_argument("--collection", choices=["demo", "shipped", *SIMULATED], default="demo")
    ap.add_argument("--tools", type=int, default=16, help="with a RestBench collection: its first N paths")
    ap.add_argument("--chains", type=int, default=4, help="with a RestBench collection: multi-hop chains")
    ap.add_argument("--per-tool", type=int, default=None, help="single-call tasks a tool (default: the pipeline's)")
    ap.add_argument("--out", default="local_model_examples.md", help="where the accepted examples are written")
    ap.add_argument(
        "--cache",
        default=None,
        help="a replay: start from this llm_cache.sqlite (a kept run's home); requests it holds are not sent, so the "
        "wall time and the rate an hour are not the model's",
    )
    ap.add_argument(
        "--keep",
        default=None,
        help="folder for the project and home (kept, to query afterwards); default: a temporary one, removed",
    )
    args = ap.parse_args()
    # a stop (SIGTERM) ends the run too: subprocess.run kills its child on the exit this raises, and the child's
    # watchdog then stops the llama.cpp host (without it the run went on, restarting a host that was killed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="toolloom-local-model-") as tmp:
        tmp = Path(args.keep or tmp)
        (tmp / "project").mkdir(parents=True)
        if args.cache:
            (tmp / "home").mkdir()
            shutil.copyfile(args.cache, tmp / "home" / "llm_cache.sqlite")
        name = project(tmp / "project", args)
        started = time.monotonic()
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "toolloom.cli",
                "--project",
                str(tmp / "project"),
                "--home",
                str(tmp / "home"),
                "run",
                name,
            ],
            text=True,
            capture_output=True,
        )
        wall = time.monotonic() - started
        print(run.stderr[-3000:], file=sys.stderr)
        if run.returncode not in (0, 1):  # 1: a check failed (no samples, say); the tables are still read
            print(f"toolloom run exited {run.returncode}", file=sys.stderr)
        try:
            figures = report(tmp / "home", wall, Path(args.out))
        except Exception as e:  # a run that stopped before samples
            print(f"no report: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    for k, v in figures.items():
        print(f"{k}: {v}")
    print(f"examples for the hand read: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
