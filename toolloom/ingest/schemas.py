"""Make the near-JSON-Schema that real specs contain into JSON Schema, or say why not.

Real corpora write BFCL's `dict` and Python type names, numbers as strings (`maximum: "50"`),
Swagger's `type: file`, and boolean `required` on properties; these are mapped. What still fails
the metaschema is rejected by the caller with the validator's message.
"""

from __future__ import annotations

import json
from functools import lru_cache

from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match

_PY_TYPES = {
    "dict": "object",
    "float": "number",
    "int": "integer",
    "tuple": "array",
    "list": "array",
    "str": "string",
    "bool": "boolean",
    "any": None,
    "file": "string",
}
_NUMERIC = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_COUNTS = ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties")


def _number(value):
    if isinstance(value, str):
        try:
            return int(value) if value.strip().lstrip("-").isdigit() else float(value)
        except ValueError:
            return value
    return value


def _normalise_type(out: dict) -> None:
    """`type` as JSON Schema names it: Python's and BFCL's names mapped (`any` dropped), case and spaces fixed."""
    t = out.get("type")
    if isinstance(t, str):
        t = t.strip()
        low = t.lower()
        if low in _PY_TYPES:
            mapped = _PY_TYPES[low]
            if mapped is None:
                out.pop("type")
            else:
                out["type"] = mapped
                if low == "file":
                    out.setdefault("format", "binary")
        elif low in ("string", "number", "integer", "boolean", "object", "array", "null"):
            out["type"] = low


def _exclusive_bounds_as_numbers(out: dict) -> None:
    for key in ("exclusiveMinimum", "exclusiveMaximum"):  # draft 4 wrote booleans beside minimum/maximum
        if isinstance(out.get(key), bool):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            flag = out.pop(key)
            if flag and bound in out:
                out[key] = out.pop(bound)


def normalise_schema(schema):
    if isinstance(schema, list):
        return [normalise_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: normalise_schema(v) for k, v in schema.items()}
    _normalise_type(out)
    for key in _NUMERIC + _COUNTS:
        if key in out:
            out[key] = _number(out[key])
    if isinstance(out.get("required"), bool):
        out.pop("required")
    elif isinstance(out.get("required"), list):
        out["required"] = list(dict.fromkeys(r for r in out["required"] if isinstance(r, str)))
    _exclusive_bounds_as_numbers(out)
    if isinstance(out.get("additionalProperties"), str) and out["additionalProperties"].lower() in ("true", "false"):
        out["additionalProperties"] = out["additionalProperties"].lower() == "true"
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: v for k, v in out["properties"].items() if isinstance(v, dict)}
    return out


# Draft 7 is the dialect of the specs toolloom meets (OpenAPI 3.0, BFCL, RapidAPI) and its metaschema
# checks five times faster than 2020-12's; arguments are validated in the same dialect.
_META = Draft7Validator(Draft7Validator.META_SCHEMA)


def schema_problem(schema: dict) -> str | None:
    """None when `schema` is valid JSON Schema, else the validator's one-line message."""
    return _cached_problem(json.dumps(schema, sort_keys=True, default=str))


@lru_cache(maxsize=65536)
def _cached_problem(schema_json: str) -> str | None:
    error = best_match(_META.iter_errors(json.loads(schema_json)))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message
