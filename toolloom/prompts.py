"""Jinja2 prompt templates, rendered strictly: a project's own `prompts/` folder first, then toolloom's.

A project overrides a template by writing a file of the same name under its `prompts/`; every other
template comes from the ones toolloom ships, so a project folder needs no `prompts/` at all.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import jinja2

# a link to the repository's prompts/ in a checkout, the templates themselves in an installed wheel
DEFAULT_ROOT = (Path(__file__).parent / "prompt_templates").resolve()


@lru_cache(maxsize=8)
def _env(root: str) -> jinja2.Environment:
    roots = [root] + ([str(DEFAULT_ROOT)] if Path(root).resolve() != DEFAULT_ROOT else [])
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(roots),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(template: str, root: Path = DEFAULT_ROOT, /, **variables) -> str:
    return _env(str(root)).get_template(template).render(**variables).strip()


def prompt_file(name: str, root: Path = DEFAULT_ROOT) -> Path:
    """The file a template name resolves to: the project's own, else toolloom's."""
    own = Path(root) / name
    return own if own.is_file() else DEFAULT_ROOT / name


def template_hash(name: str, root: Path = DEFAULT_ROOT) -> str:
    """Short hash of a template's source: recorded with every row the template helped make."""
    return hashlib.sha256(prompt_file(name, root).read_bytes()).hexdigest()[:12]


def all_templates(root: Path = DEFAULT_ROOT) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*.j2"))
