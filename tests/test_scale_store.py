"""The store on a PostgreSQL catalog with Parquet files on S3 (a real PostgreSQL server and moto, started by
the fixtures): versions, time travel, many writing processes, one attachment per stage."""
import multiprocessing

import pyarrow as pa
import pytest

from toolloom.store import Store, Write

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
        p.join(240)
    assert [p.exitcode for p in procs] == [0] * 4
    rows = Store(tmp_path).query("SELECT count(*) AS n, count(DISTINCT version) AS v FROM shared.items")
    assert rows.to_pylist() == [{"n": 33, "v": 33}]  # 4 x 8 commits, each landed once, and the seed
    assert not (tmp_path / "lake" / "shared" / ".lock").exists()


def test_a_stage_session_keeps_one_attachment_for_its_reads_and_writes(scale_storage, tmp_path):
    from toolloom import storage as storage_module

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
