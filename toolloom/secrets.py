"""Credentials never leave the process: answers, requests and descriptions are scanned for them.

A credential is the value of any environment variable whose name looks like one (`*KEY*`,
`*TOKEN*`, `*SECRET*`, `*PASSWORD*`, `*CREDENTIAL*`; values of 8 characters or more), as it is or
encoded (base64, hex, URL-encoded, reversed), or a string a maintained detector recognises: the
pattern plugins of Yelp's detect-secrets (Stripe, JWT, npm, AWS, GitHub, GitLab, Slack, Twilio,
private keys and more), plus the key shapes it lacks (current OpenAI, Anthropic, Google, Hugging Face).
Its entropy and keyword plugins are not used: ids, hashes and ETags in tool results would trip them.
What is found is named by the variable or the detector, never quoted.
"""

from __future__ import annotations

import base64
import functools
import os
import re
from urllib.parse import quote

_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
_FORMATS = {  # shapes detect-secrets 1.5 does not know
    "an OpenAI key": r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
    "an Anthropic key": r"\bsk-ant-[A-Za-z0-9_-]{20,}",
    "a Google API key": r"\bAIza[0-9A-Za-z_-]{35}\b",
    "a Hugging Face token": r"\bhf_[A-Za-z0-9]{30,}\b",
    "an npm token": r"\bnpm_[A-Za-z0-9]{36}\b",  # detect-secrets finds these only in an .npmrc line
}
_PATTERN = re.compile("|".join(f"(?P<f{i}>{p})" for i, p in enumerate(_FORMATS.values())))
_LABELS = list(_FORMATS)
_NOT_PATTERNS = {"Base64HighEntropyString", "HexHighEntropyString", "KeywordDetector", "IPPublicDetector"}
MIN_SECRET_LENGTH = 8
MIN_ENCODED_LENGTH = 12  # a shorter piece of an encoding would match unrelated text


@functools.cache
def _detectors() -> tuple:
    """detect-secrets' pattern plugins, instantiated once (their analyze_string reads no global settings)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    return tuple(cls() for cls in get_mapping_from_secret_type_to_class().values() if cls.__name__ not in _NOT_PATTERNS)


def credential_values() -> dict[str, str]:
    """name -> value of the environment variables that look like credentials (read now, kept nowhere)."""
    return {k: v for k, v in os.environ.items() if _NAME.search(k) and len(v) >= MIN_SECRET_LENGTH}


def encodings(value: str) -> dict[str, str]:
    """How a value may be written out besides as itself: base64 (at each alignment inside a longer encoding,
    the part that depends on the value alone), hex, URL-encoded, reversed."""
    raw = value.encode()
    out = {"hex": raw.hex(), "reversed": value[::-1]}
    if quote(value, safe="") != value:
        out["URL-encoded"] = quote(value, safe="")
    for shift in range(3):  # the value after 0, 1 or 2 other bytes: whole 4-character groups of its own bytes
        for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            text = encode(b"\0" * shift + raw).decode()
            first = 4 if shift else 0
            whole = (shift + len(raw)) // 3 * 4  # characters of complete groups
            core = text[first:whole]
            if len(core) >= MIN_ENCODED_LENGTH:
                out.setdefault(f"{name}:{shift}", core)
    return out


def find_credential(text: str, values: dict[str, str] | None = None) -> str | None:
    """What credential `text` carries, as a description that does not contain it; None when clean."""
    if not text:
        return None
    for name, value in (credential_values() if values is None else values).items():
        if value in text:
            return f"the value of the environment variable {name}"
        for form, encoded in encodings(value).items():
            if encoded in text:
                return f"the value of the environment variable {name}, {form.split(':')[0]}"
    m = _PATTERN.search(text)
    if m:
        return f"a string shaped like {_LABELS[int(m.lastgroup[1:])]}"
    for detector in _detectors():
        for _ in detector.analyze_string(text):
            return f"a string detect-secrets recognises ({detector.secret_type})"
    return None
