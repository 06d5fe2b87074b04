"""Requests worded from an OpenAPI operation's summary where the summary is a sentence ('Create a new checkpoint for
a file'), each value put on the noun it names: 'Create a new checkpoint for the file "notes/todo.md".' A summary
written as a title ('Get Keywords'), one that does not start with a verb, or one that would state the values in
another order than the offline assistant reads them (argument order, per kind) leaves the request to the tool's name
(offline_requests). Only the summary's first clause is used: a request never pastes documentation."""

from __future__ import annotations

import random
import re

from . import spoken
from ..graph.names import singular, snake
from ..graph.slots import ID_KINDS
from .offline_requests import QUERIES, in_reading_order
from .tool_names import FAMILY, LINKS, NAMING, SAID, VERBS, is_plural, join, param_words

EXTRA_VERBS = {
    "kill",
    "interrupt",
    "restart",
    "rename",
    "return",
    "save",
    "upload",
    "start",
    "record",
    "unstage",
    "switch",
    "stage",
    "show",
    "add",
    "open",
    "read",
    "ensure",
    "overwrite",
    "replace",
    "handle",
    "edit",
}
# where the summary's action ends: 'Rename a file or directory without re-uploading content'
_CUT = re.compile(
    r"\s*(?:[.,;:(]|\b(?:without|and|if|or return|so that|corresponding to|given by|when|"
    r"whose|in the (?:given|specified)|(?:an? )?optional)\b).*",
    re.S,
)
DETERMINERS = {"a", "an", "the", "this", "some"}
QUANTIFIERS = {"all", "every", "each", "multiple", "specific", "any", "my", "your"}  # 'unstage all staged changes'
FILE_KEYS = {"path", "file", "filename", "filepath", "file_path", "paths", "files"}
REVISION_KEYS = {"revision", "rev", "commit_sha", "sha"}  # a commit, said by what it names
FILE_NOUNS = ("file", "directory", "folder", "notebook", "document", "path")
MOVES = {"rename", "move", "copy"}
_QUOTED = re.compile(r' "[^"]*"')
SEARCHED = QUERIES | {"pattern", "glob", "regex", "name_pattern"}  # what a search matches


def summary_words(summary: str) -> list[str] | None:
    """The summary's action as words ('create a new checkpoint for a file'), or None where it is a title
    ('Get Keywords'), no action ('This can be used to ...') or too long to be one."""
    first = (summary or "").strip().split("\n")[0]
    first = re.sub(r"^[A-Z][a-z]+ly (?=[a-z])", "", first)  # 'Recursively search for files': the action
    words = first.split()
    if words and words[0].lower() not in VERBS | EXTRA_VERBS:  # 'Shows the working tree status' (MCP's tools)
        base = next((b for b in (words[0][:-1], words[0][:-2]) if b.lower() in VERBS | EXTRA_VERBS), None)
        first = f"{base} {first[len(words[0]) :].lstrip()}" if base and words[0].endswith("s") else first
        words = first.split()
    if len(words) < 2 or words[0].lower() not in VERBS | EXTRA_VERBS:
        return None
    if all(w[:1].isupper() for w in words[1:] if w.isalpha() and w.lower() not in LINKS | DETERMINERS):
        return None  # 'Get Artist's Top Tracks': a title, worded better from the path
    text = _CUT.sub("", first)
    verbs = "|".join(VERBS | EXTRA_VERBS)
    text = re.sub(r"^(\w+) or (?:%s) (?=\w)" % verbs, r"\1 ", text, flags=re.I)  # 'Move or rename files': move files
    text = re.sub(r"\s+or\s+(?:[a-z]+ly\b|(?:%s)\b).*" % verbs, "", text)  # 'or overwrite'
    text = re.sub(r"\s+(?:from the (?:file ?system|server|disk)|as (?:plain )?text)\b", "", text)  # where it reads
    text = re.sub(r"\b([A-Za-z]+) or [A-Za-z]+\b", r"\1", text)  # 'file or directory': the first
    text = re.sub(r"\b([A-Za-z]+)/[A-Za-z]+\b", r"\1", text)  # 'status/activity'
    text = re.sub(r"\s(?:by|with) (?:its |their )?(?:names?|ids?|uuids?)\b", "", text)  # the value says which
    # the value says which, too: 'to a particular checkpointed state' is 'to a checkpoint' (the id's noun)
    text = re.sub(r"\b(an?|the) (?:particular|specific|given|certain|specified) ", r"\1 ", text)
    text = re.sub(r"\b([a-z]{4,})ed state\b", r"\1", text)
    text = re.sub(r"\bthe JSON (?:data|model|representation|objects?) (?:for|of) ", "", text)  # a format, not what
    text = re.sub(r"\s+based on (?:an?|the) \w+$", "", text)  # 'nodes ... based on a query': the value says it
    text = re.sub(r"^(get|show|fetch|retrieve) (?:a|the) list of\b", "list", text, flags=re.I)
    text = re.sub(r"^add (?:the )?(?:file )?contents? to the (?:staging area|index)$", "stage files", text, flags=re.I)
    text = re.sub(r" (?:simultaneously|at once|efficiently|directly|automatically)\b", "", text)  # how, not what
    text = re.sub(r"^make (?:[\w-]+ )?edits to (an?|the) (?:text )?file\b", r"edit \1 file", text, flags=re.I)
    text = re.sub(r"\b(of|list) all (?=\w+s\b)", r"\1 ", text)  # 'a listing of all files': of files
    words = text.split()
    while words and words[-1].lower() in LINKS | DETERMINERS:  # 'a new branch from' once 'an optional ...' is cut
        words.pop()
    words[:1] = [w.lower() for w in words[:1]]
    return words if 2 <= len(words) <= 11 else None  # 'show changes in the working directory that are not yet staged'


