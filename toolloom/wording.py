"""How requests are worded from a task's chain: template phrasing, references to earlier results,
a tool's purpose and entity from its name and documentation. Shared by the offline agents (which
speak this way), the model agents (shown it as an example) and the dialogue scenarios."""

from __future__ import annotations

import json
import random
import re
import string

from . import offline_requests, spoken, summary_requests
from .domain import Task
from .graph.slots import VERBS, singular, snake

_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = {
    "a",
    "an",
    "the",
    "of",
    "in",
    "on",
    "to",
    "for",
    "and",
    "or",
    "is",
    "it",
    "what",
    "which",
    "me",
    "my",
    "i",
    "do",
    "does",
    "how",
    "from",
    "that",
    "this",
    "with",
    "at",
    "by",
    "be",
    "you",
    "your",
    "can",
    "get",
    "give",
    "tell",
}


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("_", " "))


# how a request joins its parts: a part that needs an earlier result comes after it ('Then, '), an
# independent one beside it ('Also, '); the offline assistant splits requests on these
THEN_WORDS = ("Then", "After that", "Next", "Afterwards")
ALSO_WORDS = ("Also", "Separately", "Additionally")
# ... or, where both parts are questions (or both requests), inside one sentence: 'What is the status of order
# ord_1001, and then what is the VAT rate in the country of that order?'
THEN_INLINE = ("and then", "and after that")
ALSO_INLINE = ("and also",)


def part_split(starts: tuple[str, ...], inline: tuple[str, ...]) -> re.Pattern:
    """Where a request's parts meet: ' Then, ' starting a sentence or ', and then ' inside one."""
    return re.compile(r" (?:" + "|".join(starts) + r"), |, (?:" + "|".join(inline) + r") ")


THEN_SPLIT = part_split(THEN_WORDS, THEN_INLINE)
# a part that reads on after ', and then': a question or a request of one clause ('what is ...?', 'list ...'),
# not a statement ("I'm curious about ...; what ...?")
# ('..., and after that is that product in stock?' reads as neither: a yes/no question stands alone)
_JOINS_INLINE = re.compile(r"(?!i\b|i'|my\b|we\b|(?:is|are|do|does|can|has|have|will|was)\b)[a-z][^;]*[.?]$")
ALSO_SPLIT = part_split(ALSO_WORDS, ALSO_INLINE)
ORDINALS = ("first", "second", "third", "fourth", "fifth")
ENTITY_VERBS = VERBS | {
    "look",
    "up",
    "convert",
    "check",
    "compute",
    "calculate",
    "describe",
    "is",
    "count",
    "resolve",
    "place",
    "cancel",
    "make",
    "view",
    "display",
}
GENERIC_WORDS = {"status", "info", "details", "detail", "data", "speaking", "lookup", "result", "results"}
LINK_WORDS = {"by", "for", "of", "to", "from", "in", "into", "between", "on", "at", "with"}


def name_words(tool_name: str) -> list[str]:
    """The words of a tool's own name, without its collection prefix: Cataas__findCatByTag -> find cat by tag."""
    return tokens(snake(tool_name.rsplit("__", 1)[-1] or tool_name))


def entity_of(tool_name: str) -> str:
    """What a tool's result is about, from its name: get_order_status -> 'order', list_cities -> 'city'."""
    method, _, path = tool_name.rpartition("__")
    if method.rsplit("__", 1)[-1].lower() in offline_requests.HTTP_METHODS:  # get__api_contents_path_checkpoints:
        ws = [w for w in tokens(snake(path)) if w not in ("api", "id", "ids") and not re.fullmatch(r"v?\d+", w)]
        while len(ws) > 1 and ws[-1] in ("path", "name", "uuid", "key"):  # the path's last noun, not a parameter
            ws = ws[:-1]
        return singular(ws[-1]) if ws else "result"
    ws = [w for w in name_words(tool_name) if w not in ENTITY_VERBS and w not in GENERIC_WORDS]
    cut = next((i for i, w in enumerate(ws) if w in LINK_WORDS), None)  # list_countries_by_region -> countries
    ws = [w for w in (ws[:cut] if cut else ws) if w not in LINK_WORDS]
    if not ws:
        return "result"
    return " ".join(ws[:-1] + [singular(ws[-1])])


