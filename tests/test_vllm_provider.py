"""The `vllm` provider's process management, against a stand-in that behaves like `vllm serve`
(tests/cases/fake_vllm.py): slow start, never healthy, death mid-run, cancellation, no orphans."""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from toolloom.llm import ModelCallError, ModelClient, RequestCache, RunBudget, UsageLedger, run_async
from toolloom.llm.tool_parsers import tool_parser_for
from toolloom.llm.managed_server import ServerStartError
from toolloom.llm.servers import ServerPool
from toolloom.llm.vllm_server import VLLMServer
from toolloom.spec import ModelSpec, VLLMServe, load_pipeline
from toolloom.lake.store import Store

from .conftest import CASES, PROJECT

pytestmark = pytest.mark.services

STAND_IN = [sys.executable, str(CASES / "fake_vllm.py")]


def _spec(**serve) -> ModelSpec:
    return ModelSpec(
        provider="vllm",
        model="Qwen/Qwen2.5-0.5B-Instruct",
        timeout_s=5,
        max_retries=6,
        vllm=VLLMServe(command=STAND_IN, startup_timeout_s=serve.pop("startup_timeout_s", 30), **serve),
    )


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # our own child that exited but was not reaped yet
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.1)
    return False


@pytest.fixture
def record(tmp_path, monkeypatch):
    path = tmp_path / "starts.jsonl"
    monkeypatch.setenv("FAKE_VLLM_RECORD", str(path))
    return path


def test_tool_call_parser_follows_the_model_family():
    assert tool_parser_for("Qwen/Qwen2.5-7B-Instruct") == "hermes"
    assert tool_parser_for("meta-llama/Llama-3.1-8B-Instruct") == "llama3_json"
    assert tool_parser_for("mistralai/Mistral-7B-Instruct-v0.3") == "mistral"
    assert tool_parser_for("Salesforce/xLAM-2-8b-fc-r") == "xlam"
    with pytest.raises(ValueError, match="set vllm.tool_call_parser"):
        tool_parser_for("acme/secret-model")
    assert VLLMServe(tool_call_parser="pythonic").parser_for("acme/secret-model") == "pythonic"


def test_a_slow_start_is_waited_for_and_the_server_is_stopped(tmp_path, record, monkeypatch):
    monkeypatch.setenv("FAKE_VLLM_STARTUP_S", "1.5")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-vllm-key")
    server = VLLMServer(_spec(max_model_len=4096, load_format="dummy"), tmp_path / "logs")
    started = time.monotonic()
    server.start()
    assert time.monotonic() - started >= 1.5 and server.alive()
    (start,) = _records(record)
    argv = start["argv"]
    assert argv[:2] == ["serve", "Qwen/Qwen2.5-0.5B-Instruct"] and start["api_key_in_env"]
    assert argv[argv.index("--tool-call-parser") + 1] == "hermes" and "--enable-auto-tool-choice" in argv
    assert "--enable-prefix-caching" in argv and "--enable-prompt-tokens-details" in argv  # cached share measured
    assert argv[argv.index("--max-model-len") + 1] == "4096" and argv[argv.index("--load-format") + 1] == "dummy"
    assert "sk-test-vllm-key" not in " ".join(argv) and "sk-test-vllm-key" not in server.log_path.read_text()
    watchdog = server.watchdog.pid
    server.stop()
    assert _gone(start["pid"]) and _gone(watchdog) and not server.alive()


def test_a_server_that_never_becomes_healthy_fails_with_its_log_tail(tmp_path, record, monkeypatch):
    monkeypatch.setenv("FAKE_VLLM_NEVER_HEALTHY", "1")
    server = VLLMServer(_spec(startup_timeout_s=2), tmp_path / "logs")
    with pytest.raises(
        ServerStartError,
        match=r"(?s)not healthy after 2s; log tail \(.*vllm-Qwen--Qwen2.5-0.5B-Instruct.log\):"
        r".*== toolloom: .*serve",
    ) as err:
        server.start()
    # what the server wrote before it was stopped is in the message (on a loaded machine it may not
    # have started writing within the 2 s: then the tail is the command line alone)
    assert server.log_tail() in str(err.value)
    assert all(_gone(start["pid"]) for start in _records(record))