def path_noun(path, noun: str) -> str:
    """What a path names, by its shape: 'notes/todo.md' a file, '/tmp/ws/notes' a directory (else `noun`)."""
    last = str(path).rstrip("/").rsplit("/", 1)[-1] if isinstance(path, str) else ""
    if not last or noun not in ("file", "directory", "folder"):
        return noun
    return "file" if "." in last.lstrip(".") else ("directory" if noun == "file" else noun)


def _nouns(key: str) -> list[str]:
    """The nouns an argument can stand on: checkpoint_id -> checkpoint; a path -> file, directory, ...; entityNames
    -> entity."""
    words = param_words(key)  # branch_type is a type, branch_name a branch
    named = words[-1:] and singular(words[-1]) in ID_KINDS | NAMING
    head = [singular(w) for w in (words[-2:-1] if named and len(words) > 1 else words[-1:])]  # relations: relation
    if key.lower() in REVISION_KEYS:  # 'the contents of the commit "HEAD"'
        return head + ["commit"]
    return list(FILE_NOUNS) if key.lower() in FILE_KEYS else head


def _only_names(key: str) -> bool:
    """A parameter that is names and nothing else ('names', 'title'): it names the summary's object."""
    return [singular(w) for w in param_words(key)] in (["name"], ["title"])


def _place(words: list[str], key: str, taken: set) -> int | None:
    """Where an argument's value goes: after a head noun it names (not inside 'kernel information'); names alone
    go after the object, the first plural noun ('open nodes in the graph': 'the nodes named ...')."""
    if _only_names(key):
        nouns = [w for w in words[1:] if w.isalpha() and singular(w) != w]
        return next((i for i, w in enumerate(words) if i and i not in taken and nouns and w == nouns[0]), None)
    for noun in _nouns(key):
        for i, w in enumerate(words):
            if (
                i
                and i not in taken
                and singular(w.lower()) == noun
                and (i + 1 == len(words) or words[i + 1] in LINKS | {"between"})
            ):
                return i
    return None


def _made(words: list[str], i: int, family: str) -> bool:
    """Whether the noun at `i` is what a create makes ('create a new file'), not what it is for ('for a file')."""
    return family == "create" and not set(words[1:i]) & LINKS


