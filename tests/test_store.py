import multiprocessing as mp

import duckdb
import pyarrow as pa
import pytest

from toolloom.lake.store import Store, Write


def _rows(*ids):
    return pa.table({"id": list(ids), "payload": [f"p{i}" for i in ids]})


def test_versions_replace_and_time_travel(tmp_path):
    s = Store(tmp_path)
    first = s.write("demo", "items", _rows("a", "b"), version="v1", run_id="r1")
    s.write("demo", "items", _rows("c"), version="v2", run_id="r2")
    s.write("demo", "items", _rows("d"), version="v1", run_id="r3")  # re-materialize v1
    assert s.read("demo", "items", "v1")["id"].to_pylist() == ["d"]
    assert s.read("demo", "items", "v2")["id"].to_pylist() == ["c"]
    assert s.read("demo", "items", "v1", snapshot=first)["id"].to_pylist() == ["a", "b"]
    assert s.latest_version("demo", "items") == "v1"
    versions = {v["version"]: v for v in s.versions("demo")}
    assert versions["v1"]["tables"] == {"items": 1} and versions["v1"]["runs"] == ["r3"]
    assert versions["v2"]["tables"] == {"items": 1}


def test_scope_replaces_only_its_slice(tmp_path):
    s = Store(tmp_path)
    s.write(
        "p",
        "rejections",
        pa.table({"stage": ["ingest"], "reason": ["x"]}),
        version="v",
        run_id="r",
        scope={"stage": "ingest"},
    )
    s.write(
        "p",
        "rejections",
        pa.table({"stage": ["filter"], "reason": ["y"]}),
        version="v",
        run_id="r",
        scope={"stage": "filter"},
    )
    s.write(
        "p",
        "rejections",
        pa.table({"stage": ["filter", "filter"], "reason": ["z", "w"]}),
        version="v",
        run_id="r",
        scope={"stage": "filter"},
    )
    assert sorted(s.read("p", "rejections", "v")["reason"].to_pylist()) == ["w", "x", "z"]


def test_nested_columns_and_new_columns_survive(tmp_path):
    s = Store(tmp_path)
    msgs = pa.array([[{"role": "user", "content": "hi"}]])
    s.write("p", "t", pa.table({"id": ["a"], "messages": msgs}), version="v1", run_id="r")
    s.write("p", "t", pa.table({"id": ["b"], "messages": msgs, "extra": [1]}), version="v2", run_id="r")
    assert s.read("p", "t", "v1").to_pylist()[0]["messages"] == [{"role": "user", "content": "hi"}]
    assert s.read("p", "t", "v2")["extra"].to_pylist() == [1]


def test_query_attaches_every_pipeline(tmp_path):
    s = Store(tmp_path)
    s.write("one", "t", _rows("a"), version="v", run_id="r")
    s.write("two", "t", _rows("b", "c"), version="v", run_id="r")
    out = s.query("SELECT (SELECT count(*) FROM one.t) AS a, (SELECT count(*) FROM two.t) AS b")
    assert out.to_pylist() == [{"a": 1, "b": 2}]
    assert s.query("SELECT count(*) AS n FROM t", pipelines=["two"]).to_pylist() == [{"n": 2}]


def test_reading_a_table_that_does_not_exist_says_so(tmp_path):
    s = Store(tmp_path)
    s.write("p", "t", _rows("a"), version="v", run_id="r")
    with pytest.raises(KeyError, match="no table 'missing'"):
        s.read("p", "missing", "v")


def _writer(home, worker):
    s = Store(home)
    for i in range(5):
        s.write("p", "t", _rows(f"{worker}-{i}"), version=f"w{worker}-{i}", run_id=str(worker))


