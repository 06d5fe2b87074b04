"""Ingest one collection (a folder or a file): read each document, detect its format, parse it,
and reject what is broken while the rest goes on. Accepted + rejected = every entry seen.
"""

from __future__ import annotations

import gzip
import inspect
import json
from pathlib import Path

import yaml

from . import bfcl, function_json, mcp, openapi, rapidapi, toolalpaca, toolbench
from ..registry import INGEST_FORMATS
from .records import Rejection, ToolSpec

# format name -> adapter (anything with FORMAT, looks_like(doc), parse(doc, source)); detection tries
# them in registration order, plug-ins (toolloom.plugins entry points) after the built-ins
for _adapter in (openapi, toolalpaca, mcp, toolbench, rapidapi, bfcl, function_json):
    INGEST_FORMATS.register(_adapter.FORMAT, _adapter)
SPEC_SUFFIXES = {".json", ".jsonl", ".yaml", ".yml", ".gz"}


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())


# hostile input is one rejection, never a hang or a crash: a file (decompressed) is read up to
# MAX_FILE_BYTES, a document may nest MAX_DEPTH levels and expand to MAX_NODES values (YAML aliases
# are counted where they are used: a "billion laughs" file is a few lines that expand to 10^9)
MAX_FILE_BYTES = 64 * 1024 * 1024  # the largest public API specs (GitHub's, Stripe's) are a fraction of this
MAX_DEPTH = 100
MAX_NODES = 2_000_000


def _read(file: Path) -> bytes:
    opener = gzip.open if file.suffix == ".gz" else open
    with opener(file, "rb") as f:
        raw = f.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"more than {MAX_FILE_BYTES} bytes{' once decompressed' if file.suffix == '.gz' else ''}")
    return raw


def _oversized(doc) -> str | None:
    """Why a parsed document is too deep or too big to process, walking it without recursion."""
    stack, nodes = [(doc, 1)], 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            return f"nests deeper than {MAX_DEPTH} levels"
        if nodes > MAX_NODES:
            return f"expands to more than {MAX_NODES} values (YAML aliases included)"
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return None


def _checked(doc, where: str):
    problem = _oversized(doc)
    return Rejection("ingest", where, "spec", "too_large", f"{where}: {problem}") if problem else (doc, where)


def _documents(file: Path, source: str):
    """Yield (document, source) or a Rejection; JSON Lines give one document per line."""
    try:
        text = _read(file).decode("utf-8")
    except ValueError as e:
        yield Rejection("ingest", source, "spec", "too_large", f"{source}: {e}")
        return
    except (OSError, UnicodeDecodeError, EOFError) as e:
        yield Rejection("ingest", source, "spec", "unreadable", f"{source}: cannot read ({e})")
        return
    name = file.name.removesuffix(".gz")
    if name.endswith((".yaml", ".yml")):
        try:
            yield _checked(yaml.safe_load(text), source)
        except yaml.YAMLError as e:
            yield Rejection(
                "ingest", source, "spec", "invalid_yaml", f"{source}: invalid YAML ({e})".replace("\n", " ")
            )
        except RecursionError:
            yield Rejection("ingest", source, "spec", "too_large", f"{source}: nests too deep to parse")
        return
    try:
        yield _checked(json.loads(text), source)
        return
    except RecursionError:
        yield Rejection("ingest", source, "spec", "too_large", f"{source}: nests too deep to parse")
        return
    except json.JSONDecodeError as e:
        whole_error = e
    lines = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not name.endswith(".jsonl") and not (len(lines) > 1 and whole_error.msg == "Extra data"):
        yield Rejection("ingest", source, "spec", "invalid_json", f"{source}: invalid JSON ({whole_error})")
        return
    for i, line in lines:
        try:
            yield _checked(json.loads(line), f"{source}:{i}")
        except RecursionError:
            yield Rejection(
                "ingest", f"{source}:{i}", "spec", "too_large", f"{source} line {i}: nests too deep to parse"
            )
        except json.JSONDecodeError as e:
            yield Rejection(
                "ingest", f"{source}:{i}", "spec", "invalid_json", f"{source} line {i}: invalid JSON ({e.msg})"
            )


def ingest_collection(
    path: str | Path, fmt: str = "auto", *, rel_to: Path | None = None, ref_hosts: tuple[str, ...] = ()
):
    """Returns (tools, rejections). A broken file, line or entry is rejected; the rest goes on. `ref_hosts`: hosts
    that remote `$ref`s may be fetched from (none by default)."""
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
            adapter = (
                INGEST_FORMATS.get(fmt)
                if fmt != "auto"
                else next((a for a in adapters.values() if a.looks_like(doc)), None)
            )
            if adapter is None:
                known = ", ".join(adapters)
                rejections.append(
                    Rejection(
                        "ingest",
                        where,
                        "spec",
                        "unknown_format",
                        f"{where}: not a recognised spec format (known: {known})",
                    )
                )
                continue
            produced = 0
            # an adapter that resolves references to other files takes the folder they may be read from, and the
            # hosts remote ones may be fetched from
            takes = inspect.signature(adapter.parse).parameters
            options = {"folder": file.parent, "ref_hosts": tuple(ref_hosts)}
            for item in adapter.parse(doc, where, **{k: v for k, v in options.items() if k in takes}):
                produced += 1
                item = _named_apart(item, seen, where)
                if isinstance(item, ToolSpec):
                    seen[item.name] = item.spec_hash
                    tools.append(item)
                else:
                    rejections.append(item)
            if produced == 0:
                rejections.append(
                    Rejection(
                        "ingest", where, "spec", "empty_spec", f"{where}: a {adapter.FORMAT} document with no tools"
                    )
                )
    return tools, rejections


def _named_apart(item, seen: dict[str, str], where: str):
    """A tool whose name is taken by a different tool, renamed; one defined again identically, rejected."""
    if isinstance(item, ToolSpec) and item.name in seen and seen[item.name] != item.spec_hash:
        # a different tool under a taken name (common in RapidAPI and BFCL): keep both, the second
        # named by as much of its content hash as makes the name free (the whole hash, at most)
        taken = item.name
        for n in (6, 10, 16):
            item.name = f"{taken[: 63 - n]}_{item.spec_hash[:n]}"
            if seen.get(item.name, item.spec_hash) == item.spec_hash:
                break
        item.meta["renamed_from"] = taken
    if isinstance(item, ToolSpec) and item.name in seen:
        return Rejection(
            "ingest",
            f"{where}#{item.name}",
            "spec",
            "duplicate_name",
            f"{where}: tool {item.name!r} is defined again, identically; kept the first",
        )
    return item
