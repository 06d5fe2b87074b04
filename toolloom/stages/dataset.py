"""The exported dataset: the folder `datasets.load_dataset` reads, with its data-quality checks.

Unlike the other stages it writes no table: it exports the version's samples in every configured
format, reports the data-quality verdicts as asset checks, and only then points `latest` at it.
"""

from __future__ import annotations

import json
import shutil
from importlib.metadata import PackageNotFoundError, version as package_version
from typing import TYPE_CHECKING

from ..reports.data_quality import verdicts
from ..export import export_version, point_latest
from ..orchestration.nightly import seeds_of
from ..export.preference import preference_pairs
from ..formats.conformance import bfcl_checker_installed
from ..spec import Pipeline
from ..lake.storage import upload_folder, write_remote_text
from .asset import Check, Published, StageAsset, Verdict
from .inputs import refined_docs

if TYPE_CHECKING:
    from ..runtime import Runtime


def dataset_checks(pipeline: Pipeline) -> list[Check]:
    """The dataset's data-quality checks, thresholds from stages.export.quality (none blocks: the export is last)."""
    configs = [f.rsplit(":", 1)[-1] for f in pipeline.stages.export.formats if f != "openai"]
    # a checker that is not installed declares no check (the card and the run's summary say "not checked"):
    # an unevaluated check is not a failed one
    configs = [c for c in configs if c != "bfcl" or bfcl_checker_installed()]
    out = [Check(f"conformance_{c}", f"the {c} rows pass their format's own checker", False) for c in configs]
    out += [
        Check("split_leakage", "no test call or near-duplicate request also in train", False),
        Check("documentation", "shipped tool descriptions carry no pipeline internals and fit the budget", False),
    ]
    if pipeline.stages.export.quality.min_distinct_bigram_ratio is not None:
        out.append(Check("diversity", "distinct-bigram ratio of requests at least the threshold", False))
    return out


def toolloom_version() -> str:
    try:
        return package_version("toolloom")
    except PackageNotFoundError:
        return "dev"


def provenance(rt: Runtime, name: str, run_id: str) -> dict:
    """What the dataset card says about where the data came from."""
    pipeline = rt.pipeline
    models = {
        role: f"{pipeline.model_for(role).provider}:{pipeline.model_for(role).model}" for role in ("user", "assistant")
    }
    out = {
        "pipeline": pipeline.name,
        "version": name,
        "run": run_id,
        "models": models,
        "collections": ", ".join(c.name for c in pipeline.collections),
        "toolloom": toolloom_version(),
        "seeds": ", ".join(f"{k} {v}" for k, v in seeds_of(pipeline).items()),
    }
    if rt.partition:
        out["nightly"] = (
            f"partition {rt.partition}: its seeds are the pipeline's salted with the date, so each "
            "night samples new tasks; a rerun of this night answers from the request cache"
        )
    return out


def remote_root(rt: Runtime) -> str | None:
    """Where exports go on object storage: `export.root` when it is a URL, else under an s3:// data path."""
    root = rt.pipeline.stages.export.root
    return root.rstrip("/") if "://" in root else rt.store.catalog.remote(root.strip("/"))


def dataset(rt: Runtime, version: str, name: str, run_id: str):
    """The exported dataset folder `datasets.load_dataset` reads (default, multi_turn, tools, each format's config)."""
    p, export = rt.pipeline.name, rt.pipeline.stages.export
    read = lambda table: rt.store.read(p, table, version)  # noqa: E731
    # an export bound for object storage is written under the home first, then uploaded whole
    local_root = rt.home / "exports" if remote_root(rt) else rt.project_root / export.root
    samples, trajectories, rejections = read("samples"), read("trajectories"), read("rejections").to_pylist()
    escalations = read("escalations").to_pylist() if rt.pipeline.stages.escalate is not None else []
    pairs = preference_pairs(samples.to_pylist(), trajectories.to_pylist(), rejections, escalations)
    return export_version(
        local_root,
        p,
        name,
        samples,
        trajectories,
        read("tools"),
        provenance(rt, name, run_id),
        tuple(export.formats),
        rejections,
        refined_docs=refined_docs(rt, version),
        quality=export.quality,
        leakage_similarity=rt.pipeline.stages.filter.leakage_similarity,
        edges=read("api_edges").to_pylist(),
        link_latest=False,
        include_placeholders=export.include_placeholders,
        preference=pairs,
        escalations=escalations,
    )


def newer_night(rt: Runtime, night: str) -> str | None:
    """The newest complete night after `night`, if any (partition names are ISO days: they sort as dates)."""
    nights = [v["version"] for v in rt.store.versions(rt.pipeline.name) if v["status"] == "complete"]
    newest = max(nights, default=night)
    return newest if newest > night else None


def published(rt: Runtime, version: str, name: str, run_id: str, log) -> Published:
    """The exported dataset `datasets.load_dataset` reads, with its data-quality verdicts; the version complete."""
    folder = dataset(rt, version, name, run_id)
    remote = remote_root(rt)
    location = f"{remote}/{rt.pipeline.name}/{folder.name}" if remote else str(folder)
    if remote:
        upload_folder(folder, location, rt.store.catalog.spec)
    log(f"exported {location}")
    rt.store.complete_version(rt.pipeline.name, version, export=location, promote_to=name if name != version else None)
    log(f"version {name} complete" + (f" (promoted from {version})" if name != version else ""))
    newer = newer_night(rt, name) if rt.partition else None
    if newer:  # a rerun of an older night: `latest` stays with the newest night
        log(f"latest stays at the newer night {newer}")
    elif remote:  # object storage has no links: LATEST names the newest complete export
        write_remote_text(f"{remote}/{rt.pipeline.name}/LATEST", folder.name + "\n", rt.store.catalog.spec)
    else:
        point_latest(folder)  # only now: `latest` never points at a version that is not complete
    report = json.loads((folder / "manifest.json").read_text())["quality"]
    readme = (folder / "README.md").read_text().split("---\n", 2)[-1]
    if remote:  # uploaded: the local copy was only its staging
        shutil.rmtree(folder)
    found = {v["name"]: v for v in verdicts(report, rt.pipeline.stages.export.quality)}
    checks = []
    for check in dataset_checks(rt.pipeline):  # exactly the declared checks; a format with no checker says so
        v = found.get(check.name) or {
            "name": check.name,
            "passed": False,
            "severity": "WARN",
            "metadata": {},
            "description": f"not checked: no checker is registered for {check.name.removeprefix('conformance_')}",
        }
        log(f"data quality {v['name']}: {v['description']}")
        checks.append(Verdict(v["name"], v["passed"], v["description"], v["severity"], v["metadata"]))
    return Published(location, name, {"readme": readme, "data_quality": report}, checks)


ASSET = StageAsset(
    "dataset",
    "export",
    ("samples", "doc_revisions", "escalations"),
    published,
    reads=("tools", "api_edges", "trajectories", "samples", "escalations", "doc_revisions"),
    writes_table=False,
    declared_checks=lambda pipeline: dataset_checks(pipeline),
)
