"""The `llamacpp` provider: toolloom starts llama.cpp's server for a GGUF file with CPU defaults and
manages it like the vllm provider. The lifecycle runs against a stand-in with llama-server's flags
(tests/cases/fake_llamacpp.py); the xllamacpp host is run for real on a file that is not a model."""

import importlib.util
import os
import stat
import sys

import pytest

from toolloom.cli import main
from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger, run_async
from toolloom.llm.llamacpp_server import LlamaCppServer, llamacpp_executable
from toolloom.llm.managed_server import ServerStartError
from toolloom.llm.servers import ServerPool
from toolloom.spec import ModelSpec

from .conftest import CASES, make_project
from .test_vllm_provider import _gone, _records

pytestmark = pytest.mark.services

STAND_IN = [sys.executable, str(CASES / "fake_llamacpp.py")]


@pytest.fixture
def record(tmp_path, monkeypatch):
    path = tmp_path / "starts.jsonl"
    monkeypatch.setenv("FAKE_VLLM_RECORD", str(path))
    return path


@pytest.fixture
def gguf(tmp_path):
    path = tmp_path / "models" / "tiny-q4.gguf"
    path.parent.mkdir()
    path.write_bytes(b"GGUF stand-in")
    return str(path)


def _spec(gguf, **extra) -> ModelSpec:
    serve = {"command": STAND_IN, "startup_timeout_s": 120, **extra.pop("llamacpp", {})}
    return ModelSpec(provider="llamacpp", model=gguf, llamacpp=serve, **extra)


def test_cpu_defaults_long_timeouts_and_one_slot_per_request_in_flight(gguf):
    spec = ModelSpec(provider="llamacpp", model=gguf)
    assert spec.timeout_s == 1800 and spec.max_concurrency == 4 and spec.llamacpp.ctx_per_slot == 4096
    server = LlamaCppServer(_spec(gguf, max_concurrency=3, llamacpp={"threads": 6}), "/tmp")
    server.port = 1234
    argv = server.command()
    pairs = dict(zip(argv, argv[1:]))
    assert argv[:2] == STAND_IN and pairs["-m"] == gguf and pairs["--alias"] == gguf and "--jinja" in argv
    assert (pairs["-np"], pairs["-c"], pairs["-t"], pairs["--timeout"]) == ("3", str(3 * 4096), "6", "1800")
    assert pairs["--host"] == "127.0.0.1" and pairs["--port"] == "1234"
    defaults = LlamaCppServer(_spec(gguf), "/tmp")
    defaults.port = 1
    assert dict(zip(defaults.command(), defaults.command()[1:]))["-t"] == str(os.cpu_count())
    with pytest.raises(ValueError, match="starts its own server"):
        ModelSpec(provider="llamacpp", model=gguf, base_url="http://x/v1")
    with pytest.raises(ValueError, match="needs model: the path of a GGUF file"):
        ModelSpec(provider="llamacpp")
    with pytest.raises(ValueError, match="a llamacpp: block needs provider 'llamacpp'"):
        ModelSpec(provider="openai", base_url="http://x/v1", llamacpp={})


def test_the_executable_is_the_given_command_then_llama_server_on_path_then_xllamacpp(tmp_path, monkeypatch):
    assert llamacpp_executable(["/opt/llama/llama-server"]) == ["/opt/llama/llama-server"]
    binary = tmp_path / "bin" / "llama-server"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n")
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(binary.parent))
    assert llamacpp_executable(None) == ["llama-server"]
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    if importlib.util.find_spec("xllamacpp") is not None:
        assert llamacpp_executable(None) == [sys.executable, "-m", "toolloom.llm.llamacpp_host"]
    else:
        with pytest.raises(ServerStartError, match="llama-server` on PATH, or the xllamacpp package"):
            llamacpp_executable(None)


def test_a_missing_gguf_file_is_named_before_anything_starts(tmp_path, record):
    with pytest.raises(ServerStartError, match=r"model '.*nope\.gguf' is not a file"):
        LlamaCppServer(_spec(str(tmp_path / "nope.gguf")), tmp_path / "logs").start()
    assert _records(record) == []


def test_start_answer_restart_after_death_and_stop_with_the_key_in_the_environment_only(
    tmp_path, record, gguf, monkeypatch
):
    monkeypatch.setenv("TL_LLAMA_KEY", "sk-local-123")
    monkeypatch.setenv("FAKE_VLLM_DIE_AFTER", "1")
    pool = ServerPool(tmp_path / "logs")
    spec = _spec(gguf, api_key_env="TL_LLAMA_KEY", max_retries=8, timeout_s=10)
    server = pool.server_for(spec)
    assert pool.server_for(spec) is server  # roles naming the same model share one server
    client = ModelClient(
        spec.model_copy(update={"base_url": server.base_url}),
        cache=RequestCache(tmp_path / "c.sqlite"),
        ledger=UsageLedger(),
        budget=RunBudget(None),
        backoff_s=0.05,
        supervisor=server,
    )

    async def two():
        await client.chat([{"role": "user", "content": "one"}], stage="s", role="user")
        return await client.chat([{"role": "user", "content": "two"}], stage="s", role="user")  # the server dies here

    assert run_async(two()).message["content"]
    assert server.restarts == 1
    starts = _records(record)
    assert len(starts) == 2 and all(s["api_key_in_env"] for s in starts)
    assert all("sk-local-123" not in " ".join(s["argv"]) for s in starts)
    assert (tmp_path / "logs" / f"llamacpp-{gguf.strip('/').replace('/', '--')}.log").exists()
    pool.close()
    assert all(_gone(s["pid"]) for s in starts)


