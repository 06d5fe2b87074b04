"""The rows adapters produce: an accepted tool, or a rejected item with its reason."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(value) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:16]


def safe_name(name: str) -> str:
    """A function name every OpenAI-compatible endpoint accepts: [a-zA-Z0-9_-], at most 64 characters. Letters
    with accents keep their letter ('émoji' -> 'emoji'); a name with no Latin letter at all is named by its hash."""
    folded = unicodedata.normalize("NFKD", name.strip()).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^a-zA-Z0-9_-]+", "_", folded).strip("_")
    if not cleaned or (len(cleaned) < len(name.strip()) / 2 and not name.isascii()):  # '天气查询' -> 'tool_3f2a...'
        cleaned = "tool_" + hashlib.sha256(name.encode()).hexdigest()[:8] if name.strip() else "tool"
    if len(cleaned) > 64:
        cleaned = cleaned[:55] + "_" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return cleaned


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: dict
    returns: dict | None
    source_format: str
    source_file: str
    spec_hash: str
    meta: dict = field(default_factory=dict)  # x-toolloom: examples, utterance templates


@dataclass
class Rejection:
    stage: str
    item_id: str
    checker: str
    reason: str
    detail: str = ""

    def row(self) -> dict:
        return asdict(self)
