"""Export a dataset version to an immutable folder that `datasets.load_dataset(folder)` reads.

Layout (as `push_to_hub` names shards):
    exports/<pipeline>/<version>/README.md              dataset card; YAML front matter declares configs
    exports/<pipeline>/<version>/data/<split>-00000-of-00001.parquet    default config (OpenAI messages)
    exports/<pipeline>/<version>/multi_turn/<split>-00000-of-00001.parquet  multi-turn dialogues only
    exports/<pipeline>/<version>/tools/train-00000-of-00001.parquet     the tools config
    exports/<pipeline>/<version>/bfcl_eval/                             BFCL's own files (with the bfcl format)
    exports/<pipeline>/<version>/environment/           the tasks as a verifiers environment (toolloom_env.py)
    exports/<pipeline>/<version>/manifest.json          counts, files and their hashes
    exports/<pipeline>/latest -> <version>
On object storage (an s3:// data path or export root) the folder is uploaded whole after it is written,
and `<pipeline>/LATEST` names the newest complete version; `load_export` reads either.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from ..reports.card import card, plots
from ..lake.storage import StorageSpec, download_folder, read_remote_text, split_s3, storage_settings
from ..reports.data_quality import card_section, data_quality
from .rows import Built, build_export, config_table
from .preference import card_lines as preference_card
from ..reports.escalation_report import card_lines as escalation_card
from ..spec import ExportQuality


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


ENVIRONMENT_PYPROJECT = """[project]
name = "toolloom-env"
version = "0.1.0"
description = "verifiers environment over a toolloom export's tasks; play it on `toolloom env serve`"
dependencies = ["verifiers>=0.3,<0.4", "datasets>=3", "websockets>=13"]

[tool.setuptools]
py-modules = ["toolloom_env"]
"""


def write_environment(folder: Path) -> None:
    """`environment/`: the verifiers environment over the export's tasks (toolloom/rl/verifiers_env.py, standalone)."""
    (folder / "environment").mkdir()
    shutil.copyfile(Path(__file__).parents[1] / "rl" / "verifiers_env.py", folder / "environment" / "toolloom_env.py")
    (folder / "environment" / "pyproject.toml").write_text(ENVIRONMENT_PYPROJECT, encoding="utf-8")


def _front_matter(configs: list[dict]) -> str:
    return (
        "---\n"
        + yaml.safe_dump(
            {
                "configs": configs,
                "task_categories": ["text-generation"],
                "tags": ["function-calling", "tool-use", "synthetic", "toolloom"],
            },
            sort_keys=False,
        )
        + "---\n"
    )


def write_configs(staging: Path, built: Built) -> tuple[dict[tuple[str, str], int], dict[str, list[dict]]]:
    """Each config's Parquet files per split, each format's own files for its runner, and the `tools` config:
    ((config, split) -> rows, config -> its data files)."""
    counts: dict[tuple[str, str], int] = {}
    data_files: dict[str, list[dict]] = {}
    for config, (folder, subset) in built.subsets.items():
        if config != "default" and not subset:
            continue
        for split in ("train", "test"):
            part = [r for r in subset if r["split"] == split]
            if not part and split == "test":
                continue
            path = staging / folder / f"{split}-00000-of-00001.parquet"
            path.parent.mkdir(exist_ok=True)
            pq.write_table(config_table(part, built.schemas[config]), path)
            data_files.setdefault(config, []).append({"split": split, "path": f"{folder}/{split}-*.parquet"})
            counts[(config, split)] = len(part)
    for config, entry in built.formats.items():  # a format's own files, from the held-out rows (all rows where
        if entry.native_files is None:  # there is no test split)
            continue
        held = [r for r in built.subsets[config][1] if r["split"] == "test"] or built.subsets[config][1]
        for name, lines in entry.native_files(held).items():
            path = staging / entry.native_folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    tools_path = staging / "tools" / "train-00000-of-00001.parquet"
    tools_path.parent.mkdir()
    pq.write_table(built.tools.drop_columns([c for c in ("meta",) if c in built.tools.column_names]), tools_path)
    counts[("tools", "train")] = built.tools.num_rows
    return counts, data_files


def config_list(staging: Path, name: str, data_files: dict[str, list[dict]]) -> list[dict]:
    """The card's `configs`, each described by the export's content: `datasets` caches a local folder by its base
    name and configs, so `latest` of two exports would collide without it."""
    fingerprint = hashlib.sha256("".join(_sha256(p) for p in sorted(staging.rglob("*.parquet"))).encode()).hexdigest()[
        :16
    ]
    tag = f"toolloom {name} {fingerprint}"
    configs = [{"config_name": "default", "description": tag, "data_files": data_files["default"], "default": True}]
    configs += [
        {"config_name": c, "description": tag, "data_files": files} for c, files in data_files.items() if c != "default"
    ]
    return configs + [
        {
            "config_name": "tools",
            "description": tag,
            "data_files": [{"split": "train", "path": "tools/train-*.parquet"}],
        }
    ]


