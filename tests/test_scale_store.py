"""The store on a PostgreSQL catalog with Parquet files on S3 (a real PostgreSQL server and moto, started by
the fixtures): versions, time travel, many writing processes, one attachment per stage."""

import multiprocessing
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from toolloom.lake.store import Store, Write

from .scale_services import s3_keys

pytestmark = pytest.mark.services


def _rows(*ids):
    return pa.table({"id": list(ids), "payload": [f"p{i}" for i in ids]})


def test_versions_and_time_travel_on_postgres_with_files_on_s3(scale_storage, tmp_path):
    s = Store(tmp_path / "home")
    assert s.pipelines() == [] and s.versions("demo") == []
    first = s.write("demo", "items", _rows("a", "b"), version="v1", run_id="r1")
    s.write("demo", "items", _rows("c"), version="v2", run_id="r2")
    s.write("demo", "items", _rows("d"), version="v1", run_id="r3")
    assert s.read("demo", "items", "v1")["id"].to_pylist() == ["d"]
    assert s.read("demo", "items", "v1", snapshot=first)["id"].to_pylist() == ["a", "b"]
    assert s.pipelines() == ["demo"]  # found by asking the catalog, not by a local file
    assert {v["version"] for v in s.versions("demo")} == {"v1", "v2"}
    keys = s3_keys(scale_storage["endpoint"], scale_storage["bucket"])
    assert keys and all(k.startswith("lake/demo/") and k.endswith(".parquet") for k in keys)
    assert not [p for p in (tmp_path / "home").rglob("*") if p.is_file()]  # no catalog file, no lock, no data


def _commits(home, worker, n):
    s = Store(home)
    for i in range(n):
        s.commit("shared", [Write("items", _rows(f"{worker}-{i}"))], version=f"w{worker}-{i}", run_id=f"r{worker}")


def test_four_processes_commit_to_one_table_at_once_without_a_lock(scale_storage, tmp_path):
    Store(tmp_path).write("shared", "items", _rows("seed"), version="seed", run_id="r")  # the table exists
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_commits, args=(tmp_path, w, 8)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(600)
    assert [p.exitcode for p in procs] == [0] * 4
    rows = Store(tmp_path).query("SELECT count(*) AS n, count(DISTINCT version) AS v FROM shared.items")
    assert rows.to_pylist() == [{"n": 33, "v": 33}]  # 4 x 8 commits, each landed once, and the seed
    assert not (tmp_path / "lake" / "shared" / ".lock").exists()


def _attach_new_lake(home, catalog, barrier):
    from toolloom.llm.shared import PostgresRequestCache, SharedBudget

    s = Store(home)
    barrier.wait(300)  # every process attaches the lake that does not exist yet at the same moment
    with s.session("fresh"):
        pass
    barrier.wait(300)  # and then makes the cache's and the budget's schema and tables at the same moment
    PostgresRequestCache(catalog).close()
    SharedBudget(10, "r", postgres=catalog).close()


