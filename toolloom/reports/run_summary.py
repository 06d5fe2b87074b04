"""What `toolloom run` prints when a run ends: each stage's counts, the data-quality verdicts, the failed
checks, where the dataset is, and one line that says whether the run succeeded."""

from __future__ import annotations

import sys
from pathlib import Path


def print_summary(result, pipeline, home: Path, name: str, seconds: float) -> int:
    """The summary of a finished run (a Dagster execution result); the exit code: 0 when it succeeded with no
    failed check (warnings alone are a success: a cron job should not report failure), else 1."""
    import dagster as dg

    print(f"\npipeline {pipeline.name}: {'succeeded' if result.success else 'FAILED'} in {seconds:.1f}s")
    if not result.success:  # its version is no longer running: listed as failed, and resumable
        from ..lake.store import Store

        for version in Store(home, pipeline.storage).fail_version(pipeline.name, result.run_id):
            print(f"version {version} is unfinished: `toolloom run {name} --resume` continues it")
    export_path = print_stages(result.get_asset_materialization_events())
    failed_checks = [e for e in result.get_asset_check_evaluations() if not e.passed]
    for e in failed_checks:
        warn = e.severity == dg.AssetCheckSeverity.WARN
        print(
            f"  check {'warning' if warn else 'failed'}: {e.asset_key.to_user_string()} {e.check_name}"
            f"{': ' + e.description if e.description else ''}",
            file=sys.stderr,
        )
    if export_path:
        how = (
            "from toolloom.export import load_export; load_export"
            if "://" in str(export_path)
            else "from datasets import load_dataset; load_dataset"
        )
        print(f"dataset: {export_path}\n  {how}({str(export_path)!r})")
    warned = [
        f"{e.asset_key.path[-1]}.{e.check_name}" for e in failed_checks if e.severity == dg.AssetCheckSeverity.WARN
    ]
    errors = [
        f"{e.asset_key.path[-1]}.{e.check_name}" for e in failed_checks if e.severity != dg.AssetCheckSeverity.WARN
    ]
    ok = result.success and not errors
    verdict = "succeeded" if ok else "FAILED" + (f" (checks failed: {', '.join(errors)})" if errors else "")
    print(
        f"{pipeline.name}: {verdict}"
        + (f"; checks warned: {', '.join(warned)}" if warned else "; every check passed" if ok else "")
    )
    return 0 if ok else 1


def print_stages(events) -> str | None:
    """One line per stage asset (accepted, rejected, inputs, version) and the export's quality; the export's
    path, if the run exported."""
    export_path = None
    width = max([13] + [len(e.asset_key.path[-1]) for e in events])  # shard assets have longer names
    for event in events:
        md = {k: v.value for k, v in event.materialization.metadata.items()}
        name = event.asset_key.path[-1]
        if "accepted" in md:
            print(
                f"  {name:<{width}} {md['accepted']:>6} accepted  {md['rejected']:>5} rejected  of "
                f"{md['inputs']:>6}   version {md['version']}"
            )
        if "path" in md:
            export_path = md["path"]
        if "data_quality" in md:
            print_quality(md["data_quality"], width)
    return export_path


def print_quality(report: dict, width: int = 13) -> None:
    for config, c in report["conformance"].items():
        verdict = "not checked" if c["conforming"] is None else f"{c['conforming']}/{c['rows']} pass"
        print(f"  {config:<{width}} {verdict:<16} {c['checker']}")
    leak, docs = report["leakage"], report["documentation"]
    print(
        f"  {'leakage':<{width}} {leak['test_calls_seen_in_train']} test calls, "
        f"{leak['test_requests_near_duplicate_of_train']} test requests "
        f"also in train;  tool docs: median {docs['median_chars']} chars, {len(docs['with_internals'])} with "
        "pipeline internals"
    )