def test_concurrent_writer_processes_queue_instead_of_failing(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(600)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert Store(tmp_path).query("SELECT count(*) AS n FROM p.t").to_pylist() == [{"n": 15}]


def test_a_commit_lands_whole_or_not_at_all(tmp_path):
    """A stage's table, rejections and ledger are one commit: when one write fails, none is visible."""
    s = Store(tmp_path)
    s.write(
        "p",
        "rejections",
        pa.table({"stage": ["filter"], "reason": ["old"]}),
        version="v",
        run_id="r0",
        scope={"stage": "filter"},
    )
    s.write("p", "samples", pa.table({"id": [1]}), version="v", run_id="r0")
    bad = pa.table({"id": pa.array([[{"x": 1}]])})  # a list of structs cannot go into the integer column
    with pytest.raises(duckdb.Error):
        s.commit(
            "p",
            [
                Write("rejections", pa.table({"stage": ["filter"], "reason": ["new"]}), {"stage": "filter"}),
                Write("samples", bad),
            ],
            version="v",
            run_id="r1",
        )
    assert s.read("p", "rejections", "v")["reason"].to_pylist() == ["old"]
    assert s.read("p", "samples", "v")["id"].to_pylist() == [1]
    s.commit(
        "p",
        [
            Write("rejections", pa.table({"stage": ["filter"], "reason": ["new"]}), {"stage": "filter"}),
            Write("samples", pa.table({"id": [2, 3]})),
        ],
        version="v",
        run_id="r2",
    )
    assert s.read("p", "rejections", "v")["reason"].to_pylist() == ["new"]
    assert s.read("p", "samples", "v")["id"].to_pylist() == [2, 3]


def test_only_complete_versions_are_listed_unless_asked(tmp_path):
    s = Store(tmp_path)
    s.begin_version("p", "v1", "r1")
    s.write("p", "tools", _rows("a"), version="v1", run_id="r1")
    assert s.versions("p") == [] and s.latest_version("p") is None
    assert [(v["version"], v["status"]) for v in s.versions("p", include_incomplete=True)] == [("v1", "running")]
    assert s.begin_version("p", "v1", "r1") is False  # a re-execution of the same run continues its version
    s.complete_version("p", "v1", export="/x/v1")
    assert [(v["version"], v["status"], v["export"]) for v in s.versions("p")] == [("v1", "complete", "/x/v1")]
    s.begin_version("p", "v2", "r2")  # killed after its first stage: never listed as data
    s.write("p", "tools", _rows("b"), version="v2", run_id="r2")
    assert s.latest_version("p", "tools") == "v1"


def test_a_run_copies_what_it_reads_but_does_not_write_from_its_base(tmp_path):
    s = Store(tmp_path)
    s.begin_version("p", "v1", "r1")
    s.write("p", "tools", _rows("a", "b"), version="v1", run_id="r1")
    s.write("p", "samples", _rows("s"), version="v1", run_id="r1")
    for stage in ("ingest", "filter"):
        s.write(
            "p",
            "rejections",
            pa.table({"stage": [stage], "reason": [stage]}),
            version="v1",
            run_id="r1",
            scope={"stage": stage},
        )
    s.complete_version("p", "v1")
    s.begin_version("p", "v2", "r2", base="v1", copy={"tools": None, "rejections": ["ingest"]})
    assert s.read("p", "tools", "v2")["id"].to_pylist() == ["a", "b"]
    assert s.read("p", "rejections", "v2")["reason"].to_pylist() == ["ingest"]
    assert s.read("p", "samples", "v2").num_rows == 0
    assert [v["based_on"] for v in s.versions("p", include_incomplete=True)] == [None, "v1"]


def test_a_partition_rerun_replaces_the_partition_only_when_it_completes(tmp_path):
    s = Store(tmp_path)
    night = "2026-11-20"
    s.begin_version("p", f"{night}.run-a", "ra", partition=night)
    s.write("p", "samples", _rows("good"), version=f"{night}.run-a", run_id="ra")
    s.complete_version("p", f"{night}.run-a", promote_to=night)
    assert s.read("p", "samples", night)["id"].to_pylist() == ["good"]
    s.begin_version("p", f"{night}.run-b", "rb", partition=night)  # a rerun that fails midway
    s.write("p", "samples", _rows("broken"), version=f"{night}.run-b", run_id="rb")
    assert s.read("p", "samples", night)["id"].to_pylist() == ["good"]
    assert [v["version"] for v in s.versions("p")] == [night]
    s.begin_version("p", f"{night}.run-c", "rc", partition=night)  # a rerun that succeeds
    s.write("p", "samples", _rows("better", "best"), version=f"{night}.run-c", run_id="rc")
    s.complete_version("p", f"{night}.run-c", promote_to=night)
    assert s.read("p", "samples", night)["id"].to_pylist() == ["better", "best"]
    listed = s.versions("p", include_incomplete=True)
    assert [(v["version"], v["status"], v["runs"]) for v in listed] == [
        (f"{night}.run-b", "running", ["rb"]),
        (night, "complete", ["rc"]),
    ]


def test_kept_before_reads_complete_earlier_partitions_only(tmp_path):
    s = Store(tmp_path)
    msgs = pa.array([[{"role": "user", "content": "hi"}]])
    for night, status in (("2026-11-01", "complete"), ("2026-11-02", "running")):
        s.begin_version("p", night, "r", partition=night)
        s.write("p", "trajectories", pa.table({"traj_id": [f"t{night}"], "messages": msgs}), version=night, run_id="r")
        s.write("p", "samples", pa.table({"traj_id": [f"t{night}"]}), version=night, run_id="r")
        if status == "complete":
            s.complete_version("p", night)
    assert [r["traj_id"] for r in s.kept_before("p", "2026-11-03")] == ["t2026-11-01"]


def test_a_shards_commit_replaces_only_its_own_rows(tmp_path):
    s = Store(tmp_path)

    def shard(k, *ids):
        return _rows(*ids).append_column("shard", pa.array([k] * len(ids), pa.int64()))

    s.commit("p", [Write("items", shard(0, "a", "b"), {"shard": 0})], version="v", run_id="r")
    s.commit("p", [Write("items", shard(1, "c"), {"shard": 1})], version="v", run_id="r")
    s.commit("p", [Write("items", shard(0, "d"), {"shard": 0})], version="v", run_id="r")  # shard 0 again
    assert sorted(s.read("p", "items", "v")["id"].to_pylist()) == ["c", "d"]
