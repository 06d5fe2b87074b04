"""The reward of an environment episode, from execution and the filter's own checks, never from a model.

success:    the filter's execution and completeness checks pass (stages/samples.py): the reference's results came
            back from the calls made, every reference step was called with the stated values, the answer is
            grounded in the last result and states what the request asked. Abstain tasks succeed with no call and
            an answer, ask tasks by asking before calling, recover tasks by a call that succeeds (after a failed one,
            or at once). Where tools keep state (sandbox code), it must end as the verified trajectory leaves it.
format:     the share of calls that name an offered tool with arguments its schema accepts (1.0 with no call).
efficiency: OTC's tool reward (Wang et al. 2025, "Acting Less is Reasoning More", eq. 4-5) for m calls made against
            the reference's n, less `unrelated_call_cost` per call of a tool the reference does not call; it counts
            only when the task succeeded, as OTC scales the correctness reward by it (else no call would pay).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

from ..domain import trajectory_of
from ..stages.samples import check_completeness, check_execution
from .settings import RLSettings

OTC_SMOOTHING = 1.0  # OTC's c: how fast the reward falls with calls made when the reference needs none


def otc_tool_reward(made: int, needed: int) -> float:
    """1.0 when made == needed; less for more calls, and for fewer (0.0 for none when some are needed)."""
    if needed == 0:
        return 1.0 if made == 0 else math.cos(made * math.pi / (2 * made + OTC_SMOOTHING))
    mapped = 2 * needed * made / (made + needed)
    return math.sin(mapped * math.pi / (2 * needed))


@dataclass
class Reward:
    total: float
    success: float
    format: float
    efficiency: float
    calls: int
    reference_calls: int
    unrelated_calls: int
    reason: str  # why success is 0 ('' when it is 1): the failing check's reason and detail

    def breakdown(self) -> dict:
        return asdict(self)


def _checked(traj: dict) -> tuple[str, str] | None:
    traj = trajectory_of(traj)
    if traj.get("kind") == "recover" and traj["calls"] and traj["calls"][0]["ok"]:
        traj = {**traj, "kind": "single_turn"}  # right at once: nothing was left to recover
    return check_execution(traj) or check_completeness(traj)


def reward_of(traj: dict, settings: RLSettings, state_differs: str | None = None) -> Reward:
    """`traj`: a trajectory row as stored (messages decoded; calls, chain and tools_offered JSON text),
    its calls carrying `valid` (offered tool, arguments the schema accepts). `state_differs`: why stateful tools
    ended other than the reference leaves them (a failure of the task), None when they did not."""
    calls = json.loads(traj["calls"])
    chain = json.loads(traj["chain"]) if traj.get("chain") else []
    needed = 0 if traj.get("kind") == "abstain" else len(chain)
    failed = _checked(traj) or (("final_state_differs", state_differs) if state_differs else None)
    success = 0.0 if failed else 1.0
    form = sum(bool(c.get("valid")) for c in calls) / len(calls) if calls else 1.0
    counted = calls
    if traj.get("kind") == "recover":  # the failed call a recovery starts with is the task, not waste
        first_ok = next((i for i, c in enumerate(calls) if c["ok"]), len(calls))
        counted = calls[first_ok:]
    reference_tools = {s["name"] for s in chain}
    unrelated = sum(c["name"] not in reference_tools for c in counted) if needed else 0
    efficiency = success * max(0.0, otc_tool_reward(len(counted), needed) - settings.unrelated_call_cost * unrelated)
    w = settings.weights
    total = (w.success * success + w.format * form + w.efficiency * efficiency) / (w.success + w.format + w.efficiency)
    return Reward(
        round(total, 6),
        success,
        round(form, 6),
        round(efficiency, 6),
        len(calls),
        needed,
        unrelated,
        f"{failed[0]}: {failed[1]}" if failed else "",
    )
