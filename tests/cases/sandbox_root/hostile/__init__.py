"""Hostile tools: each misbehaves in one way the sandbox must contain."""
