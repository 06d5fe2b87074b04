"""`toolloom`: run pipelines, query tables, list versions, validate files, serve a fake endpoint or an env."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from .orchestration.k8s_cli import add_k8s_parser
from .rl.cli import add_env_parser
from .spec import ModelSpec, PipelineFileError, load_pipeline, load_pipelines
from .lake.storage import home_of
from .reports.table_text import print_table


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _project(args) -> Path:
    return Path(args.project).resolve()


def _home(args) -> Path:
    return home_of(_project(args), args.home)


def _store(args, pipeline: str | None = None):
    """The store the pipeline's own `storage:` names (its catalog and data path), else the one every pipeline
    file of the project shares, else the home's default; TOOLLOOM_CATALOG / TOOLLOOM_DATA_PATH still win."""
    from .lake.store import Store

    folder = _project(args) / "pipelines"
    if pipeline and (folder / f"{pipeline}.yaml").exists():
        return Store(_home(args), load_pipeline(folder / f"{pipeline}.yaml").storage)
    specs = (
        {json.dumps(p.storage.model_dump(), sort_keys=True): p.storage for p in load_pipelines(folder)[0].values()}
        if folder.is_dir()
        else {}
    )
    return Store(_home(args), next(iter(specs.values())) if len(specs) == 1 else None)


def cmd_run(args) -> int:
    from .orchestration import progress
    from .orchestration.dagster_defs import close_runtimes
    from .orchestration.launch import LaunchError, run_pipeline
    from .llm.preflight import PreflightError
    from .reports.run_summary import print_summary
    from .lake.storage import StorageError

    root = _project(args)
    if args.unsafe_sandbox:
        from .sandbox.confinement import UNSAFE_ENV

        os.environ[UNSAFE_ENV] = "1"
        print("WARNING: --unsafe-sandbox: tool code that this host cannot confine runs unconfined", file=sys.stderr)
    server, home = None, _home(args)
    try:
        pipeline = load_pipeline(root / "pipelines" / f"{args.pipeline}.yaml")
        if args.fake_endpoint:
            pipeline, server, home = _dry_run(args, pipeline)
        assets, tags = _partition_and_resume(args, pipeline)
        _preflight(pipeline, root, home)
    except (PipelineFileError, ValueError, PreflightError, StorageError) as e:  # one line, and nothing was run
        print(f"error: {e}", file=sys.stderr)
        if server:
            server.stop()
        return 2
    bar = progress.Bar()
    progress.add_listener(bar)
    signal.signal(signal.SIGTERM, _interrupt)  # a cancelled run unwinds: model servers and workers are stopped
    started = time.monotonic()
    try:
        result = run_pipeline(
            pipeline,
            root,
            home,
            partition=args.partition,
            log_level=args.log_level,
            backoff_s=0.05 if args.fake_endpoint else 1.0,
            assets=assets,
            tags=tags,
        )
    except LaunchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # the run's own records (Dagster's instance under the home) on a full disk
        if shutil.disk_usage(home).free > 2**21:
            raise
        print(
            f"error: No space left on device under {home} ({type(e).__name__}); the stages that committed "
            f"stay, `toolloom run {args.pipeline} --resume` continues once there is room",
            file=sys.stderr,
        )
        return 1
    finally:
        progress.remove_listener(bar)
        close_runtimes()
        if server:
            server.stop()
    return print_summary(result, pipeline, home, args.pipeline, time.monotonic() - started)


def _dry_run(args, pipeline):
    """The pipeline against a fake endpoint, with its own store and export root: (pipeline, server, home).
    A dry run never touches the pipeline's real versions or its `latest` export."""
    from .llm.fake_server import FakeServer, Faults

    server = FakeServer(faults=Faults(rate=args.fault_rate, seed=args.seed, hang_s=3.0)).start()
    spec = ModelSpec(provider="openai", model="fake", base_url=server.base_url, timeout_s=2.0)
    export = pipeline.stages.export.model_copy(update={"root": f"{pipeline.stages.export.root.rstrip('/')}-dry-run"})
    pipeline = pipeline.model_copy(
        update={"models": {"default": spec}, "stages": pipeline.stages.model_copy(update={"export": export})}
    )
    home = _home(args) / "dry-run"
    print(
        f"dry run against a fake endpoint at {server.base_url} (fault rate {args.fault_rate}); "
        f"store {home}, exports under {export.root}/",
        file=sys.stderr,
    )
    return pipeline, server, home


