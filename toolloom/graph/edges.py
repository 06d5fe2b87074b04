"""Edges of the API graph (ToolDial): output slot o of A -> required input i of B (A != B) when

  normalised LCS similarity of the entity names      > name_threshold        (0.83)
  cosine of the entity-name (keyword) embeddings     > keyword_threshold     (0.5)
  cosine of the slot-description embeddings          > description_threshold (0.77)

and the types are compatible. The name test is cheap and runs first over unique names only
(vectorised, in C, by rapidfuzz); only names that pass are embedded, so cost follows the number of
plausible matches rather than the square of the collection.
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from .embeddings import Embedder
from .slots import Slot, compatible, input_slots, output_slots


@dataclass(frozen=True)
class EdgeParams:
    name_threshold: float = 0.83
    keyword_threshold: float = 0.5
    description_threshold: float = 0.77
    max_edges_per_input: int = 20
    max_candidates_per_input: int = 50


def name_pairs(in_names: list[str], out_names: list[str], threshold: float) -> list[tuple[int, int, float]]:
    """(input name index, output name index, similarity) for every pair above the threshold.

    rapidfuzz's `ratio` is the normalised Indel similarity, 2*LCS/(|a|+|b|), on a 0-100 scale.
    """
    if not in_names or not out_names:
        return []
    rows = max(1, 40_000_000 // (4 * len(out_names)))  # bound the score matrix to ~40 MB at a time
    found = []
    for start in range(0, len(in_names), rows):
        block = process.cdist(in_names[start:start + rows], out_names, scorer=fuzz.ratio, score_cutoff=threshold * 100,
                              dtype=np.float32, workers=-1)
        for i, j in zip(*np.nonzero(block > threshold * 100)):
            found.append((start + int(i), int(j), float(block[i, j]) / 100))
    return found


def _words(entity: str) -> str:
    return entity.replace("_", " ")


def _description(slot: Slot, tool_descriptions: dict[str, str]) -> str:
    """The slot's own description; without one, its tool's (one text per tool, so embedded once)."""
    if slot.description:
        return f"{_words(slot.entity)}: {slot.description[:120]}"
    return tool_descriptions.get(slot.tool, "")[:120] or _words(slot.entity)


def build_edges(tools: list[dict], embedder: Embedder, params: EdgeParams = EdgeParams()) -> tuple[list[dict], dict]:
    """`tools`: dicts with name, description, parameters and returns as parsed JSON. Returns (edges, stats)."""
    t0 = time.perf_counter()
    ins = [s for t in tools for s in input_slots(t)]
    outs = [s for t in tools for s in output_slots(t)]
    descriptions = {t["name"]: t.get("description") or "" for t in tools}
    in_names = sorted({s.entity for s in ins})
    out_names = sorted({s.entity for s in outs})
    pairs = name_pairs(in_names, out_names, params.name_threshold)
    t_names = time.perf_counter()

    involved = sorted({in_names[i] for i, _, _ in pairs} | {out_names[j] for _, j, _ in pairs})
    kw = dict(zip(involved, embedder.embed([_words(n) for n in involved]))) if involved else {}
    kept = [(in_names[i], out_names[j], s, float(kw[in_names[i]] @ kw[out_names[j]])) for i, j, s in pairs]
    kept = [p for p in kept if p[3] > params.keyword_threshold]
    t_keywords = time.perf_counter()

    ins_by_name, outs_by_name = defaultdict(list), defaultdict(list)
    for k, s in enumerate(ins):
        ins_by_name[s.entity].append(k)
    for k, s in enumerate(outs):
        outs_by_name[s.entity].append(k)
    candidates: dict[int, list[tuple[int, float, float]]] = defaultdict(list)  # input slot -> (output slot, name, kw)
    for a, b, name_sim, kw_sim in kept:
        for i in ins_by_name[a]:
            for o in outs_by_name[b]:
                if outs[o].tool != ins[i].tool and compatible(outs[o].type, ins[i].type):
                    candidates[i].append((o, name_sim, kw_sim))
    for i, cands in candidates.items():  # embed descriptions only for the best few candidates of each input
        if len(cands) > params.max_candidates_per_input:
            cands.sort(key=lambda c: -(c[1] + c[2]))
            del cands[params.max_candidates_per_input:]
    slot_texts = sorted({_description(ins[i], descriptions) for i in candidates} |
                        {_description(outs[o], descriptions) for c in candidates.values() for o, _, _ in c})
    vec = dict(zip(slot_texts, embedder.embed(slot_texts))) if slot_texts else {}
    t_desc = time.perf_counter()

    edges = []
    for i, cands in candidates.items():
        dst = ins[i]
        dv = vec[_description(dst, descriptions)]
        ov = np.stack([vec[_description(outs[o], descriptions)] for o, _, _ in cands])
        desc = ov @ dv
        scored = [(c, float(d)) for c, d in zip(cands, desc) if d > params.description_threshold]
        scored.sort(key=lambda x: -(x[0][1] + x[0][2] + x[1]))
        for (o, name_sim, kw_sim), d in scored[: params.max_edges_per_input]:
            src = outs[o]
            edges.append({"src_tool": src.tool, "src_slot": src.path, "dst_tool": dst.tool, "dst_slot": dst.path,
                          "entity": dst.entity, "name_sim": round(name_sim, 4), "keyword_sim": round(kw_sim, 4),
                          "desc_sim": round(d, 4), "llm_verdict": None, "llm_reason": None})
    stats = {"tools": len(tools), "input_slots": len(ins), "output_slots": len(outs), "unique_input_names": len(in_names),
             "unique_output_names": len(out_names), "name_pairs": len(pairs), "keyword_pairs": len(kept),
             "slot_pairs": sum(len(c) for c in candidates.values()), "edges": len(edges),
             "texts_embedded": len(involved) + len(slot_texts),
             "seconds": {"names": round(t_names - t0, 3), "keywords": round(t_keywords - t_names, 3),
                         "descriptions": round(t_desc - t_keywords, 3), "total": round(time.perf_counter() - t0, 3)}}
    return edges, stats
