"""Berkeley Function Calling Leaderboard rows: `{id, question, function: [...]}` per line."""

from __future__ import annotations

from . import function_json

FORMAT = "bfcl"


def looks_like(doc) -> bool:
    rows = doc if isinstance(doc, list) else [doc]
    return bool(rows) and all(
        isinstance(r, dict) and isinstance(r.get("function"), list) and "question" in r for r in rows
    )


def parse(doc, source: str, stage: str = "ingest"):
    for row in doc if isinstance(doc, list) else [doc]:
        for item in function_json.parse(row["function"], f"{source}:{row.get('id', '?')}", stage):
            if hasattr(item, "source_format"):
                item.source_format = FORMAT
            yield item