def bound_phrase(
    binding: dict,
    step: int,
    source_name: str,
    rng: random.Random | None = None,
    short: bool = False,
    names: list[str] | None = None,
    one_subject: bool = False,
) -> str:
    """How a request refers to a value an earlier step returns, by what it is: 'the country code of
    that city' or "that city's country code" (the step just before), 'the latitude of the first
    city' (an earlier one: the first of the chain's results about a city, agents/offline.py reads it so), 'its
    country' (the step just before, where it named `one_subject`)."""
    leaf = re.sub(r"[^a-z0-9]+", " ", binding["path"].split("|")[-1].lower()).strip()
    entity = entity_of(source_name)
    latest = binding["step"] == step - 1 or binding["step"] >= len(ORDINALS)
    # an earlier one by its place among the results about the same thing ('the second country'), where the
    # chain's tools are known (`names`), else by its step
    nth = sum(entity_of(n) == entity for n in names[: binding["step"]]) if names else binding["step"]
    which = "that" if latest else f"the {ORDINALS[min(nth, 4)]}"
    near = rng.choice(("that", "this")) if latest and rng else which  # 'the currency of this country'
    if leaf in {f"{e} {kind}" for e in (entity, entity.split()[-1]) for kind in ("id", "code")}:
        return f"{which} {entity}"  # the city id of that (capital) city is that city; a country's code, that country
    if latest and leaf.endswith("s") and singular(leaf) == entity.split()[-1]:
        return f"that many {leaf}"  # days_between's days: 'add that many days', not "that day's days"
    if short and len(leaf.split()) > 1 and leaf.split()[-1] in ("code", "id"):  # in a sentence: "that city's country"
        leaf = " ".join(leaf.split()[:-1])
    alone = not names or sum(entity_of(n) == entity for n in names[:step]) == 1  # no other result about it before
    if latest and one_subject and alone and short and rng is not None and rng.random() < 0.5:  # ... named one thing
        return f"its {leaf}"  # 'Status of ord_1001? Then, the standard VAT in its country?'
    if rng is not None and rng.random() < 0.5:
        return f"{which} {entity}'s {leaf}"
    return f"the {leaf} of {near} {entity}"


_AREAS = {"country", "region", "continent", "state", "province", "timezone", "time zone"}
_PLACES = {"city", "country", "town", "place", "location", "airport", "address"}
# of the chains that can, how many name an earlier step's value by where it comes from: nearly all where the whole
# request becomes one sentence (readers found the step-by-step form template-like), some where a part stays
NESTED_SHARE, PARTLY_NESTED_SHARE = 0.9, 0.75


