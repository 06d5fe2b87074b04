"""The dataset card: what made the data, what is in it, what was thrown away, and plots beside it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def _bar(path: Path, counts: dict, title: str, xlabel: str, ylabel: str = "examples") -> None:
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=100)
    keys = list(counts)
    ax.bar([str(k) for k in keys], [counts[k] for k in keys], color="#4c72b0")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    for label in ax.get_xticklabels():
        label.set_rotation(50 if len(keys) > 6 else 0)
        label.set_ha("right" if len(keys) > 6 else "center")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plots(folder: Path, rows: list[dict]) -> list[tuple[str, str]]:
    """PNG plots beside the card; returns (file, caption) pairs."""
    out = []
    (folder / "plots").mkdir(exist_ok=True)
    calls = Counter(r["num_calls"] for r in rows)
    _bar(folder / "plots" / "tool_calls.png", dict(sorted(calls.items())), "Tool calls per example", "calls")
    out.append(("plots/tool_calls.png", "Tool calls per example"))
    levels = Counter(r["level"] for r in rows)
    _bar(folder / "plots" / "difficulty.png", dict(sorted(levels.items())), "Difficulty level", "level")
    out.append(("plots/difficulty.png", "Difficulty level (0 = not escalated)"))
    tools = Counter(
        name for r in rows for m in r["messages"] for name in [c["function"]["name"] for c in (m["tool_calls"] or [])]
    )
    _bar(
        folder / "plots" / "tools.png",
        dict(tools.most_common(20)),
        f"Tools called ({len(tools)} distinct; top 20)",
        "tool",
        "calls",
    )
    out.append(("plots/tools.png", "Tools covered"))
    return out


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]


def content_lines(content: dict) -> list[str]:
    """How many accepted examples carry real content, and what became of the placeholder ones."""
    filled, held = content.get("filled", 0), content.get("placeholder", 0)
    if not held:
        return [f"Content: all {filled} accepted examples carry values from tools or documentation."]
    fate = (
        "included, with `content: placeholder`"
        if content.get("included")
        else "left out (set `stages.export.include_placeholders: true` to export them, labelled `content: placeholder`)"
    )
    return [
        f"Content: {filled} of {filled + held} accepted examples carry values from tools or documentation; "
        f"{held} hold a placeholder (`<field name>`) where nothing documents a value (offline, no model to "
        f"write one) and are {fate}."
    ]


VERIFIED = {
    "real": "verified by execution: every call was answered by the tool itself (sandbox code, an MCP server, an HTTP "
    "service) and the answer reaches the executed reference",
    "mock": "executed against a mock server, which answers from the spec's examples whatever is asked: the calls "
    "are well-formed, their results verify nothing",
    "simulated": "answered by a simulator (a model, or offline the schema-driven one): consistent, not verified",
    "none": "no call was answered (abstain examples, which must call nothing)",
}


def provenance_lines(rows: list[dict]) -> list[str]:
    """How the examples' calls were answered; 'verified by execution' is said of `real` ones only."""
    counts = Counter(r.get("provenance") or "real" for r in rows)
    return ["How the calls were answered (`provenance`, by the weakest call; `answered_by` per call):", ""] + [
        f"- {n} `{p}`: {VERIFIED[p]}." for p, n in sorted(counts.items(), key=lambda x: -x[1]) if p in VERIFIED
    ]


def card(
    pipeline: str,
    version: str,
    counts: dict,
    rows: list[dict],
    provenance: dict,
    rejections: list[dict],
    images: list[tuple[str, str]],
    configs: list[str],
    refined_docs: bool = False,
    quality: list[str] | None = None,
    content: dict | None = None,
) -> str:
    load = [f'ds = load_dataset("exports/{pipeline}/{version}")          # OpenAI chat messages + tools']
    load += [f'{c} = load_dataset("exports/{pipeline}/{version}", "{c}")' for c in configs if c != "default"]
    lines = [
        f"# {pipeline} — version {version}",
        "",
        "Synthetic tool-use (function-calling) conversations made by toolloom.",
        "",
        "```python",
        "from datasets import load_dataset",
        *load,
        "```",
        "",
        "## Contents",
        "",
    ]
    lines += _table(["config", "split", "rows"], [[c, s, n] for (c, s), n in counts.items()])
    lines += ["", *content_lines(content or {}), "", *provenance_lines(rows), *_shape_lines(rows, refined_docs)]
    lines += ["", *(quality or [])]
    lines += _left_out_lines(pipeline, version, rejections)
    lines += ["", "## Plots", ""] + [f"![{cap}]({img})" for img, cap in images]
    lines += ["", "## Provenance", ""] + [f"- **{k}**: {v}" for k, v in provenance.items()]
    lines += [
        "",
        "`messages` is a list of OpenAI-format message structs; `tools` and each call's `arguments` are JSON objects "
        "(the form chat templates take); `reference_chain`, `reference_answer`, `actions` and `answered_by` are JSON "
        "strings.",
        "",
    ]
    return "\n".join(lines)


def _shape_lines(rows: list[dict], refined_docs: bool) -> list[str]:
    """The shapes and difficulty levels of the examples, and what a refined documentation means."""
    lines: list[str] = []
    shape_kind = Counter((r["shape"], r["kind"]) for r in rows)
    lines += ["", "### Shapes", ""] + _table(
        ["shape", "kind", "examples"], [[s, k, n] for (s, k), n in sorted(shape_kind.items())]
    )
    lines += ["", "### Difficulty", ""] + _table(
        ["level", "examples"], sorted(Counter(r["level"] for r in rows).items())
    )
    if any(r["level"] for r in rows):
        lines += [
            "",
            "A level above 0 is a task escalated step by step until the frontier agent failed it, after it had solved "
            "the level below (`escalations` table). No agent solved it, so its trajectory is the executed reference "
            "chain replayed, with the generating assistant's final answer.",
        ]
    return lines + _docs_lines(rows, refined_docs)


def _docs_lines(rows: list[dict], refined_docs: bool) -> list[str]:
    """Which documentation the agents were shown while generating each example, and which the tool lists ship."""
    shown = Counter(r.get("docs_version") or "" for r in rows)
    if not refined_docs and not any(shown):
        return []
    lines = ["", "### Tool documentation", ""]
    if refined_docs:
        lines += [
            "Tool descriptions were refined by exploration (DRAFT): the `tools` config and every "
            "example's tool list carry the refined text; `original_description` in `tools` keeps the source's "
            "(`doc_revisions` table has every revision and its evidence).",
            "",
        ]
    lines += ["The documentation the agents were shown while generating (`docs_version` column):", ""]
    return lines + _table(
        ["documentation shown", "examples"],
        [[f"refined in version {v}" if v else "the source's", n] for v, n in sorted(shown.items())],
    )


def _left_out_lines(pipeline: str, version: str, rejections: list[dict]) -> list[str]:
    lines = [
        "",
        "## What was left out",
        "",
        f"{len(rejections)} items were rejected on the way; every one is kept with its reason in the `rejections` "
        "table "
        f"(`toolloom query \"SELECT * FROM {pipeline}.rejections WHERE version = '{version}'\"`).",
        "",
    ]
    reasons = Counter((r["stage"], r["checker"], r["reason"]) for r in rejections)
    return lines + _table(["stage", "checker", "reason", "count"], [[*k, n] for k, n in reasons.most_common()])
