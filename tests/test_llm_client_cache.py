"""The model client's request cache: a repeat is answered without a request (even from a new process), the
same request asked twice at once is sent once, answers are written behind the requests and all by close, and a
failed write is raised by the next put with nothing forgotten."""

import asyncio
import json
import subprocess
import sys
import time

import pytest

from toolloom.llm import ModelCallError, RequestCache, UsageLedger, run_async
from toolloom.llm.fake_server import FakeModel, FakeServer, Faults

from .test_llm_client import _ask, _client


@pytest.mark.services
def test_cache_answers_repeats_without_a_request_even_from_a_new_process(tmp_path):
    with FakeServer() as server:
        c = _client(server, tmp_path)
        _ask(c, "same")
        _ask(c, "same")
        assert server.requests == 1
        c.cache.flush()  # written behind the request (within cache.FLUSH_S); now, for the other process
        code = (
            "import asyncio,sys; from toolloom.llm import *; from toolloom.spec import ModelSpec;"
            f"c=ModelClient(ModelSpec(provider='openai', model='fake', base_url='{server.base_url}'), "
            f"cache=RequestCache(r'{tmp_path}/cache.sqlite'),"
            " ledger=UsageLedger(), budget=RunBudget(None));"
            "r=run_async(c.chat([{'role':'user','content':'same'}], stage='s', role='user')); sys.exit(0 if "
            "r.cache_hit else 3)"
        )
        assert subprocess.run([sys.executable, "-c", code]).returncode == 0
        assert server.requests == 1


def test_the_same_request_asked_twice_at_once_is_sent_once_and_shares_its_answer_or_failure(tmp_path):
    model = FakeModel()
    model.enqueue({"content": "only answer"})
    with FakeServer(model, latency_s=0.3) as server:
        ledger = UsageLedger()
        c = _client(server, tmp_path, ledger=ledger)

        async def twice(text):
            return await asyncio.gather(
                *(c.chat([{"role": "user", "content": text}], stage="s", role="user") for _ in range(2)),
                return_exceptions=True,
            )

        first, second = run_async(twice("same"))
        assert (
            server.requests == 1
            and first.message == second.message
            and [first.cache_hit, second.cache_hit] == [False, True]
        )
    with FakeServer(faults=Faults(rate=1.0, kinds=("server_error",), seed=1)) as server:
        c = _client(server, tmp_path / "other", max_retries=1)
        results = run_async(twice("fails"))
        assert all(isinstance(r, ModelCallError) for r in results) and server.requests == 2  # one request, retried once


def test_answers_are_written_behind_the_requests_and_all_of_them_by_close(tmp_path):
    import sqlite3

    def on_disk():
        with sqlite3.connect(tmp_path / "c.sqlite") as con:
            return dict(con.execute("SELECT key, response FROM responses"))

    cache = RequestCache(tmp_path / "c.sqlite")
    cache.put("a", "m", {"answer": "A"})
    assert cache.get("a") == {"answer": "A"}  # answered from memory before it is written
    deadline = time.monotonic() + 30
    while "a" not in on_disk() and time.monotonic() < deadline:  # the writer thread, on its own
        time.sleep(0.02)
    assert json.loads(on_disk()["a"]) == {"answer": "A"}
    for i in range(300):
        cache.put(f"k{i}", "m", {"answer": i})
    cache.close()  # whatever is pending is written
    assert len(on_disk()) == 301 and json.loads(on_disk()["k299"]) == {"answer": 299}


def test_a_cache_write_that_fails_is_raised_by_the_next_put_and_nothing_is_forgotten(tmp_path):
    from toolloom.llm.cache import CacheWriteError

    class FullDisk(RequestCache):
        def _write(self, rows):
            raise OSError(28, "No space left on device")

    cache = FullDisk(tmp_path / "c.sqlite")
    cache.put("a", "m", {"answer": "A"})
    with pytest.raises(OSError):
        cache.flush()
    assert cache.get("a") == {"answer": "A"}  # still answered, from memory
    with pytest.raises(CacheWriteError, match="No space left"):
        cache.put("b", "m", {"answer": "B"})
