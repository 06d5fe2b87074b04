"""RapidAPI / ToolBench tool JSON: one tool per API of a tool's `api_list`.

RapidAPI types are mapped to JSON Schema; the response schema is the given `schema` when it is
one, else inferred from `example_response` (real responses cut to 2,000 characters, so often
not JSON any more: then there is no response schema).
"""

from __future__ import annotations

import json

from .records import Rejection, ToolSpec, content_hash, safe_name
from .schemas import normalise_schema, schema_problem

FORMAT = "rapidapi"
_TYPES = {
    "STRING": {"type": "string"},
    "NUMBER": {"type": "number"},
    "INTEGER": {"type": "integer"},
    "BOOLEAN": {"type": "boolean"},
    "ENUM": {"type": "string"},
    "SELECT": {"type": "string"},
    "CREDENTIALS": {"type": "string"},
    "TIME": {"type": "string"},
    "DATE (YYYY-MM-DD)": {"type": "string", "format": "date"},
    "ARRAY": {"type": "array"},
    "OBJECT": {"type": "object"},
    "JSON": {"type": "object"},
    "GEOPOINT (LATITUDE, LONGITUDE)": {"type": "string"},
    "FILE": {"type": "string", "format": "binary"},
    "BINARY": {"type": "string", "format": "binary"},
    "LIST": {"type": "array"},
    "DATEPICKER": {"type": "string", "format": "date"},
    "MAP": {"type": "string"},
}


def looks_like(doc) -> bool:
    records = doc if isinstance(doc, list) else [doc]
    return bool(records) and all(
        isinstance(r, dict) and isinstance(r.get("api_list"), list) and "tool_name" in r for r in records
    )


def infer_schema(value, depth: int = 0) -> dict:
    if isinstance(value, dict):
        return (
            {"type": "object", "properties": {k: infer_schema(v, depth + 1) for k, v in value.items()}}
            if depth < 8
            else {"type": "object"}
        )
    if isinstance(value, list):
        return {"type": "array", "items": infer_schema(value[0], depth + 1)} if value else {"type": "array"}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    return {"type": "string"} if isinstance(value, str) else {}


def returns(api: dict) -> dict | None:
    schema = api.get("schema")
    if isinstance(schema, str) and schema.strip():
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError:
            schema = None
    if isinstance(schema, dict) and ("type" in schema or "properties" in schema):
        schema = normalise_schema(schema)
        if schema_problem(schema) is None:
            return schema
    example = api.get("example_response")
    if isinstance(example, str):
        try:
            example = json.loads(example)
        except json.JSONDecodeError:
            return None
    return infer_schema(example) if isinstance(example, (dict, list)) else None


def _param(p: dict) -> dict:
    schema = dict(_TYPES.get(str(p.get("type", "")).upper(), {}))
    if p.get("description"):
        schema["description"] = str(p["description"])
    if p.get("default") not in (None, ""):
        schema["default"] = p["default"]
    return schema


def parameters(api: dict) -> dict:
    """The JSON Schema of an API's `required_parameters` and `optional_parameters`."""
    props, required = {}, []
    for group, is_required in (("required_parameters", True), ("optional_parameters", False)):
        for p in api.get(group) or []:
            if isinstance(p, dict) and p.get("name"):
                props[p["name"]] = _param(p)
                if is_required:
                    required.append(p["name"])
    return normalise_schema({"type": "object", "properties": props, "required": required})


def checked_parameters(api: dict, where: str, stage: str) -> dict | Rejection:
    """The API's parameter schema, or the rejection saying why it is not JSON Schema."""
    params = parameters(api)
    problem = schema_problem(params)
    return Rejection(stage, where, "spec", "invalid_schema", f"{where}: parameters: {problem}") if problem else params


def parse(doc, source: str, stage: str = "ingest"):
    for rec in doc if isinstance(doc, list) else [doc]:
        tool_name = str(rec.get("tool_name") or "").strip()
        for i, api in enumerate(rec.get("api_list") or []):
            where = f"{source}#{tool_name}/{api.get('name', i) if isinstance(api, dict) else i}"
            if not tool_name or not isinstance(api, dict) or not str(api.get("name") or "").strip():
                yield Rejection(stage, where, "spec", "missing_name", f"{where}: tool or API without a name")
                continue
            params = checked_parameters(api, where, stage)
            if isinstance(params, Rejection):
                yield params
                continue
            yield ToolSpec(
                name=safe_name(f"{tool_name}__{api['name']}"),
                description=str(api.get("description") or "").strip(),
                parameters=params,
                returns=returns(api),
                source_format=FORMAT,
                source_file=source,
                spec_hash=content_hash(api),
                meta={
                    "tool": tool_name,
                    "category": rec.get("category"),
                    "tool_description": rec.get("tool_description"),
                    "method": api.get("method"),
                },
            )
