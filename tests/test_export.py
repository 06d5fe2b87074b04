import json

import pyarrow as pa
import pytest
from datasets import load_dataset

from toolloom.export import export_version
from toolloom.stages.samples import SAMPLES_SCHEMA
from toolloom.stages.simulate import TRAJECTORIES_SCHEMA
from toolloom.stages.tools import TOOLS_SCHEMA

from .conftest import CASES
from .test_stages_filter import _traj

pytestmark = pytest.mark.services  # each test runs tools in sandbox worker processes


def _inputs():
    trajs = [{**_traj(), "traj_id": f"tr_{i}", "task_id": f"t_{i}"} for i in range(5)]
    samples = [
        {
            "sample_id": f"s_{i}",
            "traj_id": f"tr_{i}",
            "task_id": f"t_{i}",
            "shape": "single",
            "level": 0,
            "num_calls": 1,
            "checks": "{}",
            "split": "test" if i == 0 else "train",
        }
        for i in range(5)
    ]
    tools = [
        {
            "tool_id": "c.get_country",
            "collection": "c",
            "name": "get_country",
            "description": "d",
            "parameters": "{}",
            "returns": None,
            "source_format": "function_json",
            "source_file": "f",
            "spec_hash": "h",
            "executable": True,
            "meta": "{}",
        }
    ]
    return (
        pa.Table.from_pylist(samples, schema=SAMPLES_SCHEMA),
        pa.Table.from_pylist(trajs, schema=TRAJECTORIES_SCHEMA),
        pa.Table.from_pylist(tools, schema=TOOLS_SCHEMA),
    )


def test_export_loads_with_datasets_including_configs_and_latest(tmp_path):
    samples, trajs, tools = _inputs()
    folder = export_version(tmp_path, "demo", "v1", samples, trajs, tools, {"pipeline": "demo"})
    assert folder == tmp_path / "demo" / "v1"
    assert (folder / "data" / "train-00000-of-00001.parquet").exists()
    ds = load_dataset(str(tmp_path / "demo" / "latest"))
    assert ds["train"].num_rows == 4 and ds["test"].num_rows == 1
    row = ds["train"][0]
    assert [m["role"] for m in row["messages"]][:2] == ["user", "assistant"]
    assert row["messages"][1]["tool_calls"][0]["function"]["name"] == "get_country"
    assert row["tools"][0]["function"]["name"] == "get_country"  # objects, as chat templates take them
    assert row["messages"][1]["tool_calls"][0]["function"]["arguments"] == {"country_code": "FR"}
    assert load_dataset(str(folder), "tools")["train"][0]["name"] == "get_country"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["counts"] == {"default/train": 4, "default/test": 1, "tools/train": 1}
    assert "data/train-00000-of-00001.parquet" in manifest["files"]


def test_exports_are_immutable(tmp_path):
    samples, trajs, tools = _inputs()
    first = export_version(tmp_path, "demo", "v1", samples, trajs, tools, {})
    before = (first / "manifest.json").read_text()
    second = export_version(tmp_path, "demo", "v1", samples.slice(0, 2), trajs, tools, {})
    assert second.name == "v1-2" and (first / "manifest.json").read_text() == before
    assert (tmp_path / "demo" / "latest").resolve() == second.resolve()
    assert not list((tmp_path / "demo").glob(".staging-*"))


def test_sharegpt_hermes_and_xlam_configs(tmp_path):
    samples, trajs, tools = _inputs()
    folder = export_version(tmp_path, "demo", "v1", samples, trajs, tools, {}, formats=("openai", "sharegpt", "xlam"))
    sharegpt = load_dataset(str(folder), "sharegpt")["train"][0]
    roles = [t["from"] for t in sharegpt["conversations"]]
    assert roles == ["system", "human", "gpt", "tool", "gpt"]  # Hermes: the system turn states the format and the tools
    assert "<tools>" in sharegpt["conversations"][0]["value"] and "<tool_call>" in sharegpt["conversations"][0]["value"]
    call = sharegpt["conversations"][2]["value"]
    assert call.startswith("<tool_call>") and json.loads(call.split("\n")[1]) == {
        "name": "get_country",
        "arguments": {"country_code": "FR"},
    }
    assert json.loads(sharegpt["conversations"][3]["value"].split("\n")[1])["content"] == {"capital": "Paris"}
    xlam = load_dataset(str(folder), "xlam")["train"][0]
    assert xlam["query"] == "capital of FR?"
    assert json.loads(xlam["answers"]) == [{"name": "get_country", "arguments": {"country_code": "FR"}}]
    assert json.loads(xlam["tools"])[0]["name"] == "get_country"


