"""Reading a request: the values it states (quoted, dates, numbers, codes, ids, names) and its references to
earlier results ('that city's country', 'the second country'), filled into a tool's parameters."""

from __future__ import annotations

import re

from ..text import record_requests, records, spoken
from ..text.synthesis import described_values
from ..checks.arguments import argument_errors
from ..text.wording import ORDINALS
from ..text.words import entity_of, tokens
from ..graph.names import singular

_QUOTED = re.compile(r"\"([^\"]+)\"")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_NUMBER = re.compile(r"(?<![\w.-])-?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?)(?![\w-])")  # 3,000,000 or 42.195
_CODE = re.compile(r"\b[A-Z]{2,3}\b")
# 'the country code of that city', 'the latitude of the first city', "that city's country code":
# a value an earlier result gives
_WHICH = r"(that|this|the (?:" + "|".join(ORDINALS) + r"))"
_REFERENCE = re.compile(r"\bthe ((?:[a-z0-9]+ ){0,4}?[a-z0-9]+) of " + _WHICH + r" (?=([a-z]+(?: [a-z]+)?))?")
_POSSESSIVE = re.compile(r"\b" + _WHICH + r" ((?:[a-z0-9]+ ){0,2}?[a-z0-9]+)'s ")
_MANY = re.compile(r"\bthat many ([a-z]+)\b")
_ITS = re.compile(r"\bits (?=[a-z])")
_TOKEN = re.compile(r"[a-z0-9_]+")
_LABEL = re.compile(r"\b([A-Za-z]+) \"")
_ENTITY = re.compile(r"\b" + _WHICH + r" ([a-z]+(?: [a-z]+)?)\b(?!')")


_LIST_JOIN = re.compile(r"\s*(?:,\s*(?:and\s+)?|and\s+)")  # '"a.md", "b.md" and "c.md"': one listed value


def _runs(text: str) -> list[tuple[str, list[str]]]:
    """The quoted values in `text` grouped into lists ('"a", "b" and "c"'), each with the word before it."""
    runs: list[tuple[str, list[str]]] = []
    end = None
    for m in _QUOTED.finditer(text):
        if end is not None and _LIST_JOIN.fullmatch(text[end : m.start()]):
            runs[-1][1].append(m.group(1))
        else:
            runs.append(((re.findall(r"[A-Za-z]+", text[: m.start()]) or [""])[-1].lower(), [m.group(1)]))
        end = m.end()
    return runs


def _candidates(text: str) -> dict[str, list]:
    quoted = _QUOTED.findall(text)
    unquoted = _QUOTED.sub(" ", text)
    datetimes = [f"{d}T{t}" for d, t in spoken.DATETIMES.findall(unquoted)]  # '2026-12-31 23:00': one value
    unquoted = spoken.DATETIMES.sub(" ", unquoted)
    dates = _DATE.findall(unquoted)
    numbers = [float(n) if "." in n else int(n.replace(",", "")) for n in _NUMBER.findall(_DATE.sub(" ", unquoted))]
    labels = {w.lower() for w in _LABEL.findall(text)}  # 'the file "a.md"': 'file' names the value, it is not one
    words = [w for w in tokens(unquoted) if w not in labels]
    return {
        "quoted": quoted,
        "runs": _runs(text),
        "datetime": datetimes,
        "date": dates,
        "number": numbers,
        "code": _CODE.findall(unquoted),
        "words": words + [q.lower() for q in quoted],
        "ids": spoken.ID_TOKENS.findall(unquoted),
        "coded": spoken.CODED.findall(unquoted),
        "names": spoken.names(unquoted),
    }


def _take(pool: list, accept) -> object | None:
    for i, value in enumerate(pool):
        if accept(value):
            return pool.pop(i)
    return None


def _from_result(result, name: str):
    """A scalar named `name` in an earlier result (first match, depth first), or an id-like stand-in."""
    stack = [result]
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            if name in node and not isinstance(node[name], (dict, list)):
                return node[name]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node[:1])
    return None


class Results(list):
    """Earlier results, with the name of the tool that returned each (`names`)."""

    def __init__(self, results: list, names: list[str]):
        super().__init__(results)
        self.names = names


def _resolve(context: list | None, key: str, which: str, entity: str = ""):
    """The value of `key` in the earlier result a reference points at: 'that' is the latest result
    holding the key; 'the second country' the second result about a country (wording.bound_phrase),
    or, where the tools are not known, the second result."""
    if not context:
        return None
    names = getattr(context, "names", None)
    if which in ("that", "this"):  # the latest result about that thing holding the key, else the latest holding it
        about = [r for r, n in zip(context, names) if entity_of(n or "") == entity] if names and entity else []
        return next((v for r in reversed(about or context) if (v := _from_result(r, key)) is not None), None)
    k = ORDINALS.index(which.split()[-1])
    if names and entity:
        for phrase in (entity, entity.split()[0]):  # 'the second country in ...': 'country'
            about = [r for r, n in zip(context, names) if entity_of(n or "") == phrase]
            if about:
                return _from_result(about[k], key) if k < len(about) else None
    return _from_result(context[k], key) if k < len(context) else None


