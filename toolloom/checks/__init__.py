"""Judging examples: whether answers say what results say, stay on what was asked, and arguments fit."""
