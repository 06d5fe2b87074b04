"""Several endpoints per role (base_urls): requests spread over the endpoints that are up, fail over
from one that is down, and every request records the endpoint that answered it."""

import asyncio
from collections import Counter

import pytest
from pydantic import ValidationError

from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger, run_async
from toolloom.llm.fake_server import FakeServer
from toolloom.llm.managed_server import free_port
from toolloom.llm.preflight import PreflightError, preflight
from toolloom.spec import ModelSpec


def _client(urls, tmp_path, ledger, **spec):
    spec = ModelSpec(provider="openai", model="fake", base_urls=urls, timeout_s=5.0, **spec)
    return ModelClient(
        spec, cache=RequestCache(tmp_path / "cache.sqlite"), ledger=ledger, budget=RunBudget(None), backoff_s=0.01
    )


def _many(client, n):
    async def run():
        return await asyncio.gather(
            *(client.chat([{"role": "user", "content": f"q{i}"}], stage="s", role="user") for i in range(n))
        )

    return run_async(run())


def test_requests_spread_over_the_endpoints_and_each_is_recorded_with_its_own(tmp_path):
    ledger = UsageLedger()
    with FakeServer() as a, FakeServer() as b:
        client = _client([a.base_url, b.base_url], tmp_path, ledger, max_concurrency=2)
        results = _many(client, 24)
        assert len(results) == 24 and all(r.message["content"] for r in results)
        assert a.requests > 0 and b.requests > 0 and a.requests + b.requests == 24
    by_endpoint = Counter(r.endpoint for r in ledger.records)
    assert by_endpoint == {a.base_url: a.requests, b.base_url: b.requests}  # counted by the servers, not derived
    assert ledger.summary("s")["endpoints"] == dict(by_endpoint)
    assert {u: client.endpoint_usage[u]["answered"] for u in by_endpoint} == dict(by_endpoint)


def test_a_dead_endpoint_is_skipped_and_its_requests_go_to_the_other(tmp_path):
    ledger = UsageLedger()
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with FakeServer() as live:
        client = _client([dead, live.base_url], tmp_path, ledger, max_concurrency=4)
        results = _many(client, 12)
        assert len(results) == 12 and live.requests == 12
    assert {r.endpoint for r in ledger.records} == {live.base_url} and all(r.status == "ok" for r in ledger.records)
    assert client.endpoint_usage[dead]["failed"] >= 1 and client.endpoint_usage[dead]["answered"] == 0
    retried = [r for r in ledger.records if r.attempts > 1]
    assert retried  # the requests first sent to the dead endpoint were retried elsewhere, and say so


def test_preflight_warns_of_a_dead_endpoint_and_fails_when_all_are(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with FakeServer() as live:
        note = preflight(_client([dead, live.base_url], tmp_path, UsageLedger()), ["user"])
        assert note and "skipped until it answers" in note and dead in note
    with pytest.raises(PreflightError, match="every endpoint failed"):
        preflight(_client([dead, f"http://127.0.0.1:{free_port()}/v1"], tmp_path, UsageLedger()), ["user"])


def test_base_urls_are_validated():
    with pytest.raises(ValidationError, match="not both"):
        ModelSpec(provider="openai", model="m", base_url="http://a/v1", base_urls=["http://b/v1"])
    with pytest.raises(ValidationError, match="base_urls needs provider 'openai'"):
        ModelSpec(provider="vllm", model="org/m", base_urls=["http://b/v1"])
    spec = ModelSpec(provider="openai", model="m", base_urls=["${HOST_A:-http://a/v1}", "http://b/v1"]).resolved()
    assert spec.endpoints == ["http://a/v1", "http://b/v1"]


def test_records_name_an_endpoint_without_its_credentials(tmp_path):
    ledger = UsageLedger()
    with FakeServer() as server:
        url = server.base_url.replace("http://", "http://user:s3cret@")
        client = _client([url], tmp_path, ledger)
        _many(client, 2)
    assert {r.endpoint for r in ledger.records} == {server.base_url} and "s3cret" not in repr(client.endpoint_usage)