def nestable(task: Task, rng: random.Random | None = None) -> dict[int, tuple[str, str]]:
    """The steps a request names by what they give the step that uses them ('Convert 250 EUR into the currency of
    Japan': get_country is said inside convert_currency's request), each with its phrase and its head noun: a
    lookup of one stated value whose one result field a templated later step takes."""
    uses: dict[int, list] = {}
    for i, step in enumerate(task.chain):
        for b in step.bindings.values():
            uses.setdefault(b["step"], []).append((i, b))
    out = {}
    for j, source in enumerate(task.chain[:-1]):
        (i, b), *more = uses.get(j) or [(None, None)]
        if (
            i is None
            or more
            or source.bindings
            or len(source.arguments) != 1
            or "|" in b["path"]
            or not (task.meta.get(task.chain[i].tool_id) or {}).get("utterances")
        ):
            continue
        ((param, value),) = source.arguments.items()
        subject = spoken.said(value, param)
        if subject is None:
            continue
        if spoken.ID_TOKENS.fullmatch(subject):  # 'order ord_1002'
            subject = f"{param_phrase(param)} {subject}"
        leaf = re.sub(r"[^a-z0-9]+", " ", b["path"].lower()).strip()
        entity = entity_of(source.name)
        if leaf in {f"{e} {kind}" for e in (entity, entity.split()[-1]) for kind in ("id", "code")}:
            leaf = entity  # the city id of a capital city: 'the capital city of Australia'
        elif len(leaf.split()) > 1 and leaf.split()[-1] in ("code", "id"):
            leaf = " ".join(leaf.split()[:-1])  # a country code: 'the country of order ord_1002'
        within = leaf in _AREAS and entity.split()[-1] in _PLACES  # 'the country Tokyo is in'
        owned = not within and leaf != entity and subject[:1].isupper() and rng is not None and rng.random() < 0.5
        said = f"{subject}'s {leaf}" if owned else f"the {leaf} of {subject}"  # "Japan's currency"
        out[j] = (f"the {leaf} {subject} is in" if within else said, f"that {leaf}")
    # a step that also refers to a result said before it ('that city') names none by where it comes from: two
    # references in one sentence could not be told apart
    mixed = {i for i, step in enumerate(task.chain) if any(b["step"] not in out for b in step.bindings.values())}
    return {j: phrase for j, phrase in out.items() if uses[j][0][0] not in mixed}


def render_example(task: Task, rng: random.Random) -> str:
    """A template-phrased request for the task's chain (also the example shown to model users).

    A value that a step takes from an earlier result is not stated; the request says where it
    comes from, so the assistant has to make the earlier call first.
    """
    text_all, said_steps = "", 0
    nested = nestable(task, rng)
    whole = len(nested) == len(task.chain) - 1
    nested = nested if rng.random() < (NESTED_SHARE if whole else PARTLY_NESTED_SHARE) else {}
    for i, step in enumerate(task.chain):
        if i in nested:
            continue  # said where its value is used: 'Convert 250 EUR into the currency of Japan.'
        templates = task.meta.get(step.tool_id, {}).get("utterances") or []
        names = [s.name for s in task.chain]
        args = {
            k: (
                bound_phrase(
                    b,
                    i,
                    task.chain[b["step"]].name,
                    rng,
                    short=bool(templates),
                    names=names,
                    one_subject=len(task.chain[b["step"]].arguments) == 1,
                )
                if (b := step.bindings.get(k))
                else v
            )
            for k, v in step.arguments.items()
        }
        heads = dict(args)  # a nested phrase reads in place where a reference by its head noun does
        for k, b in step.bindings.items():
            if b["step"] in nested:
                args[k], heads[k] = nested[b["step"]]
        if step.bindings:  # only templates a reference to an earlier result reads well in
            templates = [fit for t in templates if (fit := fit_bound(t, step, heads)) is not None]
            templates = [t for t in templates if not asks_known(t, step, task)] or templates
        if templates:
            # 'the city "tokyo"' is said 'the city Tokyo'
            template, args = spoken.unquoted(rng.choice(templates), args, skip=step.bindings)
            text = template.format(**args)
            for k in step.bindings:  # a quoted placeholder would make the phrase look like a value
                text = text.replace(f'"{args[k]}"', args[k])
            used = {field for _, field, _, _ in string.Formatter().parse(template) if field}
            extra = [
                constraint(k, args[k] if k in step.bindings else spoken.counted(v, k) or json.dumps(v))
                for k, v in step.arguments.items()
                if k not in used
            ]
            if extra:  # an argument the template has no place for (an optional one, a constraint) is still said
                end = text[-1] if text[-1] in ".?!" else ""
                text = f"{text[: len(text) - len(end)]}, with {' and '.join(extra)}{end}"
        else:  # every real collection: worded from the tool's name and arguments, never its documentation
            said = {k: args[k] if k in step.bindings else json.dumps(v) for k, v in step.arguments.items()}
            meta = task.meta.get(step.tool_id, {})
            text = summary_requests.request(step, meta, said, rng) or offline_requests.request(step, meta, said, rng)
        said_steps += 1
        if said_steps > 1:  # a step that needs an earlier result comes after it; an independent one beside it
            keep = text[1:2].isupper() or re.match(r"I\b", text)  # 'Then, what is ...', but 'Then, US ...', 'I'll'
            text = text if keep else text[0].lower() + text[1:]
            inline = THEN_INLINE if step.bindings else ALSO_INLINE
            if said_steps == 2 and text_all[-1:] == text[-1:] and _JOINS_INLINE.match(text) and rng.random() < 0.7:
                text_all = f"{text_all[:-1]}, {rng.choice(inline)} {text}"  # two questions asked as one
            else:
                text_all += f" {rng.choice(THEN_WORDS if step.bindings else ALSO_WORDS)}, {text}"
        else:
            text_all = text
    # not 'the city this city'
    text_all = re.sub(r"\b(?:the|a|an) ([a-z]+) ((?:this|that) (?:[a-z]+ )?\1)\b", r"\2", text_all)
    # 'the country Toronto is in' before 'in 2026' is 'the country of Toronto in 2026'
    text_all = re.sub(r"\bthe (\w+) ([A-Z][\w ]*?) is in (?=(?:in|on|at|for|during)\b)", r"the \1 of \2 ", text_all)
    text_all = the_names(text_all)  # 'in the Americas', 'visiting the United States'
    return re.sub(r"(?<![\d.,])\b1 ([a-z]+)s\b", lambda m: f"1 {singular(m.group(1) + 's')}", text_all)  # 1 piece