def test_a_server_that_exits_at_start_fails_at_once(tmp_path):
    spec = _spec()
    spec.vllm.command = [
        sys.executable,
        "-c",
        "import sys; print('CUDA error: no kernel image is available'); sys.exit(1)",
    ]
    started = time.monotonic()
    with pytest.raises(ServerStartError, match=r"(?s)exited with status 1 before it was healthy.*no kernel image"):
        VLLMServer(spec, tmp_path / "logs").start()
    assert time.monotonic() - started < 10


def test_roles_naming_one_model_share_one_server_and_a_death_mid_run_is_survived(tmp_path, record, monkeypatch):
    monkeypatch.setenv("FAKE_VLLM_DIE_AFTER", "5")
    pool = ServerPool(tmp_path / "logs")
    spec = _spec()
    server = pool.server_for(spec)
    assert pool.server_for(spec.model_copy()) is server and len(_records(record)) == 1
    client = ModelClient(
        spec.model_copy(update={"base_url": server.base_url}),
        cache=RequestCache(tmp_path / "c.sqlite"),
        ledger=UsageLedger(),
        budget=RunBudget(None),
        backoff_s=0.05,
        supervisor=server,
    )

    async def many():
        return await asyncio.gather(
            *(client.chat([{"role": "user", "content": f"hello {i}"}], stage="s", role="user") for i in range(20))
        )

    answers = run_async(many())
    assert len(answers) == 20 and all(a.message["content"] for a in answers)  # none lost to the death
    first, second = _records(record)
    assert server.restarts == 1 and _gone(first["pid"]) and server.alive() and server.proc.pid == second["pid"]
    pool.close()
    assert _gone(second["pid"])


def test_a_restart_that_fails_fails_the_requests_with_the_reason(tmp_path, record, monkeypatch):
    monkeypatch.setenv("FAKE_VLLM_DIE_AFTER", "1")
    server = VLLMServer(
        _spec(startup_timeout_s=120), tmp_path / "logs"
    )  # the first start may be slow on a busy machine
    server.start()
    monkeypatch.setenv("FAKE_VLLM_NEVER_HEALTHY", "1")  # the restarted one will hang while loading ...
    server.options.startup_timeout_s = 3  # ... and is given up after 3 s
    client = ModelClient(
        _spec().model_copy(update={"base_url": server.base_url}),
        cache=RequestCache(tmp_path / "c.sqlite"),
        ledger=UsageLedger(),
        budget=RunBudget(None),
        backoff_s=0.05,
        supervisor=server,
    )
    run_async(client.chat([{"role": "user", "content": "one"}], stage="s", role="user"))
    with pytest.raises(ModelCallError, match="not healthy after 3s"):
        run_async(client.chat([{"role": "user", "content": "two"}], stage="s", role="user"))
    server.stop()
    assert all(_gone(r["pid"]) for r in _records(record))


def _vllm_pipeline(tmp_path, monkeypatch, record):
    """The demo pipeline with every role on one `vllm` model served by the stand-in."""
    demo = load_pipeline(PROJECT / "pipelines" / "demo.yaml")
    spec = {
        "provider": "vllm",
        "model": "Qwen/Qwen2.5-0.5B-Instruct",
        "max_retries": 8,
        "timeout_s": 10,
        "vllm": {"command": STAND_IN, "startup_timeout_s": 60},
    }
    pipelines = tmp_path / "project" / "pipelines"
    pipelines.mkdir(parents=True)
    for name in ("api_graphs", "sandbox", "prompts"):
        (tmp_path / "project" / name).symlink_to(PROJECT / name)
    stages = demo.stages.model_dump(exclude_none=True)
    stages["tasks"].update(per_tool=1, multi_hop=4, parallel=2, nested=2)
    stages["escalate"].update(seeds=6)
    stages["refine"].update(tools=["get_vat_rate", "get_city"])
    stages["export"]["root"] = str(tmp_path / "exports")
    stages.pop("graph")
    import yaml

    (pipelines / "gpu.yaml").write_text(
        yaml.safe_dump(
            {
                "collections": [{"name": "demo", "path": "api_graphs/demo"}],
                "models": {"default": spec},
                "stages": stages,
            }
        )
    )
    return tmp_path / "project"


