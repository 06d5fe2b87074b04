"""Hostile collection files beside a good one: each is one rejection with its reason, the good file's
tools are ingested, and nothing hangs or crashes (bounded reads, depth and expansion)."""

import gzip
import json
import shutil

from toolloom.ingest import collection, ingest_collection

from .conftest import CASES

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def _deep_schema(levels: int) -> dict:
    schema: dict = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"inner": schema}}
    return {"name": "deep", "description": "nested", "parameters": {"type": "object", "properties": {"x": schema}}}


def test_bombs_and_deep_schemas_are_rejected_one_by_one_and_the_good_file_goes_on(tmp_path, monkeypatch):
    shutil.copy(CASES / "functions" / "geometry.json", tmp_path / "good.json")
    (tmp_path / "laughs.yaml").write_text(LAUGHS)  # 9^9 values once its aliases are expanded
    (tmp_path / "deep.json").write_text(json.dumps([_deep_schema(400)]))
    (tmp_path / "deeper.json").write_text("[" * 100_000 + "]" * 100_000)  # past the parser's own recursion limit
    monkeypatch.setattr(collection, "MAX_FILE_BYTES", 8 * 1024 * 1024)
    with gzip.open(tmp_path / "bomb.jsonl.gz", "wb") as f:
        for _ in range(32):
            f.write(b"\0" * (1024 * 1024))  # 32 MiB of zeros, 32 KiB compressed
    tools, rejections = ingest_collection(tmp_path, rel_to=tmp_path)
    good, _ = ingest_collection(CASES / "functions" / "geometry.json")
    assert sorted(t.name for t in tools) == sorted(t.name for t in good) and good
    by_file = {r.item_id.split(":")[0]: (r.reason, r.detail) for r in rejections}
    assert by_file.keys() == {"laughs.yaml", "deep.json", "deeper.json", "bomb.jsonl.gz"} and len(rejections) == 4
    assert by_file["laughs.yaml"] == (
        "too_large",
        f"laughs.yaml: expands to more than {collection.MAX_NODES} values (YAML aliases included)",
    )
    assert by_file["deep.json"] == ("too_large", f"deep.json: nests deeper than {collection.MAX_DEPTH} levels")
    assert by_file["deeper.json"][0] == "too_large"
    assert by_file["bomb.jsonl.gz"] == ("too_large", "bomb.jsonl.gz: more than 8388608 bytes once decompressed")
