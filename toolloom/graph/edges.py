"""Edges of the API graph (ToolDial): output slot o of A -> required input i of B (A != B) when

  normalised LCS similarity of the typed entity names  > name_threshold        (0.83)
  cosine of the entity-name (keyword) embeddings       > keyword_threshold
  cosine of the slot-description embeddings            > description_threshold

and the types are compatible. Slots are typed by the entity they identify (`slots.py`, `entities.py`), so
`cast|id` of a movie's credits meets `person_id`, not `movie_id`. A generic slot (email, url, format, ...)
left unqualified joins only slots of its own API, never across services on its name alone, and an id
(`user_id`, `pet_id`) joins only its own platform: one service's user id means nothing to another's;
across platforms the typed names must be equal, not only close. A measured amount (a count of days, a
quantity) is no edge's source: a person says the amount they want. The cosine
thresholds belong to an embedder: `calibration.py` holds them per embedder, measured on gold call paths.
Each identifier input keeps its `max_edges_per_input` best sources (other inputs `max_edges_per_value`) and
each output its `max_edges_per_output` best destinations, ranked by how a conversation reaches a source
(`source_rank`), so a common entity does not join everything to everything.

The name test is cheap and runs first over unique names only (vectorised, in C, by rapidfuzz); only
names that pass are embedded, so cost follows the number of plausible matches.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from ..domain import Tool
from .embeddings import Embedder
from .entities import EntityIndex
from .names import path_nouns, same_platform, service_of
from .slots import ID_KINDS, TEXT_KINDS, Slot, compatible, input_slots, measured, nested_depth, output_slots, split_kind

SCOPED_KINDS = {"id", "uuid", "guid", "key", "slug"}  # identifiers minted by one service (codes are standards)


@dataclass(frozen=True)
class EdgeParams:
    name_threshold: float = 0.83
    keyword_threshold: float = 0.5
    description_threshold: float = 0.77
    max_edges_per_input: int = 5
    max_edges_per_value: int = 1
    max_edges_per_output: int = 20
    max_candidates_per_input: int = 50
    thresholds_from: str = "published (ToolDial's embedder)"


def name_pairs(in_names: list[str], out_names: list[str], threshold: float) -> list[tuple[int, int, float]]:
    """(input name index, output name index, similarity) for every pair above the threshold.

    rapidfuzz's `ratio` is the normalised Indel similarity, 2*LCS/(|a|+|b|), on a 0-100 scale.
    """
    if not in_names or not out_names:
        return []
    rows = max(1, 40_000_000 // (4 * len(out_names)))  # bound the score matrix to ~40 MB at a time
    found = []
    for start in range(0, len(in_names), rows):
        block = process.cdist(
            in_names[start : start + rows],
            out_names,
            scorer=fuzz.ratio,
            score_cutoff=threshold * 100,
            dtype=np.float32,
            workers=-1,
        )
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


def typed_slots(tools: list[Tool]) -> tuple[list[Slot], list[Slot]]:
    """(input slots, output slots) of a collection, typed by what the collection says about its entities."""
    typing = EntityIndex(tools)
    return [s for t in tools for s in input_slots(t, typing)], [s for t in tools for s in output_slots(t, typing)]


def same_kind(src: Slot, dst: Slot) -> bool:
    """An id fills an id, a uri a uri: `playlist_uri` is not a `playlist_id` however close the names."""
    a, b = split_kind(src.entity)[1], split_kind(dst.entity)[1]
    return a == b or a not in ID_KINDS or b not in ID_KINDS


def _cap(scored: list[tuple[int, int, float, float, float]], per_input, per_output: int, rank, source_of) -> list:
    """Keep each input's best `per_input` sources and each output's best `per_output` destinations.

    `rank(edge)` -> (tier, ...): an input takes the best source of each of the tiers 0-2 before a second of
    any, so a search does not crowd out the one hop from another entity that makes a multi-hop chain;
    tier 3 (the same entity again: similar movies) only fills what is left."""
    by_input: dict[int, list] = defaultdict(list)
    for edge in scored:
        by_input[edge[0]].append((rank(edge), -(edge[2] + edge[3] + edge[4]), edge))
    ordered = []
    for cands in by_input.values():
        cands.sort(key=lambda c: (c[0], c[1]))
        seen: dict[int, int] = defaultdict(int)
        sources = set()
        for (tier, *order), score, edge in cands:
            if source_of(edge) in sources:
                continue  # one binding per source operation (`cast|id` or `crew|id`, not both)
            sources.add(source_of(edge))
            about, depth = order
            ordered.append(((seen[tier] if tier < 3 else 99, depth, about, tier, score), edge))
            seen[tier] += 1
    ordered.sort(key=lambda x: x[0])
    fan_in: dict[int, int] = defaultdict(int)
    fan_out: dict[int, int] = defaultdict(int)
    kept = []
    for _, edge in ordered:
        i, o = edge[0], edge[1]
        if fan_in[i] < per_input(i) and fan_out[o] < per_output:
            fan_in[i] += 1
            fan_out[o] += 1
            kept.append(edge)
    return kept


def source_rank(ins: list[Slot], outs: list[Slot], nouns: dict[str, frozenset]):
    """How a conversation reaches a source of an identifier, as (tier, not about, depth): 0 a lookup by words the user
    can say (a search), 1 a call that needs no identifier (a listing, `/me`), 2 a hop from another entity
    (a person's movie credits for a `movie_id`), 3 a call that needs the same entity (similar movies);
    then sources about the entity (`/me/tracks` for a track id) before others, then the response's own
    records before ids nested in other records. `nouns`: tool -> the nouns of its path or name."""
    needs: dict[str, set] = defaultdict(set)
    takes_text = set()
    for s in ins:
        owner, kind = split_kind(s.entity)
        if kind in ID_KINDS:
            needs[s.tool].add(owner)
        elif kind in TEXT_KINDS:
            takes_text.add(s.tool)

    def rank(edge) -> tuple[int, int, int]:
        src, dst = outs[edge[1]], ins[edge[0]]
        wanted, entity = needs.get(src.tool), split_kind(dst.entity)[0]
        if wanted:
            tier = 3 if entity in wanted else 2
        else:
            tier = 0 if src.tool in takes_text else 1
        return tier, entity not in nouns[src.tool], nested_depth(src)

    return rank


def build_edges(tools: list[Tool], embedder: Embedder, params: EdgeParams = EdgeParams()) -> tuple[list[dict], dict]:
    """`tools`: dicts with name, description, parameters and returns as parsed JSON. Returns (edges, stats)."""
    t0 = time.perf_counter()
    ins, outs = typed_slots(tools)
    services = {t["name"]: service_of(t) for t in tools}
    descriptions = {t["name"]: t.get("description") or "" for t in tools}
    tool_nouns = {t["name"]: path_nouns(t) for t in tools}
    in_names = sorted({s.entity for s in ins})
    out_names = sorted({s.entity for s in outs})
    pairs = name_pairs(in_names, out_names, params.name_threshold)
    t_names = time.perf_counter()
    involved, kept = keyword_pairs(pairs, in_names, out_names, embedder, params.keyword_threshold)
    t_keywords = time.perf_counter()

    candidates, generic_dropped, scoped_dropped, measures_dropped = slot_candidates(kept, ins, outs, services, params)
    scored, slot_texts = described_pairs(candidates, ins, outs, descriptions, embedder, params.description_threshold)
    t_desc = time.perf_counter()

    def per_input(i: int) -> int:  # identifiers are what chains pass; other values (a season number) need fewer
        return params.max_edges_per_input if split_kind(ins[i].entity)[1] in ID_KINDS else params.max_edges_per_value

    capped = _cap(
        scored, per_input, params.max_edges_per_output, source_rank(ins, outs, tool_nouns), lambda e: outs[e[1]].tool
    )
    edges = [edge_row(outs[o], ins[i], name_sim, kw_sim, d) for i, o, name_sim, kw_sim, d in capped]
    counts = {
        "tools": len(tools),
        "input_slots": len(ins),
        "output_slots": len(outs),
        "unique_input_names": len(in_names),
        "unique_output_names": len(out_names),
        "name_pairs": len(pairs),
        "keyword_pairs": len(kept),
        "slot_pairs": sum(len(c) for c in candidates.values()),
        "generic_pairs_dropped": generic_dropped,
        "measure_pairs_dropped": measures_dropped,
        "other_service_id_pairs_dropped": scoped_dropped,
        "above_thresholds": len(scored),
        "edges": len(edges),
        "texts_embedded": len(involved) + len(slot_texts),
    }
    times = {
        "names": round(t_names - t0, 3),
        "keywords": round(t_keywords - t_names, 3),
        "descriptions": round(t_desc - t_keywords, 3),
        "total": round(time.perf_counter() - t0, 3),
    }
    thresholds = {
        "keyword": params.keyword_threshold,
        "description": params.description_threshold,
        "from": params.thresholds_from,
    }
    stats = {"thresholds": thresholds, **counts, "seconds": times}
    return edges, stats


def described_pairs(
    candidates: dict[int, list[tuple]],
    ins: list[Slot],
    outs: list[Slot],
    descriptions: dict,
    embedder: Embedder,
    threshold: float,
) -> tuple[list[tuple], list[str]]:
    """The candidate pairs whose slot descriptions' embeddings are closer than `threshold`: (input slot, output
    slot, name, keyword and description similarity); and the texts embedded."""
    slot_texts = sorted(
        {_description(ins[i], descriptions) for i in candidates}
        | {_description(outs[o], descriptions) for c in candidates.values() for o, _, _ in c}
    )
    vec = dict(zip(slot_texts, embedder.embed(slot_texts))) if slot_texts else {}
    scored = []
    for i, cands in candidates.items():
        dv = vec[_description(ins[i], descriptions)]
        desc = np.stack([vec[_description(outs[o], descriptions)] for o, _, _ in cands]) @ dv
        scored += [(i, o, n, k, float(d)) for (o, n, k), d in zip(cands, desc) if d > threshold]
    return scored, slot_texts


def keyword_pairs(
    pairs: list[tuple], in_names: list[str], out_names: list[str], embedder: Embedder, threshold: float
) -> tuple[list[str], list[tuple]]:
    """The names the pairs involve (embedded once each), and the pairs whose names' embeddings are closer
    than `threshold`: (input name, output name, name similarity, keyword similarity)."""
    involved = sorted({in_names[i] for i, _, _ in pairs} | {out_names[j] for _, j, _ in pairs})
    kw = dict(zip(involved, embedder.embed([_words(n) for n in involved]))) if involved else {}
    kept = [(in_names[i], out_names[j], s, float(kw[in_names[i]] @ kw[out_names[j]])) for i, j, s in pairs]
    return involved, [p for p in kept if p[3] > threshold]


def slot_candidates(kept: list[tuple], ins: list[Slot], outs: list[Slot], services: dict[str, str], params: EdgeParams):
    """Input slot -> [(output slot, name similarity, keyword similarity)] for the name pairs kept, of compatible
    type and kind, each input's best few only; and how many pairs were dropped as generic, as another service's
    identifier or as a measured amount."""
    ins_by_name, outs_by_name = defaultdict(list), defaultdict(list)
    for k, s in enumerate(ins):
        ins_by_name[s.entity].append(k)
    for k, s in enumerate(outs):
        outs_by_name[s.entity].append(k)
    candidates: dict[int, list[tuple[int, float, float]]] = defaultdict(list)
    generic_dropped = scoped_dropped = measures_dropped = 0
    for a, b, name_sim, kw_sim in kept:
        for i in ins_by_name[a]:
            for o in outs_by_name[b]:
                src, dst = outs[o], ins[i]
                if src.tool == dst.tool or not compatible(src.type, dst.type) or not same_kind(src, dst):
                    continue
                if measured(src):
                    measures_dropped += 1  # an amount is said by the person who wants it, not carried on
                    continue
                if (src.generic or dst.generic) and services[src.tool] != services[dst.tool]:
                    generic_dropped += 1  # a bare email/url/format: the name alone says nothing across APIs
                    continue
                if not same_platform(services[src.tool], services[dst.tool]) and (
                    split_kind(dst.entity)[1] in SCOPED_KINDS or name_sim < 1.0
                ):
                    scoped_dropped += 1  # one service's user id means nothing to another's; `kicker` is no `ticker`
                    continue
                candidates[i].append((o, name_sim, kw_sim))
    for i, cands in candidates.items():  # embed descriptions only for the best few candidates of each input
        if len(cands) > params.max_candidates_per_input:
            cands.sort(key=lambda c: -(c[1] + c[2]))
            del cands[params.max_candidates_per_input :]
    return candidates, generic_dropped, scoped_dropped, measures_dropped


def edge_row(src: Slot, dst: Slot, name_sim: float, kw_sim: float, desc_sim: float) -> dict:
    """A row of `api_edges`: an output slot that can feed an input slot, with its similarities."""
    return {
        "src_tool": src.tool,
        "src_slot": src.path,
        "dst_tool": dst.tool,
        "dst_slot": dst.path,
        "entity": dst.entity,
        "name_sim": round(name_sim, 4),
        "keyword_sim": round(kw_sim, 4),
        "desc_sim": round(desc_sim, 4),
        "llm_verdict": None,
        "llm_reason": None,
    }
