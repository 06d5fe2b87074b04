"""DRAFT measured as DRAFT measured it: the same model answers held-out tasks with the original and with
the refined documentation, and the share of correct calls is compared.

1. A pipeline run in a throwaway project refines the documentation of the collection's tools by
   exploration (`stages.refine`, `use_failures: false`, so no task's episode is evidence: every task is
   held out), with the `--gguf` model in the explorer, analyzer and rewriter roles (`--offline-refine`:
   the offline ones). Simulation there is offline.
2. For each task whose tools were all refined (and changed), the same model (the assistant role, llama.cpp)
   answers the task's request twice, with the same offer of tools (the needed ones and the same
   distractors, chosen on the original documentation), the same seed and the same question; only the
   descriptions differ: the source's, then the refined ones.
3. A try is correct when its calls are schema-valid, name offered tools, reach the executed reference
   results and the answer states them (the filter's format and execution checks). Printed per arm:
   correct share, schema-valid calls, right first tool, and the tasks one arm got right and the other not.

  python benchmarks/draft_docs.py --collection demo --tools 8
  python benchmarks/draft_docs.py --collection tmdb --tools 10 --offline-refine
  python benchmarks/draft_docs.py --offline-refine --offline-answer          # no model at all

The GGUF comes from `--gguf`, else $TOOLLOOM_GGUF, else the 0.5B file ../shared/models/small_model.sh writes.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from escalation import COLLECTIONS, local_model  # noqa: E402  (benchmarks/escalation.py)
from toolloom.agents.offline import TemplateUser  # noqa: E402
from toolloom.checks.arguments import argument_errors  # noqa: E402
from toolloom.domain import Task, tools_of, wording_meta  # noqa: E402
from toolloom.export.rows import with_docs  # noqa: E402
from toolloom.graph.chains import ChainGraph  # noqa: E402
from toolloom.llm import run_async  # noqa: E402
from toolloom.prompts import render  # noqa: E402
from toolloom.runtime import Runtime  # noqa: E402
from toolloom.spec import load_pipeline  # noqa: E402
from toolloom.stages.episodes import Distractors, run_episode  # noqa: E402
from toolloom.stages.escalation_ladder import QuestionUser, chain_steps, missed_reference  # noqa: E402


def pipeline_spec(args, assistant_model: bool) -> dict:
    local = local_model(args.gguf)
    models = {"default": {"provider": "offline"}}
    if not args.offline_refine:
        models.update(explorer=local, analyzer=local, rewriter=local)
    if assistant_model and not args.offline_answer:
        models["assistant"] = local
    return {
        "description": f"DRAFT: original against refined documentation on {args.collection}",
        "collections": [COLLECTIONS[args.collection]],
        "models": models,
        "stages": {
            "tasks": {"per_tool": 1, "multi_hop": args.chains, "parallel": 0, "nested": 0, "seed": 11},
            "refine": {"max_rounds": args.rounds, "max_tools": args.tools, "use_failures": False},
            "simulate": {"max_turns": 4, "distractors": 2},
            "filter": {"checks": ["format", "execution", "dedup"]},
            "export": {"formats": ["openai"]},
        },
    }


def refine(tmp: Path, args) -> str:
    """Run the refining pipeline; the version it wrote."""
    project = tmp / "project"
    for name in ("prompts", "sandbox", "api_graphs"):
        (project / name).symlink_to(ROOT / name)
    (project / "pipelines").mkdir()
    for name, model in (("bench", False), ("answer", True)):
        text = yaml.safe_dump(pipeline_spec(args, model), sort_keys=False)
        (project / "pipelines" / f"{name}.yaml").write_text(text)
    cmd = [sys.executable, "-m", "toolloom.cli", "--project", str(project), "--home", str(tmp / "home"), "run", "bench"]
    run = subprocess.run(cmd, text=True, capture_output=True)
    print(run.stderr[-1500:], file=sys.stderr)
    return run.returncode


def correct(ep: dict, steps, offered: list[dict]) -> tuple[bool, int, int, bool]:
    """(reached the reference, calls made, schema-valid calls, first call named the reference's first tool)."""
    ok = ep["outcome"] == "answered" and not missed_reference(ep, steps, offered)
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in offered}
    valid = sum(
        c["name"] in schemas and not argument_errors(schemas[c["name"]], json.loads(c["arguments"] or "{}"))
        for c in ep["calls"]
    )
    first = bool(ep["calls"]) and ep["calls"][0]["name"] == steps[0].name
    return ok, len(ep["calls"]), valid, first


