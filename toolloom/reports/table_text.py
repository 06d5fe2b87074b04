"""A table printed as aligned text columns (`toolloom query`, `toolloom versions`)."""

from __future__ import annotations

import json
import sys


def print_table(table, limit: int = 200) -> None:
    out = sys.stdout
    cols = table.column_names
    rows = table.slice(0, limit).to_pylist()
    cells = [
        [
            json.dumps(r[c], ensure_ascii=False, default=str) if isinstance(r[c], (dict, list)) else str(r[c])
            for c in cols
        ]
        for r in rows
    ]
    widths = [min(60, max([len(c)] + [len(row[i]) for row in cells])) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in cells:
        print("  ".join((v if len(v) <= w else v[: w - 1] + "…").ljust(w) for v, w in zip(row, widths)), file=out)
    if table.num_rows > limit:
        print(f"... {table.num_rows - limit} more rows", file=out)
