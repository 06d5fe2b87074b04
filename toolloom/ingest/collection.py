"""Ingest one collection (a folder or a file): read each document, detect its format, parse it,
and reject what is broken while the rest goes on. Accepted + rejected = every entry seen.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import yaml

from . import bfcl, function_json, mcp, openapi, rapidapi, toolalpaca, toolbench
from ..registry import Registry
from .records import Rejection, ToolSpec

# format name -> adapter (anything with FORMAT, looks_like(doc), parse(doc, source)); detection tries
# them in registration order, plug-ins (toolloom.plugins entry points) after the built-ins
INGEST_FORMATS: Registry = Registry("ingest format")
for _adapter in (openapi, toolalpaca, mcp, toolbench, rapidapi, bfcl, function_json):
    INGEST_FORMATS.register(_adapter.FORMAT, _adapter)
SPEC_SUFFIXES = {".json", ".jsonl", ".yaml", ".yml", ".gz"}


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())


def _documents(file: Path, source: str):
    """Yield (document, source) or a Rejection; JSON Lines give one document per line."""
    try:
        raw = gzip.decompress(file.read_bytes()) if file.suffix == ".gz" else file.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError) as e:
        yield Rejection("ingest", source, "spec", "unreadable", f"{source}: cannot read ({e})")
        return
    name = file.name.removesuffix(".gz")
    if name.endswith((".yaml", ".yml")):
        try:
            yield yaml.safe_load(text), source
        except yaml.YAMLError as e:
            yield Rejection("ingest", source, "spec", "invalid_yaml", f"{source}: invalid YAML ({e})".replace("\n", " "))
        return
    try:
        yield json.loads(text), source
        return
    except json.JSONDecodeError as e:
        whole_error = e
    lines = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not name.endswith(".jsonl") and not (len(lines) > 1 and whole_error.msg == "Extra data"):
        yield Rejection("ingest", source, "spec", "invalid_json", f"{source}: invalid JSON ({whole_error})")
        return
    for i, line in lines:
        try:
            yield json.loads(line), f"{source}:{i}"
        except json.JSONDecodeError as e:
            yield Rejection("ingest", f"{source}:{i}", "spec", "invalid_json", f"{source} line {i}: invalid JSON ({e.msg})")


def ingest_collection(path: str | Path, fmt: str = "auto", *, rel_to: Path | None = None):
    """Returns (tools, rejections). A broken file, line or entry is rejected; the rest goes on."""
    path = Path(path)
    tools: list[ToolSpec] = []
    rejections: list[Rejection] = []
    if not path.exists():
        return tools, [Rejection("ingest", str(path), "spec", "missing_path", f"{path} does not exist")]
    seen: dict[str, str] = {}
    for file in _files(path):
        source = str(file.relative_to(rel_to)) if rel_to and file.is_relative_to(rel_to) else str(file)
        for unit in _documents(file, source):
            if isinstance(unit, Rejection):
                rejections.append(unit)
                continue
            doc, where = unit
            adapters = INGEST_FORMATS.items()
            adapter = INGEST_FORMATS.get(fmt) if fmt != "auto" else next((a for a in adapters.values() if a.looks_like(doc)), None)
            if adapter is None:
                known = ", ".join(adapters)
                rejections.append(Rejection("ingest", where, "spec", "unknown_format", f"{where}: not a recognised spec format (known: {known})"))
                continue
            produced = 0
            for item in adapter.parse(doc, where):
                produced += 1
                if isinstance(item, ToolSpec) and item.name in seen:
                    if seen[item.name] == item.spec_hash:
                        item = Rejection("ingest", f"{where}#{item.name}", "spec", "duplicate_name",
                                         f"{where}: tool {item.name!r} is defined again, identically; kept the first")
                    else:  # a different tool under a taken name (common in RapidAPI and BFCL): keep both
                        item.meta["renamed_from"] = item.name
                        item.name = f"{item.name[:56]}_{item.spec_hash[:6]}"
                if isinstance(item, ToolSpec) and item.name in seen:
                    item = Rejection("ingest", f"{where}#{item.name}", "spec", "duplicate_name",
                                     f"{where}: tool {item.name!r} is defined again, identically; kept the first")
                if isinstance(item, ToolSpec):
                    seen[item.name] = item.spec_hash
                    tools.append(item)
                else:
                    rejections.append(item)
            if produced == 0:
                rejections.append(Rejection("ingest", where, "spec", "empty_spec", f"{where}: a {adapter.FORMAT} document with no tools"))
    return tools, rejections
