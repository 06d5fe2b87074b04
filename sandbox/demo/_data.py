"""Loads the shipped offline data once per process."""

import json
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"


@cache
def load(name: str):
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
