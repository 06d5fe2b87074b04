"""A collection that imports heavy libraries (numpy, pandas): the worker loads them once, before any call."""

import sys

PRELOADED = "pandas" in sys.modules and "numpy" in sys.modules  # read before this module imports them

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from toolloom.sandbox import tool  # noqa: E402


@tool("table_sum")
def table_sum(values: list, rows_option: int = 0) -> dict:
    """Sum a column; optionally change a pandas option (which must not outlive the call)."""
    seen = pd.get_option("display.max_rows")
    if rows_option:
        pd.set_option("display.max_rows", rows_option)
    frame = pd.DataFrame({"v": np.array(values, dtype=float)})
    return {"sum": float(frame["v"].sum()), "preloaded": PRELOADED, "max_rows_seen": seen}


@tool("light")
def light(x: int) -> dict:
    return {"x": x + 1}
