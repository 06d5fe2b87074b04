"""The rows of an export before they are written: the examples (OpenAI messages) joined from samples and
trajectories, each format's conversion of them, and the Parquet schemas of the default config."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import pyarrow as pa

from ..domain import example_of
from ..formats import EXPORT_FORMATS, ExportFormat
from ..messages import MESSAGES, MESSAGES_JSON, with_argument_objects
from .preference import PREFERENCE_SCHEMA, PREFERENCE_TEXT


def with_docs(tools_json: str, docs: dict[str, str]) -> str:
    tools = json.loads(tools_json)
    for t in tools:
        t["function"]["description"] = docs.get(t["function"]["name"], t["function"]["description"])
    return json.dumps(tools, ensure_ascii=False)


def openai_rows(samples: pa.Table, trajectories: pa.Table) -> list[dict]:
    by_traj = {t["traj_id"]: t for t in trajectories.to_pylist()}
    rows = []
    for s in samples.to_pylist():
        t = by_traj[s["traj_id"]]
        rows.append(
            {
                "id": s["sample_id"],
                "messages": t["messages"],
                "tools": t["tools_offered"],
                "split": s["split"],
                "kind": t.get("kind") or "single_turn",
                "actions": t.get("actions"),
                "shape": s["shape"],
                "level": s["level"],
                "execution": s.get("execution") or "python",
                "num_calls": s["num_calls"],
                "content": s.get("content") or "filled",
                "provenance": s.get("provenance") or "real",
                "answered_by": json.dumps([c.get("answered_by", "real") for c in json.loads(t["calls"] or "[]")]),
                "reference_chain": t["chain"],
                "reference_answer": t["reference_answer"],
                "final_answer": t["final_answer"],
                "docs_version": t.get("docs_version") or "",
            }
        )
    return rows


DEFAULT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("messages", MESSAGES),
        ("tools", pa.string()),
        ("kind", pa.string()),
        ("actions", pa.string()),
        ("shape", pa.string()),
        ("level", pa.int64()),
        ("execution", pa.string()),
        ("num_calls", pa.int64()),
        ("content", pa.string()),
        ("provenance", pa.string()),  # real | mock | simulated | none: how the calls were answered, by the weakest
        ("answered_by", pa.string()),  # JSON list: how each call was answered, in order
        ("reference_chain", pa.string()),
        ("reference_answer", pa.string()),
        ("final_answer", pa.string()),
        ("docs_version", pa.string()),  # the earlier version whose refined docs the agents were shown ("" = source's)
    ]
)


# the default and multi_turn configs as written: tools and each call's arguments as JSON objects (datasets' Json
# feature), so `tokenizer.apply_chat_template(row["messages"], tools=row["tools"])` needs no conversion
TRAINER_SCHEMA = DEFAULT_SCHEMA.set(
    DEFAULT_SCHEMA.get_field_index("messages"), pa.field("messages", MESSAGES_JSON)
).set(DEFAULT_SCHEMA.get_field_index("tools"), pa.field("tools", pa.json_()))


@dataclass
class Built:
    """An export's content before it is written: the rows of every config and their schemas."""

    rows: list[dict]  # the default config's rows, one per exported example
    tools: pa.Table
    content: dict  # filled / placeholder counts, and whether placeholders were included
    subsets: dict[str, tuple[str, list[dict]]]  # config -> (folder, rows)
    schemas: dict[str, pa.Schema]
    formats: dict[str, ExportFormat]  # config -> its format (the configs other than default and multi_turn)
    pairs: list[dict]  # preference pairs whose chosen example is exported


def build_export(
    samples: pa.Table,
    trajectories: pa.Table,
    tools: pa.Table,
    formats: tuple[str, ...],
    refined_docs: dict[str, str] | None,
    include_placeholders: bool,
    preference: list[dict] | None,
    where: str,
) -> Built:
    """Every config's rows: the examples (placeholders left out unless included), each format's conversion of
    them, preference pairs; refined documentation in every tool list and the `tools` config."""
    rows = openai_rows(samples, trajectories)
    content = dict(Counter(r["content"] for r in rows), included=include_placeholders)
    if not include_placeholders:
        rows = [r for r in rows if r["content"] != "placeholder"]
    repeated = [i for i, n in Counter(r["id"] for r in rows).items() if n > 1]
    if repeated:  # every config joins on id: a repeat would pair one example with another's answers
        raise ValueError(f"sample ids repeat in samples of {where}: {repeated[:5]}")
    if refined_docs:
        rows = [{**r, "tools": with_docs(r["tools"], refined_docs)} for r in rows]
        names, docs = tools["name"].to_pylist(), tools["description"].to_pylist()
        described = [refined_docs.get(n, d) for n, d in zip(names, docs)]
        tools = tools.append_column("original_description", tools["description"]).set_column(
            tools.schema.get_field_index("description"), "description", pa.array(described, pa.string())
        )
    subsets = {"default": ("data", rows), "multi_turn": ("multi_turn", [r for r in rows if r["kind"] == "multi_turn"])}
    schemas = {"default": DEFAULT_SCHEMA, "multi_turn": DEFAULT_SCHEMA}
    kept = {r["id"] for r in rows}  # a pair whose chosen example is not exported is not either
    pairs = [
        {**p, "tools": with_docs(p["tools"], refined_docs or {})} for p in preference or [] if p["sample_id"] in kept
    ]
    if pairs:
        subsets["preference"], schemas["preference"] = ("preference", pairs), PREFERENCE_TEXT
    by_config = {}
    examples = [example_of(r) for r in rows]  # what a format converts: JSON columns decoded once
    for fmt in (f for f in formats if f != "openai"):
        config = fmt.rsplit(":", 1)[-1]  # a plug-in named by module:attr is exported as config `attr`
        by_config[config] = entry = ExportFormat.of(EXPORT_FORMATS.get(fmt))
        schemas[config] = entry.schema
        converted = [{**c, "split": r["split"]} for r in examples if (c := entry.convert(r)) is not None]
        subsets[config] = (config, converted)
    return Built(rows, tools, content, subsets, schemas, by_config, pairs)


def config_table(part: list[dict], schema: pa.Schema) -> pa.Table:
    """One split of one config as written: the default and multi_turn configs with argument objects (trainers
    read them as they are), preference pairs as messages."""
    if schema is DEFAULT_SCHEMA:
        part = [{**r, "messages": with_argument_objects(r["messages"])} for r in part]
        return pa.Table.from_pylist(part, schema=DEFAULT_SCHEMA).cast(TRAINER_SCHEMA)
    if schema is PREFERENCE_TEXT:
        return pa.Table.from_pylist(part, schema=PREFERENCE_TEXT).cast(PREFERENCE_SCHEMA)
    return pa.Table.from_pylist(part, schema=schema)
