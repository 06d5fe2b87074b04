"""Texts people wrote, said in an answer by their opening: a review by its first sentence and its author, a long
biography by its first sentence."""

from __future__ import annotations

import re

from .subjects import SUBJECT_KEYS

_WRITTEN = ("content", "text", "body", "comment", "review", "message")  # what a record's author wrote
EXCERPT_CHARS = 200


def quoted(scalars: list, head) -> str | None:
    """A record someone wrote (a review, a comment) said by its first sentence and its author: '"Cruel, bloody,
    vulgar." (by Vlad Ulbricht)', not the author's name alone; None for any other record."""
    text = next((v for k, v in scalars if k in _WRITTEN and isinstance(v, str) and len(v.split()) > 8), None)
    if text is None or any(k in SUBJECT_KEYS for k, _ in scalars) or head == text:
        return None
    return f'"{excerpt(text)}" (by {head})' if isinstance(head, str) and head.strip() else f'"{excerpt(text)}"'


def excerpt(text: str, chars: int = EXCERPT_CHARS) -> str:
    """A text's first sentence on one line, cut at a word with '...' past `chars`."""
    flat = " ".join(text.replace("\\r\\n", " ").replace("\\n", " ").split())
    first = re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", flat, maxsplit=1)[0]
    return first if len(first) <= chars else first[:chars].rsplit(" ", 1)[0].rstrip(",;:") + "..."


LONG_PROSE = 400  # a text longer than this, in sentences, is said by its first
_PROSE = re.compile(r"[a-z)]\. [A-Z]")
_FILE_TEXTS = {"content", "contents", "text", "body", "source", "code", "data", "diff", "patch", "output", "stdout"}


ABOUT_KEYS = ("overview", "biography", "bio", "description", "summary", "plot", "about")  # what a record is


def long_prose(key: str, value: str) -> bool:
    """A long text in sentences (a biography), or a record's overview in sentences, not a file's or a tool's own
    text: said by its first sentence."""
    return (len(value) > LONG_PROSE or key in ABOUT_KEYS) and key not in _FILE_TEXTS and bool(_PROSE.search(value))


def opening(text: str) -> str:
    """A long text's first sentence, with ' ...' where more follows."""
    first = excerpt(text)
    return first + (" ..." if first != " ".join(text.split()) else "")
