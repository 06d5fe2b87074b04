import re
import shutil

import pytest

from toolloom.cli import build_parser, main

from .conftest import CASES, PROJECT, SMALL


@pytest.fixture
def project(tmp_path):
    """A throwaway project: the real prompts, sandbox and collections, the demo pipeline only."""
    for folder in ("prompts", "sandbox", "api_graphs"):
        (tmp_path / folder).symlink_to(PROJECT / folder)
    (tmp_path / "pipelines").mkdir()
    shutil.copy(PROJECT / "pipelines" / "demo.yaml", tmp_path / "pipelines")
    (tmp_path / "pipelines" / "small.yaml").write_text(SMALL)
    return tmp_path


@pytest.mark.pipeline
def test_run_then_query_and_versions(project, capsys):
    assert main(["--project", str(project), "query", "SELECT 1"]) == 2
    assert "no pipeline tables" in capsys.readouterr().err
    assert main(["--project", str(project), "run", "small"]) == 0
    out = capsys.readouterr().out
    assert "pipeline small: succeeded" in out and "dataset: " in out
    assert (project / "exports" / "small" / "latest" / "README.md").exists()
    assert main(["--project", str(project), "query", "SELECT count(*) AS n FROM small.samples"]) == 0
    n = int(capsys.readouterr().out.split()[-1])
    assert n > 10
    assert main(["--project", str(project), "versions", "small"]) == 0
    line = capsys.readouterr().out.strip()
    assert re.match(r"\d{8}T\d{6}Z-\w+ ", line) and f"samples={n}" in line
    assert main(["--project", str(project), "query", "SELECT nope FROM small.samples"]) == 2
    err = capsys.readouterr().err  # SQL errors are the user's to read, in one line
    assert err.startswith("error: ") and err.count("\n") == 1


@pytest.mark.services
def test_validate_names_bad_files(project, capsys):
    assert main(["--project", str(project), "validate"]) == 0
    assert re.search(r"collection demo: \d{2} tools, 0 rejected", capsys.readouterr().out)
    shutil.copy(CASES / "pipelines" / "typo.yaml", project / "pipelines")
    assert main(["--project", str(project), "validate"]) == 1
    out = capsys.readouterr().out
    assert "typo.yaml: stages.simulate.max_turn: Extra inputs are not permitted (did you mean 'max_turns'?)" in out


@pytest.mark.services  # validating the project's other pipelines ingests their collections in the sandbox
def test_validate_calls_a_collection_that_gives_no_tool_an_error(project, capsys):
    (project / "empty_specs").mkdir()
    (project / "empty_specs" / "tools.json").write_text("[]")
    (project / "pipelines" / "empty.yaml").write_text("collections: [{name: nothing, path: empty_specs}]\n")
    assert main(["--project", str(project), "validate"]) == 1
    assert "error: pipelines/empty: collection nothing: 0 tools" in capsys.readouterr().out


def test_run_of_a_missing_pipeline_is_a_clear_error(project, capsys):
    assert main(["--project", str(project), "run", "nope"]) == 2
    assert "nope.yaml: cannot read" in capsys.readouterr().err


def test_readme_documents_every_command_and_no_other():
    readme = (PROJECT / "README.md").read_text()
    documented = set(re.findall(r"`toolloom ([a-z][a-z0-9-]+)", readme))
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) <= documented
    assert documented <= set(sub.choices)


def test_a_partition_outside_the_daily_range_is_a_clear_error(project, capsys):
    (project / "pipelines" / "daily.yaml").write_text(
        "collections: [{name: demo, path: api_graphs/demo}]\npartitions: daily\nstart_date: '2026-11-01'\n"
    )
    assert main(["--project", str(project), "run", "daily", "--partition", "2999-01-01"]) == 2
    assert "'2999-01-01' is not a partition of pipeline 'daily'" in capsys.readouterr().err


@pytest.mark.pipeline
def test_a_dry_run_touches_neither_the_real_versions_nor_latest(project, capsys):
    (project / "pipelines" / "small.yaml").write_text(
        "collections: [{name: demo, path: api_graphs/demo}]\n"
        "stages: {tasks: {per_tool: 1, multi_hop: 0, parallel: 0, nested: 0}, export: {formats: [openai]}}\n"
    )
    assert main(["--project", str(project), "run", "small", "--fake-endpoint"]) == 0
    out = capsys.readouterr()
    assert "dry run against a fake endpoint" in out.err and "exports-dry-run" in out.out
    assert (project / "exports-dry-run" / "small" / "latest" / "README.md").exists()
    assert not (project / "exports" / "small").exists()
    assert main(["--project", str(project), "versions", "small"]) != 0
    assert "has no complete versions yet" in capsys.readouterr().err  # the real store never saw the dry run
    assert main(["--project", str(project), "--home", str(project / ".toolloom" / "dry-run"), "versions", "small"]) == 0
    assert capsys.readouterr().out.strip()


def test_checkers_status_says_where_bfcl_eval_is(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TOOLLOOM_BFCL_EVAL", str(tmp_path / "none"))
    assert main(["checkers", "status"]) == 0
    assert f"in {tmp_path / 'none'}: not installed (toolloom checkers install)" in capsys.readouterr().out


@pytest.mark.pipeline
def test_a_run_whose_only_failed_check_warns_exits_0_and_its_last_line_names_the_check(project, capsys):
    (project / "pipelines" / "warned.yaml").write_text(
        "collections: [{name: demo, path: api_graphs/demo}]\n"
        "stages:\n  tasks: {per_tool: 1}\n"
        "  export: {quality: {min_distinct_bigram_ratio: 0.999}}\n"
    )  # no request set is that varied: the diversity check warns
    assert main(["--project", str(project), "run", "warned"]) == 0
    out, err = capsys.readouterr()
    assert "check warning: warned/dataset diversity" in err
    assert (
        out.rstrip().splitlines()[-1].startswith("warned: succeeded; checks warned: ")
        and "dataset.diversity" in out.splitlines()[-1]
    )


@pytest.mark.pipeline
def test_a_project_folder_of_ones_own_runs_offline_to_an_export(tmp_path, capsys):
    """pipelines/ and one spec file, nothing else: prompts and everything else come with toolloom."""
    import json

    from datasets import load_dataset

    (tmp_path / "pipelines").mkdir()
    spec = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather in a city.",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string", "enum": ["Oslo", "Lima"]}},
                    "required": ["city"],
                },
            },
        },
        {
            "type": "function",
            "function": {
                "name": "convert_temperature",
                "description": "Convert a temperature between units.",
                "parameters": {
                    "type": "object",
                    "properties": {"value": {"type": "number"}, "to_unit": {"type": "string", "enum": ["C", "F"]}},
                    "required": ["value", "to_unit"],
                },
            },
        },
    ]
    (tmp_path / "tools.json").write_text(json.dumps(spec))
    (tmp_path / "pipelines" / "mine.yaml").write_text(
        "collections: [{name: weather, path: tools.json, executor: simulated}]\n"
        "stages: {tasks: {per_tool: 2}, simulate: {multi_turn_share: 0.5, ask_share: 0.5}}\n"
    )
    assert main(["--project", str(tmp_path), "run", "mine"]) == 0, capsys.readouterr().err[-2000:]
    assert load_dataset(str(tmp_path / "exports" / "mine" / "latest"), "tools")["train"].num_rows == 2