async def compare(rt: Runtime, version: str, limit: int) -> dict:
    store, p = rt.store, "bench"
    tools = store.read(p, "tools", version)
    rows = tools_of(tools)
    by_id = {t["tool_id"]: t for t in rows}
    refined = {
        r["name"]: r["text"]
        for r in store.read(p, "doc_revisions", version).to_pylist()
        if r["final"] and r["text"].strip() != by_id[r["tool_id"]]["description"].strip()
    }
    executor = rt.executor(rows)
    graph = ChainGraph([{**t, "examples": []} for t in rows], [], executor)
    assistant, distractors = rt.agent("assistant"), Distractors(rows)
    system = render("simulate/assistant_system.j2", rt.prompts_root, today=None)
    tasks = [
        t
        for t in store.read(p, "tasks", version).to_pylist()
        if all(s["name"] in refined for s in json.loads(t["chain"]))
    ][:limit]
    arms = {"original": [], "refined": []}
    for t in tasks:
        steps, error = await graph.execute(chain_steps(t["chain"], by_id))
        if steps is None:
            continue
        meta = {s.tool_id: wording_meta(by_id[s.tool_id]) for s in steps}
        task = Task(t["task_id"], t["shape"], [s.planned() for s in steps], t["seed"], meta)
        question = await TemplateUser().instruction(task)
        needed = list({s.tool_id: by_id[s.tool_id] for s in steps}.values())
        offered = distractors.offer(needed, 2)
        for arm, docs in (("original", {}), ("refined", refined)):
            shown = json.loads(with_docs(json.dumps(offered), docs))
            ep = await run_episode(task, QuestionUser(question), assistant, executor, shown, system, 4)
            arms[arm].append((t["task_id"], *correct(ep, steps, shown)))
    return {"tasks": len(arms["original"]), "refined_tools": len(refined), **arms}


def summary(result: dict) -> None:
    print(f"held-out tasks: {result['tasks']}; tools with refined documentation: {result['refined_tools']}")
    print("| documentation | correct | schema-valid calls | right first tool |\n|---|---|---|---|")
    for arm in ("original", "refined"):
        rows = result[arm]
        calls, valid = sum(r[2] for r in rows), sum(r[3] for r in rows)
        print(
            f"| {arm} | {sum(r[1] for r in rows)}/{len(rows)} ({sum(r[1] for r in rows) / max(len(rows), 1):.0%}) "
            f"| {valid}/{calls} | {sum(r[4] for r in rows)}/{len(rows)} |"
        )
    only = {
        arm: [a[0] for a, b in zip(result[arm], result[other]) if a[1] and not b[1]]
        for arm, other in (("original", "refined"), ("refined", "original"))
    }
    print(f"right only with the original: {only['original']}\nright only with the refined: {only['refined']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gguf", default=os.environ.get("TOOLLOOM_GGUF"), help="the model's GGUF file")
    ap.add_argument("--collection", choices=["demo", "tmdb"], default="demo")
    ap.add_argument("--tools", type=int, default=8, help="tools refined (the collection's first N)")
    ap.add_argument("--rounds", type=int, default=3, help="refinement rounds per tool at most")
    ap.add_argument("--chains", type=int, default=10, help="multi-hop tasks sampled beside one per tool")
    ap.add_argument("--limit", type=int, default=40, help="held-out tasks answered at most")
    ap.add_argument("--offline-refine", action="store_true", help="refine with the offline explorer and rewriter")
    ap.add_argument("--offline-answer", action="store_true", help="the offline BM25 assistant answers (no model)")
    ap.add_argument("--keep", default=None, help="folder for the project and home (kept); default: temporary")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="toolloom-draft-") as tmp:
        tmp = Path(args.keep or tmp)
        (tmp / "project").mkdir(parents=True)
        if refine(tmp, args) not in (0, 1):
            return 1
        pipeline = load_pipeline(tmp / "project" / "pipelines" / "answer.yaml")
        rt = Runtime(pipeline, tmp / "project", tmp / "home")
        try:
            version = [
                v for v in rt.store.versions("bench", include_incomplete=True) if v["tables"].get("doc_revisions")
            ]
            result = run_async(compare(rt, version[-1]["version"], args.limit))
        finally:
            rt.close()
    summary(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