def _the(words: list[str], i: int, family: str) -> None:
    """'a checkpoint for a file' -> 'the checkpoint for the file' (what a create makes keeps 'a')."""
    j = i
    while j > 1 and words[j - 1] not in DETERMINERS | LINKS:
        j -= 1
    if _made(words, i, family):
        if words[j - 1] not in DETERMINERS and singular(words[i]) == words[i]:  # 'add a new observation (...)'
            words.insert(j, "a")
        return
    if words[j - 1] in DETERMINERS:
        words[j - 1] = "the"
    else:
        words.insert(j, "the")


def _of_kind(obj: str, key: str, value) -> str:
    """The object with a kind parameter's value said before its noun ('the Git branches', branch_type 'local': 'the
    local Git branches'), or '' where the parameter is no kind of that noun or the value no single word."""
    pw = param_words(key)
    words = obj.split()
    if len(pw) != 2 or pw[1] not in ("type", "kind") or not re.fullmatch(r"[a-z]+", str(value)):
        return ""
    at = next((i for i, w in enumerate(words) if singular(w.lower()) == pw[0]), None)
    if at is None:
        return ""
    start = at
    while start > 0 and words[start - 1] not in DETERMINERS | LINKS:  # before 'Git' in 'the Git branches'
        start -= 1
    return " ".join(words[:start] + [str(value)] + words[start:])


def _put_values(words: list[str], placed: dict[int, str], step, said: dict, family: str) -> set[str]:
    """Each placed value said on its noun, in place; returns the values from an earlier result said by pointing at
    their noun ('restore the file ... to that checkpoint'), which the request need not say again up front."""
    pointed = set()
    for i in sorted(placed, reverse=True):
        k = placed[i]
        if k not in step.bindings:  # a value from an earlier result is said up front; its noun is 'the checkpoint'
            made = _made(words, i, family) or _only_names(k)
            link = ("at " if k.lower() in FILE_KEYS else "named ") if made and not said[k].startswith("(") else ""
            words.insert(i + 1, link + said[k])
            several = isinstance(step.arguments[k], list) and len(step.arguments[k]) > 1  # 'the files "a" and "b"'
            words[i] = words[i] if several or said[k].startswith("[") else singular(words[i])  # 'the branch "main"'
            if k.lower() in FILE_KEYS and words[i].lower() in FILE_NOUNS:  # 'the directory "/ws/notes"'
                words[i] = path_noun(step.arguments[k], words[i])
        j = i - 1
        while j > 0 and words[j] not in DETERMINERS | LINKS:  # 'delete multiple entities': the one named says which
            if words[j] in QUANTIFIERS - {"my", "your"}:
                del words[j]
                i -= 1
            j -= 1
        _the(words, i, family)
        noun = re.escape(singular(words[i].lower()))  # 'that checkpoint's id', 'the id of that checkpoint'
        which = re.match(rf"(?:the \w+ of )?(that|this) {noun}(?:'s \w+)?$", said[k])
        if k in step.bindings and which and words[i - 1] == "the":
            words[i - 1] = which.group(1)
            pointed.add(k)
    return pointed


def _placements(words: list[str], keys: list[str], family: str) -> dict[int, str]:
    """Which argument goes after which word of the summary."""
    placed: dict[int, str] = {}
    for k in keys:
        if family == "search" and k.lower() in FILE_KEYS:
            continue  # where a search looks, not what it finds: 'In the directory "/ws", search for files ...'
        at = _place(words, k, set(placed))
        if at is not None:
            placed[at] = k
    return placed


