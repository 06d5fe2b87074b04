import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import NamedTuple

import pytest

from toolloom.spec import load_pipeline

PROJECT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"
# a pipeline over the demo collection that runs in seconds: for tests about runs, not about the data
SMALL = """
collections: [{name: demo, path: api_graphs/demo}]
models: {default: {provider: offline}}
stages:
  tasks: {per_tool: 1, multi_hop: 6, parallel: 2, nested: 2, seed: 3}
  filter: {checks: [format, execution, dedup]}
  export: {root: exports, formats: [openai]}
"""


def fake_client(server, cache_path: Path):
    """A ModelClient for a FakeServer's endpoint (a model named 'fake'), its cache at `cache_path`, fast retries."""
    from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger
    from toolloom.spec import ModelSpec

    return ModelClient(
        ModelSpec(provider="openai", model="fake", base_url=server.base_url),
        cache=RequestCache(cache_path),
        ledger=UsageLedger(),
        budget=RunBudget(None),
        backoff_s=0.01,
    )


def simulated_by(client, tasks, tools, executor, params):
    """The simulation stage with `client`'s model as the user and the assistant (the shipped prompts)."""
    from toolloom.agents.llm import ModelAssistant, ModelUser
    from toolloom.prompts import DEFAULT_ROOT, render
    from toolloom.stages.simulate import simulate

    return simulate(
        tasks,
        tools,
        user=ModelUser(client, DEFAULT_ROOT),
        assistant=ModelAssistant(client),
        executor=executor,
        params=params,
        system_prompt=render("simulate/assistant_system.j2", today=None),
        prompt_hash="h",
    )


def make_project(root: Path, pipelines: dict[str, str | dict]) -> Path:
    """A throwaway project at `root`: the real prompts, sandbox and collections (linked), and the
    given pipeline files (name -> YAML text, or a dict written as JSON, which YAML reads)."""
    (root / "pipelines").mkdir(parents=True)
    for folder in ("prompts", "sandbox", "api_graphs"):
        (root / folder).symlink_to(PROJECT / folder)
    for name, body in pipelines.items():
        (root / "pipelines" / f"{name}.yaml").write_text(body if isinstance(body, str) else json.dumps(body))
    return root


def pytest_configure(config):
    sys._called_from_test = True  # installed toolloom plug-ins are not loaded: the suite sees the built-ins


def pytest_collection_modifyitems(items):
    """A test that reads the session's materialized demo belongs to the pipeline tier, as if it ran it."""
    for item in items:
        if {"demo_run", "demo_export"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.pipeline)


@pytest.fixture(autouse=True)
def fast_tier_starts_no_process(request, monkeypatch):
    """The fast tier (`-m "not pipeline and not services"`) is Python alone: a test that starts a process
    (a sandbox worker, a server, a CLI run) is marked `services` (or `pipeline`), or it fails here."""
    if request.node.get_closest_marker("services") or request.node.get_closest_marker("pipeline"):
        return

    def refuse(self, args, *rest, **options):
        raise RuntimeError(f"{request.node.nodeid} starts a process ({str(args)[:120]}): mark it `services`")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


@pytest.fixture
def demo_pipeline(tmp_path):
    """The shipped demo pipeline, exporting into a temporary folder."""
    p = load_pipeline(PROJECT / "pipelines" / "demo.yaml")
    stages = p.stages.model_copy(
        update={"export": p.stages.export.model_copy(update={"root": str(tmp_path / "exports")})}
    )
    return p.model_copy(update={"stages": stages})


@pytest.fixture(autouse=True, scope="session")
def shared_embeddings_cache(tmp_path_factory):
    """Embeddings are keyed by model and text, so every test's pipeline may share one cache (as users'
    projects may): the CPU embedder then embeds each text once per session, not once per test."""
    path = tmp_path_factory.mktemp("embeddings") / "embeddings.sqlite"
    with pytest.MonkeyPatch.context() as mp:  # the environment as it was once the session ends
        mp.setenv("TOOLLOOM_EMBEDDINGS_CACHE", str(path))
        yield path


@pytest.fixture(scope="session")
def node_tools():
    """The project's node executables (Prism, node MCP servers) from package.json, installed by
    `npm install` when missing, as .ci/run does; their tests are skipped, saying why, without npm."""
    import shutil
    import subprocess

    bin_dir = PROJECT / "node_modules" / ".bin"
    if not (bin_dir / "prism").exists():
        if shutil.which("npm") is None:
            pytest.skip(
                "npm is not installed: the Prism mock and node MCP server tests need `npm install` (package.json)"
            )
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund"], cwd=PROJECT, check=True, capture_output=True, timeout=600
        )
    return bin_dir


@pytest.fixture(autouse=True, scope="session")
def bfcl_checker_home():
    """BFCL's own AST checker (bfcl-eval, --no-deps) for every test, as `toolloom checkers install` puts
    it for users: in $TOOLLOOM_BFCL_EVAL when set, else .checkers/bfcl-eval of the project. Where it
    cannot be installed (no package index) it stays absent and the tests that need it say so."""
    from toolloom.formats.conformance import bfcl_checker_installed, install_bfcl_checker

    home = Path(os.environ.get("TOOLLOOM_BFCL_EVAL") or PROJECT / ".checkers" / "bfcl-eval")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOOLLOOM_BFCL_EVAL", str(home))
        try:
            install_bfcl_checker(home)
        except Exception:  # noqa: BLE001 - reported by the tests that need it
            pass
        yield home if bfcl_checker_installed(home) else None


