"""Progressive difficulty per level, from the `escalations` table: what the frontier agent solved, which
escalations were tried, dropped (and why) and kept, and which operators made the kept levels. The
stage's metadata, the dataset card and `benchmarks/escalation.py` all read it from here."""

from __future__ import annotations

from collections import Counter, defaultdict

ATTEMPTED = ("solved", "failed", "error")


def ladder(rows: list[dict]) -> list[dict]:
    """One dict per level: `attempted` by the frontier, `solved`, `failed`, `error`; `tried` escalations that
    reached this level (attempted or dropped; level 0 is the seeds), `dropped` by reason, `kept` and
    `kept_by_operator`, and `stopped` (seeds whose escalation ended here) by reason."""
    levels: dict[int, dict] = defaultdict(
        lambda: {
            **{k: 0 for k in ("attempted", *ATTEMPTED, "tried", "kept")},
            "dropped": Counter(),
            "kept_by_operator": Counter(),
            "stopped": Counter(),
        }
    )
    for r in rows:
        at = levels[r["level"]]
        at["tried"] += 1
        if r["outcome"] in ATTEMPTED:
            at["attempted"] += 1
            at[r["outcome"]] += 1
        elif r["outcome"] == "dropped":
            at["dropped"][r["reason"].split(":")[0]] += 1
        if r["kept"]:
            at["kept"] += 1
            at["kept_by_operator"][r["operator"]] += 1
        if r["stop_reason"]:
            at["stopped"][r["stop_reason"]] += 1
    return [{"level": n, **levels[n]} for n in sorted(levels)]


def _counts(counter: Counter) -> str:
    return ", ".join(f"{k} {n}" for k, n in counter.most_common()) or "-"


def ladder_table(rows: list[dict]) -> tuple[list[str], list[list]]:
    """The per-level figures as a header and rows (markdown cards, printed benchmarks)."""
    header = ["level", "tried", "dropped", "frontier solved", "kept", "kept by operator", "stopped here"]
    body = [
        [
            lv["level"],
            lv["tried"],
            f"{sum(lv['dropped'].values())} ({_counts(lv['dropped'])})" if lv["dropped"] else 0,
            f"{lv['solved']}/{lv['attempted']}" + (f" ({lv['error']} undecided)" if lv["error"] else ""),
            lv["kept"],
            _counts(lv["kept_by_operator"]),
            _counts(lv["stopped"]),
        ]
        for lv in ladder(rows)
    ]
    return header, body


def metadata(rows: list[dict], pool: int, seeds: int) -> dict:
    """The escalations stage's Dagster metadata."""
    levels = ladder(rows)
    return {
        "seed_tasks": f"{seeds} of {pool}",
        "kept_levels": {str(lv["level"]): lv["kept"] for lv in levels if lv["kept"]},
        "stop_reasons": dict(Counter(r["stop_reason"] for r in rows if r["stop_reason"])),
        "operators_applied": dict(Counter(r["operator"] for r in rows if r["operator"])),
        "kept_by_operator": dict(sum((lv["kept_by_operator"] for lv in levels), Counter())),
        "dropped": dict(sum((lv["dropped"] for lv in levels), Counter())),
        "frontier_solved_by_level": {str(lv["level"]): f"{lv['solved']}/{lv['attempted']}" for lv in levels},
    }


def card_lines(rows: list[dict], frontier: str) -> list[str]:
    """The card's section on progressive difficulty (nothing when the version escalated nothing)."""
    if not rows:
        return []
    header, body = ladder_table(rows)
    lines = [
        "",
        "### Progressive difficulty",
        "",
        f"Each seed task was made harder level by level until the frontier agent ({frontier}) failed it; the kept "
        "example of a seed is the first level it failed above 0. Per level: escalations tried (level 0: the seeds), "
        "those the verifier dropped and why, the frontier's solved share, the levels kept and the operators that "
        "made them, and why the seeds' escalation stopped there.",
        "",
    ]
    return lines + [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(str(c) for c in row) + " |" for row in body),
    ]
