"""The semantic judge, measured: precision and recall on a labelled set of examples read by people.

tests/cases/judge_set.jsonl holds examples from the demo and from real collections, offline and made
by small local models, each labelled good or bad by reading it, with the reason. A judge passes or
fails each; the script prints, with "good" as the positive class:
- precision: of the examples the judge passed, the share that are good (what the filter lets through);
- recall: of the good examples, the share it passed (what the filter keeps);
- bad caught: of the bad examples, the share it failed; and the confusion counts, per source.

  python benchmarks/judge.py --offline                                  # the offline reference judge
  python benchmarks/judge.py --gguf ~/.cache/toolloom/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
  python benchmarks/judge.py --base-url http://localhost:8000/v1 --model Qwen/Qwen2.5-7B-Instruct
  python benchmarks/judge.py --offline --with-checks    # the whole filter: its checks, then the judge

With --with-checks an example first meets the filter's checks (format, execution, completeness, focus,
safety, secrets, overuse: stages.filter's defaults) as the samples stage runs them; the judge sees only
those they pass, as in a pipeline.
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolloom.agents.judges import ModelJudge, ReferenceJudge  # noqa: E402
from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger, run_async  # noqa: E402
from toolloom.llm.servers import ServerPool  # noqa: E402
from toolloom.prompts import DEFAULT_ROOT  # noqa: E402
from toolloom.registry import FILTER_CHECKS  # noqa: E402
from toolloom.spec import STEPS, FilterStage, ModelSpec  # noqa: E402
from toolloom.domain import trajectory_of  # noqa: E402
from toolloom.stages.samples import run_check  # noqa: E402

SET = ROOT / "tests" / "cases" / "judge_set.jsonl"


def first_check(traj: dict) -> str | None:
    """The first of the filter's default checks that rejects the example ('execution:tool_error'), or None."""
    params, view = FilterStage(), trajectory_of(traj)
    for name in (c for c in params.checks if c not in STEPS):
        verdict = run_check(FILTER_CHECKS.get(name), view, params)
        if verdict:
            return f"{name}:{verdict[0]}"
    return None


def scores(pairs: list[tuple[str, str]]) -> dict:
    """(label, verdict) pairs -> precision, recall and bad caught, good being the positive class."""
    c = Counter(pairs)
    tp, fp, fn, tn = c["good", "pass"], c["bad", "pass"], c["good", "fail"], c["bad", "fail"]
    errors = sum(n for (label, verdict), n in c.items() if verdict not in ("pass", "fail"))
    return {
        "examples": len(pairs),
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "bad_caught": round(tn / (tn + fp), 3) if tn + fp else None,
        "passed_good": tp,
        "passed_bad": fp,
        "failed_good": fn,
        "failed_bad": tn,
        "judge_errors": errors,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    how = ap.add_mutually_exclusive_group(required=True)
    how.add_argument("--offline", action="store_true", help="the offline reference judge")
    how.add_argument("--gguf", help="a GGUF file served by llama.cpp (provider llamacpp)")
    how.add_argument("--base-url", help="an OpenAI-compatible endpoint (with --model)")
    ap.add_argument("--model", default="judge")
    ap.add_argument("--api-key-env", default="OPENAI_API_KEY")
    ap.add_argument("--set", default=str(SET))
    ap.add_argument("--show", action="store_true", help="print every disagreement with its reason")
    ap.add_argument("--with-checks", action="store_true", help="the filter's checks first, then the judge")
    args = ap.parse_args()
    cases = [json.loads(line) for line in Path(args.set).read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        servers = ServerPool(Path(tmp))
        try:
            if args.offline:
                judge = ReferenceJudge()
            else:
                spec = (
                    ModelSpec(provider="llamacpp", model=args.gguf)
                    if args.gguf
                    else ModelSpec(
                        provider="openai", base_url=args.base_url, model=args.model, api_key_env=args.api_key_env
                    )
                )
                spec = spec.resolved()
                if args.gguf:
                    spec = spec.model_copy(update={"base_url": servers.server_for(spec).base_url})
                client = ModelClient(
                    spec, cache=RequestCache(Path(tmp) / "cache.sqlite"), ledger=UsageLedger(), budget=RunBudget(None)
                )
                judge = ModelJudge(client, DEFAULT_ROOT)
            started = time.monotonic()

            checked = [first_check(c["traj"]) if args.with_checks else None for c in cases]

            async def everything():
                return await asyncio.gather(*(judge.judge(c["traj"]) for c, f in zip(cases, checked) if not f))

            judged = iter(run_async(everything()))
            verdicts = [("fail", f"check {f}") if f else next(judged) for f in checked]
            seconds = time.monotonic() - started
        finally:
            servers.close()
    pairs = [(c["label"], v) for c, (v, _) in zip(cases, verdicts)]
    by_source = defaultdict(list)
    for c, pair in zip(cases, pairs):
        by_source[c["source"]].append(pair)
    after = " after the filter checks" if args.with_checks else ""
    print(
        f"judge: {judge.name}{after} on {len(cases)} labelled examples ({Counter(c['label'] for c in cases)}), "
        f"{seconds:.0f} s"
    )
    print("all:", json.dumps(scores(pairs)))
    for source, group in sorted(by_source.items()):
        print(f"{source}:", json.dumps(scores(group)))
    if args.show:
        for c, (verdict, reason) in zip(cases, verdicts):
            if (c["label"] == "good") != (verdict == "pass"):
                print(f"- {c['id']} labelled {c['label']} ({c['reason']}); judge {verdict}: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
