"""Final answers in sentences (issue: data a model can learn from).

Offline, the assistant's final answer is written here from the tool results: one sentence per
result, its phrasing derived from the result's shape (a subject, its fields, its lists), the
fields the request names first (`request_asks`), said of what the result is about. No field dump,
no Python repr (True, None). The steps of a sentence: the fields it says (`answer_keys`), how it
starts and the results said whole (`answer_leads`), the wording of its fields (`answer_composing`).
"""

from __future__ import annotations

import json
import re

from .composing import composed, field_phrases, said_of_the_call
from ..checks.judging import said_before
from .keys import draft_of, keys_to_say, settle_keys
from .leads import dated_answer, early_answer, one_found_answer, settle_lead
from .phrases import CONFIRMING, capitalised, confirms_only, refused
from .subjects import names_in
from ..checks.arguments import parse_arguments
from ..messages import request_of
from ..text import spoken
from ..text.request_asks import action_said, is_yes_no, request_parts, words
from ..text.tool_names import NAME_PARAMS, is_action
from ..text.purposes import param_phrase
from ..text.spoken import the_names
from ..text.wording import ASKS_SEARCH

NOTHING = "There is nothing to report."  # a result with nothing to say ({})


def sentence(
    result,
    request: str,
    arguments: dict | None = None,
    tool: str | None = None,
    known: dict | None = None,
    said_done: bool = False,
    feeds: tuple[str, ...] = (),
) -> str:
    """One sentence answering a result: yes or no first for a yes/no question; the fields the request
    names (and none other), or, when it names none, the result's name and two facts; never the
    values the call itself was given. A result with no name of its own is said of what its call named
    (`known`: names earlier results gave the ids and codes, 'berlin' -> 'Berlin'). A result the request asks
    nothing of says the fields that later calls took (`feeds`): 'the currency of Japan' is 'JPY'."""
    arguments, known = arguments or {}, known or {}
    if isinstance(result, dict) and "error" in result:
        err = result["error"]
        return f"The service answered with an error: {err.get('message') if isinstance(err, dict) else err}."
    if refused(result):
        why = next((v for k, v in result.items() if isinstance(v, str) and k in CONFIRMING), "")
        return f"That did not work{': ' + why.rstrip('.') if why else ''}."
    result = keyed_as_listed(result)
    yes_no = is_yes_no(request)
    if text := early_answer(result, request, arguments, tool, yes_no):
        return text
    draft = draft_of(result, request, arguments, tool, known, yes_no, feeds)
    draft.keys = keys_to_say(draft, said_done)
    if said_done and not draft.keys:
        return NOTHING
    settle_keys(draft)
    if text := dated_answer(draft) or one_found_answer(draft):
        return text
    if way := settle_lead(draft):
        return way + draft.qualifier + "."
    if not draft.keys:
        return capitalised(draft.lead + draft.qualifier) + "." if draft.lead else NOTHING
    draft.phrases = field_phrases(draft)
    return said_of_the_call(draft) or composed(draft)


def keyed_as_listed(result):
    """A field that maps names to records ({"kernelspecs": {"python3": {...}}}) is a list of them, each with its name
    ('I found one kernelspec: python3'); an empty map is an empty list ('I found no kernelspecs'), not 'The X: .'."""
    if not isinstance(result, dict):
        return result
    return {
        k: [{"name": name, **item} for name, item in v.items()]
        if isinstance(v, dict)
        and all(isinstance(item, dict) for item in v.values())
        and all(item.get("name", name) == name for name, item in v.items())
        else v
        for k, v in result.items()
    }


