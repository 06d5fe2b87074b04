"""Dagster entry point: one asset group per pipelines/*.yaml (see toolloom.dagster_defs)."""

from pathlib import Path

from toolloom.dagster_defs import build_definitions

defs = build_definitions(Path(__file__).resolve().parent.parent)
