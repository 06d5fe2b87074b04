"""How requests are worded from a task's chain: template phrasing and references to earlier results (a tool's
purpose is said by purposes.py, what its result is about by words.py). Shared by the offline agents (which
speak this way), the model agents (shown it as an example) and the dialogue scenarios."""

from __future__ import annotations

import dataclasses
import json
import random
import re

from . import offline_requests, record_requests, records, spoken, summary_requests
from ..domain import Task
from ..graph.branching import condition_phrase
from ..graph.names import singular, snake
from .purposes import param_phrase
from .spoken import the_names
from .template_fit import asks_known, fit_bound, fit_name, in_its_place, with_unslotted
from .tool_names import NAME_PARAMS, VERBS, shown
from .words import entity_of, tokens

# how a request joins its parts: a part that needs an earlier result comes after it ('Then, '), an
# independent one beside it ('Also, '); the offline assistant splits requests on these
THEN_WORDS = ("Then", "After that", "Next", "Afterwards")
# written: 'Next, ...', 'After that, ... that capital city' read as templates (blind reads)
THEN_CHOSEN = THEN_WORDS[:1]
ALSO_WORDS = ("Also", "Separately", "Additionally")
ALSO_CHOSEN = ("Also", "Additionally")  # written: 'Separately, show me ...' read as two tasks glued (blind reads)
# ... or, as people chain questions, a question of its own that starts with 'And' (no comma): 'Tell me about
# Tokyo. And what is the VAT rate in that city's country?'
AND_START = re.compile(r"(?:what|which|how|where|when|who|is|are|does|do|can|will)\b")
# ... or, where both parts are questions (or both requests), inside one sentence: 'What is the status of order
# ord_1001, and then what is the VAT rate in the country of that order?'
THEN_INLINE = ("and then", "and after that")
THEN_INLINE_CHOSEN = THEN_INLINE[:1]  # written; both are read
ALSO_INLINE = ("and also",)


def part_split(starts: tuple[str, ...], inline: tuple[str, ...], bare: str = "") -> re.Pattern:
    """Where a request's parts meet: ' Then, ' starting a sentence or ', and then ' inside one (`bare`: a word
    that starts a part's sentence without a comma, 'And')."""
    started = rf"|(?<=[.?!]) {bare} (?=[a-z])" if bare else ""
    return re.compile(r" (?:" + "|".join(starts) + r"), |, (?:" + "|".join(inline) + r") " + started)


AND_WORD = "And"
THEN_SPLIT = part_split(THEN_WORDS, THEN_INLINE, AND_WORD)
# a part that reads on after ', and then': a question or a request of one clause ('what is ...?', 'list ...'),
# not a statement ("I'm curious about ...; what ...?")
# ('..., and after that is that product in stock?' reads as neither: a yes/no question stands alone)
# one sentence: not 'Is it a Friday, and also a deadline is 90 days after X. Which date is that?' (a blind read)
_JOINS_INLINE = re.compile(
    r"(?!i\b|i'|my\b|we\b|(?:is|are|do|does|can|has|have|will|was)\b)[a-z](?:[^;.?!]|\.\d)*[.?]$"
)
ALSO_SPLIT = part_split(ALSO_WORDS, ALSO_INLINE)
ORDINALS = ("first", "second", "third", "fourth", "fifth")
ITS_SHARE = 0.75  # 'its country' where the step before named one thing ("that city's country" read as a template)


