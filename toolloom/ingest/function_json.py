"""OpenAI function-calling JSON and BFCL function JSON (BFCL's `dict` and Python-ish types mapped)."""

from __future__ import annotations

from .records import Rejection, ToolSpec, content_hash, safe_name
from .schemas import normalise_schema, schema_problem

FORMAT = "function_json"


def looks_like(doc) -> bool:
    items = doc if isinstance(doc, list) else [doc]
    return bool(items) and all(
        isinstance(i, dict) and (isinstance(i.get("function"), dict) or {"name", "parameters"} <= set(i)) for i in items
    )


def parse(doc, source: str, stage: str = "ingest", prefix: str = ""):
    """Yield a ToolSpec or a Rejection for each entry of the document."""
    items = doc if isinstance(doc, list) else [doc]
    for i, raw in enumerate(items):
        where = f"{source}#{i}"
        entry = raw.get("function", raw) if isinstance(raw, dict) else None
        if not isinstance(entry, dict):
            yield Rejection(
                stage, where, "spec", "not_a_tool", f"entry {i} is {type(raw).__name__}, expected an object"
            )
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            yield Rejection(stage, where, "spec", "missing_name", f"entry {i} has no tool name")
            continue
        params = normalise_schema(entry.get("parameters", {"type": "object", "properties": {}}))
        if not isinstance(params, dict) or params.get("type", "object") != "object":
            yield Rejection(stage, f"{source}#{name}", "spec", "bad_parameters", "parameters must be an object schema")
            continue
        params.setdefault("type", "object")
        problem = schema_problem(params)
        if problem:
            yield Rejection(
                stage, f"{source}#{name}", "spec", "invalid_schema", f"{source}#{name}: parameters: {problem}"
            )
            continue
        returns = raw.get("returns") if isinstance(raw, dict) else None
        yield ToolSpec(
            name=safe_name(prefix + name),
            description=str(entry.get("description") or "").strip(),
            parameters=params,
            returns=normalise_schema(returns) if isinstance(returns, dict) else None,
            source_format=FORMAT,
            source_file=source,
            spec_hash=content_hash(raw),
            meta=raw.get("x-toolloom", {}) if isinstance(raw, dict) else {},
        )
