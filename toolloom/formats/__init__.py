"""Export formats besides OpenAI chat messages, each in the layout of the ecosystem it is named after:
`sharegpt` (Hermes function calling), `xlam` (APIGen / xLAM) and `bfcl` (BFCL's AST categories).

Each entry is an `ExportFormat`: a converter from a default-config row to a row of the format (or
None to leave the row out), the Arrow schema, and a `problems` check that says where a written row
departs from the format (what the data-quality report counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pyarrow as pa

from ..registry import EXPORT_FORMATS
from .bfcl import BFCL_SCHEMA, native_files, to_bfcl
from .hermes import SHAREGPT_SCHEMA, hermes_problems, to_sharegpt
from .xlam import XLAM_SCHEMA, to_xlam, xlam_problems


@dataclass(frozen=True)
class ExportFormat:
    convert: Callable[[dict], dict | None]
    schema: pa.Schema
    problems: Callable[[dict], list[str]] | None = None  # None: checked by an outside checker (bfcl) or not at all
    checker: str = ""  # what `problems` checks against, for the report
    native_files: Callable[[list[dict]], dict[str, list[dict]]] | None = None  # file -> JSON lines, for its runner
    native_folder: str = ""  # where in the export the native files go

    @classmethod
    def of(cls, entry) -> "ExportFormat":
        """A registered entry as an ExportFormat: a plug-in may register a bare (convert, schema) pair."""
        return entry if isinstance(entry, cls) else cls(*entry)


EXPORT_FORMATS.register(
    "sharegpt",
    ExportFormat(
        to_sharegpt,
        SHAREGPT_SCHEMA,
        hermes_problems,
        "Hermes function-calling layout (vLLM hermes parser's expressions)",
    ),
)
EXPORT_FORMATS.register("xlam", ExportFormat(to_xlam, XLAM_SCHEMA, xlam_problems, "xlam-function-calling-60k layout"))
EXPORT_FORMATS.register(
    "bfcl", ExportFormat(to_bfcl, BFCL_SCHEMA, native_files=native_files, native_folder="bfcl_eval")
)