def bound_phrase(
    binding: dict,
    step: int,
    source_name: str,
    rng: random.Random | None = None,
    short: bool = False,
    names: list[str] | None = None,
    one_subject: bool = False,
    param: str = "",
    held_since: set[str] | None = None,
    after_answer: bool = False,
) -> str:
    """How a request refers to a value an earlier step returns, by what it is: 'the country code of
    that city' or "that city's country code" (the step just before), 'the latitude of the first
    city' (an earlier one: the first of the chain's results about a city, agents/offline.py reads it so), 'its
    country' (the step just before, where it named `one_subject`); `after_answer` (a follow-up question after the
    answer named it): 'that city', 'its country'."""
    leaf = re.sub(r"[^a-z0-9]+", " ", binding["path"].split("|")[-1].lower()).strip()
    entity = entity_of(source_name)
    latest = binding["step"] == step - 1 or binding["step"] >= len(ORDINALS)
    # an earlier one by its place among the results about the same thing ('the second country'), where the
    # chain's tools are known (`names`), else by its step
    nth = sum(entity_of(n) == entity for n in names[: binding["step"]]) if names else binding["step"]
    alone_before = bool(names) and sum(entity_of(n) == entity for n in names[:step]) == 1
    which = "that" if latest or alone_before else f"the {ORDINALS[min(nth, 4)]}"  # 'the first' only among several
    near = rng.choice(("that", "this")) if latest and rng else which  # 'the currency of this country'
    if leaf in {f"{e} {kind}" for e in (entity, entity.split()[-1]) for kind in ("id", "code", "number")}:
        said = entity.split()[-1] if after_answer else entity  # after 'The capital of Germany is Berlin.': 'that city'
        return f"{which} {said}"  # the city id of that (capital) city is that city; a country's code, that country
    named = [w for w in tokens(snake(param)) if w not in ("id", "ids")] if param.lower().endswith("id") else []
    if leaf == "id" and len(named) == 1:
        # a record's bare id is that record, named by what the parameter takes: TMDB's GET_tv-latest's id for tv_id
        # is 'that tv show', not "that tv latest's id" (nor "the id of this tv tv id")
        return f"{which} {shown([named[0]])}"
    # no result since holds the same field (`held_since`: their fields, None where unknown): still 'that many'
    fresh = latest or (held_since is not None and binding["path"].split("|")[-1] not in held_since)
    if fresh and leaf.endswith("s") and singular(leaf) == entity.split()[-1]:
        return f"that many {leaf}"  # days_between's days: 'add that many days', not "that day's days"
    if short and len(leaf.split()) > 1 and leaf.split()[-1] in ("code", "id"):  # in a sentence: "that city's country"
        leaf = " ".join(leaf.split()[:-1])
    alone = not names or sum(entity_of(n) == entity for n in names[:step]) == 1  # no other result about it before
    if latest and one_subject and alone and short and (after_answer or (rng is not None and rng.random() < ITS_SHARE)):
        return f"its {leaf}"  # 'Status of ord_1001? Then, the standard VAT in its country?'
    if rng is not None and rng.random() < 0.5:
        return f"{which} {entity}'s {leaf}"
    return f"the {leaf} of {near} {entity}"


_AREAS = {"country", "region", "continent", "state", "province", "timezone", "time zone"}
_PLACES = {"city", "country", "town", "place", "location", "airport", "address"}
# of the chains that can, how many name an earlier step's value by where it comes from: nearly all where the whole
# request becomes one sentence (readers found the step-by-step form template-like), some where a part stays
NESTED_SHARE, PARTLY_NESTED_SHARE = 0.9, 0.75


def nestable(task: Task, rng: random.Random | None = None, places: bool = True) -> dict[int, tuple[str, str]]:
    """The steps a request names by what they give the step that uses them ('Convert 250 EUR into the currency of
    Japan': get_country is said inside convert_currency's request), each with its phrase and its head noun: a
    lookup of one stated value whose one result field a templated later step takes."""
    uses: dict[int, list] = {}
    for i, step in enumerate(task.chain):
        for b in step.bindings.values():
            uses.setdefault(b["step"], []).append((i, b))
    out, searched = {}, set()
    for j, source in enumerate(task.chain[:-1]):
        (i, b), *more = uses.get(j) or [(None, None)]
        if (
            i is None
            or more
            or len(source.arguments) != 1
            or not (task.meta.get(task.chain[i].tool_id) or {}).get("utterances")
        ):
            continue
        ((param, value),) = source.arguments.items()
        if not source.bindings and _name_search(source.name, param, value, b["path"]):
            out[j], searched = (value, f"that {entity_of(source.name)}"), searched | {j}  # 'the capital of Korea'
            continue
        inner = source.bindings.get(param)
        if "|" in b["path"] or (source.bindings and (inner is None or inner["step"] not in searched)):
            continue  # one lookup inside another only where the inner one is a name ('the capital city of Korea')
        subject = out[inner["step"]][0] if source.bindings else spoken.said(value, param)
        if subject is None:
            continue
        if spoken.ID_TOKENS.fullmatch(subject):  # 'order ord_1002'
            subject = f"{param_phrase(param)} {subject}"
        leaf = re.sub(r"[^a-z0-9]+", " ", b["path"].lower()).strip()
        entity = entity_of(source.name)
        if leaf in {f"{e} {kind}" for e in (entity, entity.split()[-1]) for kind in ("id", "code", "number")}:
            leaf = entity  # the city id of a capital city: 'the capital city of Australia'
        elif len(leaf.split()) > 1 and leaf.split()[-1] in ("code", "id"):
            leaf = " ".join(leaf.split()[:-1])  # a country code: 'the country of order ord_1002'
        within = leaf in _AREAS and entity.split()[-1] in _PLACES  # 'the country Tokyo is in'
        owned = not within and leaf != entity and subject[:1].isupper() and rng is not None and rng.random() < 0.5
        owned = owned and not source.bindings  # 'the capital city of Korea': the search's name is read back by 'of'
        said = f"{subject}'s {leaf}" if owned else f"the {leaf} of {subject}"  # "Japan's currency"
        said = f"the {leaf} {subject} is in" if within else said
        short = places and within and _stands_for_its_country(leaf, subject, entity, task.chain[i].name)
        said = subject if short else said
        out[j] = (documented_relation(task.meta.get(source.tool_id), b["path"], leaf, subject) or said, f"that {leaf}")
    # a step that also refers to a result said before it ('that city') names none by where it comes from: two
    # references in one sentence could not be told apart
    mixed = {i for i, step in enumerate(task.chain) if any(b["step"] not in out for b in step.bindings.values())}
    return {j: phrase for j, phrase in out.items() if uses[j][0][0] not in mixed}


