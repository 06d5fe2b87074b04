"""Examples of an export in full, as markdown, for a hand read (the measure that decides, not a metric).

  python benchmarks/read_examples.py exports/demo/latest --n 20 --seed 1 > demo_read.md
  python benchmarks/read_examples.py exports/demo/latest --min-level 1 > escalated_read.md

Each example: its id, kind, shape and how its calls were answered, the tools offered (name and
description), then every message: the request, each call with its arguments, each tool result,
the final answer. Examples are drawn at random (seeded) from every split of the default config.
Give a fresh reader the output and `benchmarks/RUBRIC.md` (good / flawed / bad), nothing else.
"""

import argparse
import json
import random
import sys

from datasets import load_dataset


def example_markdown(row: dict, number: int) -> str:
    lines = [
        f"## Example {number} (`{row['id']}`: {row['kind']}, {row['shape']}, calls answered by {row.get('execution')})",
        "",
        "Tools offered:",
    ]
    for tool in json.loads(row["tools"]) if isinstance(row["tools"], str) else row["tools"]:
        f = tool["function"]
        lines.append(f"- `{f['name']}`: {f.get('description') or ''}")
    lines.append("")
    for m in row["messages"]:
        if m["role"] == "system":
            continue
        if m.get("content"):  # a message's text comes before its calls; whole: a reader shown a cut result
            who = {"tool": "tool result"}.get(m["role"], m["role"])  # called a right answer wrong
            lines.append(f"- **{who}**: {m['content']}")
        for c in m.get("tool_calls") or []:
            args = c["function"]["arguments"]  # an object in exports, JSON text in older ones
            args = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
            lines.append(f"- **assistant calls** `{c['function']['name']}({args})`")
    return "\n".join(lines + [""])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("export", help="an export folder (exports/<pipeline>/<version> or .../latest)")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-level", type=int, default=0, help="only escalated examples of this level or higher")
    args = ap.parse_args()
    ds = load_dataset(args.export)
    rows = [r for split in ds.values() for r in split if r["level"] >= args.min_level]
    picked = random.Random(args.seed).sample(rows, min(args.n, len(rows)))
    print(f"# {len(picked)} examples of {args.export} (of {len(rows)})\n")
    for i, row in enumerate(picked, 1):
        print(example_markdown(row, i))
    return 0


if __name__ == "__main__":
    sys.exit(main())
