"""The per-level report of progressive difficulty (stage metadata and dataset card)."""

from toolloom.reports.escalation_report import card_lines, ladder, metadata


def _row(seed, level, outcome, operator="", reason="", stop="", kept=False):
    return {
        "seed_id": seed,
        "level": level,
        "outcome": outcome,
        "operator": operator,
        "reason": reason,
        "stop_reason": stop,
        "kept": kept,
        "frontier": "qwen",
    }


ROWS = [
    # seed a: solved 0, one level 1 candidate dropped, the next failed and kept
    _row("a", 0, "solved"),
    _row("a", 1, "dropped", "add_hop", "alternative_answer: two cities"),
    _row("a", 1, "failed", "describe_value", "no_tool_call", "frontier_failed", True),
    # seed b: failed at the seed
    _row("b", 0, "failed", reason="reference_not_reached", stop="frontier_failed"),
    # seed c: solved 0 and 1, then no operator applied
    _row("c", 0, "solved"),
    _row("c", 1, "solved", "replace_value", stop="no_verified_escalation"),
    # seed d: an undecided attempt (the endpoint failed)
    _row("d", 0, "error", reason="model_error", stop="model_error"),
]


def test_each_level_counts_what_the_frontier_did_and_why_escalations_stopped():
    levels = {lv["level"]: lv for lv in ladder(ROWS)}
    zero, one = levels[0], levels[1]
    assert (zero["tried"], zero["attempted"], zero["solved"], zero["failed"], zero["error"]) == (4, 4, 2, 1, 1)
    assert zero["kept"] == 0 and dict(zero["stopped"]) == {"frontier_failed": 1, "model_error": 1}
    assert (one["tried"], one["attempted"], one["solved"], one["failed"]) == (3, 2, 1, 1)
    assert dict(one["dropped"]) == {"alternative_answer": 1} and dict(one["kept_by_operator"]) == {"describe_value": 1}
    assert dict(one["stopped"]) == {"frontier_failed": 1, "no_verified_escalation": 1}


def test_metadata_and_card_carry_the_same_figures():
    md = metadata(ROWS, pool=10, seeds=4)
    assert md["seed_tasks"] == "4 of 10" and md["kept_levels"] == {"1": 1}
    assert md["frontier_solved_by_level"] == {"0": "2/4", "1": "1/2"} and md["kept_by_operator"] == {
        "describe_value": 1
    }
    card = "\n".join(card_lines(ROWS, "qwen"))
    assert "frontier agent (qwen)" in card
    assert "| 0 | 4 | 0 | 2/4 (1 undecided) | 0 | - | frontier_failed 1, model_error 1 |" in card
    assert "| 1 | 3 | 1 (alternative_answer 1) | 1/2 | 1 | describe_value 1 |" in card
    assert card_lines([], "qwen") == []