def test_the_card_tells_what_made_the_data_and_what_was_left_out(tmp_path):
    samples, trajs, tools = _inputs()
    rejections = [
        {"stage": "filter", "checker": "format", "reason": "unknown_tool", "item_id": "tr_x", "detail": ""}
    ] * 3
    folder = export_version(
        tmp_path,
        "demo",
        "v1",
        samples,
        trajs,
        tools,
        {"pipeline": "demo", "models": {"user": "offline"}},
        rejections=rejections,
    )
    text = (folder / "README.md").read_text()
    assert "| filter | format | unknown_tool | 3 |" in text and "| default | train | 4 |" in text
    assert "- **models**: {'user': 'offline'}" in text
    for image in ("tool_calls", "difficulty", "tools"):
        assert (folder / "plots" / f"{image}.png").read_bytes()[:4] == b"\x89PNG" and f"plots/{image}.png" in text


def test_repeated_sample_ids_are_refused_and_nothing_is_left_behind(tmp_path):
    samples, trajs, tools = _inputs()
    twice = pa.concat_tables([samples, samples.slice(1, 1)])
    with pytest.raises(ValueError, match="sample ids repeat in samples of demo/v1: \\['s_1'\\]"):
        export_version(tmp_path, "demo", "v1", twice, trajs, tools, {})
    assert not (tmp_path / "demo" / "v1").exists() and not list((tmp_path / "demo").glob(".staging-*"))


def test_placeholder_examples_are_labelled_left_out_by_default_and_counted_in_the_card(tmp_path):
    samples, trajs, tools = _inputs()
    content = ["placeholder" if i in (1, 2) else "filled" for i in range(5)]
    samples = samples.set_column(samples.schema.get_field_index("content"), "content", pa.array(content))
    folder = export_version(tmp_path, "demo", "v1", samples, trajs, tools, {})
    ds = load_dataset(str(folder))
    assert ds["train"].num_rows + ds["test"].num_rows == 3 and set(ds["train"]["content"]) == {"filled"}
    card = (folder / "README.md").read_text()
    assert "3 of 5 accepted examples carry values" in card and "2 hold a placeholder" in card and "left out" in card
    assert json.loads((folder / "manifest.json").read_text())["content"] == {
        "filled": 3,
        "placeholder": 2,
        "included": False,
    }
    both = export_version(tmp_path, "demo", "v2", samples, trajs, tools, {}, include_placeholders=True)
    rows = load_dataset(str(both))
    assert sorted(list(rows["train"]["content"]) + list(rows["test"]["content"])) == sorted(content)


def test_a_chat_template_renders_exported_rows_as_they_are(tmp_path):
    """Qwen2.5's own template (from its GGUF), rendered as transformers' apply_chat_template does: the call's
    arguments and the tools come out as JSON objects, never as a quoted string."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = lambda x, indent=None, ensure_ascii=False: json.dumps(
        x, ensure_ascii=ensure_ascii, indent=indent
    )
    template = env.from_string((CASES / "chat_templates" / "qwen2.5.jinja").read_text())
    folder = export_version(tmp_path, "demo", "v1", *_inputs(), {"pipeline": "demo"})
    for row in load_dataset(str(folder))["train"]:
        text = template.render(messages=row["messages"], tools=row["tools"], add_generation_prompt=False)
        assert '"arguments": {"country_code": "FR"}' in text and '"arguments": "' not in text
        assert '{"type": "function", "function": {"name": "get_country"' in text
