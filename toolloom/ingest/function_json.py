"""OpenAI function-calling JSON and BFCL function JSON (BFCL's `dict` and Python-ish types mapped)."""
from __future__ import annotations

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .records import Rejection, ToolSpec, content_hash

FORMAT = "function_json"
# BFCL writes Python type names where JSON Schema has its own
_PY_TYPES = {"dict": "object", "float": "number", "int": "integer", "tuple": "array", "list": "array",
             "str": "string", "bool": "boolean", "any": None}


def looks_like(doc) -> bool:
    items = doc if isinstance(doc, list) else [doc]
    return bool(items) and all(isinstance(i, dict) and ("function" in i or {"name", "parameters"} <= set(i)) for i in items)


def normalise_schema(schema):
    """Map BFCL/Python-ish types to JSON Schema, recursively; drop type 'any'."""
    if isinstance(schema, list):
        return [normalise_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: normalise_schema(v) for k, v in schema.items()}
    t = out.get("type")
    if isinstance(t, str) and t in _PY_TYPES:
        if _PY_TYPES[t] is None:
            out.pop("type")
        else:
            out["type"] = _PY_TYPES[t]
    return out


def parse(doc, source: str, stage: str = "ingest"):
    """Yield a ToolSpec or a Rejection for each entry of the document."""
    items = doc if isinstance(doc, list) else [doc]
    for i, raw in enumerate(items):
        where = f"{source}#{i}"
        entry = raw.get("function", raw) if isinstance(raw, dict) else None
        if not isinstance(entry, dict):
            yield Rejection(stage, where, "spec", "not_a_tool", f"entry {i} is {type(raw).__name__}, expected an object")
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
        try:
            Draft202012Validator.check_schema(params)
        except SchemaError as e:
            yield Rejection(stage, f"{source}#{name}", "spec", "invalid_schema", f"parameters: {e.message}")
            continue
        returns = raw.get("returns") if isinstance(raw, dict) else None
        yield ToolSpec(
            name=name.strip(),
            description=str(entry.get("description") or "").strip(),
            parameters=params,
            returns=normalise_schema(returns) if isinstance(returns, dict) else None,
            source_format=FORMAT,
            source_file=source,
            spec_hash=content_hash(raw),
            meta=raw.get("x-toolloom", {}) if isinstance(raw, dict) else {},
        )