def fed(result, later_arguments: list[dict], own: dict | None = None, ids: bool = False) -> tuple[str, ...]:
    """The top-level fields of a result whose values later calls were given (`ids`: an id field too); not one that
    echoes the call's own argument (the VAT rate of US says 'US', and a later call about the US took it from the
    request, not there)."""
    echoed = {json.dumps(v) for v in (own or {}).values() if not isinstance(v, (dict, list))}
    given = {
        json.dumps(v) for args in later_arguments for v in args.values() if not isinstance(v, (dict, list))
    } - echoed
    return (
        tuple(
            k
            for k, v in result.items()
            if not isinstance(v, (dict, list))
            and json.dumps(v) in given
            and (ids or words(k)[-1:] != ["id"] and k != "id")
        )
        if isinstance(result, dict)
        else ()
    )


def _fed_values(result, feeds: tuple, lookup: bool, later: list[dict], own, ids: bool = False) -> list[tuple]:
    """The values a lookup's result gave later calls, each with the name of a code it is (DE: Germany); a search's
    one find counts ('the capital city of Korea': South Korea's code KR); `ids`: an id it gave too (canberra)."""
    if not lookup:
        return []
    record = result if feeds or fed(result, later, own, ids) else _one_record(result)
    keys = fed(record, later, own, ids) if isinstance(record, dict) else ()
    return [(str(record[k]), spoken.code_name(record[k], k) or "") for k in keys]


def _one_record(result) -> dict | None:
    """The one record a search found ({"results": [{...}]}), or None."""
    lists = [v for v in result.values() if isinstance(v, list)] if isinstance(result, dict) else []
    return lists[0][0] if len(lists) == 1 and len(lists[0]) == 1 and isinstance(lists[0][0], dict) else None


def parts_of(results: list[dict], parts: list[str], names: dict, arguments: dict) -> list[str]:
    """The request part each result answers: a part that alone names what the call was given or what the
    result is called ('Brazil', 'tokyo') is that result's, when no other result names it; the rest pair
    in order. Calls made together come back in any order ('the country of this city' and 'languages of
    Brazil' asked in that order, Brazil looked up first)."""
    mentions = _mentions(results, parts, arguments)
    claimed = [
        js[0] if len(js) == 1 and not any(js[0] in other for k, other in enumerate(mentions) if k != i) else None
        for i, js in enumerate(mentions)
    ]
    free = iter(j for j in range(len(parts)) if j not in claimed)
    return [parts[j if j is not None else next(free)] for j in claimed]


def with_lookups(results: list[dict], parts: list[str], arguments: dict, lookups: int) -> list[str]:
    """The part each result answers where some parts needed a lookup first ('GBP in Brazil's currency? Also, 99.5
    CHF in SEK?': Brazil, CHF->SEK, GBP->BRL): a result that one part alone names is that part's; else the
    first part's lookups come first, then the parts in order."""
    mentions = _mentions(results, parts, arguments)
    if all(len(js) == 1 for js in mentions) and {js[0] for js in mentions} == set(range(len(parts))):
        return [parts[js[0]] for js in mentions]
    in_order = [parts[0]] * lookups + parts
    # a result no part alone names is the part of the result its call took a value from ('the country of order
    # ord_1002: capital, region ...? Also, languages of Brazil?': the order, Brazil, then France, the order's part)
    claimed: list[int | None] = [js[0] if len(js) == 1 else None for js in mentions]
    for i, j in enumerate(claimed):
        if j is None and len(sources := _sources_of(results, i, arguments)) == 1:
            claimed[i] = claimed[sources[0]]
    # a call that took values from several results ('the rate from this country's currency to the first one's')
    # answers the part nothing else does
    free = iter(j for j in range(len(parts)) if j not in claimed)
    claimed = [j if j is not None else next(free, None) for j in claimed]
    if None in claimed or sorted(set(claimed)) != list(range(len(parts))):
        return in_order
    return [parts[j] for j in claimed]


def _sources_of(results: list[dict], i: int, arguments: dict) -> list[int]:
    """The earlier results whose values result i's call was given (not one that echoes its own call's argument)."""
    given = {json.dumps(v) for v in (arguments.get(results[i].get("tool_call_id")) or {}).values()}
    found = []
    for j in range(i - 1, -1, -1):
        try:
            result = json.loads(results[j]["content"])
        except (json.JSONDecodeError, TypeError):
            continue
        own = {json.dumps(v) for v in (arguments.get(results[j].get("tool_call_id")) or {}).values()}
        if isinstance(result, dict) and any(
            (said := json.dumps(v)) in given and said not in own
            for v in result.values()
            if not isinstance(v, (dict, list))
        ):
            found.append(j)
    return found


