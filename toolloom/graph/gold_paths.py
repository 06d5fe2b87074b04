"""Gold edges from benchmark call paths (RestBench's `solution` lists), to measure an API graph.

Two consecutive calls A, B of a solution make a gold edge when B takes a required identifier that the
user's words cannot supply: a path parameter, or an input named `id`/`ids`/`uri`/`uris` or `*_id(s)`/
`*_uri(s)`. The value comes from an earlier result, in RestBench almost always the call just before.
Pairs where B takes nothing of the kind (`skip to next track` after `pause`) are sequencing, not data flow.
A few consecutive pairs take an identifier that A's response does not hold (checked by hand against the
specs, each with its reason in `NO_VALUE_FLOWS`); `gold_edges` leaves them out unless asked not to, and
the benchmark prints the recall both ways.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..domain import Tool

_IDENTIFIER = re.compile(r"(^|_)(id|ids|uri|uris)$")

NO_VALUE_FLOWS = {
    ("GET /collection/{collection_id}", "GET /company/{company_id}"): "a collection's details name no company",
    (
        "GET /movie/{movie_id}/credits",
        "GET /tv/{tv_id}/season/{season_number}/credits",
    ): "a movie's cast and crew hold no TV show or season",
    ("GET /search/movie", "GET /person/{person_id}/tv_credits"): "movie search results hold no person",
    (
        "POST /playlists/{playlist_id}/tracks",
        "PUT /playlists/{playlist_id}",
    ): "adding tracks returns only a snapshot_id; the playlist id is the call's own input",
    (
        "DELETE /playlists/{playlist_id}/tracks",
        "PUT /playlists/{playlist_id}",
    ): "removing tracks returns only a snapshot_id; the playlist id is the call's own input",
    ("GET /me", "GET /playlists/{playlist_id}"): "the user's profile holds no playlist",
    (
        "GET /playlists/{playlist_id}/tracks",
        "DELETE /playlists/{playlist_id}/tracks",
    ): "the playlist id is the first call's own input, not in its result",
    ("GET /playlists/{playlist_id}", "PUT /playlists/{playlist_id}"): "the playlist id is the first call's own input",
    (
        "GET /playlists/{playlist_id}",
        "DELETE /playlists/{playlist_id}/tracks",
    ): "the playlist id is the first call's own input",
}


def gold_edges(tools: list[Tool], queries: str | Path, all_pairs: bool = False) -> dict[tuple[str, str], set[str]]:
    """(source tool, destination tool) -> the destination's identifier inputs, over all the queries' solutions;
    `all_pairs` keeps the pairs of `NO_VALUE_FLOWS` too."""
    by_call = {
        (str((t.get("meta") or {}).get("method", "")).upper(), (t.get("meta") or {}).get("path")): t for t in tools
    }
    gold: dict[tuple[str, str], set[str]] = {}
    for query in json.loads(Path(queries).read_text()):
        steps = [" ".join(step.split()) for step in query["solution"]]
        calls = [by_call.get(tuple(step.split(" ", 1))) for step in steps]
        for (a, b), pair in zip(zip(calls, calls[1:]), zip(steps, steps[1:])):
            if a is None or b is None or a["name"] == b["name"]:
                continue  # a call the spec does not have (RestBench has a few typos)
            if pair in NO_VALUE_FLOWS and not all_pairs:
                continue
            path = b["meta"].get("path") or ""
            ids = {p for p in b["parameters"].get("required") or [] if f"{{{p}}}" in path or _IDENTIFIER.search(p)}
            if ids:
                gold.setdefault((a["name"], b["name"]), set()).update(ids)
    return gold


def gold_pairs(path: str | Path, tools: list[Tool]) -> dict[tuple[str, str], set[str]]:
    """Published API pairs (ToolDial's, say) as gold: a JSON list, or JSON lines, of {"source": ..., "target": ...}
    naming operations by tool name; an empty slot set means an edge into any input counts."""
    text = Path(path).read_text()
    rows = (
        json.loads(text)
        if text.lstrip().startswith("[")
        else [json.loads(line) for line in text.splitlines() if line.strip()]
    )
    names = {t["name"] for t in tools}
    unknown = sorted({r[k] for r in rows for k in ("source", "target") if r[k] not in names})
    if unknown:
        raise ValueError(f"{path}: {len(unknown)} operations are not in the collection, e.g. {unknown[:3]}")
    return {(r["source"], r["target"]): set() for r in rows}


def fidelity(edges: list[dict], gold: dict[tuple[str, str], set[str]], operations: int) -> dict:
    """Recall of the gold edges (an edge A -> B into one of B's gold inputs, or any input when the gold names
    none) and edges per operation."""
    found = {
        (e["src_tool"], e["dst_tool"])
        for e in edges
        if (e["src_tool"], e["dst_tool"]) in gold
        and (not gold[(e["src_tool"], e["dst_tool"])] or e["dst_slot"] in gold[(e["src_tool"], e["dst_tool"])])
    }
    hits = sorted(g for g in gold if g in found)
    return {
        "gold": len(gold),
        "found": len(hits),
        "recall": round(len(hits) / len(gold), 3) if gold else None,
        "edges": len(edges),
        "edges_per_operation": round(len(edges) / operations, 2) if operations else None,
        "missed": sorted(g for g in gold if g not in found),
    }
