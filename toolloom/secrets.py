"""Credentials never leave the process: answers, requests and descriptions are scanned for them.

A credential is the value of any environment variable whose name looks like one (`*KEY*`,
`*TOKEN*`, `*SECRET*`, `*PASSWORD*`, `*CREDENTIAL*`; values of 8 characters or more), or a string
shaped like a known key format (OpenAI, Anthropic, GitHub, AWS, Slack, Google, Hugging Face,
private key blocks). What is found is named by the variable or the format, never quoted.
"""

from __future__ import annotations

import os
import re

_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
_FORMATS = {
    "an OpenAI key": r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
    "an Anthropic key": r"\bsk-ant-[A-Za-z0-9_-]{20,}",
    "a GitHub token": r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{40,}",
    "an AWS access key id": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "a Slack token": r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    "a Google API key": r"\bAIza[0-9A-Za-z_-]{35}\b",
    "a Hugging Face token": r"\bhf_[A-Za-z0-9]{30,}\b",
    "a private key": r"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----",
}
_PATTERN = re.compile("|".join(f"(?P<f{i}>{p})" for i, p in enumerate(_FORMATS.values())))
_LABELS = list(_FORMATS)
MIN_SECRET_LENGTH = 8


def credential_values() -> dict[str, str]:
    """name -> value of the environment variables that look like credentials (read now, kept nowhere)."""
    return {k: v for k, v in os.environ.items() if _NAME.search(k) and len(v) >= MIN_SECRET_LENGTH}


def find_credential(text: str, values: dict[str, str] | None = None) -> str | None:
    """What credential `text` carries, as a description that does not contain it; None when clean."""
    if not text:
        return None
    for name, value in (credential_values() if values is None else values).items():
        if value in text:
            return f"the value of the environment variable {name}"
    m = _PATTERN.search(text)
    if m:
        return f"a string shaped like {_LABELS[int(m.lastgroup[1:])]}"
    return None
