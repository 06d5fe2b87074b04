"""Versioned tables: where the lake lives (storage), its catalog and connections, the version log, the store."""
