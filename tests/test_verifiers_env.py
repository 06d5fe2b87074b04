"""The verifiers environment every export writes (environment/toolloom_env.py, from toolloom/rl/verifiers_env.py),
run by verifiers' own `vf-eval` against the fake endpoint, with the episodes played on `toolloom env serve`.

verifiers (0.3, its classic `load_environment` API) pins `mcp<2` and toolloom needs the 2.x client, so they cannot
share one environment: the module stands alone, and this test installs verifiers in a virtual environment of its
own (.checkers/verifiers of the project, kept between runs), as a trainer's machine would have it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from toolloom.llm.fake_server import FakeServer, Faults

from .conftest import PROJECT, env_server

VERIFIERS = "verifiers>=0.3,<0.4"


@pytest.fixture(scope="module")
def vf_eval() -> Path:
    venv = Path(os.environ.get("TOOLLOOM_VERIFIERS_VENV") or PROJECT / ".checkers" / "verifiers")
    command = venv / "bin" / "vf-eval"
    if not command.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        done = subprocess.run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "--quiet",
                "--disable-pip-version-check",
                VERIFIERS,
                "websockets>=13",
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"{VERIFIERS} could not be installed (no package index?): {done.stderr[-500:]}")
    return command


def _evaluate(vf_eval: Path, export: Path, port: int, base_url: str, out: Path) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env |= {"PYTHONPATH": str(export / "environment"), "FAKE_ENDPOINT_KEY": "none"}
    done = subprocess.run(
        [
            str(vf_eval),
            "toolloom_env",
            "-m",
            "fake",
            "-b",
            base_url,
            "-k",
            "FAKE_ENDPOINT_KEY",
            "-a",
            json.dumps({"url": f"ws://127.0.0.1:{port}"}),
            "-n",
            "8",
            "-r",
            "1",
            "--disable-tui",
            "--save-results",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (results,) = out.rglob("results.jsonl")
    return [json.loads(line) for line in results.read_text().splitlines()]


def test_verifiers_evaluates_the_written_environment_with_rewards_from_execution(demo_run, vf_eval, tmp_path):
    """vf-eval loads the export's module and scores 8 episodes each of a competent policy and of one whose every
    call has wrong types or names a tool nobody offered: the server's reward and its parts reach verifiers."""
    export = Path(demo_run.folder)
    written = (export / "environment" / "toolloom_env.py").read_text()
    assert written == (PROJECT / "toolloom" / "rl" / "verifiers_env.py").read_text()
    with env_server(demo_run.home, tmp_path / "serve.log") as port:
        with FakeServer() as good:
            competent = _evaluate(vf_eval, export, port, good.base_url, tmp_path / "good")
        with FakeServer(faults=Faults(rate=1.0, kinds=("wrong_types", "unknown_tool"), seed=1)) as bad:
            faulty = _evaluate(vf_eval, export, port, bad.base_url, tmp_path / "bad")
    assert len(competent) == len(faulty) == 8
    assert all(r["reward"] == r["toolloom_reward"] for r in competent + faulty)
    mean = lambda rows, key: sum(r[key] for r in rows) / len(rows)  # noqa: E731
    assert mean(competent, "reward") > 0.5 > mean(faulty, "reward")
    assert mean(faulty, "format") < mean(competent, "format") == 1.0
    assert all(r["stop_condition"] == "has_final_env_response" for r in competent), [
        r["stop_condition"] for r in competent
    ]
