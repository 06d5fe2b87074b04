"""What exported tool documentation may say: behaviour (purpose, parameters, accepted values, the
tool's own error messages, an example call from a real execution), never the pipeline's evidence
trail (caller mistakes, probe values, Python tracebacks), within a length budget.

Refinement composes documentation from prioritised sections and `fit`s it to the budget; a
revision that breaks these rules, or loses the original description's facts, is not accepted.
"""

from __future__ import annotations

import re

PROBE_VALUE = "zz-not-a-valid-value"  # what the offline explorer sends to learn which values are refused
# what must never reach an exported description
INTERNALS = re.compile(r"Mistakes callers made|Traceback|Error: .* line [0-9]+|zz-not-a-valid|called with \{")
_INTERNAL_ERROR = re.compile(r"^5\d\d\b|internal error|Traceback|\(line [0-9]+\)|Error: .* line [0-9]+")


def tool_error(message: str) -> str | None:
    """The tool's own error message as documentation may quote it: probe values replaced by
    `<value>`; None for a crash of the tool code (5xx, a traceback), which documents nothing."""
    message = (message or "").strip()
    if not message or _INTERNAL_ERROR.search(message):
        return None
    return re.sub(r"zz-not-a-valid-value\w*", "<value>", message)[:300]


def fit(sections: list[tuple[int, str]], budget: int) -> str:
    """Join sections (priority, text) in their given order, leaving out the lowest-priority ones
    (highest number) until the text fits `budget` characters; a single section still too long is cut
    at its last full line or sentence that fits."""
    kept = [s for s in sections if s[1].strip()]
    while len(kept) > 1 and len("\n".join(t for _, t in kept)) > budget:
        kept.remove(max(kept, key=lambda s: (s[0], kept.index(s))))
    text = "\n".join(t for _, t in kept)
    return text if len(text) <= budget else cut(text, budget)


def cut(text: str, budget: int) -> str:
    if len(text) <= budget:
        return text
    head = text[:budget]
    for sep in ("\n", ". "):
        at = head.rfind(sep)
        if at > budget // 2:
            return head[: at + (1 if sep == ". " else 0)].rstrip()
    return head.rstrip()


_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = {
    "the",
    "and",
    "for",
    "with",
    "from",
    "that",
    "this",
    "its",
    "are",
    "was",
    "not",
    "but",
    "can",
    "give",
    "given",
    "gives",
    "returns",
    "return",
    "tool",
    "use",
    "used",
    "when",
    "one",
    "any",
    "all",
    "into",
    "than",
    "then",
}


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall((text or "").lower().replace("_", " ")) if w not in _STOPWORDS and len(w) > 2}


IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|`([A-Za-z_][A-Za-z0-9_]*)`")


def unknown_names(text: str, known: set[str]) -> list[str]:
    """Parameter-like names (snake_case, or `quoted`) a text uses that the tool does not have."""
    found = {m.group(1) or m.group(0) for m in IDENTIFIER.finditer(text or "")}
    return sorted(n for n in found if n not in known)


def revision_problems(
    text: str, original: str, budget: int, original_contradicted: bool = False, known_names: set[str] | None = None
) -> list[str]:
    """Why a revision is not acceptable documentation (empty when it is). The original description's
    facts may go only where the executions contradicted it (`original_contradicted`); with `known_names` (the
    tool's name, parameters and the fields its answers had), a name outside them is a made-up parameter."""
    problems = []
    invented = unknown_names(text, (known_names or set()) | set(unknown_names(original, set()))) if known_names else []
    if invented:
        problems.append(f"names what the tool does not have ({', '.join(invented[:5])})")
    if found := INTERNALS.search(text or ""):
        problems.append(f"carries pipeline internals ({found.group(0)!r})")
    if len(text or "") > budget:
        problems.append(f"{len(text)} characters, over the budget of {budget}")
    facts = _content_words(original)
    if facts and not original_contradicted:
        kept = facts & _content_words(text)
        if len(kept) < 0.6 * len(facts):
            problems.append(f"loses the original description's facts ({len(kept)} of {len(facts)} content words kept)")
    return problems