def _keys(node, out: set | None = None) -> set:
    out = set() if out is None else out
    if isinstance(node, dict):
        out.update(node)
        for v in node.values():
            _keys(v, out)
    elif isinstance(node, list):
        for v in node[:1]:
            _keys(v, out)
    return out


def references(text: str, context: list | None) -> tuple[list[tuple[str, str, str, str]], str]:
    """(leaf key, which result, what it is about, the word before it) of every reference to an earlier result, and
    the text without them. A possessive ("that city's country code") ends where the longest key of the results
    ends."""
    refs, spans, original = [], [], text
    keys = set().union(*(_keys(r) for r in context or []))  # of every earlier result, not the first alone
    pos = 0
    while m := _REFERENCE.search(text, pos):
        leaf = m.group(1).replace(" ", "_")
        if keys and not any(k == leaf or k.startswith(leaf + "_") or k.endswith("_" + leaf) for k in keys):
            pos = m.start() + 1  # 'the capital of this country': no result has a capital; 'this country' is
            continue  # the reference. 'the exchange rate from the currency of ...': from the next 'the'
        refs.append((leaf, m.group(2), m.group(3) or ""))
        spans.append(m.span())
        pos = m.end()
    for m in _POSSESSIVE.finditer(text):
        tokens_after = list(_TOKEN.finditer(text, m.end()))[:5]
        k = next(
            (k for k in range(len(tokens_after), 0, -1) if "_".join(t.group(0) for t in tokens_after[:k]) in keys),
            1 if tokens_after else 0,
        )
        if k:
            refs.append(("_".join(t.group(0) for t in tokens_after[:k]), m.group(1), m.group(2)))
            spans.append((m.start(), tokens_after[k - 1].end()))
    for m in _ITS.finditer(text):  # 'its country' (code), 'its calling code': of the latest result holding it
        tokens_after = list(_TOKEN.finditer(text, m.end()))[:4]
        found = next(
            (
                (key, k)
                for k in range(len(tokens_after), 0, -1)
                for key in ["_".join(t.group(0) for t in tokens_after[:k])]
                + ["_".join(t.group(0) for t in tokens_after[:k]) + end for end in ("_code", "_id")]
                if key in keys
            ),
            None,
        )
        if found and not any(s <= m.start() < e for s, e in spans):
            refs.append((found[0], "that", ""))
            spans.append((m.start(), tokens_after[found[1] - 1].end()))
    for m in _MANY.finditer(text):  # 'that many days': the days of the latest result
        if m.group(1) in keys:
            refs.append((m.group(1), "that", ""))
            spans.append(m.span())
    for m in _ENTITY.finditer(text):  # 'that city' ('that capital city') for the city id of that city
        bases = (m.group(2).replace(" ", "_"), m.group(2).split()[-1], m.group(2).split()[0])  # 'this product in'
        key = next((k for base in bases for k in (base + "_id", base + "_code", base + "_number") if k in keys), None)
        key = key or ("id" if "id" in keys else None)  # 'that checkpoint', 'that tv show': a record's {"id": ...}
        if key and not any(s <= m.start() < e for s, e in spans):
            refs.append((key, m.group(1), m.group(2)))
            spans.append(m.span())
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    before = [(re.findall(r"[a-z]+", original[:start].lower()) or [""])[-1] for start, _ in spans]
    # in the order the text says them, each with the word before it ('in', 'from': which end of a conversion)
    return [(*r, b) for (_, r, b) in sorted(zip(spans, refs, before), key=lambda p: p[0])], text


_TOWARD = {"to", "into", "in", "for", "and"}  # 'between Paris and that city': that city is the second


def _end_fits(param: str, before: str) -> bool:
    """Whether a reference fills this end of a from/to pair: 'in that country's currency' is the target."""
    end = param.split("_", 1)[0]
    return end not in ("from", "to") or (before in _TOWARD) == (end == "to")


