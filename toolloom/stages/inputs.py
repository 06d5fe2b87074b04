"""What a stage reads from the stages before it in the same version (and, for refined documentation,
from earlier versions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from ..lake.version_log import day_of

if TYPE_CHECKING:
    from ..runtime import Runtime


def kept_escalations(rt: Runtime, version: str, all_rows: bool = False) -> list[dict]:
    """The escalation levels kept (every level with `all_rows`); none without the escalate stage."""
    if rt.pipeline.stages.escalate is None:
        return []
    return [r for r in rt.store.read(rt.pipeline.name, "escalations", version).to_pylist() if all_rows or r["kept"]]


def refined_docs(rt: Runtime, version: str) -> dict[str, str] | None:
    """Tool name -> the final refined documentation of this version (None without the refine stage)."""
    if rt.pipeline.stages.refine is None:
        return None
    return {
        r["name"]: r["text"]
        for r in rt.store.read(rt.pipeline.name, "doc_revisions", version).to_pylist()
        if r["final"]
    }


def documented_tools(rt: Runtime, version: str) -> pa.Table:
    """The tools agents are shown: with `refine.start_from: previous`, an earlier version's refined
    documentation; `docs_version` names that version for each tool it describes ("" = the source's)."""
    table = rt.store.read(rt.pipeline.name, "tools", version)
    refine = rt.pipeline.stages.refine
    earlier, docs = (
        earlier_refinement(rt, version) if refine is not None and refine.start_from == "previous" else ("", {})
    )
    ids = table["tool_id"].to_pylist()
    described = [docs.get(t, d) for t, d in zip(ids, table["description"].to_pylist())]
    table = table.set_column(
        table.schema.get_field_index("description"), "description", pa.array(described, pa.string())
    )
    return table.append_column("docs_version", pa.array([earlier if t in docs else "" for t in ids], pa.string()))


def earlier_docs(rt: Runtime, version: str) -> dict[str, str]:
    """tool_id -> refined documentation from the newest earlier version that has it, for tools whose spec is
    unchanged."""
    return earlier_refinement(rt, version)[1]


def earlier_refinement(rt: Runtime, version: str) -> tuple[str, dict[str, str]]:
    """The newest earlier version with refined documentation, and its tool_id -> final text for tools whose
    spec is unchanged (("", {}) when there is none)."""
    p = rt.pipeline.name
    own = {version, day_of(version)}  # a partition's rerun does not start from the partition's last run
    earlier = [
        v["version"] for v in rt.store.versions(p) if v["version"] not in own and v["tables"].get("doc_revisions")
    ]
    if not earlier:
        return "", {}
    specs = {t["tool_id"]: t["spec_hash"] for t in rt.store.read(p, "tools", version).to_pylist()}
    return earlier[-1], {
        r["tool_id"]: r["text"]
        for r in rt.store.read(p, "doc_revisions", earlier[-1]).to_pylist()
        if r["final"] and specs.get(r["tool_id"]) == r["spec_hash"]
    }