# names said with 'the' inside a sentence ('Which countries are in the Americas?', 'I'm visiting the United States')
_THE_NAMES = re.compile(
    r"(?<=[a-z,;:] )(?<!the )(?<!The )(Americas|Netherlands|Philippines|United States|"
    r"United Kingdom|Bahamas|Maldives|Caribbean|Middle East|Balkans|Baltics|"
    r"United Arab Emirates|Czech Republic|Dominican Republic)\b"
)


def the_names(text: str) -> str:
    """'in United States' -> 'in the United States'."""
    return _THE_NAMES.sub(r"the \1", text)


def asks_known(template: str, step, task: Task) -> bool:
    """Whether a template asks for a field the record its bound value came from already shows ('Name the big cities
    of DE. Then, what's the population of that city?' when the list gave each city's population)."""
    said = set(tokens(re.sub(r"\{[^}]*\}", " ", template)))
    for b in step.bindings.values():
        source = task.chain[b["step"]]
        *through, leaf = b["path"].split("|")
        fields = [
            k
            for k in source_fields(source.result, (task.meta.get(source.tool_id) or {}).get("returns"), through)
            if k != leaf
        ]
        # a field by its head noun: unit_price_eur is a price, country_code a country
        if any((ws := [w for w in tokens(snake(k)) if w not in _NOT_HEADS]) and ws[-1] in said for k in fields):
            return True
    return False


_NOT_HEADS = {"id", "code", "unit", "eur", "usd", "gbp", "km", "mi", "kg", "percent", "pct", "ms", "utc"}


def source_fields(result, schema: dict | None, through: list[str]) -> list[str]:
    """The fields of the record a path's value sits in: from the result where it is known, else from the tool's
    documented result schema ('cities|city_id': city_id, name, population)."""
    node, kind = (result, "value") if result is not None else (schema, "schema")
    for key in through + [None]:
        if kind == "value":
            node = node[0] if isinstance(node, list) and node else node
            node = node.get(key) if key is not None and isinstance(node, dict) else node
        else:
            node = (node or {}).get("items", node) if (node or {}).get("type") == "array" else node
            node = ((node or {}).get("properties") or {}).get(key) if key is not None else node
    if kind == "schema":
        return list(((node or {}).get("properties") or {}))
    return list(node) if isinstance(node, dict) else []