def fill_arguments(text: str, schema: dict, context: list | None = None) -> dict | None:
    """Arguments for `schema` from values found in `text`, or, for a parameter the text says comes
    from an earlier result ('the city id of that city'), from that result in `context`;
    None when a required one is missing."""
    refs, text = references(text + " ", context)
    cand = _candidates(text)
    required = set(schema.get("required", []))
    args: dict = {}
    props = schema.get("properties") or {}
    # records first: they take their quoted values ('Change "a" to "b" in the file "x"': the path is "x")
    for name, prop in sorted(props.items(), key=lambda kv: not _records_param(kv[1])):
        ref = _reference_for(name, name in required, refs)
        coded = ref is None and next((r for r in refs if name in (r[0] + "_code", r[0] + "_id")), None)
        if coded:  # "that city's country" is its country code
            refs.remove(coded)
            value = _resolve(context, name, coded[1], coded[2])
        elif ref is not None:
            refs.remove(ref)
            value = _resolve(context, ref[0] if len(ref[0]) <= len(name) else name, ref[1], ref[2])
        elif _records_param(prop):
            fields = prop["items"].get("properties") or {}  # said as a sentence, else by field labels
            value = record_requests.read(text, fields) or records.read(text, fields)
            for said in {v for r in value or [] for f in r.values() for v in (f if isinstance(f, list) else [f])}:
                cand["quoted"] = [q for q in cand["quoted"] if q != said]
        elif prop.get("type") == "array":
            value = _listed(name, prop, name in required, cand)
        else:
            value = _stated(name, prop, cand, text)
        if value is not None:
            args[name] = value
        elif name in required:
            return None
    args = {k: args[k] for k in props if k in args}
    return args if not argument_errors(schema, args) else None


def _records_param(prop: dict) -> bool:
    return prop.get("type") == "array" and (prop.get("items") or {}).get("type") == "object"


def _reference_for(name: str, required: bool, refs: list) -> tuple | None:
    """The reference to an earlier result that fills parameter `name`, if the request makes one."""
    # 'the city id of that city' fills city_id or from_city_id
    ref = next(
        (r for r in refs if (name == r[0] or name.endswith("_" + r[0])) and _end_fits(name, r[3])), None
    ) or next((r for r in refs if r[0].endswith("_" + name)), None)
    if ref is None and required and name.split("_", 1)[0] == "to":
        # 'how far X is from that city': the one reference left for the second end, whatever word leads it
        ref = next((r for r in refs if name.endswith("_" + r[0])), None)
    return ref


def _listed(name: str, prop: dict, required: bool, cand: dict) -> list | None:
    """A list of strings the request states for parameter `name`: the next quoted values it lists together; an
    optional one only where its noun leads them ('the files "a.md" and "b.md"'), so it takes no other value."""
    if (prop.get("items") or {}).get("type", "string") != "string":
        return None
    noun = singular(name.split("_")[-1].lower())
    for label, items in cand["runs"]:
        n = len(items)
        at = next((i for i in range(len(cand["quoted"]) - n + 1) if cand["quoted"][i : i + n] == items), None)
        if at is not None and (required or singular(label) == noun):
            del cand["quoted"][at : at + n]
            cand["runs"].remove((label, items))
            return items
    return None


def _stated(name: str, prop: dict, cand: dict, text: str):
    """The value the request states for parameter `name` (of schema `prop`), taken from the candidates."""
    typ = prop.get("type")
    if "enum" in prop:
        value = _take(cand["words"], lambda w: w in {str(e).lower() for e in prop["enum"]})
        return next((e for e in prop["enum"] if str(e).lower() == value), None) if value is not None else None
    if typ in ("integer", "number"):
        return _take(cand["number"], lambda n: typ == "number" or isinstance(n, int))
    if typ == "string" and prop.get("format") == "date":
        return _take(cand["date"], lambda d: True)
    if typ == "string" and "pattern" in prop:
        pat = re.compile(prop["pattern"])
        value = (
            _take(cand["code"], lambda c: pat.search(c))
            or _take(cand["quoted"], lambda q: pat.search(q))
            or _take(cand["ids"], lambda q: pat.search(q))
            or _take(cand["coded"], lambda q: pat.search(q))
        )
        if (
            value is None
            and not re.search(r"\bcodes?\b", text, re.I)
            and (  # 'its code?' asks for the code
                said := _take(cand["names"], lambda n: pat.search(spoken.code_for(n, name) or ""))
            )
        ):
            value = spoken.code_for(said, name)  # 'the capital of Germany': DE
        return value
    if typ == "object":  # 'setting autosave interval to 120' (spoken.settings_said)
        return spoken.settings_read(text) or None
    if typ == "string":  # quoted, else an id of the documented shape (ord_1002; New York -> new_york)
        doc = str(prop.get("description") or "")
        if spoken.takes_datetime(doc):  # a time is no name: 'How far is Tokyo from ...' gives local_time no time
            return _take(cand["datetime"], lambda d: True) or _take(cand["quoted"], spoken.DATETIMES.fullmatch)
        value = _take(cand["quoted"], lambda q: not spoken.is_id_key(name) or spoken.fits(q, doc))
        if value is None and spoken.is_id_key(name):
            value = _take(cand["ids"], lambda q: spoken.fits(q, doc))
        if value is None and (named := {str(v).lower() for v in described_values(doc, prop) if isinstance(v, str)}):
            value = _take(cand["words"], lambda w: w in named)  # 'the local Git branches': a value the doc names
        said_name = (
            None if value is not None else _take(cand["names"], lambda n: spoken.fits(spoken.as_argument(n, name), doc))
        )
        return spoken.as_argument(said_name, name) if said_name is not None else value
    return None
