"""A pod per step through dagster-k8s's own executor: the pipeline's `execution.k8s` settings travel as the
executor's run config (checked by Dagster against dagster-k8s's schema), and the Job a step would be launched as
is built by dagster-k8s and holds up against the Kubernetes API's models."""

import json

import dagster as dg
import pytest
import yaml
from kubernetes.client import ApiClient, V1Job
from kubernetes.utils import parse_quantity
from pydantic import ValidationError

from toolloom.orchestration.dagster_defs import build_definitions, pipeline_job, resolved_job
from toolloom.orchestration.kubernetes import executor_config, run_config, step_job
from toolloom.spec import SANDBOX_SECURITY_CONTEXT, Pipeline

from .conftest import SMALL, make_project

K8S = {
    "image": "registry.internal/toolloom:0.9",
    "image_pull_policy": "IfNotPresent",
    "namespace": "datasets",
    "service_account": "toolloom-runner",
    "env_secrets": ["toolloom-catalog", "toolloom-s3"],
    "env_vars": ["TOOLLOOM_DATA_PATH=s3://datasets/toolloom"],
    "resources": {"requests": {"cpu": "2", "memory": "6Gi"}, "limits": {"memory": "8Gi"}},
    "stage_resources": {"trajectories": {"limits": {"nvidia.com/gpu": 1}}},
}


BASE = yaml.safe_load(SMALL)


def _pipeline(**k8s) -> Pipeline:
    return Pipeline.model_validate(
        {**BASE, "name": "small", "execution": {"executor": "k8s", "max_concurrent": 6, "shards": 2, "k8s": k8s}}
    )


def _job_of(pipeline: Pipeline) -> dg.JobDefinition:
    return resolved_job(pipeline, ".")


def _ops(job: dg.JobDefinition) -> list[str]:
    return [node.name for node in job.graph.nodes]


def _step(pipeline: Pipeline, stage: str, **kw):
    return step_job(_job_of(pipeline), pipeline, stage, **kw)


def test_the_settings_are_the_executors_run_config_and_dagster_checks_it():
    pipeline = _pipeline(**K8S)
    job = _job_of(pipeline)
    assert job.executor_def.name == "k8s"
    checked = dg.validate_run_config(job, {})["execution"]["k8s"]  # the job's default: the pipeline's settings
    assert checked["job_image"] == K8S["image"] and checked["job_namespace"] == "datasets"
    assert checked["service_account_name"] == "toolloom-runner" and checked["max_concurrent"] == 6
    assert checked["env_secrets"] == K8S["env_secrets"] and checked["env_vars"] == K8S["env_vars"]
    container = checked["step_k8s_config"]["container_config"]
    assert container["resources"] == K8S["resources"] and container["security_context"] == SANDBOX_SECURITY_CONTEXT
    gpu = checked["per_step_k8s_config"]  # both shards of the stage that asked for one
    assert sorted(gpu) == ["small__trajectories_shard_0", "small__trajectories_shard_1"]
    # a key dagster-k8s does not know is refused, not dropped
    bogus = run_config(pipeline, _ops(job))
    bogus["execution"]["config"]["bogus_key"] = 1
    with pytest.raises(dg.DagsterInvalidConfigError, match="bogus_key"):
        dg.validate_run_config(job, bogus)


