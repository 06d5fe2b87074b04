"""Stage 5: quality filtering (APIGen's checkers, in sequence) of answered episodes into `samples`.

format:    every call names an offered tool and its arguments validate against the tool's schema;
execution: (abstain examples: no call was made) there was at least one call, every call succeeded (recover
           examples: after the failed call the assistant corrects), ask examples asked first, every step of the
           reference chain was called with the values the request states, the calls reached the task's executed
           reference answer (every result of it, for parallel tasks), and the answer states a value the last
           call returned (grounding).
completeness: every field of the reference answer that the request names is stated in the answer
           (toolloom.answers.sentence).
safety, overuse, dedup: see quality.py; the train/test split without leakage: see splits.py.
Every input episode ends as a sample or a rejection naming the checker and the reason.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections import Counter

import pyarrow as pa

from ..agents.judges import ReferenceJudge
from ..checks.invented import invented_ids, unasked_values
from ..checks.misreports import answer_problem, check_completeness
from ..checks.judging import MULTI_ANSWER_SHAPES
from ..domain import trajectory_of
from ..checks.arguments import argument_errors, parse_arguments
from ..executors.simulated import contradicted_ids
from ..checks.focus import check_focus
from ..ingest import Rejection
from ..llm import run_async
from ..registry import FILTER_CHECKS
from ..spec import STEPS, FilterStage
from ..text.values import has_placeholder
from ..volatile import stable
from . import StageResult
from .asset import StageAsset
from .quality import check_overuse, check_safety, check_secrets, diversity, near_duplicates
from .splits import assign_splits, side as split_of

SAMPLES_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("traj_id", pa.string()),
        ("task_id", pa.string()),
        ("shape", pa.string()),
        ("level", pa.int64()),
        ("execution", pa.string()),
        ("num_calls", pa.int64()),
        ("content", pa.string()),
        ("provenance", pa.string()),
        ("checks", pa.string()),
        ("split", pa.string()),
    ]
)


def check_format(traj: dict) -> tuple[str, str] | None:
    tools = traj["tools_offered"]
    offered = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
    if len(offered) != len(tools):  # a chat template or a Hermes consumer cannot tell two same-named tools apart
        return "duplicate_tool", "the same tool name is offered twice"
    for m in traj["messages"]:
        for call in m.get("tool_calls") or []:
            name = call["function"]["name"]
            if name not in offered:
                return "unknown_tool", f"call to '{name}', which was not offered"
            args, err = parse_arguments(call["function"]["arguments"])
            if err:
                return "invalid_arguments_json", f"{name}: {err}"
            problems = argument_errors(offered[name], args)
            if problems:
                return "schema_violation", f"{name}: {'; '.join(problems)}"
            documented = offered[name].get("properties")
            if documented is not None and (made_up := sorted(set(args) - set(documented))):
                # a schema that leaves extra keys open still documents no such parameter: the call made it up
                return "unknown_parameter", f"{name}: {', '.join(made_up)} is no parameter of the tool"
    return None


def _asks_first(traj: dict) -> bool:
    """The first assistant turn is a question, without a call."""
    first = next((m for m in traj["messages"] if m["role"] == "assistant"), None)
    return bool(first) and not first.get("tool_calls") and (first.get("content") or "").strip().endswith("?")


def skipped_reference_call(chain: list[dict] | None, calls: list[dict]) -> str | None:
    """The first step of the reference chain that no successful call made: the same tool with the
    values the request states (a value taken from an earlier result may differ on a live service)."""
    made = [(c["name"], parse_arguments(c["arguments"])[0] or {}) for c in calls if c["ok"]]
    for step in chain or []:
        stated = {k: v for k, v in (step.get("arguments") or {}).items() if k not in (step.get("bindings") or {})}
        if not any(
            name == step["name"] and all(stable(args.get(k)) == stable(v) for k, v in stated.items())
            for name, args in made
        ):
            return f"no call of {step['name']} with {json.dumps(stated, sort_keys=True)}, a step of the reference"
    return None


def check_execution(traj: dict) -> tuple[str, str] | None:
    calls = traj["calls"]
    if traj.get("kind") == "abstain":  # no offered tool fits: any call is wrong, and the answer must say so
        if calls:
            return "called_when_nothing_fits", f"called {calls[0]['name']}, which does not fit the request"
        return None if (traj["final_answer"] or "").strip() else ("empty_answer", "no answer to the request")
    if not calls:
        return "no_tool_call", "the answer was given without calling any tool"
    if traj.get("kind") == "ask" and not _asks_first(traj):
        return "no_question", "a required value is missing, but the assistant did not ask for it before calling"
    if traj.get("kind") == "recover":  # the failed call must be corrected: a later call of the same tool succeeds
        first_ok = next((i for i, c in enumerate(calls) if c["ok"]), None)
        if (
            first_ok is None
            or first_ok == 0
            or any(not c["ok"] for c in calls[first_ok:])
            or calls[first_ok]["name"] != calls[0]["name"]
        ):
            return "not_recovered", "a recover example needs a failed call, then the same tool called successfully"
        calls = calls[first_ok:]
    failed = [c for c in calls if not c["ok"]]
    if failed:
        return "tool_error", f"{failed[0]['name']}: {failed[0]['error']}"
    for call, result in zip(calls, [m["content"] for m in traj["messages"] if m["role"] == "tool"][-len(calls) :]):
        wrong = contradicted_ids(json.loads(result), parse_arguments(call["arguments"])[0] or {})
        if wrong:  # Prism answers every movie id with Fight Club
            return "not_about_the_call", f"{call['name']}: {wrong[0]}"
    if made_up := invented_ids(traj):  # a small model's tv_id 1234567890, answered by the simulator as if real
        return "invented_argument", f"{made_up[0]}, which neither the user nor an earlier result says"
    if unasked := unasked_values(traj):  # the 0.5B model's region "US" on 'Show me the upcoming movies.'
        return "invented_argument", f"{unasked[0]}, which the user did not ask for and is not the default"
    skipped = skipped_reference_call(traj.get("chain"), calls)
    if skipped:  # the last result can come back with an action skipped ('add to my cart', then the product)
        return "reference_call_missing", skipped
    answer = traj["final_answer"] or ""
    results = [m["content"] for m in traj["messages"] if m["role"] == "tool"]
    observed = [json.loads(r) for r in results]
    reference = json.loads(traj["reference_answer"]) if traj.get("reference_answer") else None
    if reference is not None:
        expected = reference if traj["shape"] in MULTI_ANSWER_SHAPES and isinstance(reference, list) else [reference]
        seen = [stable(o) for o in observed]  # a live service stamps each execution anew
        missing = sum(1 for r in expected if stable(r) not in seen)
        if missing:
            return (
                "reference_not_reached",
                f"{missing} of {len(expected)} reference result(s) never came back from the calls made",
            )
    return answer_problem(traj, answer, results)


# filter check name -> fn(trajectory_of(trajectory row)[, filter settings]) -> (reason, detail) | None; `semantic`
# (the judge) and `dedup` (across examples) are steps of filter_samples itself
for _name, _check in (
    ("format", check_format),
    ("execution", check_execution),
    ("completeness", check_completeness),
    ("focus", check_focus),
    ("safety", check_safety),
    ("secrets", check_secrets),
    ("overuse", check_overuse),
):
    FILTER_CHECKS.register(_name, _check)


def run_check(check, traj: dict, params: FilterStage) -> tuple[str, str] | None:
    """A check takes the trajectory, and the filter settings when it declares a second parameter."""
    return check(traj, params) if len(inspect.signature(check).parameters) > 1 else check(traj)


def content_of(traj: dict) -> str:
    """`placeholder` when a request, an argument or a tool result holds a value nothing documented
    (toolloom.text.values: offline, such a value is `<its field name>`, never a random word); else `filled`."""
    for m in traj["messages"]:
        if m["role"] in ("user", "tool") and has_placeholder(m.get("content") or ""):
            return "placeholder"
        if any(has_placeholder(c["function"].get("arguments") or "") for c in m.get("tool_calls") or []):
            return "placeholder"
    return "filled"


def provenance_of(traj: dict) -> str:
    """How the example's calls were answered, by the weakest: simulated if any call was, else mock if any
    was (a mock server answers from the spec whatever is asked), else real; none when no call was answered."""
    seen = {c.get("answered_by", "real") for c in json.loads(traj["calls"] or "[]")} - {"none"}
    return next((p for p in ("simulated", "mock", "real") if p in seen), "none")


def judge_all(judge, trajs: list[dict]) -> list[tuple[str, str]]:
    """Every trajectory's (verdict, reason) from `judge` (agents/judges.py), asked concurrently."""

    async def run():
        return await asyncio.gather(*(judge.judge(t) for t in trajs))

    return run_async(run()) if trajs else []


