"""The words of API names: snake case, singulars, the nouns an operation is about, and the service it
belongs to (two services on one platform share ids)."""

from __future__ import annotations

import re

from ..domain import Tool

VERBS = {
    "get",
    "list",
    "search",
    "find",
    "fetch",
    "show",
    "query",
    "create",
    "update",
    "delete",
    "add",
    "remove",
    "set",
    "post",
    "put",
    "patch",
    "retrieve",
    "lookup",
    "read",
    "api",
    "v1",
    "v2",
    "v3",
    "v4",
}
_NOT_NOUNS = VERBS | {
    "my",
    "by",
    "all",
    "the",
    "a",
    "an",
    "of",
    "for",
    "to",
    "from",
    "with",
    "and",
    "or",
    "in",
    "on",
    "at",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[a-z][a-z0-9]*")


def snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", _CAMEL.sub("_", name).lower()).strip("_")


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def nouns_of(text: str) -> list[str]:
    return [
        singular(w) for w in _WORD.findall(snake(text).replace("_", " ")) if w not in _NOT_NOUNS and not w.isdigit()
    ]


def resource_noun(tool: Tool) -> str:
    """The entity an operation is about: the last noun of its path, else the first of its name."""
    path = (tool.get("meta") or {}).get("path") or ""
    nouns = [n for seg in path.split("/") if seg and not seg.startswith("{") for n in nouns_of(seg)[-1:]]
    return nouns[-1] if nouns else next(iter(nouns_of(tool["name"])), "")


def path_nouns(tool: Tool) -> frozenset:
    """What an operation is about: every noun of its path (or of its name, without a path), and the
    values of an enum parameter that chooses among record kinds (`media_type: movie | tv`)."""
    path = (tool.get("meta") or {}).get("path") or ""
    text = " ".join(seg for seg in path.split("/") if seg and not seg.startswith("{")) or tool["name"]
    chosen = [
        singular(snake(str(v)))
        for schema in (tool["parameters"].get("properties") or {}).values()
        if isinstance(schema, dict) and len(schema.get("enum") or []) >= 2
        for v in schema["enum"]
    ]
    return frozenset(nouns_of(text)) | frozenset(chosen)


def service_of(tool: Tool) -> str:
    """The API an operation belongs to: its RapidAPI tool or API name, else its servers, else its collection."""
    meta = tool.get("meta") or {}
    return str(meta.get("tool") or meta.get("api") or meta.get("servers") or tool.get("collection") or "")


_SERVICE_FILLER = {
    "api",
    "apis",
    "data",
    "service",
    "services",
    "free",
    "the",
    "and",
    "for",
    "get",
    "v1",
    "v2",
    "v3",
    "rest",
    "official",
    "unofficial",
    "real",
    "time",
    "tool",
    "tools",
    "info",
    "search",
    "http",
    "https",
    "www",
    "com",
    "net",
    "org",
    "database",
    "all",
    "one",
    "online",
    "cloud",
    "web",
    "app",
    "pro",
    "lookup",
    "finder",
    "checker",
    "generator",
    "converter",
    "scraper",
    "scrapper",
    "public",
    "open",
}


def same_platform(a: str, b: str) -> bool:
    """Two services on one platform: the same service, or names sharing a word (`YouTube Search` and
    `YouTube Downloader` both hold YouTube's video ids)."""
    if a == b:
        return True
    words = [
        {w for w in re.findall(r"[a-z]{3,}", _CAMEL.sub(" ", x).lower()) if w not in _SERVICE_FILLER} for x in (a, b)
    ]
    return bool(words[0] & words[1])
