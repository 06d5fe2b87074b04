"""The data-quality report of an export: format conformance per config (each through its own
ecosystem's checker), train/test leakage, the documentation shipped, diversity, and what the examples teach
(toolloom.reports.example_quality: answers, dependencies, levels, kinds, dialogue actions). It goes into
the card, the manifest and the dataset asset's metadata; `verdicts` turns it into asset checks
against the thresholds of `stages.export.quality`.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter

from .example_quality import card_lines, example_quality
from ..formats.conformance import conformance
from ..spec import ExportQuality
from ..stages.splits import leakage
from .tool_docs import INTERNALS


def documentation(rows: list[dict], tools: list[dict], budget: int) -> dict:
    """Every tool description the export ships (in `tools` and in examples' tool lists); the length budget
    applies to what toolloom wrote (refined text), a source's own long description is reported apart."""
    texts: dict[str, set[str]] = {}
    originals = {(t["name"], t.get("original_description", t["description"]) or "") for t in tools}
    for t in tools:
        texts.setdefault(t["name"], set()).add(t["description"] or "")
    for r in rows:
        for t in json.loads(r["tools"]):
            texts.setdefault(t["function"]["name"], set()).add(t["function"].get("description") or "")
    shipped = [(name, text) for name, variants in texts.items() for text in variants]
    lengths = [len(text) for _, text in shipped]
    internals = sorted({name for name, text in shipped if INTERNALS.search(text)})
    long = [(name, text) for name, text in shipped if len(text) > budget]
    return {
        "descriptions": len(shipped),
        "mean_chars": round(statistics.mean(lengths), 1) if lengths else 0,
        "median_chars": statistics.median(lengths) if lengths else 0,
        "max_chars": max(lengths, default=0),
        "over_budget": sorted({name for name, text in long if (name, text) not in originals}),
        "long_originals": sorted({name for name, text in long if (name, text) in originals}),
        "budget": budget,
        "with_internals": internals,
    }


def _gini(counts: list[int]) -> float:
    """0 when every tool is called equally often, towards 1 when a few take all calls."""
    if not counts or sum(counts) == 0:
        return 0.0
    xs, n = sorted(counts), len(counts)
    return round(sum((2 * i - n - 1) * x for i, x in enumerate(xs, 1)) / (n * sum(xs)), 4)


def diversity(rows: list[dict], tools: list[dict]) -> dict:
    requests = [next((m["content"] or "" for m in r["messages"] if m["role"] == "user"), "") for r in rows]
    bigrams = [tuple(w[i : i + 2]) for w in (q.lower().split() for q in requests) for i in range(len(w) - 1)]
    calls = Counter(c["function"]["name"] for r in rows for m in r["messages"] for c in (m.get("tool_calls") or []))
    patterns = {
        " > ".join(c["function"]["name"] for m in r["messages"] for c in (m.get("tool_calls") or [])) for r in rows
    }
    names = [t["name"] for t in tools]
    return {
        "distinct_call_patterns": len(patterns),
        "distinct_bigram_ratio": round(len(set(bigrams)) / len(bigrams), 4) if bigrams else 0.0,
        "tools_called": sum(1 for n in names if calls.get(n)),
        "tools": len(names),
        "tool_call_gini": _gini([calls.get(n, 0) for n in names]),
    }


def data_quality(
    rows: list[dict],
    subsets: dict[str, list[dict]],
    tools: list[dict],
    formats: dict,
    quality: ExportQuality,
    leakage_similarity: float,
    edges: list[dict] | None = None,
) -> dict:
    return {
        "conformance": conformance(subsets, rows, formats),
        "leakage": leakage(rows, leakage_similarity),
        "documentation": documentation(rows, tools, quality.max_description_chars),
        "diversity": diversity(rows, tools),
        "examples": example_quality(rows, tools, edges),
    }


def _verdict(name: str, passed: bool, severity: str, description: str, metadata: dict) -> dict:
    return {"name": name, "passed": passed, "severity": severity, "description": description, "metadata": metadata}


def verdicts(report: dict, quality: ExportQuality) -> list[dict]:
    """Asset-check results: {"name", "passed", "severity", "description", "metadata"}."""
    out = []
    for config, c in report["conformance"].items():
        if c["conforming"] is None:
            out.append(_verdict(f"conformance_{config}", False, "WARN", f"{config}: not checked: {c['checker']}", c))
        else:
            share = c["conforming"] / c["rows"] if c["rows"] else 1.0
            said = f"{config}: {c['conforming']} of {c['rows']} rows pass {c['checker']}"
            out.append(_verdict(f"conformance_{config}", share >= quality.min_conformance, "ERROR", said, c))
    leak = report["leakage"]
    passed = (
        leak["test_calls_seen_in_train"] <= quality.max_test_calls_seen_in_train
        and leak["test_requests_near_duplicate_of_train"] <= quality.max_test_requests_near_duplicate
    )
    said = (
        f"{leak['test_calls_seen_in_train']} test calls and {leak['test_requests_near_duplicate_of_train']} "
        "test requests also in train"
    )
    out.append(_verdict("split_leakage", passed, "ERROR", said, leak))
    out.append(documentation_verdict(report["documentation"]))
    if quality.min_distinct_bigram_ratio is not None:
        ratio = report["diversity"]["distinct_bigram_ratio"]
        said = f"distinct-bigram ratio of requests {ratio} (at least {quality.min_distinct_bigram_ratio})"
        out.append(_verdict("diversity", ratio >= quality.min_distinct_bigram_ratio, "WARN", said, report["diversity"]))
    return out


def documentation_verdict(docs: dict) -> dict:
    """What toolloom wrote must fit; a source's own long description only warns (refinement shortens it)."""
    said = (
        f"{len(docs['with_internals'])} tools ship pipeline internals, "
        f"{len(docs['over_budget'])} refined descriptions exceed {docs['budget']} characters"
    )
    if docs.get("long_originals"):
        said += (
            f"; {len(docs['long_originals'])} source descriptions are longer, shipped as the source has them "
            "(stages.refine shortens them)"
        )
    passed = not docs["with_internals"] and not docs["over_budget"] and not docs.get("long_originals")
    return _verdict(
        "documentation", passed, "ERROR" if docs["with_internals"] or docs["over_budget"] else "WARN", said, docs
    )


def card_section(report: dict) -> list[str]:
    lines = [
        "## Data quality",
        "",
        "### Format conformance",
        "",
        "| config | checker | rows | conforming |",
        "|---|---|---|---|",
    ]
    for config, c in report["conformance"].items():
        lines.append(
            f"| {config} | {c['checker']} | {c['rows']} | "
            f"{'not checked' if c['conforming'] is None else c['conforming']} |"
        )
    for config, c in report["conformance"].items():
        for f in c["failures"]:
            lines.append(f"\n- {config} `{f['id']}`: {f['error']}")
    leak, docs, div = report["leakage"], report["documentation"], report["diversity"]
    lines += [
        "",
        "### Train/test leakage",
        "",
        f"{leak['test_calls_seen_in_train']} of {leak['test_calls']} test calls (same tool, same arguments) also "
        "occur in train; "
        f"{leak['test_requests_near_duplicate_of_train']} of {leak['test_examples']} test requests nearly repeat a "
        "train request.",
        "",
        "### Tool documentation",
        "",
        f"{docs['descriptions']} descriptions shipped: mean {docs['mean_chars']} characters, median "
        f"{docs['median_chars']}, "
        f"max {docs['max_chars']} (budget {docs['budget']}); {len(docs['over_budget'])} over budget, "
        f"{len(docs['with_internals'])} carrying pipeline internals.",
        "",
        "### Diversity",
        "",
        f"{div['distinct_call_patterns']} distinct tool-call patterns; distinct-bigram ratio of requests "
        f"{div['distinct_bigram_ratio']}; {div['tools_called']} of {div['tools']} tools called, Gini coefficient of "
        "calls "
        f"per tool {div['tool_call_gini']}.",
        "",
    ]
    return lines + (card_lines(report["examples"]) if "examples" in report else [])