def split_by_tools(traj: dict, test_share: float) -> str | None:
    """test when every tool called is a test tool, train when none is, None when the example straddles."""
    sides = {split_of(c["function"]["name"], test_share) for m in traj["messages"] for c in (m.get("tool_calls") or [])}
    return sides.pop() if len(sides) == 1 else None


def filter_samples(
    trajectories: pa.Table,
    params: FilterStage,
    test_share: float,
    judge=None,
    split_by: str = "task",
    seen: list[dict] = (),
) -> StageResult:
    """Inputs: the answered episodes (others were already rejected by simulation). `judge` runs the
    semantic check (offline reference judge when none is given). `seen`: examples earlier nights
    kept; dedup rejects a repeat of one (`dedup:repeats_earlier_night`)."""
    rejections: list[Rejection] = []
    answered = [t for t in trajectories.to_pylist() if t["outcome"] == "answered"]
    kept = [t for t in answered if not _checked(t, params, rejections)]
    verdicts: dict[str, tuple[str, str]] = {}
    if "semantic" in params.checks:
        verdicts = dict(zip((t["traj_id"] for t in kept), judge_all(judge or ReferenceJudge(), kept)))
        for t in kept:
            verdict, reason = verdicts[t["traj_id"]]
            if verdict != "pass":
                rejections.append(Rejection("filter", t["traj_id"], "semantic", "judge_" + verdict, reason))
        kept = [t for t in kept if verdicts[t["traj_id"]][0] == "pass"]
    dupes = near_duplicates(kept, params.near_duplicate_threshold, seen) if "dedup" in params.checks else {}
    for traj in kept:
        if traj["traj_id"] in dupes:
            earlier = dupes[traj["traj_id"]]
            reason = "repeats_earlier_night" if "/" in earlier else "near_duplicate"
            rejections.append(Rejection("filter", traj["traj_id"], "dedup", reason, f"repeats {earlier}"))
    kept = [t for t in kept if t["traj_id"] not in dupes]
    by_task = split_by == "task"
    sides = (
        assign_splits(kept, test_share, params.leakage_similarity)
        if by_task
        else [split_by_tools(t, test_share) for t in kept]
    )
    straddles = (
        "shares a call or a near-duplicate request with both train and test examples"
        if by_task
        else "calls tools of both the train and the test side of a split by tool"
    )
    rejections += [
        Rejection("filter", t["traj_id"], "split", "straddles_split", straddles)
        for t, split in zip(kept, sides)
        if split is None
    ]
    rows = [sample_row(t, split, params, verdicts) for t, split in zip(kept, sides) if split is not None]
    return StageResult(
        pa.Table.from_pylist(rows, schema=SAMPLES_SCHEMA),
        rejections,
        [t["traj_id"] for t in answered],
        "traj_id",
        metadata={
            "rejected_by": dict(Counter(f"{r.checker}:{r.reason}" for r in rejections)),
            "splits": dict(Counter(r["split"] for r in rows)),
            "content": dict(Counter(r["content"] for r in rows)),
            "provenance": dict(Counter(r["provenance"] for r in rows)),
            "diversity": diversity(kept),
        },
    )


