"""Stage 1a: ingest every collection of a pipeline into the `tools` table (ToolDial's node set)."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from ..ingest import Rejection, ingest_collection
from ..sandbox import Sandbox
from ..spec import Pipeline
from . import StageResult

TOOLS_SCHEMA = pa.schema([
    ("tool_id", pa.string()), ("collection", pa.string()), ("name", pa.string()), ("description", pa.string()),
    ("parameters", pa.string()), ("returns", pa.string()), ("source_format", pa.string()), ("source_file", pa.string()),
    ("spec_hash", pa.string()), ("executable", pa.bool_()), ("meta", pa.string()),
])


def build_tools(pipeline: Pipeline, project_root: Path, sandbox: Sandbox) -> StageResult:
    """Inputs are the tool entries and files seen; each becomes a tool row or a rejection."""
    rows: list[dict] = []
    rejections: list[Rejection] = []
    for coll in pipeline.collections:
        path = (project_root / coll.path).resolve()
        specs, rejected = ingest_collection(path, coll.format, rel_to=project_root.resolve())
        rejections += rejected
        for s in specs:
            rows.append({
                "tool_id": f"{coll.name}.{s.name}", "collection": coll.name, "name": s.name, "description": s.description,
                "parameters": json.dumps(s.parameters, ensure_ascii=False), "returns": json.dumps(s.returns, ensure_ascii=False) if s.returns else None,
                "source_format": s.source_format, "source_file": s.source_file, "spec_hash": s.spec_hash,
                "executable": sandbox.is_executable(coll.name, s.name), "meta": json.dumps(s.meta, ensure_ascii=False),
            })
    table = pa.Table.from_pylist(rows, schema=TOOLS_SCHEMA)
    by_collection = {c.name: sum(r["collection"] == c.name for r in rows) for c in pipeline.collections}
    return StageResult(table, rejections, inputs=len(rows) + len(rejections), accepted=len(rows),
                       metadata={"tools_per_collection": by_collection, "executable": sum(r["executable"] for r in rows)})
