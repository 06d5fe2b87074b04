"""Credentials never reach the data: a run over a collection that tries to leak them writes them
nowhere (lake, catalog, exports, logs), and the secrets check names what it finds without quoting it."""

import pytest
import json
import os
import shutil
import subprocess
import sys


from toolloom.secrets import find_credential
from toolloom.stages.quality import check_secrets
from toolloom.domain import trajectory_of

from .conftest import CASES, PROJECT

PLANTED = {
    "OPENAI_API_KEY": "sk-planted-openai-0123456789abcdef",
    "TOOLLOOM_TEST_SERVICE_TOKEN": "tok-planted-9f8e7d6c5b4a",
}
SHAPED = "sk-proj-" + "Q7" * 24  # what the collection's issue_token answers


def test_find_credential_names_the_variable_or_the_format_never_the_value(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_PASSWORD", "hunter2-but-longer")
    found = find_credential('{"note": "hunter2-but-longer"}')
    assert found == "the value of the environment variable MY_SERVICE_PASSWORD" and "hunter2" not in found
    assert find_credential("AKIAABCDEFGHIJKLMNOP") == "a string detect-secrets recognises (AWS Access Key)"
    assert find_credential("-----BEGIN OPENSSH PRIVATE KEY-----") == "a string detect-secrets recognises (Private Key)"
    assert find_credential("the sky is blue, ask-me-anything, sk-short") is None


def test_keys_detect_secrets_knows_and_encodings_of_the_environments_values_are_found(monkeypatch):
    """Stripe keys, JWTs and npm tokens (which a hand list missed), and the real key echoed as base64 (alone or
    inside a longer encoding), hex, URL-encoded or reversed; ordinary text stays clean."""
    import base64
    from urllib.parse import quote

    stripe, jwt = (
        "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
        (
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
        ),
    )
    assert "Stripe" in find_credential(f'{{"key": "{stripe}"}}') and "JSON Web Token" in find_credential(jwt)
    assert find_credential("npm_" + "a1B2" * 9) == "a string shaped like an npm token"
    monkeypatch.setenv("HUTS_API_KEY", "k-123-secret-value-xyz")
    key = os.environ["HUTS_API_KEY"]
    echoes = {
        "base64": base64.b64encode(key.encode()).decode(),
        "base64 inside": base64.b64encode(b"Basic user:" + key.encode()).decode(),
        "hex": key.encode().hex(),
        "URL-encoded": quote(f"k={key}&", safe=""),
        "reversed": key[::-1],
    }
    for how, text in echoes.items():
        found = find_credential(f"the service said {text}")
        assert found and found.startswith("the value of the environment variable HUTS_API_KEY"), how
        assert key not in found and text not in found
    for clean in (
        "The population of Tokyo is 14,094,034.",
        "kernel 3f2c1a9e-7b6d-4c1e-9a8f-2d4e6b8c0a1f idle",
        'etag "9b2cf535f27731c974343645a3985328"',
        "sha256 " + "ab" * 32,
    ):
        assert find_credential(clean) is None, clean


def test_the_secrets_check_rejects_an_example_wherever_the_credential_sits(monkeypatch):
    monkeypatch.setenv("MY_API_KEY", "abcdefgh12345678")
    base = {
        "tools_offered": json.dumps([{"function": {"name": "t", "description": "d"}}]),
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok", "tool_calls": None}],
    }
    assert check_secrets(trajectory_of(base)) is None
    in_args = {
        **base,
        "messages": [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"function": {"name": "t", "arguments": '{"key": "abcdefgh12345678"}'}}],
            }
        ],
    }
    assert check_secrets(trajectory_of(in_args)) == (
        "credential",
        "the arguments of t contains the value of the environment variable MY_API_KEY",
    )
    in_doc = {**base, "tools_offered": json.dumps([{"function": {"name": "t", "description": "use ghp_" + "a" * 36}}])}
    assert check_secrets(trajectory_of(in_doc))[1] == (
        "the tools offered contains a string detect-secrets recognises (GitHub Token)"
    )


@pytest.mark.pipeline
def test_a_run_over_a_leaking_collection_writes_no_credential_anywhere(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(CASES / "leaky_project", project)
    (project / "prompts").symlink_to(PROJECT / "prompts")
    env = {**os.environ, **PLANTED, "TOOLLOOM_HOME": str(tmp_path / "home"), "DAGSTER_HOME": str(tmp_path / "dagster")}
    (tmp_path / "dagster").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "toolloom.cli", "--project", str(project), "run", "leaky", "--log-level", "DEBUG"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    needles = [*PLANTED.values(), SHAPED]
    for text, where in ((done.stdout, "stdout"), (done.stderr, "stderr")):
        assert not any(n in text for n in needles), where
    scanned = 0
    for folder in (tmp_path / "home", project / "exports", tmp_path / "dagster"):
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                scanned += 1
                assert not any(n.encode() in data for n in needles), path
    assert scanned > 10
    withheld = subprocess.run(
        [
            sys.executable,
            "-m",
            "toolloom.cli",
            "--project",
            str(project),
            "query",
            "SELECT detail FROM leaky.rejections WHERE stage = 'tasks'",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert "issue_token was withheld: it contained a string shaped like an OpenAI key" in withheld.stdout
