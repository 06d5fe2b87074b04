"""The stage graph is described once, by each stage's `StageAsset`: what it reads, writes, asks of models
and when a pipeline has it. Ordering, a partial run's copied tables, resume and the model roles a run
prepares are derived from those declarations, and the stage layer runs without Dagster."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from toolloom import registry
from toolloom.spec import Pipeline
from toolloom.stages import StageResult
from toolloom.stages.asset import StageAsset, configured
from toolloom.stages.catalog import StageGraphError, all_stages, roles_in_use, stages_of, tables_of, upstream

from .conftest import PROJECT


@pytest.fixture
def stages():
    saved = dict(registry.STAGES.items())
    yield registry.STAGES
    registry.STAGES._items.clear()
    registry.STAGES._items.update(saved)


def _pipeline(**stages):
    return Pipeline(name="p", collections=[{"name": "c", "path": "x"}], stages=stages)


def _noop(rt, version, log) -> StageResult:
    """A stage that makes nothing."""


def test_each_stage_comes_after_every_table_it_reads():
    order = [a.table for a in all_stages()]
    assert order[0] == "tools" and order[-1] == "dataset"  # the export writes no table: last
    for a in all_stages():
        assert all(order.index(t) < order.index(a.table) for t in a.tables_read + a.inputs), a.table


def test_a_pipeline_has_its_optional_stages_only_when_configured():
    plain = _pipeline()
    assert "escalations" not in tables_of(plain) and "doc_revisions" not in tables_of(plain)
    assert tables_of(plain)["samples"] == "filter"
    full = _pipeline(escalate={}, refine={})
    assert [a.table for a in stages_of(full)] == [a.table for a in all_stages()]


def test_a_partial_run_copies_what_the_selected_stages_read_through_their_inputs():
    assert upstream({"samples"}) == {"trajectories", "tasks", "escalations", "tools", "api_edges"}
    assert upstream({"tasks", "samples"}) == {"trajectories", "escalations", "tools", "api_edges"}
    assert upstream({"tools"}) == set()


def test_the_model_roles_a_run_prepares_are_those_its_stages_declare():
    assert roles_in_use(_pipeline()) == ["user", "assistant", "executor", "judge"]
    assert roles_in_use(_pipeline(filter={"checks": ["format"]})) == ["user", "assistant", "executor"]
    both = roles_in_use(_pipeline(escalate={}, refine={}))
    assert {"frontier", "escalator", "explorer", "analyzer", "rewriter"} <= set(both)


def test_a_registered_stage_joins_the_graph_after_its_inputs(stages):
    stages.register(
        "scores",
        StageAsset(
            "scores", "score", ("samples",), _noop, enabled=configured("scores"), roles=lambda pipeline: ("judge",)
        ),
    )
    order = [a.table for a in all_stages()]
    assert order.index("scores") > order.index("samples") and order[-1] == "dataset"
    assert upstream({"scores"}) >= {"samples", "trajectories", "tools"}
    assert "scores" not in tables_of(_pipeline())
    on = _pipeline(plugins={"scores": {"threshold": 3}}, filter={"checks": ["format"]})
    assert tables_of(on)["scores"] == "score" and roles_in_use(on) == ["user", "assistant", "executor", "judge"]


def test_a_stage_reading_a_table_nobody_writes_is_named(stages):
    stages.register("scores", StageAsset("scores", "score", ("critiques",), _noop))
    with pytest.raises(StageGraphError, match=r"\['scores'\].*reads \['critiques'\], which no stage writes"):
        all_stages()


def test_plugin_stage_settings_name_a_registered_stage_and_not_a_built_in():
    with pytest.raises(ValidationError, match="unknown stage 'scores'"):
        _pipeline(plugins={"scores": {}})
    with pytest.raises(ValidationError, match="'samples' is a built-in stage"):
        _pipeline(plugins={"samples": {}})


@pytest.mark.services
def test_the_stage_layer_imports_no_dagster():
    code = (
        "import sys, toolloom.stages.catalog, toolloom.runtime; "
        "assert 'dagster' not in sys.modules, sorted(m for m in sys.modules if m.startswith('dagster'))[:3]"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_stage_registered_under_another_name_than_its_table_is_named(stages):
    stages.register("scores", StageAsset("critiques", "score", ("samples",), _noop))
    with pytest.raises(StageGraphError, match="registered as 'scores' writes table 'critiques'"):
        all_stages()