def test_processes_attaching_a_new_lake_at_once_all_find_it_made(scale_storage, tmp_path):
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(6)
    procs = [ctx.Process(target=_attach_new_lake, args=(tmp_path, scale_storage["catalog"], barrier)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(600)
    assert [p.exitcode for p in procs] == [0] * 6  # none failed on the schema another was creating
    assert Store(tmp_path).pipelines() == ["fresh"]


def test_a_stage_session_keeps_one_attachment_for_its_reads_and_writes(scale_storage, tmp_path):
    from toolloom.lake import storage as storage_module

    s = Store(tmp_path)
    s.write("demo", "items", _rows("a"), version="v1", run_id="r1")
    attached = []
    original = Store._attach
    Store._attach = lambda self, db, p, ro: (attached.append(p), original(self, db, p, ro))[1]
    try:
        with s.session("demo"):
            for i in range(5):
                s.read("demo", "items", "v1")
                s.write("demo", "items", _rows(f"b{i}"), version="v2", run_id="r2")
            assert storage_module.ENGINE.held == {"demo": 1}
        s.read("demo", "items", "v2")  # after the session: attached for the one operation
    finally:
        Store._attach = original
    assert attached == ["demo", "demo"] and storage_module.ENGINE.held == {}
    assert s.read("demo", "items", "v2")["id"].to_pylist() == ["b4"]


def _spend_on_postgres(catalog, run_id, tokens, n):
    from toolloom.llm.shared import SharedBudget

    budget = SharedBudget(10_000, run_id, postgres=catalog)
    for _ in range(n):
        budget.spend(tokens)
    budget.close()


def test_the_catalog_holds_one_request_cache_and_one_budget_for_every_process(scale_storage, tmp_path):
    from toolloom.llm import BudgetExhausted
    from toolloom.llm.shared import PostgresRequestCache, SharedBudget
    from toolloom.runtime import Runtime
    from toolloom.spec import Pipeline

    from .conftest import PROJECT

    host_a, host_b = PostgresRequestCache(scale_storage["catalog"]), PostgresRequestCache(scale_storage["catalog"])
    host_a.put("k1", "m", {"answer": "from a"})
    host_a.flush()  # answers are written behind the requests; flush: now
    assert host_b.get("k1") == {"answer": "from a"} and host_b.get("k2") is None and len(host_b) == 1
    host_b.put("k1", "m", {"answer": "again"})  # the same request answered twice: one entry, the newer answer
    host_b.flush()
    assert host_a.get("k1") == {"answer": "again"} and len(host_a) == 1

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_spend_on_postgres, args=(scale_storage["catalog"], "run-9", 11, 40)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(600)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    budget = SharedBudget(1_000, "run-9", postgres=scale_storage["catalog"])
    assert budget.used == 3 * 40 * 11
    with pytest.raises(BudgetExhausted):
        budget.check()

    pipeline = Pipeline.model_validate(
        {"name": "p", "collections": [{"name": "demo", "path": "api_graphs/demo"}], "budget": {"max_tokens": 1000}}
    )
    rt = Runtime(pipeline, PROJECT, tmp_path / "home", run_id="run-9")  # the catalog named by the environment
    assert isinstance(rt.cache, PostgresRequestCache) and rt.cache.get("k1") == {"answer": "again"}
    assert isinstance(rt.budget, SharedBudget) and rt.budget.used == 1320  # a step process sees the run's spending
    rt.close()


def test_the_cache_and_the_budget_survive_the_catalog_dropping_their_connections(postgres):
    """The server ends every session (what a restart or an administrator does): the next read and write of the
    request cache and the token budget reconnect and go on, with nothing lost."""
    import uuid

    import psycopg

    from toolloom.llm.shared import PostgresRequestCache, SharedBudget

    from .scale_services import create_database

    db = create_database(postgres, f"r{uuid.uuid4().hex[:12]}")
    cache, budget = PostgresRequestCache(db), SharedBudget(1000, "run", postgres=db)
    try:
        cache.put("k", "m", {"answer": 1})
        cache.flush()
        budget.spend(10)
        with psycopg.connect(db, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        assert ended == 3  # the cache's reader and writer, the budget's
        assert cache.get("k") == {"answer": 1}  # read from the database, on a new connection
        cache.put("k2", "m", {"answer": 2})
        assert cache.flush() == 1  # written on a new connection
        budget.spend(5)
        assert budget.used == 15 and len(cache) == 2
    finally:
        cache.close()
        budget.close()


def test_a_catalog_restart_while_a_stage_holds_its_lake_costs_retries_not_the_run(tmp_path):
    """The catalog server is stopped (fast: every session ended at once, mid-commit or not) and started again 2 s
    later, twice, while a stage's session keeps writing and reading: every commit lands exactly once and every read
    sees it; nothing raises and the process survives (a failed ROLLBACK inside DuckDB's close() would abort it)."""
    import tempfile
    import threading
    import time

    from toolloom.lake.storage import StorageSpec

    from .scale_services import PostgresCluster, create_database, postgres_bin

    if postgres_bin() is None:
        pytest.skip("no PostgreSQL server binaries on this machine (.ci/run installs Debian's postgresql)")
    cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="toolloom-pg-")))  # under /tmp: the server user reads it
    cluster.start()
    restarts_done = threading.Event()

    def restart_twice():
        for _ in range(2):
            time.sleep(1.0)
            cluster.stop(fast=True)
            time.sleep(2.0)
            cluster.start()
        restarts_done.set()

    restarter = threading.Thread(target=restart_twice)
    try:
        s = Store(tmp_path / "home", StorageSpec(catalog=create_database(cluster.url, "restarted")))
        s.write("demo", "items", _rows("seed"), version="v-seed", run_id="r")
        written = 0
        with s.session("demo"):
            restarter.start()
            while not restarts_done.is_set():
                s.write("demo", "items", _rows(f"x{written}"), version=f"v{written:04d}", run_id="r")
                assert s.read("demo", "items", f"v{written:04d}")["id"].to_pylist() == [f"x{written}"]
                written += 1
            restarter.join()
        versions = [v["version"] for v in s.versions("demo")]
        assert written >= 5 and versions == ["v-seed"] + [f"v{i:04d}" for i in range(written)]
        assert s.query("SELECT count(*) AS n FROM items", pipelines=["demo"])["n"][0].as_py() == written + 1
    finally:
        if restarter.is_alive():
            restarter.join(60)
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


def test_a_second_host_embeds_nothing_the_first_embedded_through_the_shared_catalog(postgres):
    import numpy as np

    from toolloom.graph.embeddings import BagOfWordsEmbedder, CachedEmbedder
    from toolloom.llm.shared import PostgresVectors

    class Counting(BagOfWordsEmbedder):
        embedded = 0

        def embed(self, texts):
            self.embedded += len(texts)
            return super().embed(texts)

    import uuid

    from .scale_services import create_database

    catalog = create_database(postgres, f"e{uuid.uuid4().hex[:10]}")
    texts = [f"get the weather of city {i}" for i in range(300)]
    first_inner, second_inner = Counting(), Counting()
    first = CachedEmbedder(first_inner, store=PostgresVectors(catalog), chunk=64)
    vectors = first.embed(texts[:200])
    second = CachedEmbedder(second_inner, store=PostgresVectors(catalog), chunk=64)  # another host, same catalog
    again = second.embed(texts)
    assert first_inner.embedded == 200 and second_inner.embedded == 100  # only the texts the first never saw
    assert np.array_equal(again[:200], vectors) and second.hits == 200 and second.misses == 100
    first.close(), second.close()


def test_a_commit_the_catalog_restart_cut_is_a_lost_connection_not_a_failure():
    """CI under load: 'Failed to commit: Failed to execute query "ROLLBACK":' (the restart cut the COMMIT and its
    ROLLBACK) was raised, not retried; a commit run again replaces the same rows, so it is retried like the others."""
    from toolloom.lake.storage import _CONNECTION_LOST

    cut = 'TransactionContext Error: Failed to commit: Failed to execute query "ROLLBACK": '
    assert _CONNECTION_LOST.search(cut)
    assert not _CONNECTION_LOST.search("TransactionContext Error: Transaction conflict: cannot update a table")