def constraint(param: str, said: str) -> str:
    """An argument a template has no place for, as a person adds it: min_population 3000000 -> 'a population of
    at least 3000000', max_price_eur -> 'a price of at most 50 EUR', limit -> 'limit 5'."""
    ws = tokens(snake(param))
    return spoken.bounded(ws, said) or f"{' '.join(ws)} {said}"


# where a reference to an earlier result reads as a noun phrase: not after an article or a
# quantifier ('the that city', 'one the currency'), nor after a word it must follow ('ISO code that
# country'); followed only by punctuation or one of these (not 'that city VAT is added')
_NOT_BEFORE = {
    "a",
    "an",
    "the",
    "one",
    "many",
    "much",
    "some",
    "x",
    "per",
    "each",
    "this",
    "that",
    "code",
    "id",
    "number",
    "named",
    "called",
    "current",
}
_AFTER = set(
    "in into to from for and or on at by with after before between is are was were will would can could "
    "do does did has have had right now today please come comes cost costs".split()
)
_GENERIC = {"item", "record", "entry"}  # 'details of item {product_id}': the reference names the thing itself


def fit_bound(template: str, step, phrases: dict) -> str | None:
    """The template reworded so that each value from an earlier result reads in place ('tell me about
    product {id}' -> 'about {id}', '{amount} {currency}' -> '{amount} of {currency}', '{days} days' ->
    '{days}' when the reference says 'that many days'), or None where one cannot."""
    out = template
    for k in step.bindings:
        m = re.search(r'"?\{' + k + r'\}"?', out)
        if m is None:
            return None
        pre, post = out[: m.start()], out[m.end() :]
        b, a = re.search(r"(\S+) $", pre), re.match(r" ?([\w/{]+)", post)
        before, after = (b.group(1) if b else ""), (a.group(1) if a else "")
        head = phrases[k].split()[-1]
        entity = [w for w in tokens(snake(k)) if w not in ("id", "ids", "code", "key")][-1:]
        nouns = {singular(head), *map(singular, entity), *_GENERIC}
        if before.startswith("{") and isinstance(step.arguments.get(before.strip("{}")), (int, float)):
            pre += "of "  # '250 of that country's currency'
        elif singular(before.lower()) in nouns:
            pre = re.sub(r"\b(?:the|a|an) $", "", pre[: b.start()])  # 'about (the) product that product'
        elif before.startswith("{") or before.lower() in _NOT_BEFORE:
            return None
        if after and singular(after.lower()) == singular(head):
            post = post[a.end() :]  # 'that many days days'
        elif after and (after[0] in "/{" or after.lower() not in _AFTER):
            return None
        out = pre + "{" + k + "}" + post
    return out


def plain_purpose(description: str, tool_name: str) -> str:
    """What a request asks the tool to do: the documentation's first sentence when it reads as one
    (a short plain sentence), else words from the tool's name ('Find cat by tag')."""
    sentence = first_sentence(description)
    if 2 <= len(sentence.split()) <= 12 and not re.search(r"[<>{}|`]|https?:|\bThe\b.*\bThe\b", sentence):
        return sentence
    words = " ".join(name_words(tool_name)) or tool_name
    return words[:1].upper() + words[1:]