def _stands_for_its_country(leaf: str, subject: str, entity: str, user: str) -> bool:
    """Whether a place said by its name reads as its country for the call that takes the country: 'Which holidays
    does Toronto have in 2027?', 'the VAT rate in Toronto' (readers called 'the country Toronto is in' contrived);
    not where the call is about a country or that kind of place ('Summarise Toronto', 'the cities in Tokyo')."""
    about = {singular(w) for w in entity_of(user).split()}
    return leaf == "country" and subject[:1].isupper() and not about & {"country", "capital", entity.split()[-1]}


# a result field documented as a relation to its record: 'the country the order ships to'
_RELATION_DOC = re.compile(
    r"(?:the )?([a-z]+(?: [a-z]+)?) (?:the|this|that) ([a-z]+) ([a-z]+s (?:to|from|in|at|for|with))"
)


def documented_relation(meta: dict | None, path: str, leaf: str, subject: str) -> str:
    """The field's relation to the record, where its documentation says one ('the country order ord_1002 ships
    to'), else ''; read back by `agents.unnest`."""
    if "|" in path or not spoken.ID_TOKENS.search(subject):
        return ""
    prop = (((meta or {}).get("returns") or {}).get("properties") or {}).get(path) or {}
    m = _RELATION_DOC.fullmatch(str(prop.get("description") or "").strip().rstrip(".").lower())
    fits = m and m[1].split()[-1] == leaf.split()[-1] and m[2] == subject.split()[0]
    return f"the {m[1]} {subject} {m[3]}" if fits else ""


SEARCHES = ("search_", "find_")  # tools whose input is what to look for
ASKS_SEARCH = re.compile(r"\b(?:codes?|named|called)\b", re.I)  # 'What's the ISO code for Korea?': the search itself


def _name_search(tool: str, param: str, value, path: str) -> bool:
    """Whether a step searches a thing by (part of) its name for the code or id a later step takes
    (find_country("Korea") for KR): the request names the thing ('the capital of Korea'), not the search."""
    leaf = path.split("|")[-1]
    entity = entity_of(tool).replace(" ", "_")
    return (
        snake(tool).startswith(SEARCHES)
        and param in NAME_PARAMS
        and isinstance(value, str)
        and leaf in (f"{entity}_code", f"{entity}_id")
        and spoken.partial_name(value, leaf)  # a whole name needs no search: the chain is not worded as one
    )


def render_example(task: Task, rng: random.Random) -> str:
    """A template-phrased request for the task's chain (also the example shown to model users).

    A value that a step takes from an earlier result is not stated; the request says where it
    comes from, so the assistant has to make the earlier call first.
    """
    state = rng.getstate()
    text = _rendered(task, rng, nestable(task, rng))
    if nestable(task, None) != nestable(task, None, places=False) and not _names_its_use(task, text):
        # 'What days off does Toronto have?' would not be read as Toronto's country: 'the country Toronto is in'
        rng.setstate(state)
        text = _rendered(task, rng, nestable(task, rng, places=False))
    return text