def test_a_step_job_carries_image_secrets_resources_and_the_sandboxs_security_context():
    job = _step(_pipeline(**K8S), "trajectories")
    manifest = ApiClient().sanitize_for_serialization(job)
    pod = manifest["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == K8S["image"] and container["imagePullPolicy"] == "IfNotPresent"
    assert pod["serviceAccountName"] == "toolloom-runner"
    assert [e["secretRef"]["name"] for e in container["envFrom"]] == K8S["env_secrets"]
    assert {"name": "TOOLLOOM_DATA_PATH", "value": "s3://datasets/toolloom"} in container["env"]
    # the stage's GPU limit merged with every step's requests and limits
    assert container["resources"] == {
        "requests": {"cpu": "2", "memory": "6Gi"},
        "limits": {"memory": "8Gi", "nvidia.com/gpu": "1"},
    }
    assert container["securityContext"]["capabilities"] == {"add": ["SYS_ADMIN"]}
    assert container["securityContext"]["appArmorProfile"] == {"type": "Unconfined"}
    # the manifest is what the Kubernetes API's models read back, field for field; amounts are quantities
    again = ApiClient().deserialize(_Response(manifest), "V1Job")
    assert isinstance(again, V1Job) and ApiClient().sanitize_for_serialization(again) == manifest
    for amounts in container["resources"].values():
        assert all(parse_quantity(v) > 0 for v in amounts.values())
    other = ApiClient().sanitize_for_serialization(_step(_pipeline(**K8S), "tasks"))
    assert "nvidia.com/gpu" not in json.dumps(other)  # only the stage that asked for a GPU gets one


def test_a_launch_may_override_the_default_run_config():
    pipeline = _pipeline(**K8S)
    override = run_config(pipeline, _ops(_job_of(pipeline)))
    override["execution"]["config"]["job_image"] = "registry.internal/toolloom:1.0"
    job = step_job(_job_of(pipeline), pipeline, "samples", run=override)
    assert job.spec.template.spec.containers[0].image == "registry.internal/toolloom:1.0"


def test_without_settings_the_job_still_asks_for_what_the_sandbox_needs_and_it_can_be_dropped():
    plain = ApiClient().sanitize_for_serialization(_step(_pipeline(), "tasks", image="img:1"))
    context = plain["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    assert context["runAsUser"] == 0 and context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "securityContext" not in json.dumps(_step(_pipeline(security_context={}), "tasks", image="i").to_dict())
    assert executor_config(_pipeline(security_context={}), []) == {"max_concurrent": 6}


def test_bad_kubernetes_settings_are_refused_with_the_setting_named():
    with pytest.raises(ValidationError, match="requests and limits"):
        _pipeline(resources={"request": {"cpu": "1"}})
    with pytest.raises(ValidationError, match="image_pull_policy"):
        _pipeline(image_pull_policy="Sometimes")
    with pytest.raises(ValueError, match="stage_resources names trajectory, which"):
        pipeline_job(_pipeline(stage_resources={"trajectory": {"limits": {"nvidia.com/gpu": 1}}}))


def test_definitions_load_a_kubernetes_pipeline_with_its_job(tmp_path):
    project = make_project(tmp_path / "p", {"small": {**BASE, "execution": {"executor": "k8s", "k8s": K8S}}})
    job = build_definitions(project).resolve_job_def("small_job")
    assert job.executor_def.name == "k8s"
    assert dg.validate_run_config(job, {})["execution"]["k8s"]["job_image"] == K8S["image"]


def test_the_image_definition_installs_what_a_step_pod_needs():
    import re
    import tomllib

    from .conftest import PROJECT

    dockerfile = (PROJECT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (.+) \S+$", dockerfile, flags=re.M):  # every file it copies is in the repo
        assert all((PROJECT / s).exists() for s in source.split()), source
    extras = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    (wanted,) = re.findall(r'pip install --no-cache-dir "\.\[([a-z0-9,-]+)\]"', dockerfile)
    assert {"scale", "k8s"} <= set(wanted.split(",")) <= set(extras)
    assert "bubblewrap" in dockerfile and "libseccomp2" in dockerfile  # the sandbox's boundary
    ignored = (PROJECT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".toolloom" in ignored  # no local environment or store (or keys) in the image


class _Response:  # what ApiClient.deserialize reads: a body as text
    def __init__(self, body: dict):
        self.data = json.dumps(body)


def test_the_k8s_job_command_prints_a_steps_job_and_names_what_is_wrong(tmp_path, capsys):
    from toolloom.cli import main

    k8s = {**BASE, "execution": {"executor": "k8s", "shards": 2, "k8s": K8S}}
    project = make_project(tmp_path / "p", {"small": k8s, "local": BASE})
    assert main(["--project", str(project), "k8s-job", "small", "trajectories"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert manifest["kind"] == "Job" and manifest["metadata"]["labels"]["dagster/op"] == "small__trajectories_shard_0"
    (container,) = manifest["spec"]["template"]["spec"]["containers"]
    assert container["image"] == K8S["image"] and container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert main(["--project", str(project), "k8s-job", "small", "trajectory"]) == 2
    assert "has no stage 'trajectory'; its stages: tools, api_edges, tasks, trajectories" in capsys.readouterr().err
    assert main(["--project", str(project), "k8s-job", "local", "tasks"]) == 2
    assert "runs with executor 'in_process', not k8s" in capsys.readouterr().err


def test_validate_reports_a_kubernetes_setting_the_job_refuses(tmp_path, capsys):
    from toolloom.cli import main

    bad = {
        **BASE,
        "collections": [{"name": "demo", "path": "api_graphs/demo", "executor": "simulated"}],
        "execution": {"executor": "k8s", "k8s": {"stage_resources": {"trajectory": {"limits": {"cpu": "1"}}}}},
    }
    project = make_project(tmp_path / "p", {"bad": bad})
    assert main(["--project", str(project), "validate"]) == 1
    out = capsys.readouterr().out
    assert "ok: pipelines/bad: collection demo" in out  # its collection was still ingested and reported
    assert "error: pipelines/bad: pipeline 'bad': execution.k8s.stage_resources names trajectory" in out
