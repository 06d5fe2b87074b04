"""Stage 1a: ingest every collection of a pipeline into the `tools` table (ToolDial's node set).

A collection's tools come from its spec files, or, for an executor that lists its own tools (a
live MCP server), from the running server. Each tool records how its calls are answered
(`execution`: python, mcp, http, simulated or a plug-in's kind).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa

from ..executors import build_executor
from ..ingest import Rejection, ingest_collection
from ..ingest import mcp as mcp_format
from ..sandbox import Sandbox
from ..secrets import credential_values, find_credential
from ..spec import Pipeline
from ..domain import tool_of
from . import StageResult
from .asset import StageAsset

log = logging.getLogger(__name__)

TOOLS_SCHEMA = pa.schema(
    [
        ("tool_id", pa.string()),
        ("collection", pa.string()),
        ("name", pa.string()),
        ("description", pa.string()),
        ("parameters", pa.string()),
        ("returns", pa.string()),
        ("source_format", pa.string()),
        ("source_file", pa.string()),
        ("spec_hash", pa.string()),
        ("executable", pa.bool_()),
        ("execution", pa.string()),
        ("meta", pa.string()),
    ]
)


def _listed(coll, executor) -> tuple[list, list[Rejection]]:
    """Tools a live executor lists (MCP `tools/list`), parsed like a dump of it."""
    source = f"{coll.executor.kind}:{coll.name}"
    try:
        listed = executor.list_tools()
    except Exception as e:  # the server would not start or list: this collection gives nothing, the others go on
        return [], [
            Rejection("ingest", source, "executor", "tools_unlisted", f"{source}: {type(e).__name__}: {e}"[:1000])
        ]
    specs, rejected = [], []
    for item in mcp_format.parse({"tools": listed}, source):
        (rejected if isinstance(item, Rejection) else specs).append(item)
    return specs, rejected


def build_tools(pipeline: Pipeline, project_root: Path, sandbox: Sandbox, executors: dict | None = None) -> StageResult:
    """Inputs are the tool entries and files seen; each becomes a tool row or a rejection."""
    project_root = Path(project_root).resolve()
    if executors is None:
        ctx = SimpleNamespace(project_root=project_root, home=project_root / ".toolloom", sandbox=sandbox)
        executors = {c.name: build_executor(c.executor, c, ctx) for c in pipeline.collections}
    rows: list[dict] = []
    rejections: list[Rejection] = []
    given: list[str] = []  # every spec parsed, every spec rejected while parsing, every examples entry
    for coll in pipeline.collections:
        specs, rejected = _specs_of(coll, executors[coll.name], project_root)
        rejections += rejected
        given += [r.item_id for r in rejected] + [f"{coll.name}.{s.name}" for s in specs]
        given += [f"{coll.name}#examples/{name}" for name in coll.examples]
        named = {s.meta.get("mcp_name") or s.name for s in specs}
        for name in sorted(set(coll.examples) - named):  # an example for no tool is a typo worth saying
            rejections.append(
                Rejection(
                    "ingest",
                    f"{coll.name}#examples/{name}",
                    "spec",
                    "unknown_tool",
                    f"collection {coll.name!r}: examples name {name!r}, which is not one of its tools",
                )
            )
        secrets = credential_values()
        for s in specs:
            if refused := _credential_rejections(coll, s, secrets):  # a spec carrying a credential never reaches
                rejections += refused  # the lake
                continue
            for example in coll.examples.get(s.meta.get("mcp_name") or s.name, []):
                s.meta.setdefault("examples", []).append(example)
            rows.append(tool_row(coll.name, s, executors[coll.name]))
    examples = {c.name: set(c.examples) for c in pipeline.collections}

    def accepted_as(row: dict) -> list[str]:  # a tool row, and the examples entry it took
        name = tool_of(row)["meta"].get("mcp_name") or row["name"]
        return [row["tool_id"]] + (
            [f"{row['collection']}#examples/{name}"] if name in examples[row["collection"]] else []
        )

    metadata = {
        "tools_per_collection": {c.name: sum(r["collection"] == c.name for r in rows) for c in pipeline.collections},
        "executable": sum(r["executable"] for r in rows),
        "execution": {k: sum(r["execution"] == k for r in rows) for k in sorted({r["execution"] for r in rows})},
    }
    return StageResult(
        pa.Table.from_pylist(rows, schema=TOOLS_SCHEMA), rejections, given, accepted_as, metadata=metadata
    )


def _specs_of(coll, executor, project_root: Path) -> tuple[list, list[Rejection]]:
    """A collection's tool specs and its broken entries: listed by its executor, or read from its path."""
    if coll.path is None:
        return _listed(coll, executor)
    where = (project_root / coll.path).resolve()
    if not where.is_relative_to(project_root):  # read all the same, but said: the path may be a mistake
        log.warning("collection %r reads %s, outside the project %s", coll.name, where, project_root)
    return ingest_collection(where, coll.format, rel_to=project_root, ref_hosts=coll.ref_hosts)


def _credential_rejections(coll, spec, secrets) -> list[Rejection]:
    """The spec's rejection (and its examples entry's) when it carries a credential; none otherwise."""
    found = find_credential(
        json.dumps([spec.description, spec.parameters, spec.returns, spec.meta], ensure_ascii=False), secrets
    )
    if not found:
        return []
    name = spec.meta.get("mcp_name") or spec.name
    out = [
        Rejection(
            "ingest",
            f"{coll.name}.{spec.name}",
            "secrets",
            "credential_in_spec",
            f"{spec.source_file}: tool {spec.name!r} contains {found}",
        )
    ]
    if name in coll.examples:
        out.append(
            Rejection(
                "ingest",
                f"{coll.name}#examples/{name}",
                "spec",
                "tool_rejected",
                f"its tool {spec.name!r} was rejected (credential_in_spec)",
            )
        )
    return out


def tool_row(collection: str, spec, executor) -> dict:
    """A row of `tools`: the spec with its JSON columns encoded, and how its calls are answered."""
    execution = executor.kind if executor.runs(spec.meta.get("mcp_name") or spec.name) else "simulated"
    return {
        "tool_id": f"{collection}.{spec.name}",
        "collection": collection,
        "name": spec.name,
        "description": spec.description,
        "parameters": json.dumps(spec.parameters, ensure_ascii=False),
        "returns": json.dumps(spec.returns, ensure_ascii=False) if spec.returns else None,
        "source_format": spec.source_format,
        "source_file": spec.source_file,
        "spec_hash": spec.spec_hash,
        "executable": execution != "simulated",
        "execution": execution,
        "meta": json.dumps(spec.meta, ensure_ascii=False),
    }


def tools(rt, version: str, log) -> StageResult:
    """Tools ingested from the pipeline's collections: one row per operation, broken specs rejected."""
    return build_tools(rt.pipeline, rt.project_root, rt.sandbox, rt.executors())


ASSET = StageAsset("tools", "ingest", (), tools, ("tool_id", "description", "execution"))