def export_version(
    root: str | Path,
    pipeline: str,
    version: str,
    samples: pa.Table,
    trajectories: pa.Table,
    tools: pa.Table,
    provenance: dict,
    formats: tuple[str, ...] = ("openai",),
    rejections: list[dict] | None = None,
    refined_docs: dict[str, str] | None = None,
    quality: ExportQuality | None = None,
    leakage_similarity: float = 0.9,
    edges: list[dict] | None = None,
    link_latest: bool = True,
    include_placeholders: bool = False,
    preference: list[dict] | None = None,
    escalations: list[dict] | None = None,
) -> Path:
    """Write the version's folder (never overwriting an earlier export) and point `latest` at it
    (with `link_latest=False` the caller does, with `point_latest`, once the version is complete).
    `refined_docs` (tool name -> documentation) replaces the descriptions the export ships, in the
    `tools` config (which keeps `original_description`) and in every example's tool list. The
    data-quality report (toolloom.reports.data_quality; `edges`, the API graph, for the random-walk baseline
    of call patterns) goes into the card and `manifest.json`. Examples whose content is a placeholder
    (toolloom.text.values) are left out unless `include_placeholders`; the card counts both. `preference`: the
    version's preference pairs (toolloom.export.preference), written as the `preference` config when there are any;
    `escalations`: the version's escalation levels, for the card's progressive-difficulty section."""
    base = Path(root) / pipeline
    base.mkdir(parents=True, exist_ok=True)
    staging = base / f".staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        built = build_export(
            samples,
            trajectories,
            tools,
            formats,
            refined_docs,
            include_placeholders,
            preference,
            f"{pipeline}/{version}",
        )
        report = quality_report(built, quality or ExportQuality(), leakage_similarity, edges)
        counts, data_files = write_configs(staging, built)
        target = unused_folder(base, version)
        configs = config_list(staging, f"{pipeline}/{target.name}", data_files)
        write_environment(staging)
        about = (pipeline, version, provenance, rejections or [], bool(refined_docs), preference is not None)
        about += (escalations or [],)
        write_card(staging, built, counts, configs, report, *about)
        write_manifest(staging, pipeline, version, counts, built.content, provenance, report)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    if link_latest:
        point_latest(target)
    return target


def write_card(
    staging: Path,
    built: Built,
    counts: dict,
    configs: list[dict],
    report: dict,
    pipeline: str,
    version: str,
    provenance: dict,
    rejections: list[dict],
    refined: bool,
    with_pairs: bool,
    escalations: list[dict] = (),
) -> None:
    """README.md: the configs as YAML front matter, then the dataset card (with the preference pairs' section
    when the version has preference pairs at all)."""
    names = [c["config_name"] for c in configs]
    text = card(
        pipeline,
        version,
        counts,
        built.rows,
        provenance,
        rejections,
        plots(staging, built.rows),
        names,
        refined_docs=refined,
        quality=card_section(report),
        content=built.content,
    )
    text += "\n".join(preference_card(built.pairs)) + "\n" if with_pairs else ""
    frontier = escalations[0]["frontier"] if escalations else ""
    text += "\n".join(escalation_card(escalations, frontier)) + "\n" if escalations else ""
    (staging / "README.md").write_text(_front_matter(configs) + text, encoding="utf-8")


def quality_report(built: Built, quality: ExportQuality, leakage_similarity: float, edges: list[dict] | None) -> dict:
    """The data-quality report (toolloom.reports.data_quality) of the rows as each format wrote them."""
    fields = {config: set(built.schemas[config].names) for config in built.formats}
    converted = {
        c: [{k: v for k, v in r.items() if k in fields[c]} for r in built.subsets[c][1]] for c in built.formats
    }
    return data_quality(
        built.rows, converted, built.tools.to_pylist(), built.formats, quality, leakage_similarity, edges
    )


def unused_folder(base: Path, version: str) -> Path:
    """`base/version`, or `version-2`, `-3` ... when an earlier export has it: an export never overwrites one."""
    target, n = base / version, 1
    while target.exists():
        n += 1
        target = base / f"{version}-{n}"
    return target


def write_manifest(
    staging: Path, pipeline: str, version: str, counts: dict, content: dict, provenance: dict, report: dict
) -> None:
    """`manifest.json`: counts, provenance, the quality report and every file's sha256."""
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    manifest = {
        "pipeline": pipeline,
        "version": version,
        "created": datetime.now(timezone.utc).isoformat(),
        "counts": {f"{c}/{s}": n for (c, s), n in counts.items()},
        "content": content,
        "provenance": provenance,
        "quality": report,
        "files": {str(p.relative_to(staging)): _sha256(p) for p in files},
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")


def point_latest(folder: Path) -> None:
    """Point `<pipeline>/latest` at an export folder, atomically (a reader sees the old or the new one)."""
    link_tmp = folder.parent / f".latest-{uuid.uuid4().hex[:8]}"
    os.symlink(folder.name, link_tmp)
    os.replace(link_tmp, folder.parent / "latest")


def load_export(
    location: str, config: str = "default", storage: StorageSpec | None = None, cache_dir: str | Path | None = None
):
    """`datasets.load_dataset` of an export, local or on s3:// (`.../<pipeline>/latest` reads LATEST).

    An export on object storage is copied once into `cache_dir` (default ~/.cache/toolloom/exports; a
    version's folder never changes) and loaded from there; credentials come from the environment
    variables the storage settings name."""
    from datasets import load_dataset

    if "://" not in location:
        return load_dataset(location, config)
    spec, location = storage_settings(storage), location.rstrip("/")
    if location.endswith("/latest"):
        parent = location.rsplit("/", 1)[0]
        location = f"{parent}/{read_remote_text(parent + '/LATEST', spec).strip()}"
    bucket, key = split_s3(location)
    local = Path(cache_dir or Path.home() / ".cache" / "toolloom" / "exports") / bucket / key
    if not (local / "manifest.json").exists():  # the manifest is uploaded with the rest; a partial copy is redone
        staging = local.with_name(f".{local.name}-{uuid.uuid4().hex[:8]}")
        download_folder(location, staging, spec)
        if not (staging / "README.md").exists():
            shutil.rmtree(staging, ignore_errors=True)
            raise FileNotFoundError(f"no export at {location}")
        shutil.rmtree(local, ignore_errors=True)
        os.replace(staging, local)
    return load_dataset(str(local), config)
