"""Jinja2 prompt templates from the project's prompts/ folder, rendered strictly."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import jinja2

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "prompts"


@lru_cache(maxsize=8)
def _env(root: str) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(root), undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)


def render(template: str, root: Path = DEFAULT_ROOT, /, **variables) -> str:
    return _env(str(root)).get_template(template).render(**variables).strip()


def template_hash(name: str, root: Path = DEFAULT_ROOT) -> str:
    """Short hash of a template's source: recorded with every row the template helped make."""
    return hashlib.sha256((Path(root) / name).read_bytes()).hexdigest()[:12]


def all_templates(root: Path = DEFAULT_ROOT) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*.j2"))