class Materialized(NamedTuple):
    result: object  # dagster's ExecuteInProcessResult
    metadata: dict  # asset name -> its materialization metadata
    home: Path  # the store and cache of the run
    folder: str  # the export folder
    checks: dict  # check name -> evaluation, of the dataset asset


def materialize(pipeline, tmp: Path) -> Materialized:
    """Materialize a pipeline's assets into `tmp` (home and exports)."""
    import dagster as dg

    from toolloom.orchestration.dagster_defs import ToolloomResource, pipeline_assets

    stages = pipeline.stages.model_copy(
        update={"export": pipeline.stages.export.model_copy(update={"root": str(tmp / "exports")})}
    )
    result = dg.materialize(
        pipeline_assets(pipeline.model_copy(update={"stages": stages})),
        resources={"toolloom": ToolloomResource(project_root=str(PROJECT), home=str(tmp / "home"))},
    )
    assert result.success
    md = {
        e.asset_key.path[-1]: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }
    checks = {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key.path[-1] == "dataset"}
    return Materialized(result, md, tmp / "home", md["dataset"]["path"], checks)


def materialize_export(pipeline, tmp: Path) -> tuple[str, dict]:
    """(the export folder, the dataset's asset checks) of a pipeline materialized into `tmp`."""
    run = materialize(pipeline, tmp)
    return run.folder, run.checks


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, bfcl_checker_home) -> Materialized:
    """The demo pipeline materialized once per session, for every test that only reads what it made."""
    return materialize(load_pipeline(PROJECT / "pipelines" / "demo.yaml"), tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def demo_export(demo_run):
    return demo_run.folder, demo_run.checks


@pytest.fixture
def bfcl_checker(bfcl_checker_home):
    if bfcl_checker_home is None:
        pytest.skip("bfcl-eval could not be installed (no package index?): `toolloom checkers install`")
    return bfcl_checker_home


def unaccounted(store, pipeline: str, version: str) -> list[str]:
    """Stages of `version` whose stored rows do not add up (accepted + rejected = input), each side
    counted from what the stage wrote; a stage that committed nothing is skipped."""
    tables = {
        t: store.read(pipeline, t, version).to_pylist() if _has_table(store, pipeline, t) else []
        for t in ("tasks", "trajectories", "samples", "rejections")
    }
    rejected = {s: sum(r["stage"] == s for r in tables["rejections"]) for s in ("simulate", "filter")}
    problems = []
    if tables["trajectories"] or rejected["simulate"]:
        if len(tables["trajectories"]) + rejected["simulate"] != len(tables["tasks"]):
            problems.append(
                f"simulate: {len(tables['trajectories'])} + {rejected['simulate']} != {len(tables['tasks'])} tasks"
            )
    answered = sum(t["outcome"] == "answered" for t in tables["trajectories"])
    if tables["samples"] or rejected["filter"]:
        if len(tables["samples"]) + rejected["filter"] != answered:
            problems.append(f"filter: {len(tables['samples'])} + {rejected['filter']} != {answered} answered")
    return problems


def _has_table(store, pipeline: str, table: str) -> bool:
    return bool(
        store.query(
            f"SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = '{pipeline}' AND table_name = '{table}'",
            pipelines=[pipeline],
        ).to_pylist()[0]["n"]
    )


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for the session (Debian's binaries; `.ci/run` installs them)."""
    from .scale_services import postgres_bin, postgres_server

    if postgres_bin() is None:
        pytest.skip("no PostgreSQL server binaries on this machine (.ci/run installs Debian's postgresql)")
    root = Path(tempfile.mkdtemp(prefix="toolloom-pg-"))  # under /tmp: the server's user must reach it
    try:
        with postgres_server(root) as url:
            yield url
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server for the session."""
    from .scale_services import s3_server

    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def scale_storage(postgres, s3_endpoint, monkeypatch) -> dict:
    """A fresh database and bucket, named to toolloom through the environment as a deployment would."""
    from .scale_services import create_bucket, create_database

    name = f"t{uuid.uuid4().hex[:12]}"
    catalog = create_database(postgres, name)
    create_bucket(s3_endpoint, name)
    env = {
        "TOOLLOOM_CATALOG": catalog,
        "TOOLLOOM_DATA_PATH": f"s3://{name}/lake",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_REGION": "us-east-1",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return {"catalog": catalog, "bucket": name, "endpoint": s3_endpoint, "env": env}


@contextlib.contextmanager
def env_server(home: Path, log_path: Path, pipeline: str = "demo"):
    """`toolloom env serve` of the pipeline's newest version in `home` (split all), in its own process; yields
    its port once /health answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = log_path.open("w+")  # a file: a pipe nobody reads would stall the server
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "toolloom.cli",
            "--project",
            str(PROJECT),
            "--home",
            str(home),
            "env",
            "serve",
            pipeline,
            "--split",
            "all",
            "--port",
            str(port),
        ],
        stderr=log,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5)
                break
            except OSError:
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the environment server did not start"
                time.sleep(0.5)
        yield port
    finally:
        from .scale_services import stop_process

        stop_process(server, log)
