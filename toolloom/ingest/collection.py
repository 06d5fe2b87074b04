"""Ingest one collection folder: detect each file's format, parse, reject what is broken."""
from __future__ import annotations

import json
from pathlib import Path

from . import function_json
from .records import Rejection, ToolSpec

# format name -> adapter module (looks_like(doc), parse(doc, source)); new formats register here
ADAPTERS = {function_json.FORMAT: function_json}
SPEC_SUFFIXES = {".json"}


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())


def ingest_collection(path: str | Path, fmt: str = "auto", *, rel_to: Path | None = None):
    """Returns (tools, rejections). A broken file or entry is rejected; the rest goes on."""
    path = Path(path)
    tools: list[ToolSpec] = []
    rejections: list[Rejection] = []
    if not path.exists():
        return tools, [Rejection("ingest", str(path), "spec", "missing_path", f"{path} does not exist")]
    seen: set[str] = set()
    for file in _files(path):
        source = str(file.relative_to(rel_to)) if rel_to and file.is_relative_to(rel_to) else str(file)
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            rejections.append(Rejection("ingest", source, "spec", "invalid_json", f"{source}: invalid JSON ({e})"))
            continue
        adapter = ADAPTERS.get(fmt) if fmt != "auto" else next((a for a in ADAPTERS.values() if a.looks_like(doc)), None)
        if adapter is None:
            known = ", ".join(ADAPTERS)
            rejections.append(Rejection("ingest", source, "spec", "unknown_format", f"{source}: not a recognised spec format (known: {known})"))
            continue
        for item in adapter.parse(doc, source):
            if isinstance(item, ToolSpec) and item.name in seen:
                item = Rejection("ingest", f"{source}#{item.name}", "spec", "duplicate_name",
                                 f"{source}: tool name {item.name!r} already defined earlier in the collection")
            if isinstance(item, ToolSpec):
                seen.add(item.name)
                tools.append(item)
            else:
                rejections.append(item)
    return tools, rejections
