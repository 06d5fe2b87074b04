import pytest

from toolloom.spec import ModelSpec, Pipeline, PipelineFileError, expand_env, load_pipeline, load_pipelines

from .conftest import CASES, PROJECT


def test_shipped_pipelines_validate():
    pipelines, errors = load_pipelines(PROJECT / "pipelines")
    assert errors == []
    assert {"demo", "nightly"} <= set(pipelines)
    assert pipelines["demo"].model_for("assistant").provider == "offline"
    nightly = pipelines["nightly"]
    assert nightly.partitions == "daily" and nightly.schedule.cron == "0 2 * * *" and nightly.schedule.timezone == "UTC"
    assert nightly.model_for("user").provider == "openai"


def test_bad_files_are_reported_one_line_each_and_others_still_load():
    pipelines, errors = load_pipelines(CASES / "pipelines")
    assert set(pipelines) == {"good"}
    by_file = {e.path.name: str(e) for e in errors}
    assert set(by_file) == {"typo.yaml", "badtype.yaml", "notyaml.yaml"}
    assert all("\n" not in msg for msg in by_file.values())
    assert "typo.yaml" in by_file["typo.yaml"] and "stages.simulate.max_turn" in by_file["typo.yaml"]
    assert "Extra inputs are not permitted" in by_file["typo.yaml"]
    assert "stages.tasks.per_tool" in by_file["badtype.yaml"] and "integer" in by_file["badtype.yaml"]
    assert "invalid YAML" in by_file["notyaml.yaml"] and "line" in by_file["notyaml.yaml"]


def test_unknown_role_and_schedule_without_partitions_are_rejected(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("collections: [{name: c, path: x}]\nmodels: {asistant: {provider: offline}}\n")
    with pytest.raises(PipelineFileError, match="unknown role"):
        load_pipeline(f)
    f.write_text("collections: [{name: c, path: x}]\nschedule: {cron: '0 2 * * *'}\n")
    with pytest.raises(PipelineFileError, match="schedule needs partitions"):
        load_pipeline(f)


def test_openai_provider_needs_endpoint_and_env_is_expanded_late(monkeypatch):
    with pytest.raises(ValueError, match="needs base_url"):
        ModelSpec(provider="openai")
    spec = ModelSpec(provider="openai", base_url="${TL_TEST_URL:-http://fallback/v1}", model="${TL_TEST_MODEL}")
    monkeypatch.setenv("TL_TEST_MODEL", "m1")
    assert spec.resolved().base_url == "http://fallback/v1" and spec.resolved().model == "m1"
    monkeypatch.setenv("TL_TEST_URL", "http://set/v1")
    assert spec.resolved().base_url == "http://set/v1"
    monkeypatch.delenv("TL_TEST_MODEL")
    with pytest.raises(KeyError, match="TL_TEST_MODEL"):
        expand_env("${TL_TEST_MODEL}")


def test_pipeline_name_must_be_identifier():
    with pytest.raises(ValueError, match="lower-case"):
        Pipeline(name="My Pipeline", collections=[{"name": "c", "path": "x"}])


def test_escalation_and_refinement_settings_are_checked():
    from pydantic import ValidationError

    from toolloom.spec import EscalateStage, RefineStage

    with pytest.raises(ValidationError, match="at least one > 0"):
        EscalateStage(operators={"add_hop": 0.0})
    with pytest.raises(ValidationError, match="at least one > 0"):
        EscalateStage(operators={"add_hop": -1.0, "replace_value": 1.0})
    with pytest.raises(ValidationError, match="swap_tools"):
        EscalateStage(operators={"swap_tools": 1.0})
    with pytest.raises(ValidationError, match="max_round"):
        RefineStage(max_round=3)
    from toolloom.spec import Stages

    assert Stages().escalate is None and Stages().refine is None  # off unless configured


def test_vllm_provider_settings_are_checked():
    with pytest.raises(ValueError, match="starts its own server; for a running vLLM endpoint use provider 'openai'"):
        ModelSpec(provider="vllm", model="Qwen/Qwen2.5-7B-Instruct", base_url="http://gpu:8000/v1")
    with pytest.raises(ValueError, match="needs model"):
        ModelSpec(provider="vllm")
    with pytest.raises(ValueError, match="set vllm.tool_call_parser"):
        ModelSpec(provider="vllm", model="acme/secret-model")
    with pytest.raises(ValueError, match="needs provider 'vllm'"):
        ModelSpec(provider="openai", base_url="http://x/v1", vllm={"tensor_parallel_size": 2})
    spec = ModelSpec(provider="vllm", model="${MODEL_PATH}")  # resolved late: the parser is chosen at start
    assert spec.vllm.tool_call_parser == "auto" and spec.vllm.command == ["vllm"]


def test_a_misspelt_setting_or_component_names_the_one_meant_and_a_module_attr_is_imported_at_load():
    import pytest as _pytest

    from toolloom.spec import Pipeline, _describe
    from pydantic import ValidationError

    base = {"name": "x", "collections": [{"name": "a", "path": "p"}]}
    with _pytest.raises(ValidationError) as e:
        Pipeline.model_validate({**base, "stages": {"simulat": {}, "tasks": {"per_tol": 2}}})
    text = _describe(e.value)
    assert "stages.simulat: Extra inputs are not permitted (did you mean 'simulate'?)" in text
    assert "stages.tasks.per_tol: Extra inputs are not permitted (did you mean 'per_tool'?)" in text
    with _pytest.raises(ValidationError) as e:
        Pipeline.model_validate({**base, "collections": [{"name": "a", "path": "p", "executor": "simulatd"}]})
    assert "unknown executor 'simulatd' (did you mean 'simulated'?)" in _describe(e.value)
    with _pytest.raises(ValidationError) as e:  # a typo in module:attr fails now, not when its stage runs
        Pipeline.model_validate(
            {**base, "stages": {"filter": {"checks": ["format", "toolloom.checks.focus:check_focuss"]}}}
        )
    assert "cannot be imported" in _describe(e.value) and "check_focuss" in _describe(e.value)
