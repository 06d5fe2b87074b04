"""Scale-out settings without services: storage settings, the step executor, the budget across processes,
managed model servers with step processes."""

import hashlib
import json
import multiprocessing
import sys

import dagster as dg
import pytest
from pydantic import ValidationError

from toolloom.orchestration.dagster_defs import build_definitions, step_executor
from toolloom.llm import BudgetExhausted
from toolloom.llm.servers import server_key
from toolloom.llm.shared import SharedBudget
from toolloom.runtime import Runtime
from toolloom.spec import Pipeline, PipelineFileError, load_pipeline
from toolloom.lake.catalog import catalog_for
from toolloom.lake.storage import StorageError, StorageSpec, public_url, storage_settings
from toolloom.lake.store import Store

from .conftest import PROJECT, make_project

BASE = {
    "name": "p",
    "collections": [{"name": "demo", "path": "api_graphs/demo"}],
    "models": {"default": {"provider": "offline"}},
}


def test_the_environment_names_the_catalog_over_the_pipeline_file():
    spec = StorageSpec(data_path="/data/lakes")
    env = {"TOOLLOOM_CATALOG": "postgres://loom@db:5432/lakes"}
    assert storage_settings(spec, env).catalog == "postgres://loom@db:5432/lakes"
    assert storage_settings(spec, env).data_path == "/data/lakes"  # what the environment leaves unset stays
    assert storage_settings(spec, {}) == spec and not spec.shared and storage_settings(spec, env).shared


@pytest.mark.parametrize(
    "catalog, says",
    [
        ("postgres://loom:hunter2@db/lakes", "must not carry a password: set PGPASSWORD"),
        ("postgres://loom@db/lakes?sslmode=require&password=hunter2", "must not carry a password"),
        ("mysql://db/lakes", "must be 'duckdb' or a postgres:// URL"),
        ("postgres://loom@db:5432", "names no database"),
    ],
)
def test_a_bad_catalog_is_refused_with_its_reason(catalog, says, tmp_path):
    (tmp_path / "p.yaml").write_text(json.dumps({**BASE, "storage": {"catalog": catalog}}))
    with pytest.raises(PipelineFileError, match=says) as e:
        load_pipeline(tmp_path / "p.yaml")
    assert "hunter2" not in str(e.value)  # the message names the problem, never the secret


def test_a_bad_catalog_in_the_environment_names_the_variable_and_not_the_password():
    with pytest.raises(StorageError) as e:
        storage_settings(None, {"TOOLLOOM_CATALOG": "postgres://loom:hunter2@db/lakes"})
    assert str(e.value).startswith("$TOOLLOOM_CATALOG: a catalog URL must not carry a password")
    assert "hunter2" not in str(e.value)


def test_a_data_path_on_another_scheme_is_refused():
    with pytest.raises(ValidationError, match="must be a folder or s3://bucket/prefix"):
        StorageSpec(data_path="gs://bucket/lake")