def _names_its_use(task: Task, text: str) -> bool:
    """Whether a request names what a call that takes a place's country is for, by a word of the tool's name
    ('holidays', 'VAT', 'order'): how `agents.unnest.placed` tells Toronto's holidays from Toronto's population."""
    named = set().union(*(name_nouns(step.name) for step in task.chain if step.bindings))
    return bool(named & {singular(w) for w in tokens(text)})


def name_nouns(tool: str) -> set[str]:
    """The words of a tool's name but its verbs, singular: list_holidays -> {holiday}."""
    return {singular(w) for w in tokens(snake(tool))} - VERBS


def _rendered(task: Task, rng: random.Random, nested: dict) -> str:
    text_all, said_steps = "", 0
    whole = len(nested) == len(task.chain) - 1
    nested = nested if rng.random() < (NESTED_SHARE if whole else PARTLY_NESTED_SHARE) else {}
    for i, step in enumerate(task.chain):
        if i in nested:
            continue  # said where its value is used: 'Convert 250 EUR into the currency of Japan.'
        if step.condition:  # a part of its own: 'If the temperature is above 20, ...; otherwise, ...'
            text_all, said_steps = f"{text_all} {_branch_request(task, i, nested, rng)}", said_steps + 1
            continue
        text = _step_request(task, i, nested, rng)
        said_steps += 1
        text_all = _joined(text_all, text, step, said_steps, rng) if said_steps > 1 else text
    return _tidied(text_all)


def follow_up_request(task: Task, i: int, rng: random.Random) -> str:
    """Step i's request said alone, as a turn of its own after the steps before it were answered: 'What is the
    standard VAT rate in its country?' (a dialogue's follow-up question; its references are to the last answer)."""
    text = _tidied(_step_request(task, i, {}, rng, after_answer=True))
    return text[:1].upper() + text[1:]


def _tidied(text: str) -> str:
    # not 'the city this city', nor 'the city of the capital city of Germany' (a blind read)
    text = re.sub(r"\b(?:the|a|an) ([a-z]+) ((?:this|that) (?:[a-z]+ )?\1)\b", r"\2", text)
    text = re.sub(r"\bthe ([a-z]+) of (the (?:[a-z]+ )?\1 of )", r"\2", text)
    # 'the country Toronto is in' before 'in 2026' is 'the country of Toronto in 2026'
    text = re.sub(r"\bthe (\w+) ([A-Z][\w ]*?) is in (?=(?:in|on|at|for|during)\b)", r"the \1 of \2 ", text)
    text = the_names(text)  # 'in the Americas', 'visiting the United States'
    return re.sub(r"(?<![\d.,])\b1 ([a-z]+)s\b", lambda m: f"1 {singular(m.group(1) + 's')}", text)  # 1 piece


def _step_request(task: Task, i: int, nested: dict, rng: random.Random, after_answer: bool = False) -> str:
    """Step i's own request: a template filled in where the tool has any, else worded from the tool."""
    step = task.chain[i]
    templates = task.meta.get(step.tool_id, {}).get("utterances") or []
    args, heads = _said_arguments(task, i, nested, rng, short=bool(templates), after_answer=after_answer)
    if step.bindings:  # only templates a reference to an earlier result reads well in
        templates = [fit for t in templates if (fit := fit_bound(t, step, heads)) is not None]
        templates = [t for t in templates if not asks_known(t, step, task)] or templates
    if templates:
        return in_its_place(_from_template(step, fit_name(templates, step), args, rng), task, step, args)
    # every real collection: worded from the tool's name and arguments, never its documentation
    said = {
        k: args[k] if k in step.bindings else spoken.listed(v) or records.said(v) or json.dumps(v)
        for k, v in step.arguments.items()
    }
    meta = task.meta.get(step.tool_id, {})
    summary = None if offline_requests.names_a_thing(step, meta) else summary_requests.request(step, meta, said, rng)
    return record_requests.request(step, meta, rng) or summary or offline_requests.request(step, meta, said, rng)