def _partition_and_resume(args, pipeline) -> tuple[list[str] | None, dict | None]:
    """Set `args.partition` (a daily pipeline's newest day unless named) and, with `--resume`, the version to
    continue: (the assets still to run, the run's tags), or (None, None) for a whole run; ValueError if neither
    can be."""
    from .orchestration.dagster_defs import daily_partitions
    from .orchestration.run_versions import RESUME_TAG, resume_plan

    partitions = daily_partitions(pipeline)
    if partitions is not None:
        keys = partitions.get_partition_keys()
        args.partition = args.partition or (keys[-1] if keys else None)
        if args.partition not in keys:
            raise ValueError(
                f"{args.partition!r} is not a partition of pipeline {pipeline.name!r} "
                f"(daily, {pipeline.start_date} to the last complete day)"
            )
    if not args.resume:
        return None, None
    version, args.partition, assets = resume_plan(
        _store(args, args.pipeline), pipeline, None if args.resume == "newest" else args.resume
    )
    print(f"resuming {version}: {', '.join(assets)}", file=sys.stderr)
    return assets, {RESUME_TAG: version}


def _preflight(pipeline, root: Path, home: Path) -> None:
    """Every model endpoint the run will use answers before any stage starts (llm/preflight.py)."""
    from .runtime import Runtime

    rt = Runtime(pipeline, root, home)
    try:
        rt.store.catalog.setup_sql()  # S3 credentials are set
        rt.store.pipelines()  # the catalog answers
        for note in rt.preflight():
            print(f"warning: {note}", file=sys.stderr)
    finally:
        rt.close()


def cmd_checkers(args) -> int:
    from .formats.conformance import BFCL_EVAL, bfcl_checker_home, bfcl_checker_installed, install_bfcl_checker

    home = bfcl_checker_home()
    if args.action == "install":
        install_bfcl_checker(home)
    state = "installed" if bfcl_checker_installed(home) else "not installed (toolloom checkers install)"
    print(f"bfcl: {BFCL_EVAL} in {home}: {state}")
    return 0 if args.action == "status" or bfcl_checker_installed(home) else 1


def cmd_query(args) -> int:
    store = _store(args, args.pipeline)
    pipelines = [args.pipeline] if args.pipeline else None
    if not (pipelines or store.pipelines()):
        print(f"error: no pipeline tables under {store.home}; run a pipeline first", file=sys.stderr)
        return 2
    try:
        table = store.query(args.sql, pipelines=pipelines)
    except Exception as e:  # SQL errors are the user's to read, one line
        print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
    if args.json:
        for row in table.to_pylist():
            print(json.dumps(row, ensure_ascii=False, default=str))
    else:
        print_table(table)
    return 0


def cmd_versions(args) -> int:
    store = _store(args, args.pipeline)
    versions = store.versions(args.pipeline, include_incomplete=args.all)
    if not versions:
        hidden = len(store.versions(args.pipeline, include_incomplete=True))
        print(
            f"pipeline {args.pipeline!r} has no complete versions yet"
            + (f" ({hidden} unfinished: --all lists them)" if hidden else "")
            + f" (run `toolloom run {args.pipeline}`)",
            file=sys.stderr,
        )
        return 1
    for v in versions:
        tables = ", ".join(f"{t}={n}" for t, n in sorted(v["tables"].items()))
        status = f"{v['status']:<9} " if args.all else ""
        print(
            f"{v['version']:<26} {status}{v['written_at']:%Y-%m-%d %H:%M:%S}  runs "
            f"{','.join(r[:8] for r in v['runs'])}  {tables}"
        )
    return 0


def cmd_validate(args) -> int:
    """Every pipeline file, and each collection ingested as its run would (live MCP listings included)."""
    from .orchestration.dagster_defs import pipeline_job
    from .sandbox import Sandbox
    from .stages.tools import build_tools

    root = _project(args)
    pipelines, errors = load_pipelines(root / "pipelines")
    for e in errors:
        print(f"error: {e}")
    for p in pipelines.values():
        sandbox = Sandbox(root / "sandbox")
        for c in p.collections:
            try:
                result = build_tools(p.model_copy(update={"collections": [c]}), root, sandbox)
            except Exception as e:  # a sandbox this host cannot confine, say: one line, the rest goes on
                print(f"error: pipelines/{p.name}: collection {c.name}: {type(e).__name__}: {e}")
                errors.append(e)
                continue
            rows = result.table.to_pylist()
            kinds = ", ".join(
                f"{k} {sum(r['execution'] == k for r in rows)}" for k in sorted({r["execution"] for r in rows})
            )
            if not rows:  # a collection that gives no tool cannot make an example: not ok
                errors.append(c.name)
            print(
                f"{'ok' if rows else 'error'}: pipelines/{p.name}: collection {c.name}: {len(rows)} tools, "
                f"{len(result.rejections)} rejected" + (f" (execution: {kinds})" if kinds else "")
            )
            for r in result.rejections:
                print(f"  rejected: {r.detail or r.reason}")
        sandbox.close()
        try:  # its job as Dagster will load it: the executor it names and that executor's settings
            pipeline_job(p)
        except ValueError as e:
            print(f"error: pipelines/{p.name}: {e}")
            errors.append(e)
    return 1 if errors else 0


