"""Escalation lookups a right call needs: replace_value never adds a search that only turns the name a request
states into its code."""

import random

import pytest

from toolloom.llm import run_async

from .test_escalations import _run, _step, demo  # noqa: F401

pytestmark = pytest.mark.services  # tools run in sandbox worker processes


def test_replace_value_takes_no_search_that_only_turns_the_stated_name_into_its_code(demo):  # noqa: F811
    """'Is there a country named Germany, and what is its code? Then, ...': a right call takes DE at once (a read)."""
    _, chains, _ = demo
    seed = _run(chains, [_step(chains, "get_capital_city", country_code="DE")])
    found = [run_async(chains.replace_value(seed, random.Random(i))) for i in range(6)]
    assert all(h is None or h[0].arguments != {"name": "Germany"} for h in found), found