def _branch_request(task: Task, i: int, nested: dict, rng: random.Random) -> str:
    """A branched step's request: each branch's call worded as a request of its own, of one clause where the
    tool's templates allow ('If the subtotal is above 55 EUR, what is ...? Otherwise, what is ...?')."""
    step = task.chain[i]
    said, state = [], rng.getstate()
    for branch in ("then", "otherwise"):
        rng.setstate(state)  # both branches in the same words: not 'add 1 piece to my cart. Otherwise, add 3 units
        chain = list(task.chain)  # to the basket' (a blind read: template-like)
        chain[i] = dataclasses.replace(step, arguments=dict(step.condition[branch]), condition=None)
        texts = [_step_request(dataclasses.replace(task, chain=chain), i, nested, rng) for _ in range(BRANCH_DRAWS)]
        text = next((t for t in texts if not _MORE_CLAUSES.search(t)), texts[0])
        keep = text[1:2].isupper() or re.match(r"I\b", text)  # 'US ...', "I'd like ..."
        text = text if keep else text[0].lower() + text[1:]
        said.append(text if text[-1:] in ".?!" else text + ".")
    return f"If {condition_phrase(step.condition)}, {said[0]} Otherwise, {said[1]}"


BRANCH_DRAWS = 6  # template draws per branch, for one that reads as one clause after 'If ...,'
_MORE_CLAUSES = re.compile(r"(?i);|[.?!] \S|^I'm\b|^if\b")  # not 'If ..., if I go ...'


def _said_arguments(
    task: Task, i: int, nested: dict, rng: random.Random, short: bool, after_answer: bool = False
) -> tuple[dict, dict]:
    """Step i's arguments as said (a value from an earlier result by where it comes from), and the same with a
    nested phrase's head noun in its place."""
    step = task.chain[i]
    names = [s.name for s in task.chain]
    args = {
        k: (
            bound_phrase(
                b,
                i,
                task.chain[b["step"]].name,
                rng,
                short=short,
                names=names,
                one_subject=len(task.chain[b["step"]].arguments) == 1,
                param=k,
                held_since=_fields_between(task, b["step"], i),
                after_answer=after_answer,
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
    return args, heads


def _fields_between(task: Task, source: int, step: int) -> set[str] | None:
    """The result fields the steps between `source` and `step` return (their documented result schemas); None
    where one has none."""
    fields: set[str] = set()
    for s in task.chain[source + 1 : step]:
        returns = (task.meta.get(s.tool_id) or {}).get("returns")
        try:
            schema = json.loads(returns) if isinstance(returns, str) else returns
        except json.JSONDecodeError:
            return None
        if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
            return None
        fields |= set(schema["properties"])
    return fields


def _from_template(step, templates: list[str], args: dict, rng: random.Random) -> str:
    """One of the templates filled in; an argument it has no place for is added as a constraint."""
    # 'the city "tokyo"' is said 'the city Tokyo'
    template, args = spoken.unquoted(rng.choice(templates), args, skip=step.bindings)
    text = spoken.amounts_owned(template.format(**args))
    for k in step.bindings:  # a quoted placeholder would make the phrase look like a value
        text = text.replace(f'"{args[k]}"', args[k])
    return with_unslotted(text, template, step, args)


def _joined(text_all: str, text: str, step, said_steps: int, rng: random.Random) -> str:
    """A later step's request added to the request so far: a step that needs an earlier result comes after it,
    an independent one beside it."""
    keep = text[1:2].isupper() or re.match(r"I\b", text)  # 'Then, what is ...', but 'Then, US ...', 'I'll'
    text = text if keep else text[0].lower() + text[1:]
    inline = THEN_INLINE_CHOSEN if step.bindings else ALSO_INLINE
    if said_steps == 2 and text_all[-1:] == text[-1:] and _JOINS_INLINE.match(text) and rng.random() < 0.7:
        return f"{text_all[:-1]}, {rng.choice(inline)} {text}"  # two questions asked as one
    if step.bindings and said_steps == 2 and text_all[-1:] in ".?" and AND_START.match(text) and rng.random() < 0.5:
        return f"{text_all} {AND_WORD} {text}"  # 'Tell me about Tokyo. And what is ...?'
    joins, every = (THEN_CHOSEN, THEN_WORDS) if step.bindings else (ALSO_CHOSEN, ALSO_WORDS)
    fresh = [w for w in every if f" {w}," not in text_all and f"{w.lower()}," not in text_all]  # not 'Then, ... Then,'
    if (
        step.bindings
        and not set(fresh) & set(joins)
        and text_all[-1:] in ".?"
        and text[:1].islower()  # a question or a request: 'And tell me how far ...' (the assistant splits on it)
        and f" {AND_WORD} " not in text_all
    ):
        return f"{text_all} {AND_WORD} {text}"  # a third question: '... Then, ...? And how far ...?', not 'Next, '
    return text_all + f" {rng.choice([w for w in fresh if w in joins] or fresh or joins)}, {text}"
