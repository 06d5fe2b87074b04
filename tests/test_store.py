import multiprocessing as mp

import pyarrow as pa
import pytest

from toolloom.store import Store


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
    s.write("p", "rejections", pa.table({"stage": ["ingest"], "reason": ["x"]}), version="v", run_id="r", scope={"stage": "ingest"})
    s.write("p", "rejections", pa.table({"stage": ["filter"], "reason": ["y"]}), version="v", run_id="r", scope={"stage": "filter"})
    s.write("p", "rejections", pa.table({"stage": ["filter", "filter"], "reason": ["z", "w"]}), version="v", run_id="r", scope={"stage": "filter"})
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
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert Store(tmp_path).query("SELECT count(*) AS n FROM p.t").to_pylist() == [{"n": 15}]
