"""Stage 1a': the API graph over a pipeline's tools (ToolDial), as the versioned `api_edges` table
plus a GraphML file for viewing in any graph tool.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import networkx as nx
import pyarrow as pa

from ..graph.calibration import thresholds_for
from ..graph.edges import EdgeParams, build_edges
from ..graph.embeddings import Embedder
from ..graph.validation import validate_edges
from ..ingest import Rejection
from ..llm import ModelClient
from ..spec import GraphStage
from ..domain import tools_of
from . import StageResult
from ..orchestration import progress
from .asset import StageAsset
from ..lake.storage import upload_file

EDGES_SCHEMA = pa.schema(
    [
        ("src_tool", pa.string()),
        ("src_slot", pa.string()),
        ("dst_tool", pa.string()),
        ("dst_slot", pa.string()),
        ("entity", pa.string()),
        ("name_sim", pa.float64()),
        ("keyword_sim", pa.float64()),
        ("desc_sim", pa.float64()),
        ("llm_verdict", pa.string()),
        ("llm_reason", pa.string()),
    ]
)


def tool_dicts(tools: pa.Table) -> list[dict]:
    return tools_of(tools)


def build_api_graph(
    tools: pa.Table,
    embedder: Embedder,
    params: GraphStage,
    graphml: Path | None = None,
    validator: ModelClient | None = None,
    prompts_root: Path | None = None,
) -> StageResult:
    rows = tool_dicts(tools)
    edges, stats = build_edges(rows, embedder, edge_params(params, embedder.name))
    if params.llm_validation and validator is not None:
        stats["llm_verdicts"] = validate_edges(edges, rows, validator, prompts_root, params.llm_validation_max_edges)
    table = pa.Table.from_pylist(edges, schema=EDGES_SCHEMA)
    g = nx.MultiDiGraph()
    g.add_nodes_from(tools["name"].to_pylist())
    for e in edges:
        if e["llm_verdict"] == "invalid":
            continue
        g.add_edge(e["src_tool"], e["dst_tool"], src_slot=e["src_slot"], dst_slot=e["dst_slot"], desc_sim=e["desc_sim"])
    if graphml is not None:
        graphml.parent.mkdir(parents=True, exist_ok=True)
        nx.write_graphml(g, graphml)
    simple = nx.DiGraph(g)
    hubs = Counter({n: d for n, d in simple.in_degree()}).most_common(8)
    metadata = {
        "graph": {k: v for k, v in stats.items()},
        "connected_tools": sum(1 for n in simple if simple.degree(n) > 0),
        "hubs_by_in_degree": dict(hubs),
        **({"graphml": str(graphml)} if graphml else {}),
    }
    # inputs are the candidate edges the matcher proposed; the validator's `invalid` ones stay in the
    # table (with the reason, for inspection) but are rejected and never walked
    rejections = [
        Rejection("api_graph", edge_id(e), "validator", "invalid_edge", e["llm_reason"] or "")
        for e in edges
        if e["llm_verdict"] == "invalid"
    ]
    return StageResult(
        table,
        rejections,
        [edge_id(e) for e in edges],
        lambda e: [edge_id(e)],
        accepted_if=lambda e: e["llm_verdict"] != "invalid",
        metadata=metadata,
    )


def edge_params(params: GraphStage, embedder_name: str) -> EdgeParams:
    """The pipeline's values, with the embedder's calibrated cosine thresholds where it sets none."""
    calibrated, source = thresholds_for(embedder_name)
    chosen = {k: v if (v := getattr(params, k)) is not None else calibrated[k] for k in calibrated}
    return EdgeParams(
        name_threshold=params.name_threshold,
        **chosen,
        max_edges_per_input=params.max_edges_per_input,
        max_edges_per_value=params.max_edges_per_value,
        max_edges_per_output=params.max_edges_per_output,
        thresholds_from=source if all(getattr(params, k) is None for k in calibrated) else "the pipeline",
    )


def edge_id(edge: dict) -> str:
    return f"{edge['src_tool']}.{edge['src_slot']}->{edge['dst_tool']}.{edge['dst_slot']}"


def api_edges(rt, version: str, log) -> StageResult:
    """API graph (ToolDial): edges from an output slot of one tool to a required input of another."""
    params = rt.pipeline.stages.graph
    graphml = rt.home / "graphs" / rt.pipeline.name / f"{version}.graphml"
    embedder = rt.embedder()
    embedder.progress = progress.reporter("graph embeddings", log)  # new texts only; cached ones are free
    try:
        result = build_api_graph(
            rt.store.read(rt.pipeline.name, "tools", version),
            embedder,
            params,
            graphml,
            rt.agent("validator") if params.llm_validation else None,
            rt.prompts_root,
        )
    finally:
        embedder.progress = None
    remote = rt.store.catalog.remote("graphs", rt.pipeline.name, graphml.name)
    if remote:  # beside the lake's files, where every host of the run can read it
        upload_file(graphml, remote, rt.store.catalog.spec)
        graphml.unlink()
        result.metadata["graphml"] = remote
    return result


ASSET = StageAsset(
    "api_edges",
    "graph",
    ("tools",),
    api_edges,
    ("src_tool", "src_slot", "dst_tool", "dst_slot", "desc_sim"),
    checks=False,
    roles=lambda pipeline: ("validator",) if pipeline.stages.graph.llm_validation else (),
)
