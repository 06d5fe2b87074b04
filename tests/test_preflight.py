"""Pre-flight: a run against an endpoint that cannot do its work stops in seconds with one line
naming the role, the URL, the key variable and the server's answer; nothing is written."""

import socket

import pytest

from toolloom.cli import main
from toolloom.llm.fake_server import FakeServer
from toolloom.llm.preflight import PreflightError
from toolloom.runtime import Runtime
from toolloom.spec import load_pipeline

from .conftest import make_project


def _project(tmp_path, model: str):
    return make_project(
        tmp_path,
        {
            "remote": f"""
collections: [{{name: demo, path: api_graphs/demo}}]
models:
  default: {{provider: openai, {model}, timeout_s: 5}}
stages:
  tasks: {{per_tool: 1}}
"""
        },
    )


def _run(tmp_path, model: str, capsys) -> tuple[int, str]:
    project = _project(tmp_path, model)
    code = main(["--project", str(project), "--home", str(tmp_path / "home"), "run", "remote"])
    err = capsys.readouterr().err
    assert not (tmp_path / "home" / "lake").exists() or not list((tmp_path / "home" / "lake").rglob("*.parquet")), (
        "a stage ran"
    )
    return code, err.strip().splitlines()[-1]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_a_wrong_base_url_names_the_url_and_the_refusal(tmp_path, capsys):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    code, line = _run(tmp_path, f'base_url: "{url}", model: fake', capsys)
    assert code == 2
    assert line.startswith("error: model 'fake' for roles user, assistant, executor, judge at " + url)
    assert "cannot connect" in line and "refused" in line.lower()


def test_an_unknown_model_names_what_the_server_serves(tmp_path, capsys):
    with FakeServer(served=("fake", "qwen-7b")) as server:  # answers 404 for other names, as vLLM does
        code, line = _run(tmp_path, f'base_url: "{server.base_url}", model: qwen-70b', capsys)
    assert code == 2 and "does not serve this model; it serves fake, qwen-7b" in line and "does not exist" in line


@pytest.mark.pipeline
def test_a_server_that_answers_for_any_name_is_trusted_over_its_list(tmp_path, capsys):
    with FakeServer() as server:  # lists "fake" but answers any name, as llama.cpp's server does
        project = _project(tmp_path, f'base_url: "{server.base_url}", model: qwen2.5-1.5b-instruct')
        assert main(["--project", str(project), "--home", str(tmp_path / "home"), "run", "remote"]) == 0
    out, err = capsys.readouterr()
    assert "not in the server's model list (fake), but the server answered" in err and "remote: succeeded" in out


def test_an_unset_key_variable_is_named(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TL_TEST_KEY", raising=False)
    with FakeServer() as server:
        code, line = _run(tmp_path, f'base_url: "{server.base_url}", model: fake, api_key_env: TL_TEST_KEY', capsys)
        assert server.model.history == []
    assert code == 2 and "api_key_env names $TL_TEST_KEY, which is not set" in line


def test_a_refused_key_says_401_and_where_the_key_came_from_without_showing_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TL_TEST_KEY", "sk-wrong-0123456789")
    with FakeServer(api_key="sk-right") as server:
        code, line = _run(tmp_path, f'base_url: "{server.base_url}", model: fake, api_key_env: TL_TEST_KEY', capsys)
    assert code == 2
    assert "refused the key (401: Incorrect API key provided)" in line and "$TL_TEST_KEY, which is set" in line
    assert "sk-wrong" not in line


@pytest.mark.pipeline
def test_the_right_key_passes_and_the_run_goes_on(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TL_TEST_KEY", "sk-right")
    with FakeServer(api_key="sk-right") as server:
        project = _project(tmp_path, f'base_url: "{server.base_url}", model: fake, api_key_env: TL_TEST_KEY')
        assert main(["--project", str(project), "--home", str(tmp_path / "home"), "run", "remote"]) == 0
    assert "succeeded" in capsys.readouterr().out


def test_a_stage_started_from_the_ui_checks_its_endpoint_before_sending_work(tmp_path):
    """No CLI in front: the runtime checks an endpoint the first time a role's client is made."""
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    project = _project(tmp_path, f'base_url: "{url}", model: fake')
    rt = Runtime(load_pipeline(project / "pipelines" / "remote.yaml"), project, tmp_path / "home")
    try:
        with pytest.raises(PreflightError, match=f"role user at {url}: cannot connect"):
            rt.client_for("user")
    finally:
        rt.close()


def test_a_missing_gguf_file_stops_the_run_before_any_stage_with_one_line(tmp_path, capsys):
    project = make_project(
        tmp_path,
        {
            "local": """
collections: [{name: demo, path: api_graphs/demo}]
models:
  default: {provider: llamacpp, model: ~/.cache/toolloom/models/no-such-model.gguf}
stages:
  tasks: {per_tool: 1}
"""
        },
    )
    code = main(["--project", str(project), "--home", str(tmp_path / "home"), "run", "local"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error: role user: provider 'llamacpp': model '")
    assert "no-such-model.gguf' is not a file" in err[0]
    assert not list((tmp_path / "home").rglob("*.parquet"))  # nothing was written, no version begun