def compose(step, meta: dict, said: dict, rng: random.Random) -> tuple[str, list[str]] | None:
    """The request and the unbound arguments in the order it states them, or None."""
    words = summary_words(meta.get("summary") or "")
    if not words:
        return None
    verb = words[0].lower()
    family = FAMILY.get(verb, "other")
    bound = [k for k in step.arguments if k in step.bindings]
    unbound = [k for k in step.arguments if k not in step.bindings]
    placed = _placements(words, unbound + bound, family)
    front = [k for k in unbound if k not in placed.values() and k.lower() in FILE_KEYS]
    rest = [k for k in unbound if k not in placed.values() and k not in front]
    pointed = _put_values(words, placed, step, said, family)
    obj = " ".join(words[1:])
    first = obj.split()[0]
    if family != "create" and first not in DETERMINERS | QUANTIFIERS | LINKS | {"that"} and "'s" not in first:
        obj = "the " + obj
    counted = obj  # what is asked, by its head: 'the differences between branches' are many
    idents = [k for k in rest if param_words(k)[-1:] and param_words(k)[-1] in ID_KINDS and param_words(k)[:-1]]
    if verb in MOVES and len(rest) == 1:
        tail = f" to {said[rest[0]]}"
    elif verb in MOVES and len(rest) == 2 and not placed:  # 'move "a" to "b"'
        obj, tail = said[rest[0]], f" to {said[rest[1]]}"
    else:  # 'the kernel information for kernel "k-1"', then the other values
        tail = "".join(f" for {' '.join(param_words(k)[:-1])} {said[k]}" for k in idents)
        settings = [k for k in rest if k not in idents and spoken.settings_said(step.arguments[k])]
        kinds = [k for k in rest if k not in idents and (kinded := _of_kind(obj, k, step.arguments[k]))]
        obj = kinded if kinds else obj  # 'List the local Git branches', not '... with branch type "local"'
        others = [k for k in rest if k not in idents and k not in settings and k not in kinds]
        matching = [k for k in others if family == "search" and snake(k) in SEARCHED]  # 'files matching "*.md"'
        others = [k for k in others if k not in matching]
        tail += "".join(f" matching {said[k]}" for k in matching)
        paired = others if len(others) == 1 and (pair := re.search(r"\bbetween (\w+?)e?s$", obj)) else []
        if paired:  # one side given: the other is the current one ('between the current branch and "dev"')
            other = f"between the current {pair.group(1)} and {said[paired[0]]}"
            counted, obj, others = obj, obj[: pair.start()] + other, []
        with_ = [spoken.bounded(param_words(k), said[k]) or f"{' '.join(param_words(k))} {said[k]}" for k in others]
        tail += f" with {join(with_)}" if others else ""
        tail += "".join(f", {spoken.settings_said(step.arguments[k])}" for k in settings)  # not 'with body {...}'
        rest = idents + kinds + matching + paired + others + settings
    if family == "get" and rng.random() < 0.5 and obj.split()[0] not in ("a", "an"):  # not 'What is a listing of'
        many = is_plural(_QUOTED.sub("", counted))  # 'the contents of the file "x"': contents
        main, ask = f"what {'are' if many else 'is'} {obj}{tail}", True
    elif family in ("get", "list"):
        main, ask = f"{'list' if family == 'list' else 'show me'} {obj}{tail}", False
    else:
        main, ask = f"{SAID.get(verb, verb)} {obj}{tail}", False
    lead = [f"the {path_noun(step.arguments[k], _nouns(k)[0])} {said[k]}" for k in front] + [
        said[k] if said[k].split()[0] in ("that", "this", "the") else f"{' '.join(param_words(k))} {said[k]}"
        for k in bound
        if k not in pointed
    ]  # 'the id of that checkpoint' says what it is
    text = f"{'In' if family == 'search' else 'For'} {join(lead)}, {main}" if lead else main[:1].upper() + main[1:]
    order = front + [placed[i] for i in sorted(placed) if placed[i] in unbound] + rest
    return re.sub(r"\s+", " ", text).strip() + ("?" if ask else "."), order


def request(step, meta: dict, said: dict, rng: random.Random) -> str | None:
    """The request from the summary, or None (the name words it then): a summary that would state values
    of one kind in another order than the arguments' is not used."""
    state = rng.getstate()
    made = compose(step, meta, said, rng)
    if made is None:
        return None
    text, order = made
    if in_reading_order(step, order):
        return text
    rng.setstate(state)
    return None