def test_a_pipeline_on_a_llamacpp_model_runs_and_leaves_no_server_behind(tmp_path, record, gguf, capsys):
    project = make_project(
        tmp_path / "project",
        {
            "laptop": {
                "collections": [{"name": "demo", "path": "api_graphs/demo"}],
                "models": {
                    "default": {
                        "provider": "llamacpp",
                        "model": gguf,
                        "llamacpp": {"command": STAND_IN, "startup_timeout_s": 120},
                    }
                },
                "stages": {"tasks": {"per_tool": 1}},
            }
        },
    )
    assert main(["--project", str(project), "--home", str(tmp_path / "home"), "run", "laptop"]) == 0, (
        capsys.readouterr().err[-2000:]
    )
    assert "laptop: succeeded" in capsys.readouterr().out
    starts = _records(record)
    assert len(starts) == 1 and all(_gone(s["pid"]) for s in starts)


@pytest.mark.skipif(
    importlib.util.find_spec("xllamacpp") is None,
    reason="xllamacpp is not installed (pip install 'toolloom[llamacpp]')",
)
def test_the_xllamacpp_host_fails_fast_with_its_reason_on_a_file_that_is_no_model(tmp_path, gguf):
    spec = ModelSpec(provider="llamacpp", model=gguf, llamacpp={"startup_timeout_s": 120})
    server = LlamaCppServer(spec, tmp_path / "logs")
    server.options.command = [sys.executable, "-m", "toolloom.llm.llamacpp_host"]
    with pytest.raises(
        ServerStartError, match=r"(?s)exited with status 1 before it was healthy.*Failed to init server"
    ):
        server.start()


def _host_processes() -> list[int]:
    pids = []
    for proc in os.listdir("/proc"):
        try:
            with open(f"/proc/{proc}/cmdline", "rb") as f:
                if b"toolloom.llm.llamacpp_host" in f.read():
                    pids.append(int(proc))
        except (OSError, ValueError):
            continue
    return pids


@pytest.mark.skipif(
    importlib.util.find_spec("xllamacpp") is None or importlib.util.find_spec("gguf") is None,
    reason="needs xllamacpp and gguf (pip install -e '.[dev]')",
)
def test_a_pipeline_runs_against_the_real_llama_cpp_server_on_a_tiny_random_model(tmp_path, capsys):
    """Real llama.cpp (the xllamacpp package's server), a real GGUF file written here: the server
    starts, answers every request of the run (random bytes: no example survives the filter), and is
    gone when the run ends."""
    from toolloom.lake.store import Store

    from .cases.tiny_gguf import write_tiny_gguf

    model = tmp_path / "tiny-random-llama.gguf"
    write_tiny_gguf(str(model))
    project = make_project(
        tmp_path / "project",
        {
            "laptop": {
                "collections": [{"name": "demo", "path": "api_graphs/demo"}],
                "models": {
                    "default": {"provider": "offline"},
                    "assistant": {
                        "provider": "llamacpp",
                        "model": str(model),
                        "max_tokens": 24,
                        "llamacpp": {
                            "command": [sys.executable, "-m", "toolloom.llm.llamacpp_host"],
                            "threads": 1,
                            "slots": 2,
                            "ctx_per_slot": 2048,
                        },
                    },
                },
                "stages": {"tasks": {"per_tool": 1}, "filter": {"checks": ["format", "execution"]}},
            }
        },
    )
    before = set(_host_processes())
    main(["--project", str(project), "--home", str(tmp_path / "home"), "run", "laptop"])
    out = capsys.readouterr().out
    assert "laptop: " in out  # the run ended by itself (it fails: random bytes make no examples)
    calls = (
        Store(tmp_path / "home")
        .query("SELECT status, cache_hit, completion_tokens FROM laptop.llm_calls WHERE stage = 'simulate'")
        .to_pylist()
    )
    answered = [c for c in calls if c["status"] == "ok" and not c["cache_hit"]]
    assert len(answered) >= 31 and all(
        c["completion_tokens"] > 0 for c in answered
    )  # real completions, counted by llama.cpp
    log = (tmp_path / "home" / "logs").glob("llamacpp-*.log")
    assert any("tiny-random-llama" in p.read_text(errors="replace") for p in log)
    assert set(_host_processes()) <= before, "the llama.cpp server outlived its run"
