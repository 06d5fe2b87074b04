from pathlib import Path

import pytest

from toolloom.spec import load_pipeline

PROJECT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"


@pytest.fixture
def demo_pipeline(tmp_path):
    """The shipped demo pipeline, exporting into a temporary folder."""
    p = load_pipeline(PROJECT / "pipelines" / "demo.yaml")
    stages = p.stages.model_copy(update={"export": p.stages.export.model_copy(update={"root": str(tmp_path / "exports")})})
    return p.model_copy(update={"stages": stages})