def first_sentence(text: str) -> str:
    """The documentation's first sentence, without markdown links or a trailing period."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", (text or "").strip())
    return re.split(r"(?<=[.!?])\s|\n", text, maxsplit=1)[0].rstrip(". ").strip()


ROLES = {
    "from": "starting",
    "to": "destination",
    "origin": "starting",
    "destination": "destination",
    "source": "source",
    "target": "target",
    "start": "start",
    "end": "end",
}


def param_phrase(param: str) -> str:
    """How a person names a parameter: from_city_id -> 'starting city', product_id -> 'product', day -> 'day'."""
    ws = [w for w in tokens(snake(param)) if w not in ("id", "ids", "uuid", "key")] or tokens(snake(param))
    if len(ws) > 1 and ws[0] in ROLES:
        ws = [ROLES[ws[0]]] + ws[1:]
    return " ".join(ws)


def article(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


DANGLING = re.compile(r"\b(?:" + "|".join(LINK_WORDS) + r"|of week|\w+ing)$")  # 'look up the days between'


def purpose(tool_name: str, parameters: dict | None = None, description: str = "") -> str:
    """What a tool does, said from its name with an article: 'find a country', 'add a product to the cart',
    'look up a city', 'list holidays'; where the name reads as no phrase ('look up the countries speaking'),
    from a short documentation sentence that says it ('list the countries where a language is official')."""
    said = _doc_purpose(description) or _name_purpose(tool_name, parameters)
    said = _ACRONYMS.sub(lambda m: m.group(0).upper(), said)
    return re.sub(r"\b(add|find|get) an? (VAT|URL|API)\b", r"\1 \2", said)  # 'add VAT', not 'add a vat'


_ACRONYMS = re.compile(r"\b(?:vat|url|api|iso|gst|pdf|csv|json|sql|dns)\b")


def _doc_purpose(description: str) -> str:
    """A documentation sentence as a purpose: 'List the countries ...', 'Number of days ...' -> 'count the days
    ...', 'The weekday of a date' -> 'look up the weekday of a date'; '' when it is no short plain sentence."""
    sentence = re.sub(r"\s*\([^)]*\)", "", first_sentence(description))  # no parentheses, one clause
    sentence = re.split(r";|, and\b| and (?:its|gives?|returns?)\b", sentence)[0].strip()
    ws = sentence.split()
    if (
        not 3 <= len(ws) <= 12
        or re.search(r"[<>{}|`:_/\\]|https?:", sentence)
        or sum(w[:1].isupper() and not w.isupper() for w in ws[1:]) > 1
    ):  # 'Get Movie Keywords': a title
        return ""
    if ws[0].lower() in _IMPERATIVES:
        return ws[0].lower() + " " + " ".join(ws[1:])
    if ws[:2] == ["Number", "of"]:
        return "count the " + " ".join(ws[2:])
    if ws[0] == "Whether":
        return "check whether " + " ".join(ws[1:])
    return "look up the " + " ".join(ws[1:]) if ws[0] == "The" else ""


_IMPERATIVES = {
    "get",
    "list",
    "search",
    "find",
    "fetch",
    "show",
    "create",
    "update",
    "delete",
    "add",
    "remove",
    "set",
    "convert",
    "check",
    "compute",
    "calculate",
    "count",
    "cancel",
    "order",
    "put",
    "place",
    "book",
    "send",
    "look",
    "translate",
    "return",
    "retrieve",
    "describe",
    "compare",
    "estimate",
    "track",
}


def _name_purpose(tool_name: str, parameters: dict | None = None) -> str:
    family, verb, obj, _ = offline_requests.parse_name(offline_requests.words_of(tool_name))
    obj = [w for w in obj if w not in ("id", "ids")]
    ids = [k for k in (parameters or {}).get("required") or [] if tokens(snake(k))[-1:] == ["id"]]
    if obj and obj[0] in LINK_WORDS and ids:  # add_to_cart(product_id): add a product to the cart
        return f"{verb} {article(param_phrase(ids[0]))} {obj[0]} the {' '.join(obj[1:])}"
    thing = " ".join(obj) or entity_of(tool_name)
    many = offline_requests.is_plural(thing)
    if family in ("get", "thing"):
        return f"look up {'the' if many or len(obj) != 1 else article(thing).split()[0]} {thing}"
    if family == "search":
        return f"{verb} {'for ' if verb == 'search' else ''}{' '.join(offline_requests.plurals(thing.split()))}"
    if family == "list" or many or obj[:1] and obj[0] in LINK_WORDS:
        return f"{verb} {thing}"
    return f"{verb} {'the' if family == 'compute' else article(thing.split()[0]).split()[0]} {thing}"