def cmd_fake_server(args) -> int:
    from .llm.fake_server import FakeServer, Faults

    server = FakeServer(
        faults=Faults(rate=args.fault_rate, seed=args.seed),
        port=args.port,
        latency_s=args.latency,
        rate_limit=args.rate_limit,
        calls_as_text=args.calls_as_text,
    )
    server.start()
    print(
        f"fake OpenAI-compatible endpoint at {server.base_url} (fault rate {args.fault_rate}); Ctrl-C stops it",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


def cmd_plugins(args) -> int:
    from .registry import installed_plugins, registries

    listing: dict = {"plugins": installed_plugins()}
    if args.all:  # every extension point's components, built-ins included, each with where it comes from
        listing["components"] = {kind: {n: reg.origin(n) for n in reg.names()} for kind, reg in registries().items()}
    print(json.dumps(listing, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="toolloom", description="Declarative synthetic tool-use data pipelines.")
    ap.add_argument("--project", default=".", help="project folder (holds pipelines/, prompts/, sandbox/); default: .")
    ap.add_argument("--home", default=None, help="store and cache folder; default: $TOOLLOOM_HOME or PROJECT/.toolloom")
    sub = ap.add_subparsers(dest="command", required=True)
    _add_run_parser(sub)
    _add_other_parsers(sub)
    add_env_parser(sub)
    add_k8s_parser(sub)
    return ap


def _add_run_parser(sub) -> None:
    run = sub.add_parser("run", help="materialize a pipeline's assets and export its dataset")
    run.add_argument("pipeline", help="name of pipelines/NAME.yaml")
    run.add_argument(
        "--partition", help="partition (dataset version) of a daily pipeline; default: the last complete day"
    )
    run.add_argument(
        "--fake-endpoint", action="store_true", help="dry run: every model role talks to a local fake endpoint"
    )
    run.add_argument("--fault-rate", type=float, default=0.0, help="with --fake-endpoint: share of requests that fail")
    run.add_argument("--seed", type=int, default=0, help="with --fake-endpoint: seed of the fault schedule")
    run.add_argument("--log-level", default="WARNING", help="Dagster console log level (default WARNING)")
    run.add_argument(
        "--resume",
        nargs="?",
        const="newest",
        metavar="VERSION",
        help="continue an unfinished version (a failed or killed run's; default the newest): only the "
        "stages it has not committed run",
    )
    run.add_argument(
        "--unsafe-sandbox",
        action="store_true",
        help="run tool code unconfined where this host cannot confine it (no bubblewrap): only for code you trust",
    )
    run.set_defaults(fn=cmd_run)


def _add_other_parsers(sub) -> None:
    q = sub.add_parser("query", help="SQL over every pipeline's tables (schema per pipeline: demo.tools, ...)")
    q.add_argument("sql")
    q.add_argument("--pipeline", help="attach only this pipeline and make it the default schema")
    q.add_argument("--json", action="store_true", help="one JSON object per row")
    q.set_defaults(fn=cmd_query)

    v = sub.add_parser("versions", help="list a pipeline's complete dataset versions with time, runs and row counts")
    v.add_argument(
        "--all", action="store_true", help="also versions still running, or left unfinished by a failed or killed run"
    )
    v.add_argument("pipeline")
    v.set_defaults(fn=cmd_versions)

    val = sub.add_parser("validate", help="check every pipeline file and ingest its collections")
    val.set_defaults(fn=cmd_validate)

    ck = sub.add_parser("checkers", help="the export formats' own checkers (BFCL's AST checker): status or install")
    ck.add_argument("action", choices=["status", "install"])
    ck.set_defaults(fn=cmd_checkers)

    fs = sub.add_parser("fake-server", help="serve the scripted fake OpenAI-compatible endpoint")
    fs.add_argument("--port", type=int, default=8765)
    fs.add_argument("--fault-rate", type=float, default=0.0)
    fs.add_argument("--seed", type=int, default=0)
    fs.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    fs.add_argument("--rate-limit", type=float, default=None, help="requests per second admitted; the rest get 429")
    fs.add_argument(
        "--calls-as-text",
        choices=["hermes", "json", "pythonic", "garbage"],
        default=None,
        help="write tool calls into the message text, as models without a server-side parser do",
    )
    fs.set_defaults(fn=cmd_fake_server)

    pl = sub.add_parser("plugins", help="the installed plug-ins (toolloom.plugins entry points) and what each adds")
    pl.add_argument("--all", action="store_true", help="also every extension point's components, built-ins included")
    pl.set_defaults(fn=cmd_plugins)


def main(argv: list[str] | None = None) -> int:
    from .lake.storage import StorageError

    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except StorageError as e:  # the catalog or data path the settings name cannot be used: say which, and why
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
