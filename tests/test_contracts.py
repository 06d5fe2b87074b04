"""Every built-in component meets its extension point's typed contract (`toolloom/contracts.py`), and the
data components are given is decoded once (`toolloom.domain`): what docs/plugins.md promises a plug-in."""

import inspect
import json

from toolloom import contracts, registry
from toolloom.domain import example_of, trajectory_of
from toolloom.executors import ExecutorConfig, ExecutorPlugin
from toolloom.formats import ExportFormat
from toolloom.stages.asset import StageAsset


def _positional(fn) -> int:
    params = inspect.signature(fn).parameters.values()
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty for p in params)


def _takes(protocol) -> int:
    """How many arguments a callable Protocol's components are given (its `__call__` without self)."""
    return _positional(protocol.__call__) - 1


def test_every_built_in_meets_its_contract():
    for name, fmt in registry.INGEST_FORMATS.items().items():
        assert isinstance(fmt, contracts.IngestFormat), name
    for name, plugin in registry.EXECUTORS.items().items():
        assert isinstance(plugin, ExecutorPlugin) and issubclass(plugin.config, ExecutorConfig), name
        assert _positional(plugin.build) == _takes(contracts.ExecutorBuild), name
    for name, check in registry.FILTER_CHECKS.items().items():
        takes = {_takes(contracts.FilterCheck), _takes(contracts.FilterCheckWithSettings)}
        assert _positional(check) in takes, name
    for name, entry in registry.EXPORT_FORMATS.items().items():
        assert _positional(ExportFormat.of(entry).convert) == _takes(contracts.ExportConvert), name
    for name, op in registry.ESCALATION_OPERATORS.items().items():
        assert inspect.iscoroutinefunction(op) and _positional(op) == _takes(contracts.EscalationOperator), name
    stage_build = list(inspect.signature(contracts.StageBuild.__call__).parameters)[1:3]
    for name, stage in registry.STAGES.items().items():
        assert isinstance(stage, StageAsset) and stage.table == name
        assert list(inspect.signature(stage.build).parameters)[:2] == stage_build, name


def test_a_trajectory_and_an_example_are_decoded_once():
    stored = {
        "traj_id": "tr_1",
        "calls": json.dumps([{"name": "f", "arguments": "{}"}]),
        "tools_offered": "[]",
        "chain": None,
        "actions": json.dumps([["user", "inform_intent", ""]]),
    }
    traj = trajectory_of(stored)
    assert traj["calls"] == [{"name": "f", "arguments": "{}"}] and traj["tools_offered"] == []
    assert traj["chain"] is None and traj["actions"] == [["user", "inform_intent", ""]]
    assert trajectory_of(traj) == traj  # decoding a decoded row changes nothing
    row = {
        "id": "s_1",
        "tools": json.dumps([{"type": "function", "function": {"name": "f"}}]),
        "actions": None,
        "answered_by": '["real"]',
        "reference_chain": None,
        "messages": [],
    }
    example = example_of(row)
    assert example["tools"][0]["function"]["name"] == "f" and example["answered_by"] == ["real"]
    assert example["reference_chain"] == [] and example["actions"] is None and example["messages"] == []
