"""How the final answer is asked for, replayed: recorded model episodes, each cut after its last tool
result and asked for its answer again in several ways by the same GGUF model; each answer goes through
the filter's format, execution, completeness and focus checks, and the passes are counted per way.

The ways (the assistant's `answer`, agents/llm.py, asks `bare`, then `note` when that is a call again):
- `note`: the conversation and the note of prompts/simulate/answer_now.j2;
- `bare`: the conversation as it stands, ending with the tool result (the model's trained turn);
- `bare_then_note`: `bare`, and `note` where `bare` wrote a call or JSON.

  python benchmarks/answer_replay.py --home KEEP/home [--home KEEP2/home] [--limit 30] [--show]

KEEP is a `benchmarks/local_model.py --keep` folder (its pipeline is `bench`). The decoding is greedy, as
the assistant's is in pipelines/local_model.yaml, so a replay is repeatable.
"""

import argparse
import concurrent.futures as cf
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openai import OpenAI  # noqa: E402

from toolloom.agents.llm import reply_is_a_call  # noqa: E402
from toolloom.checks.focus import check_focus  # noqa: E402
from toolloom.domain import trajectory_of  # noqa: E402
from toolloom.lake.store import Store  # noqa: E402
from toolloom.llm.llamacpp_server import llamacpp_executable  # noqa: E402
from toolloom.llm.managed_server import free_port  # noqa: E402
from toolloom.prompts import render  # noqa: E402
from toolloom.spec import FilterStage, load_pipeline  # noqa: E402
from toolloom.stages.samples import check_completeness, check_execution, check_format, run_check  # noqa: E402

GGUF = Path("~/.cache/toolloom/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").expanduser()
CHECKS = (check_format, check_execution, check_completeness, check_focus)


def episodes(home: Path) -> list[tuple[dict, list[dict]]]:
    """(trajectory, the conversation up to its last tool result) for each answered episode with a result."""
    pipeline = load_pipeline(home.parent / "project" / "pipelines" / "bench.yaml")
    store = Store(home, pipeline.storage)
    version = [v for v in store.versions("bench", include_incomplete=True) if v["tables"].get("trajectories")][-1]
    out = []
    for row in store.read("bench", "trajectories", version["version"]).to_pylist():
        tools = [i for i, m in enumerate(row["messages"]) if m["role"] == "tool"]
        if row["outcome"] == "answered" and tools:
            out.append((row, [_plain(m) for m in row["messages"][: tools[-1] + 1]]))
    return out


def _plain(m: dict) -> dict:
    keep = {"role": m["role"], "content": m["content"]}
    keep.update({k: m[k] for k in ("tool_calls", "tool_call_id") if m.get(k)})
    return keep


def verdict(row: dict, answer: str) -> str:
    """'pass', or the first check's reason, for the episode with `answer` as its final answer."""
    cut = max(i for i, m in enumerate(row["messages"]) if m["role"] == "tool")
    said = {"role": "assistant", "content": answer, "tool_calls": None, "tool_call_id": None, "name": None}
    traj = trajectory_of({**row, "messages": row["messages"][: cut + 1] + [said], "final_answer": answer})
    for check in CHECKS:
        if why := run_check(check, traj, FilterStage()):
            return why[0]
    return "pass"


def serve(gguf: Path, port: int) -> subprocess.Popen:
    cmd = [*llamacpp_executable(None), "-m", str(gguf), "--port", str(port), "--alias", "m", "--jinja"]
    cmd += ["-np", "2", "-c", "12288", "-t", str(os.cpu_count() or 1)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", action="append", required=True, type=Path)
    ap.add_argument("--gguf", type=Path, default=Path(os.environ.get("TOOLLOOM_GGUF") or GGUF))
    ap.add_argument("--limit", type=int, help="episodes a home, the first ones")
    ap.add_argument("--show", action="store_true", help="print each request and answer")
    args = ap.parse_args()
    work = [(h, *e) for h in args.home for e in episodes(h)[: args.limit]]
    note = render("simulate/answer_now.j2", ROOT / "prompts")
    port = free_port()
    server, client = serve(args.gguf, port), OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="-", timeout=900)
    for _ in range(180):
        try:
            client.models.list()
            break
        except Exception:
            time.sleep(1)

    def ask(messages: list[dict]) -> str:
        c = client.chat.completions.create(model="m", messages=messages, max_tokens=512, temperature=0.0, seed=0)
        return (c.choices[0].message.content or "").strip()

    def replay(item) -> dict:
        home, row, conversation = item
        bare = ask(conversation)  # first: a prefix of the note's prompt, so the server's cache serves it
        noted = ask(conversation + [{"role": "user", "content": note}])
        offered = {t.get("function", t).get("name") for t in json.loads(row["tools_offered"] or "[]")}
        both = noted if reply_is_a_call(bare, offered) else bare
        return {"home": home.parent.name, "row": row, "note": noted, "bare": bare, "bare_then_note": both}

    tally: dict[tuple, Counter] = defaultdict(Counter)
    print(f"{len(work)} episodes from {', '.join(str(h) for h in args.home)}; model {args.gguf.name}", flush=True)
    try:
        with cf.ThreadPoolExecutor(2) as pool:
            for r in pool.map(replay, work):
                for way in ("note", "bare", "bare_then_note"):
                    tally[(r["home"], way)][v := verdict(r["row"], r[way])] += 1
                    if args.show:
                        print(f"- {r['home']} {way}: {v}\n  Q: {r['row']['messages'][1]['content'][:160]!r}")
                        print(f"  A: {r[way][:300]!r}")
    finally:
        server.terminate()
    for (home, way), c in sorted(tally.items()):
        n = sum(c.values())
        others = ", ".join(f"{k} {v}" for k, v in c.most_common() if k != "pass")
        print(f"{home:>12} {way:>15}: {c['pass']:>3} of {n} pass ({c['pass'] / n:.0%}); {others}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
