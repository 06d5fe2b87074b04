"""Dagster entry point: one asset group per pipelines/*.yaml (see toolloom.orchestration.dagster_defs)."""

from pathlib import Path

from toolloom.orchestration.dagster_defs import build_definitions

defs = build_definitions(Path(__file__).resolve().parent.parent)