def _mentions(results: list[dict], parts: list[str], arguments: dict) -> list[list[int]]:
    """For each result, the parts that name what its call was given or what it is called."""
    mentions = []
    for m in results:
        try:
            result = json.loads(m["content"])
        except (json.JSONDecodeError, TypeError):
            result = None
        given = arguments.get(m.get("tool_call_id")) or {}
        called = [v for v in given.values() if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
        called += [spoken.code_name(v, k) for k, v in given.items() if isinstance(v, str) and spoken.code_name(v, k)]
        called += [result.get(k) for k in ("name", "title") if isinstance(result, dict) and result.get(k)]
        said = {" ".join(words(v)) for v in called if words(v)}
        mentions.append([j for j, part in enumerate(parts) if any(_names(part, w) for w in said if len(w) >= 3)])
    return mentions


def _names(part: str, said: str) -> bool:
    return re.search(rf"\b{re.escape(said)}\b", " ".join(words(part))) is not None


# what a request refers to by an earlier result: 'the product of that order', 'that product', 'its product'
_REFERENCE = re.compile(r"\b(?:the ([a-z]+) of (?:that|this) [a-z]+|(?:that|this|its) ([a-z]+))\b")


def named_done(done: str, arguments: dict, request: str) -> str:
    """What was done with its reference to an earlier result said by the value the call took: 'I added 1 of product
    p200 to the basket', not 'I added 1 of the product of that order'."""
    for m in _REFERENCE.finditer(done):
        noun = m.group(1) or m.group(2)
        value = next(
            (v for k, v in arguments.items() if isinstance(v, str) and v not in request and param_phrase(k) == noun),
            None,
        )
        if value is not None:
            return done[: m.start()] + f"{noun} {value}" + done[m.end() :]
    return done


def said_later(values: list[tuple[str, ...]], sentences: list[str]) -> bool:
    """Whether every value a lookup gave is named, by itself or as a person says it, by the answer's other sentences
    ('EUR' in '99.5 EUR is ...', 'berlin' in 'Berlin and Paris ...', DE in 'The standard rate in Germany is ...'):
    then the lookup's own sentence says nothing the answer does not."""
    text = " ".join(sentences).lower()
    return bool(values) and all(
        any(re.search(rf"(?<!\w){re.escape(v.lower().replace('_', ' '))}(?!\w)", text) for v in ways if v)
        for ways in values
    )


def idle_lookup(text: str, found: dict | None, given: list[tuple], own: dict, request: str) -> bool:
    """Whether a lookup's sentence says nothing the user asked: it names none of what it gave the later calls ('The
    status of order ord_1001 is shipped and its country is Germany.' for its product p301), or it only found the
    thing the user named ('I found one result: South Korea (KR).' for 'the currency of Korea')."""
    name = str((found or {}).get("name") or "").lower()
    if not any(said_later([ways], [text]) for ways in [*given, (name,)]):  # a search's find is said by its name
        return True
    asked = [str(v).lower() for k, v in own.items() if k in NAME_PARAMS and isinstance(v, str)]
    return (
        bool(asked) and all(re.search(rf"\b{re.escape(a)}\b", name) for a in asked) and not ASKS_SEARCH.search(request)
    )


def after_done(done: str, text: str, result) -> str:
    """What was done, then what the result shows, unless it only says that again: the tool's own confirmation
    ('Successfully created directory ...'), what was set ('The autosave interval is 120.'), a bare success flag."""
    again = done != "Done." and (text.startswith("Successfully ") or said_before(text, [done]) or confirms_only(result))
    if done.startswith("I ") and text.split()[:1] == [done.split()[1].capitalize()]:  # 'Created branch ... from main'
        return text  # the tool's own sentence of the same deed says more
    if done == "Done." and text != NOTHING:  # what the result shows says it was done ('The cart now has ...')
        return text
    deed = done.split()[1] if done.startswith("I ") and len(done.split()) > 1 else ""
    if deed and (m := re.match(rf"The status of .+? is {re.escape(deed)}(?: and its (.+)|\.)$", text)):
        # 'I cancelled it. The refund is 418.8 EUR.', not '... The status of order ord_1002 is cancelled and its
        # refund is ...' (a blind read: repeats itself)
        text, again = (f"The {m[1]}", again) if m[1] else (text, True)
    return done if text == NOTHING or again else f"{done} {text}"


# a last part that depends on the first's result (graph/branching.py): 'If the rate is below 1.5, X? Otherwise, Y?'
_CONDITIONAL = re.compile(
    r"\s*If (?:the [^,]+?|it) is (?:above|below) [\d,.]+(?: [A-Za-z%]+)?, "
    r"(?P<then>.+?[.?!])\s+Otherwise, (?P<otherwise>.+)$"
)


def taken_branch(request: str, arguments: list[dict]) -> str:
    """A request with a condition, as the parts the calls answered: the first, then the branch whose values the last
    call took ('... rate? Then, what's 1200 USD worth in GBP?'); the condition's words ('the rate') and the branch
    not taken are no part of what the answer says."""
    m = _CONDITIONAL.search(request)
    if not m or not arguments:
        return request
    values = [str(v).lower() for v in arguments[-1].values() if isinstance(v, (str, int, float))]
    then, otherwise = (sum(v in m[b].lower() for v in values) for b in ("then", "otherwise"))
    branch = m["then"] if then >= otherwise else m["otherwise"]
    return f"{request[: m.start()]} Then, {branch[0].lower() + branch[1:] if branch[1:2].islower() else branch}"


def matched_parts(request: str, results: list[dict], names: dict, arguments: dict) -> tuple[list, list, int]:
    """The request's parts, the part each result answers (the whole request when they do not pair), and how many
    results are the first part's lookups."""
    parts = request_parts(taken_branch(request, list(arguments.values())))
    lookups = len(results) - len(parts) if 1 < len(parts) < len(results) else 0
    if len(parts) == len(results):
        return parts, parts_of(results, parts, names, arguments), lookups
    if lookups:  # 'What region is the country of Cape Town in ...? Next, ...': the first part's lookups come first
        return parts, with_lookups(results, parts, arguments, lookups), lookups
    return parts, [request] * len(results), lookups


_PLACED = re.compile(r"(?P<place>[A-Z][\w .'-]*?) is in (?P<country>[A-Z][\w .'-]*)\.$")


def _ordered(out: list, rank: list, parts: list, lookups: int, gave: dict, fed_on: set, request: str) -> list[str]:
    """The answer's sentences in the order the request asks, what was asked before the lookups that fed it."""
    # 'Toronto is in Canada.' for 'the VAT rate of Toronto': the place the user named for its country is linked to
    # it, first (a reader: 'gives Canada's 5% without linking it to Toronto')
    placed = [t for t in out if t in fed_on and (m := _PLACED.match(t)) and m["place"].lower() in request.lower()]
    if len(parts) == 1 or lookups:  # 'Convert 99.5 of the currency of France into BRL': not 'The currency of France
        # is EUR.' first; a lookup whose codes the answer names anyway ('the capital city of Germany') is not said
        keep = [t in placed or not (t in gave and said_later(gave[t], [o for o in out if o not in gave])) for t in out]
        out, rank = (
            ([t for t, k in zip(out, keep) if k], [r for r, k in zip(rank, keep) if k]) if any(keep) else (out, rank)
        )
    if len(parts) == 1:  # what was asked, then the lookups ('... from Canberra to Ottawa is 25.6 hours. The capital')
        out = placed + [t for t in out if t not in fed_on] + [t for t in out if t in fed_on and t not in placed]
    # in the order the request asks, whatever order the calls came back in ('GBP in BRL? Also, 99.5 CHF in SEK?')
    out = [t for _, t in sorted(zip(rank, out), key=lambda p: p[0])]
    # a sentence another starts with and goes on from says nothing twice ('X costs 54.5 EUR and ...')
    out = [t for t in out if not any(o.startswith(t.rstrip(".") + " ") for o in out if o != t)]
    if len(parts) == 1 and is_yes_no(request):  # one yes/no question: its yes or no comes first
        out.sort(key=lambda t: not t.startswith(("Yes", "No")))
    return out


def answer_from(messages: list[dict], request: str | None = None) -> str:
    """The final answer to a conversation: a sentence for each tool result, in call order; `request`: what the
    user asked (`messages.request_of`; by default every user turn)."""
    request = request_of(messages) if request is None else request
    arguments, names = {}, {}
    for m in messages:
        for c in m.get("tool_calls") or []:
            names[c.get("id")] = c["function"]["name"]
            arguments[c.get("id")] = parse_arguments(c["function"]["arguments"])[0] or {}
    results = [m for m in messages if m["role"] == "tool"]
    order = {m.get("tool_call_id"): i for i, m in enumerate(results)}
    arguments = {c: a for c, a in arguments.items() if c in order}
    parts, matched, lookups = matched_parts(request, results, names, arguments)
    out, known, rank, gave, fed_on, idle = [], {}, [], {}, set(), set()
    for i, m in enumerate(results):
        part = matched[i]  # the part of the request this result answers (the whole request when they do not pair)
        try:
            result = json.loads(m["content"])
        except (json.JSONDecodeError, TypeError):
            out.append(f"The service answered: {str(m['content'])[:300]}")
            rank.append(0)
            continue
        tool = names.get(m.get("tool_call_id")) or m.get("name") or ""
        # a call that changes something: say it was done ('I deleted the checkpoint "c".', where the request
        # says what), then what it shows (if anything: not the values it was given, which that sentence said)
        own = arguments.get(m.get("tool_call_id"))
        acted = is_action(tool) and not (isinstance(result, dict) and "error" in result) and not refused(result)
        done = named_done(action_said(part), own or {}, request) or "Done." if acted else ""
        # a lookup the request named by what it gives ('the currency of Japan'): what a later call took from it
        lookup = part is request or i < lookups
        later = [a for c, a in arguments.items() if order[c] > i]
        feeds = fed(result, later, own) if lookup else ()
        text = sentence(
            result, part, arguments.get(m.get("tool_call_id")), tool, known, done not in ("", "Done."), feeds
        )
        known.update(names_in(result, tool))
        text = after_done(done, text, result) if acted else text
        text = the_names(text)  # 'in the United States'
        if (
            text not in out
            and not (text == "Done." and any(o.startswith("Done.") for o in out))
            and (acted or not said_before(text, out))
        ):  # said once; what was done is always said
            out.append(text)
            rank.append(parts.index(part) if part in parts else 0)
            if given := _fed_values(result, feeds, lookup, later, own):
                gave[text] = given
            if fed_ids := _fed_values(result, feeds, lookup, later, own, ids=True):  # the capital city: canberra
                fed_on.add(text)
                idle |= {text} if idle_lookup(text, _one_record(result), fed_ids, own or {}, request) else set()
    if any(t not in idle for t in out):
        out, rank = [t for t in out if t not in idle], [r for t, r in zip(out, rank) if t not in idle]
    out = _ordered(out, rank, parts, lookups, gave, fed_on, request)
    if not out:
        return "I could not find anything."
    # a sentence ending in a block of the tool's own lines is set apart, or the next one would join its fence
    return "".join(t if not i else ("\n\n" if "\n" in out[i - 1] or "\n" in t else " ") + t for i, t in enumerate(out))
