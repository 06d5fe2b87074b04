"""MCP `tools/list` results: a bare result, a JSON-RPC response, or LiveMCPBench's server records."""

from __future__ import annotations

from ..text.purposes import first_sentence
from .records import Rejection, ToolSpec, content_hash, safe_name
from .schemas import normalise_schema, schema_problem

FORMAT = "mcp"


def _servers(doc):
    """(server name or '', list of MCP tool objects) pairs."""
    records = doc if isinstance(doc, list) else [doc]
    for rec in records:
        if not isinstance(rec, dict):
            continue
        if isinstance(rec.get("result"), dict):  # JSON-RPC envelope
            rec = rec["result"]
        tools = rec.get("tools")
        if isinstance(tools, list):
            yield rec.get("name", ""), tools
        elif isinstance(tools, dict):  # LiveMCPBench: {server_key: {server_name, tools: [...]}}
            for key, server in tools.items():
                if isinstance(server, dict) and isinstance(server.get("tools"), list):
                    yield server.get("server_name") or key, server["tools"]


def looks_like(doc) -> bool:
    for _, tools in _servers(doc):
        return any(isinstance(t, dict) and "inputSchema" in t for t in tools)
    return False


def parse(doc, source: str, stage: str = "ingest"):
    for server, tools in _servers(doc):
        for i, t in enumerate(tools):
            where = f"{source}#{server}/{t.get('name', i) if isinstance(t, dict) else i}"
            if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not t["name"].strip():
                yield Rejection(stage, where, "spec", "missing_name", f"{where}: MCP tool without a name")
                continue
            params = normalise_schema(t.get("inputSchema") or {"type": "object", "properties": {}})
            if not isinstance(params, dict) or params.get("type", "object") != "object":
                yield Rejection(
                    stage, where, "spec", "bad_parameters", f"{where}: inputSchema must be an object schema"
                )
                continue
            params.setdefault("type", "object")
            problem = schema_problem(params)
            if problem:
                yield Rejection(stage, where, "spec", "invalid_schema", f"{where}: inputSchema: {problem}")
                continue
            output = t.get("outputSchema")
            yield ToolSpec(
                name=safe_name(f"{server}__{t['name']}" if server else t["name"]),
                description=(t.get("description") or "").strip(),
                parameters=params,
                returns=normalise_schema(output) if isinstance(output, dict) else None,
                source_format=FORMAT,
                source_file=source,
                spec_hash=content_hash(t),
                meta={
                    "server": server,
                    "mcp_name": t["name"],
                    "annotations": t.get("annotations") or {},
                    # its first sentence ('Shows the working tree status'): what a request may be worded from
                    **({"summary": first} if (first := first_sentence(t.get("description") or "")) else {}),
                },
            )