def test_a_pipeline_on_a_vllm_provider_runs_end_to_end_and_stops_its_server(tmp_path, record, monkeypatch):
    project = _vllm_pipeline(tmp_path, monkeypatch, record)
    run = subprocess.run(
        [sys.executable, "-m", "toolloom.cli", "--project", str(project), "run", "gpu"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TOOLLOOM_HOME": str(tmp_path / "home")},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    starts = _records(record)
    assert len(starts) == 1, "every role names the same model: one server"
    assert _gone(starts[0]["pid"])
    accepted = re.search(r"samples\s+(\d+) accepted", run.stdout)
    assert accepted and int(accepted.group(1)) > 0, run.stdout[-2000:]
    calls = Store(tmp_path / "home").query(
        "SELECT count(*) AS n, sum(CASE WHEN status = 'ok' THEN 1 ELSE 0 END) AS ok FROM gpu.llm_calls"
    )
    assert calls["n"][0].as_py() > 0 and calls["ok"][0].as_py() > 0  # the roles really talked to the served model


def test_cancelling_or_killing_a_run_leaves_no_server_behind(tmp_path, record, monkeypatch):
    project = _vllm_pipeline(tmp_path, monkeypatch, record)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        record.unlink(missing_ok=True)
        proc = subprocess.Popen(
            [sys.executable, "-m", "toolloom.cli", "--project", str(project), "run", "gpu"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "TOOLLOOM_HOME": str(tmp_path / f"home-{sig}"), "FAKE_VLLM_LATENCY_S": "0.2"},
        )
        deadline = time.monotonic() + 120
        while not _records(record) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # the run is talking to the server now
        (start,) = _records(record)
        proc.send_signal(sig)
        proc.wait(timeout=60)
        assert _gone(start["pid"], within_s=30), f"server left running after {sig.name}"


def test_a_failed_dagster_run_stops_its_server(tmp_path, record, monkeypatch):
    """No CLI here: the resource's teardown alone must stop the server when a run fails."""
    import dagster as dg

    from toolloom.orchestration.dagster_defs import ToolloomResource, pipeline_assets

    project = _vllm_pipeline(tmp_path, monkeypatch, record)
    pipeline = load_pipeline(project / "pipelines" / "gpu.yaml")
    no_tasks = pipeline.stages.tasks.model_copy(update={"per_tool": 0, "multi_hop": 0, "parallel": 0, "nested": 0})
    pipeline = pipeline.model_copy(update={"stages": pipeline.stages.model_copy(update={"tasks": no_tasks})})
    result = dg.materialize(
        pipeline_assets(pipeline),
        raise_on_error=False,
        resources={"toolloom": ToolloomResource(project_root=str(project), home=str(tmp_path / "home"))},
    )
    assert not result.success  # the tasks stage accepted nothing: its blocking check fails the run
    (start,) = _records(record)  # the executor role started the server during the tasks stage
    assert _gone(start["pid"])


def test_the_log_tail_always_names_the_last_starts_command(tmp_path):
    server = VLLMServer(_spec(), tmp_path / "logs")
    server.log_dir.mkdir(parents=True)
    earlier = '== toolloom: ["vllm", "serve", "old"]\nold output\n'
    noise = "".join(f"INFO still loading {i}\n" for i in range(100))
    server.log_path.write_text(earlier + '\n== toolloom: ["vllm", "serve", "new"]\n' + noise)
    tail = server.log_tail(lines=10).splitlines()
    assert tail[0] == '== toolloom: ["vllm", "serve", "new"]' and tail[1] == "... (90 lines)"
    assert tail[2:] == [f"INFO still loading {i}" for i in range(90, 100)]  # the last start's last lines
    server.log_path.write_text(earlier)
    assert server.log_tail() == earlier.rstrip("\n")  # short: whole
