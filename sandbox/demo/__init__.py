"""Executable tools of the `demo` collection, over data shipped in data/ (specs: api_graphs/demo/)."""