def _checked(traj: dict, params: FilterStage, rejections: list[Rejection]) -> bool:
    """Whether a registered check rejects the trajectory (the first that does is added to `rejections`)."""
    view = trajectory_of(traj)
    for name in (c for c in params.checks if c not in STEPS):
        if verdict := run_check(FILTER_CHECKS.get(name), view, params):
            rejections.append(Rejection("filter", traj["traj_id"], name, verdict[0], verdict[1]))
            return True
    return False


def sample_row(traj: dict, split: str, params: FilterStage, verdicts: dict[str, tuple[str, str]]) -> dict:
    """A row of `samples`: a kept trajectory, its split, and every check it passed."""
    # abstain, ask and recover episodes share their task with the ordinary one: their ids keep the prefix
    sample_id = "s_" + (traj["traj_id"] if traj["traj_id"][:3] in ("ab_", "ak_", "rc_") else traj["traj_id"][3:])
    checks = {
        c: ({"verdict": "pass", "reason": verdicts[traj["traj_id"]][1]} if c == "semantic" else "pass")
        for c in params.checks
    }
    return {
        "sample_id": sample_id,
        "traj_id": traj["traj_id"],
        "task_id": traj["task_id"],
        "shape": traj["shape"],
        "level": traj.get("level") or 0,
        "execution": traj.get("execution") or "python",
        "num_calls": sum(len(m.get("tool_calls") or []) for m in traj["messages"]),
        "content": content_of(traj),
        "provenance": provenance_of(traj),
        "checks": json.dumps(checks),
        "split": split,
    }


def samples(rt, version: str, log) -> StageResult:
    """Examples that passed quality filtering (the checks of stages.filter), with their split."""
    pipeline, export = rt.pipeline, rt.pipeline.stages.export
    seen = rt.store.kept_before(pipeline.name, rt.partition) if rt.partition else ()  # earlier nights' examples
    return filter_samples(
        rt.store.read(pipeline.name, "trajectories", version),
        pipeline.stages.filter,
        export.test_share,
        judge=rt.judge(),
        split_by=export.split_by,
        seen=seen,
    )


ASSET = StageAsset(
    "samples",
    "filter",
    ("trajectories",),
    samples,
    ("sample_id", "shape", "num_calls", "split"),
    roles=lambda pipeline: ("judge",) if "semantic" in pipeline.stages.filter.checks else (),
)
