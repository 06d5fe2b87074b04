"""ToolAlpaca API records: an OpenAPI document (as a JSON string) per API."""

from __future__ import annotations

import json

from . import openapi
from .records import Rejection

FORMAT = "toolalpaca"


def looks_like(doc) -> bool:
    records = doc if isinstance(doc, list) else [doc]
    return bool(records) and all(isinstance(r, dict) and "Documentation" in r and "Name" in r for r in records)


def parse(doc, source: str, stage: str = "ingest"):
    for rec in doc if isinstance(doc, list) else [doc]:
        where = f"{source}#{rec.get('Name')}"
        try:
            spec = json.loads(rec["Documentation"]) if isinstance(rec["Documentation"], str) else rec["Documentation"]
        except json.JSONDecodeError as e:
            yield Rejection(stage, where, "spec", "invalid_json", f"{where}: Documentation is not JSON ({e.msg})")
            continue
        if not openapi.looks_like(spec):
            yield Rejection(
                stage, where, "spec", "unknown_format", f"{where}: Documentation is not an OpenAPI document"
            )
            continue
        for item in openapi.parse(spec, where, stage, prefix=f"{rec['Name']}__"):
            if hasattr(item, "source_format"):
                item.source_format = FORMAT
                item.meta["api"] = rec["Name"]
            yield item