def test_s3_without_credentials_names_the_variables_to_set(tmp_path, monkeypatch):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var, raising=False)
    catalog = catalog_for(tmp_path, StorageSpec(data_path="s3://bucket/lake"))
    with pytest.raises(StorageError, match="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        catalog.setup_sql()
    monkeypatch.setenv("LOOM_KEY", "AKIA-test")
    monkeypatch.setenv("LOOM_SECRET", "s3cr3t")
    named = catalog_for(
        tmp_path, StorageSpec(data_path="s3://bucket/lake", s3_key_id_env="LOOM_KEY", s3_secret_env="LOOM_SECRET")
    )
    assert "s3cr3t" in named.setup_sql()[0]  # read from the variables the settings name
    assert "s3cr3t" not in json.dumps(named.describe()) and named.data_path("demo") == "s3://bucket/lake/demo/"


def test_public_url_drops_the_user():
    assert public_url("postgres://loom@db.internal:5432/lakes") == "postgres://db.internal:5432/lakes"


def test_an_unreachable_catalog_is_one_clear_error(tmp_path):
    from toolloom.llm.managed_server import free_port

    store = Store(tmp_path, StorageSpec(catalog=f"postgres://loom@127.0.0.1:{free_port()}/lakes"))
    with pytest.raises(StorageError, match=r"catalog postgres://127\.0\.0\.1:\d+/lakes cannot be reached"):
        store.pipelines()


def test_the_pipeline_job_runs_on_the_executor_it_names(tmp_path):
    made = Pipeline.model_validate({**BASE, "execution": {"executor": "multiprocess", "max_concurrent": 3}})
    assert step_executor(made).name == "multiprocess"
    project = make_project(tmp_path / "p", {"p": made.model_dump(mode="json")})
    assert build_definitions(project).resolve_job_def("p_job").executor_def.name == "multiprocess"
    assert step_executor(Pipeline.model_validate(BASE)) is dg.in_process_executor


def test_a_kubernetes_pipeline_without_dagster_k8s_is_skipped_with_its_reason(tmp_path, caplog, monkeypatch):
    """dagster-k8s is an extra: without it, the pipeline says what to install and the others load."""
    monkeypatch.setitem(sys.modules, "dagster_k8s", None)  # an import of it fails, as on a machine without it
    project = make_project(
        tmp_path / "p",
        {"k8s": {**BASE, "name": "k8s", "execution": {"executor": "k8s"}}, "local": {**BASE, "name": "local"}},
    )
    defs = build_definitions(project)
    assert [j.name for j in defs.jobs] == ["local_job"]
    assert "execution.executor k8s needs dagster-k8s" in caplog.text


def _spend(path, run_id, tokens, n):
    budget = SharedBudget(1000, run_id, sqlite=path)
    for _ in range(n):
        budget.spend(tokens)
    budget.close()


def test_the_token_budget_is_counted_across_the_runs_processes(tmp_path):
    path = tmp_path / "token_budget.sqlite"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_spend, args=(path, "run-1", 7, 50)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(600)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    budget = SharedBudget(1000, "run-1", sqlite=path)
    assert budget.used == 3 * 50 * 7  # no increment lost between processes
    with pytest.raises(BudgetExhausted, match="token budget of 1000 reached"):
        budget.check()
    assert SharedBudget(1000, "run-2", sqlite=path).used == 0  # counted per run


def test_step_processes_use_the_server_the_launcher_started(tmp_path):
    from toolloom.orchestration.launch import job_for

    spec = {"provider": "llamacpp", "model": "tiny.gguf"}
    pipeline = Pipeline.model_validate({**BASE, "models": {"default": spec}, "execution": {"executor": "multiprocess"}})
    rt = Runtime(pipeline, PROJECT, tmp_path / "home")
    with pytest.raises(ValueError, match="would start a server in every step process"):
        rt.client_for("judge")
    # what a step process rebuilds: the job whose resource names the launcher's servers
    served = {server_key(pipeline.model_for("judge").resolved()): "http://127.0.0.1:9/v1"}
    job = job_for(
        pipeline.model_dump(mode="json", exclude_unset=True),
        str(PROJECT),
        str(tmp_path / "home"),
        1.0,
        served=served,
        progress_lines=True,
    )
    with dg.build_resources({"toolloom": job.resource_defs["toolloom"]}) as built:
        resource = built.toolloom
    assert resource.served_models == served and resource.progress_lines
    client = Runtime(pipeline, PROJECT, tmp_path / "home", served=resource.served_models)._client("judge")[0]
    assert client.spec.base_url == "http://127.0.0.1:9/v1"  # no server of its own


def test_run_stops_before_any_stage_when_the_catalog_cannot_be_reached(tmp_path, monkeypatch, capsys):
    from toolloom.cli import main
    from toolloom.llm.managed_server import free_port

    from .conftest import SMALL

    project = make_project(tmp_path / "p", {"small": SMALL})
    monkeypatch.setenv("TOOLLOOM_CATALOG", f"postgres://loom@127.0.0.1:{free_port()}/lakes")
    assert main(["--project", str(project), "run", "small"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: catalog postgres://127.0.0.1:") and "cannot be reached" in err
    assert not (project / "exports").exists() and not (project / ".toolloom" / "lake").exists()


def test_shards_make_a_sharded_stage_several_assets_that_run_side_by_side():
    from toolloom.orchestration.dagster_defs import pipeline_assets

    pipeline = Pipeline.model_validate({**BASE, "stages": {"escalate": {}}, "execution": {"shards": 2}})
    assets = {a.key.path[-1]: a for a in pipeline_assets(pipeline)}
    assert {"escalations_shard_0", "escalations_shard_1", "trajectories_shard_0", "trajectories_shard_1"} <= set(assets)
    assert "trajectories" not in assets and "escalations" not in assets

    def deps(name):
        return {k.path[-1] for k in assets[name].asset_deps[assets[name].key]}

    assert deps("trajectories_shard_1") == {"tasks", "escalations_shard_1"}  # not the other shard: in parallel
    assert deps("samples") == {"trajectories_shard_0", "trajectories_shard_1"}  # merged here
    assert deps("escalations_shard_0") == {"tasks"}


def test_every_item_belongs_to_exactly_one_shard_the_same_in_every_process():
    from toolloom.stages.asset import Shard, shard_of

    keys = [f"t_{i:05d}" for i in range(2000)]
    owners = [[k for k in keys if Shard(i, 3).owns(k)] for i in range(3)]
    assert sorted(sum(owners, [])) == keys  # a partition: none twice, none left out
    assert all(500 < len(o) < 834 for o in owners)  # and roughly even
    assert shard_of("t_00042", 3) == int(hashlib.sha256(b"t_00042").hexdigest()[:8], 16) % 3
