"""ToolBench's per-query layout: `{query, query_id, api_list: [{tool_name, api_name, ...}]}`.

Unlike a RapidAPI tool record, each `api_list` entry names its own tool and API
(`category_name, tool_name, api_name, api_description, required_parameters,
optional_parameters, method, template_response`). One tool per entry; the same API in several
queries is an identical repeat (kept once). The query is kept as an example request.
"""

from __future__ import annotations

from .rapidapi import checked_parameters, infer_schema
from .records import Rejection, ToolSpec, content_hash, safe_name

FORMAT = "toolbench"


def looks_like(doc) -> bool:
    records = doc if isinstance(doc, list) else [doc]
    return bool(records) and all(
        isinstance(r, dict)
        and isinstance(r.get("api_list"), list)
        and r["api_list"]
        and all(isinstance(a, dict) and "api_name" in a and "tool_name" in a for a in r["api_list"])
        for r in records
    )


def parse(doc, source: str, stage: str = "ingest"):
    for rec in doc if isinstance(doc, list) else [doc]:
        for i, api in enumerate(rec.get("api_list") or []):
            if not isinstance(api, dict):  # possible when the format is named rather than detected
                yield Rejection(
                    stage,
                    f"{source}#{rec.get('query_id', '?')}/{i}",
                    "spec",
                    "bad_entry",
                    f"{source}: api_list entry {i} is not an object",
                )
                continue
            tool_name, api_name = str(api.get("tool_name") or "").strip(), str(api.get("api_name") or "").strip()
            where = f"{source}#{rec.get('query_id', '?')}/{tool_name or i}/{api_name or i}"
            if not tool_name or not api_name:
                yield Rejection(
                    stage, where, "spec", "missing_name", f"{where}: api_list entry without tool_name or api_name"
                )
                continue
            params = checked_parameters(api, where, stage)
            if isinstance(params, Rejection):
                yield params
                continue
            template = api.get("template_response")
            spec = {k: v for k, v in api.items() if k != "category_name"}
            yield ToolSpec(
                name=safe_name(f"{tool_name}__{api_name}"),
                description=str(api.get("api_description") or "").strip(),
                parameters=params,
                returns=infer_schema(template) if isinstance(template, (dict, list)) and template else None,
                source_format=FORMAT,
                source_file=source,
                spec_hash=content_hash(spec),
                meta={
                    "tool": tool_name,
                    "category": api.get("category_name"),
                    "method": api.get("method"),
                    "query": rec.get("query"),
                },
            )
