"""`toolloom env serve|replay`: a version's tasks as an environment (OpenEnv's server), and its self-check."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

from ..spec import PipelineFileError, load_pipeline
from ..lake.storage import home_of
from .environment import as_action


def _loaded(args):
    from .load import load_environment

    project = Path(args.project).resolve()
    path = project / "pipelines" / f"{args.pipeline}.yaml"
    if not path.exists():
        raise LookupError(f"no pipeline file {path}")
    return load_environment(load_pipeline(path), project, home_of(project, args.home), args.version, args.split)


def replay(session) -> dict:
    """Play the task's own verified trajectory in a fresh episode; the last step's result."""
    out = None
    for m in session.task.reference[len(session.task.prompt) :]:
        if m["role"] == "assistant":
            out = session.step(as_action(m))
            if out["done"]:
                break
    return out


def cmd_env(args) -> int:
    try:
        loaded = _loaded(args)
    except (LookupError, PipelineFileError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    left = ", ".join(f"{n} {k}" for k, n in sorted(loaded.left_out.items()))
    print(
        f"{args.pipeline} {loaded.version}: {len(loaded.env.tasks)} tasks" + (f" ({left} not served)" if left else ""),
        file=sys.stderr,
    )
    try:
        return {"eval": _eval, "replay": _replay}.get(args.action, _serve)(args, loaded)
    finally:
        loaded.close()


def _eval(args, loaded) -> int:
    """The policy at --base-url plays the tasks; its mean reward and parts are printed."""
    if not args.base_url or not args.model:
        print("error: env eval needs --base-url and --model (the policy's OpenAI-compatible endpoint)", file=sys.stderr)
        return 2
    from .rollout import evaluate

    api_key = os.environ.get(args.api_key_env or "", "none")
    report = evaluate(loaded.env, args.base_url, args.model, api_key, args.episodes, args.max_concurrent or 8)
    print(json.dumps(report, indent=2))
    return 0


def _replay(args, loaded) -> int:
    """Every task's reference trajectory replayed; 0 when each earns reward 1.0."""
    totals, reasons = [], Counter()
    for task in loaded.env.tasks:
        out = replay(loaded.env.reset(task_id=task.task_id))
        totals.append(out["reward"] if out and out["done"] else 0.0)
        if totals[-1] < 1.0:
            reasons[(out or {}).get("breakdown", {}).get("reason", "").split(":")[0] or "no final answer"] += 1
    full = sum(t == 1.0 for t in totals)
    print(f"reference trajectories replayed: {len(totals)}; reward 1.0: {full}; mean {sum(totals) / len(totals):.3f}")
    for reason, n in reasons.most_common():
        print(f"  below 1.0: {n} {reason}")
    return 0 if full == len(totals) else 1


def _serve(args, loaded) -> int:
    """The environment as an OpenEnv server."""
    try:
        import uvicorn

        from .openenv_app import app_for
    except ImportError as e:
        print(
            f"error: env serve needs OpenEnv's server ({e.name} is not installed): pip install 'toolloom[rl]'",
            file=sys.stderr,
        )
        return 2
    print(f"serving at ws://{args.host}:{args.port}/ws (OpenEnv); Ctrl-C stops it", file=sys.stderr, flush=True)
    concurrent = args.max_concurrent or loaded.runtime.pipeline.rl.max_concurrent
    uvicorn.run(app_for(loaded.env, concurrent), host=args.host, port=args.port, log_level="warning")
    return 0


def add_env_parser(sub) -> None:
    env = sub.add_parser("env", help="a version's tasks as a reinforcement-learning environment (OpenEnv)")
    env.add_argument(
        "action",
        choices=["serve", "replay", "eval"],
        help="serve: OpenEnv's server; replay: play every task's reference and report its reward; "
        "eval: play the tasks with a model endpoint as the policy and report its rewards",
    )
    env.add_argument("pipeline")
    env.add_argument("--version", help="dataset version; default: the newest complete one")
    env.add_argument("--split", choices=["train", "test", "all"], help="default: the pipeline's rl.split")
    env.add_argument("--host", default="127.0.0.1")
    env.add_argument("--port", type=int, default=8000)
    env.add_argument("--max-concurrent", type=int, help="episodes at once; default: the pipeline's rl.max_concurrent")
    env.add_argument("--base-url", help="eval: the policy's OpenAI-compatible endpoint (e.g. http://127.0.0.1:8765/v1)")
    env.add_argument("--model", help="eval: the model name the endpoint serves")
    env.add_argument("--api-key-env", help="eval: the environment variable holding the endpoint's key")
    env.add_argument("--episodes", type=int, help="eval: the first N tasks (default: all)")
    env.set_defaults(fn=cmd_env)
