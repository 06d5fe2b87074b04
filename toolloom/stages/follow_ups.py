"""Follow-up dialogues: a multi-hop chain asked one step a turn, as people chain questions ('Where does order
ord_1001 ship to?' ... 'What is the standard VAT rate in its country?'), each step called and answered before
the next is asked. Played by `dialogue_play.py` like ToolDial's scenarios; each later turn is recorded as the
user's `inform_intent_clear` (a clear request) and each answer as the system's `response`.

A share of the multi-hop chains (`follow_up_share`) is played this way, first the chains a single request could
say only by joining parts ('Then, ...'), which blind readers marked as stitched templates.
"""

from __future__ import annotations

from ..domain import Task
from ..text.wording import nestable

FOLLOW_UP = "follow_up"
MAX_STEPS = 4
TURN = ["S:call_step", "S:response"]


def follow_up_plan(steps: int) -> list[str]:
    """The plan for a chain of `steps` calls: ask, call, answer; then each later step asked, called, answered."""
    first = ["U:inform_intent_clear", "S:retriever_call", *TURN]
    return first + ["U:inform_intent_followup", *TURN] * (steps - 1) + ["U:user_bye", "S:system_bye"]


def can_follow_up(task: Task) -> bool:
    """A chain of 2 to MAX_STEPS single calls, each later one taking a value of an earlier result."""
    chain = task.chain
    if not 2 <= len(chain) <= MAX_STEPS or chain[0].bindings or any(s.condition for s in chain):
        return False
    return all(s.bindings and all(b["step"] < i for b in s.bindings.values()) for i, s in enumerate(chain[1:], 1))


def stitched(task: Task) -> bool:
    """Whether one request would say the chain only by joining parts: some step does not nest into the next."""
    return len(nestable(task, None)) < len(task.chain) - 1


def chance(share: float, stitched_chain: bool) -> float:
    """A chain's chance of being followed up at `follow_up_share` = share: the stitched ones first (all of them
    from 0.5), the others only above 0.5 (all at 1.0)."""
    return min(1.0, 2 * share) if stitched_chain else max(0.0, 2 * share - 1)
