"""What a real service makes anew on every execution, masked before two executions' results are compared.

A live service stamps a file it creates with the time of creation and a kernel with a fresh uuid, so
the same call made again (a trajectory re-executing its task's reference) returns those values changed
and nothing else. Only full-precision timestamps and uuids are masked: a date a person wrote stays.
"""

from __future__ import annotations

import re

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE)


def stable(value):
    """`value` with every timestamp and uuid string replaced by a marker (recursively)."""
    if isinstance(value, str):
        if TIMESTAMP.fullmatch(value):
            return "<timestamp>"
        return "<uuid>" if UUID.fullmatch(value) else value
    if isinstance(value, list):
        return [stable(v) for v in value]
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items()}
    return value
