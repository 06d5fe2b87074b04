"""Edge thresholds per embedder, calibrated on gold call paths.

ToolDial's keyword (0.5) and description (0.77) cosines belong to the paper's embedder; another embedder
puts cosines elsewhere (e5 puts unrelated slot descriptions at 0.8-0.9). A calibration takes every
candidate edge that passes the name test on collections with gold call paths, and sets each threshold
just under the lowest similarity of a gold edge (less `MARGIN`): a threshold may reject only what no gold
edge looks like. It records what it saw (how many gold and other candidates each threshold keeps):
`benchmarks/api_graph.py --calibrate` measures and writes `calibration.json`. An embedder without a
calibration gets the published values, and the graph's metadata says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

PUBLISHED = {"keyword_threshold": 0.5, "description_threshold": 0.77}
RECORD = Path(__file__).with_name("calibration.json")
MARGIN = 0.01


def recorded(path: Path = RECORD) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def thresholds_for(embedder_name: str, path: Path = RECORD) -> tuple[dict, str]:
    """({keyword_threshold, description_threshold}, where they come from) for an embedder."""
    entry = recorded(path).get(embedder_name)
    if entry:
        return {k: entry[k]["threshold"] for k in PUBLISHED}, f"calibrated for {embedder_name} ({entry['data']})"
    return dict(PUBLISHED), f"published (ToolDial's embedder); {embedder_name} has no calibration"


def calibrate(candidates: list[dict], gold: list[bool], data: str) -> dict:
    """`candidates`: edges with keyword_sim and desc_sim, built with every threshold open; `gold`: whether each
    is a gold edge. Returns the record for one embedder."""
    entry: dict = {"data": data, "margin": MARGIN, "candidates": len(candidates), "gold": sum(gold)}
    for key, column in (("keyword_threshold", "keyword_sim"), ("description_threshold", "desc_sim")):
        pos = np.array([c[column] for c, g in zip(candidates, gold) if g])
        neg = np.array([c[column] for c, g in zip(candidates, gold) if not g])
        differing = pos[pos < 1.0]
        if column == "keyword_sim" and len(differing) == 0:
            value, note = PUBLISHED[key], "every gold pair has the same typed name: the published value is kept"
        else:
            value, note = round(float(pos.min()) - MARGIN, 4), ""
        entry[key] = {
            "threshold": value,
            "gold_kept": round(float((pos > value).mean()), 3),
            "others_kept": round(float((neg > value).mean()), 3) if len(neg) else None,
            "gold_median": round(float(np.median(pos)), 4),
            "others_median": round(float(np.median(neg)), 4) if len(neg) else None,
            **({"note": note} if note else {}),
        }
    return entry


def save(embedder_name: str, entry: dict, path: Path = RECORD) -> None:
    records = recorded(path)
    records[embedder_name] = entry
    path.write_text(json.dumps(records, indent=2, sort_keys=True) + "\n")
