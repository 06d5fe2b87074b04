"""The API graph (ToolDial): operations as nodes, output slot -> input slot edges, and chain sampling."""
