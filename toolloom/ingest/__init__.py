"""Tool ingestion: one adapter module per spec format, all producing `ToolSpec` rows or rejections."""

from .collection import ingest_collection
from .records import Rejection, ToolSpec

__all__ = ["ingest_collection", "Rejection", "ToolSpec"]
