"""The sandbox: executable tools in isolated, reusable worker processes (DESIGN section 8).

Tool code imports `tool` and `ToolError` from here; the pipeline uses `Sandbox`.
"""

from .pool import Limits, Observation, Sandbox, error_observation
from .registry import ToolError, tool

__all__ = ["Limits", "Observation", "Sandbox", "ToolError", "error_observation", "tool"]
