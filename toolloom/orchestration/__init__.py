"""Dagster's side: the asset factory, materializing stages, versions, launching runs, nightly runs."""
