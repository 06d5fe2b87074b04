"""Multi-turn dialogues driven by ToolDial's action inventory ("ToolDial: Multi-turn Dialogue
Generation Method for Tool-Augmented Language Models", ICLR 2025).

A dialogue plan is a sequence of (speaker, action); the state (which values the user has given,
which tool is meant) is tracked here in code, the calls' arguments come from the state, and a
realiser only writes each utterance (a model, or offline the phrases in
prompts/simulate/dialogue_phrases.yaml). User actions: inform_intent_clear,
inform_intent_clear_add, inform_intent_vague, inform, fail_inform, affirm, negate, user_bye.
System actions: retriever_call, request, clarify, suggest, call, response, response_fail, system_bye.

`missing_parameter` is ToolDial's API-graph pair: the user cannot give a required input of the
target API, the system retrieves a source API whose output supplies it, asks for the source's
inputs, calls the source, then the target. It runs on two-step chains (source -> target).
`ask` is the short form for single calls: a required value is missing, the right turn is a question.
Playing a plan (the calls, the episode) is `dialogue_play.py`.
"""

from __future__ import annotations

import random
import re


from ..domain import Task
from ..text import spoken
from ..text.purposes import DANGLING, param_phrase, purpose
from ..text.tool_names import QUERY_PARAMS
from ..text.wording import SEARCHES, follow_up_request, render_example
from .follow_ups import FOLLOW_UP
from ..text.words import entity_of, tokens
from ..text.tool_names import join
from ..text.request_asks import DOING
from ..text.tool_names import is_action
from ..text.tool_names import VERBS
from ..text.withholding import withholding_request
from ..answers.phrases import article
from ..graph.names import singular, snake
from ..graph.slots import ID_KINDS

SCENARIOS = {
    "clear": ["U:inform_intent_clear", "S:retriever_call", "S:call", "S:response", "U:user_bye", "S:system_bye"],
    "vague_clarify": [
        "U:inform_intent_vague",
        "S:clarify",
        "U:inform_intent_clear",
        "S:retriever_call",
        "S:call",
        "S:response",
        "U:user_bye",
        "S:system_bye",
    ],
    "suggest_affirm": [
        "U:inform_intent_vague",
        "S:retriever_call",
        "S:suggest",
        "U:affirm",
        "S:request",
        "U:inform",
        "S:call",
        "S:response",
        "U:user_bye",
        "S:system_bye",
    ],
    "suggest_negate": [
        "U:inform_intent_vague",
        "S:retriever_call",
        "S:suggest_other",
        "U:negate",
        "S:clarify",
        "U:inform_intent_clear",
        "S:call",
        "S:response",
        "U:user_bye",
        "S:system_bye",
    ],
    "missing_parameter": [
        "U:inform_intent_missing",
        "S:retriever_call",
        "S:request",
        "U:fail_inform",
        "S:retriever_call_source",
        "S:request_source",
        "U:inform_source",
        "S:call_source",
        "S:call",
        "S:response",
        "U:user_bye",
        "S:system_bye",
    ],
    "fail_inform": [
        "U:inform_intent_missing",
        "S:retriever_call",
        "S:request",
        "U:fail_inform",
        "S:response_fail",
        "U:inform_intent_clear_add",
        "S:call",
        "S:response",
        "U:user_bye",
        "S:system_bye",
    ],
    "ask": ["U:inform_intent_missing", "S:request", "U:inform", "S:call", "S:response"],
}
PAIR_SCENARIOS = ("missing_parameter",)  # need a two-step chain whose target takes one value from its source
# what a person has and can name when they cannot name the value it holds: the source of a pair scenario
HELD = {
    "order",
    "account",
    "cart",
    "booking",
    "reservation",
    "ticket",
    "subscription",
    "invoice",
    "shipment",
    "trip",
    "flight",
    "profile",
    "payment",
    "card",
    "device",
    "project",
    "file",
    "repository",
    "package",
    "parcel",
    "user",
}
ASKS = (
    "inform_intent_clear",
    "inform_intent_clear_add",
    "inform_intent_missing",
    "inform_intent_followup",
)  # the user turns that ask
# plan items that are ToolDial actions under another name: the recorded action is the right-hand one
RECORDED = {
    "inform_intent_missing": "inform_intent_clear",
    "suggest_other": "suggest",
    "retriever_call_source": "retriever_call",
    "request_source": "request",
    "inform_source": "inform",
    "call_source": "call",
    "inform_intent_followup": "inform_intent_clear",
}


def is_pair(task: Task) -> bool:
    """A source -> target chain where the target takes exactly one value from the source, and the source is what a
    person has instead of that value: a record of theirs by its id (their order) or a search. A lookup by a name
    is not ('I'm visiting my country' for get_city("tokyo"), 'a city; it's the capital city of a country'): the
    person knows the answer, or would have asked for it."""
    if not (len(task.chain) == 2 and len(task.chain[1].bindings) == 1 and not task.chain[0].bindings):
        return False
    source = task.chain[0]
    if snake(source.name.split("__")[-1]).startswith(SEARCHES):
        return True
    # an id that is a name ('toronto') is a lookup by a name: 'the capital of my country' ... 'Which city is it?'
    # 'Toronto.' (blind reads: a person in Toronto knows their country); a record's id ('ord_1001') is theirs
    named = any(spoken.names(w := spoken.written(v, k)) == [w] for k, v in source.arguments.items())
    return all(map(spoken.is_id_key, source.arguments)) and not named


def a_topic(tool_name: str) -> str:
    """'a holiday', but 'the next holiday': a thing there is one of takes 'the'; 'a file' for write_file (its
    verb is no topic); 'git' for git_add (a namespace is named, not counted); 'the unstaged git diff'."""
    words = entity_of(tool_name).split()
    while len(words) > 1 and (words[0] in VERBS | DOING or words[0] == "multiple"):
        words.pop(0)  # write_file, read_multiple_files: 'a file'
    if len(words) > 1 and re.fullmatch(r"\w+ed", words[-1]):
        return "the " + " ".join(words[-1:] + words[:-1])  # git_diff_unstaged: 'the unstaged git diff'
    entity = " ".join(words)
    if len(words) == 1 and len(snake(tool_name).split("_")) > 1 and snake(tool_name).startswith(entity + "_"):
        return entity  # git_add, git_show: a namespace, not a thing
    return (
        ("the " + entity) if entity.split()[0] in ("next", "upcoming", "latest", "current", "last") else article(entity)
    )


def stated(arguments: dict, leave_out: str | None = None, asked: bool = False) -> str:
    """The values as a person says them; `asked`: an answer to 'Which city is it?', where a name is said
    alone ('Toronto, please.', not 'City Toronto, please.': a blind read)."""
    said = [
        spoken.code_name(v, k)  # 'Australia', not its code
        or _value_said(k, spoken.written(v, k), asked)
        for k, v in arguments.items()
        if k != leave_out
    ]
    return " and ".join(said) if len(said) < 3 else ", ".join(said[:-1]) + " and " + said[-1]


def _value_said(key: str, written: str, asked: bool) -> str:
    return written if asked and spoken.names(written) == [written] else f"{param_phrase(key)} {written}"


def scenario_for(task: Task, scenario: str, extra: Task | None, required: list[str]) -> str:
    """The scenario that fits the task: a pair scenario needs a pair, withholding needs a required value."""
    if scenario in PAIR_SCENARIOS and not is_pair(task):
        scenario = "fail_inform"
    if scenario == "fail_inform" and extra is None:
        scenario = "ask"
    if scenario in ("ask", "fail_inform", "suggest_affirm") and not required:
        scenario = "clear"
    target = task.chain[-1]
    if scenario == "suggest_affirm" and not is_action(target.name):
        # 'a question about a language' / 'Shall I look up a language?' / 'Yes, exactly that.' offers nothing the
        # user did not say (blind reads marked it scripted): a lookup is clarified instead
        scenario = "vague_clarify"
    if scenario in ("ask", "fail_inform") and len(target.arguments) == 1 and snake(target.name).startswith(SEARCHES):
        scenario = "clear"  # a search by its one value left out asks nothing: 'I'm looking for a country.'
    return scenario


class Dialogue:
    """The state of one dialogue; `utterance(action)` gives (example, facts) for an utterance action."""

    def __init__(
        self, task: Task, extra: Task | None, tools: dict, offered: list[dict], phrases: dict, rng: random.Random
    ):
        self.task, self.extra, self.current, self.phrases, self.rng = task, extra, task, phrases, rng
        self.target = task.chain[-1]
        self.source = task.chain[0] if is_pair(task) else None
        required = [p for p in tools[self.target.name]["parameters"].get("required", []) if p in self.target.arguments]
        self.withheld = (
            next(iter(self.target.bindings)) if self.source else (rng.choice(required) if required else None)
        )
        self.required = required
        self.tools = tools
        self.other = self._relevant_other(offered)
        self.scenario = ""
        self.step = 0  # a follow-up dialogue's next step to ask and call

    def _relevant_other(self, offered: list[dict]) -> str | None:
        """The offered tool (not the target) about the same thing as the target ('a product': get_product,
        search_products) closest to it by word overlap: a plausible wrong guess; None if no other is."""
        want = set(tokens(f"{self.target.name} {self.target.description}"))
        topic = entity_of(self.target.name).split()[-1:]
        others = [
            t["function"]
            for t in offered
            if t["function"]["name"] != self.target.name
            and topic
            and topic[0] in {singular(w) for w in tokens(t["function"]["name"])}
        ]
        scored = sorted(
            others, key=lambda f: (-len(want & set(tokens(f"{f['name']} {f.get('description', '')}"))), f["name"])
        )
        return scored[0]["name"] if scored else None

    def held_source(self) -> bool:
        """Whether the request names what holds the withheld value as the user's own ('the country of my order')."""
        return (
            self.source is not None
            and entity_of(self.source.name).split()[-1:] != []
            and entity_of(self.source.name).split()[-1] in HELD
        )

    def source_relation(self) -> str:
        """What the withheld value is to the source's one input, when a person would know that much: 'the capital
        city of a country'; '' for a source the user holds (their order: the request already said so)."""
        if self.source is None or len(self.source.arguments) != 1:
            return ""
        entity, given = entity_of(self.source.name), param_phrase(next(iter(self.source.arguments)))
        noun = re.sub(r" (?:code|id|name)$", "", given)
        if entity.split()[-1] in HELD or entity == "result" or noun == given:
            return ""
        return f"the {entity} of {article(noun)}"

    def source_named(self) -> bool:
        """Whether a person names the source's inputs as things ('order ord_1001', 'Australia'); a search's
        words and limits are not a thing's name ('It's query "kitchen" and max price eur 60' is no answer)."""
        return self.source is not None and all(
            spoken.code_name(v, k) or tokens(snake(k))[-1:] in [[kind] for kind in ID_KINDS]
            for k, v in self.source.arguments.items()
        )

    def forgettable(self) -> bool:
        """Whether a person may not know the withheld value: an id or a code, but not one that names a thing they
        know by name (a language code: they know their language)."""
        value = self.target.arguments.get(self.withheld) if self.withheld else None
        kind = tokens(snake(self.withheld or ""))[-1:]
        return kind in [[k] for k in ID_KINDS] and not spoken.code_name(value, self.withheld or "")

    def purpose_of(self, name: str) -> str:
        """What a tool does, for a suggestion: a change said from its name where that reads as one ('add a product
        to the cart'; 'put a quantity of a product in the cart', its documentation, read as recited)."""
        tool = self.tools.get(name) or {}
        said = purpose(name, tool.get("parameters"))
        if is_action(name) and not said.startswith("look up") and not DANGLING.search(said):
            return said
        return purpose(name, tool.get("parameters"), tool.get("description") or "")

    def searched(self) -> bool:
        """Whether the left-out value is the words a search looks for ('kitchen' for search_products)."""
        return self.withheld in QUERY_PARAMS and snake(self.target.name).startswith(SEARCHES)

    def pick(self, key: str, **fields) -> str:
        return self.rng.choice(self.phrases[key]).format(**fields)

    def request(self, param: str) -> tuple[str, dict]:
        """The system's question for the withheld value."""
        t = self.target
        if self.scenario not in ("fail_inform", "missing_parameter"):
            param = re.sub(r" code$", "", param)  # 'Which language do you mean?': a person names it, not its code
            if param in ("name", *QUERY_PARAMS) and entity_of(t.name) != "result":
                param = entity_of(t.name)  # find_country(name): 'Which country do you mean?', not 'Which name
        if self.scenario == "suggest_affirm":  # 'What product and quantity should I use?'
            needs = ((self.tools.get(t.name) or {}).get("parameters") or {}).get("required") or [self.withheld]
            names = [re.sub(r" code$", "", param_phrase(k)) for k in needs]
            return self.pick("request_all", params=join(list(dict.fromkeys(names)))), {}
        if self.searched():  # 'What should I search for?', not 'Which product do you mean?'
            return self.pick("request_query"), {}
        if isinstance(t.arguments.get(self.withheld), int) and param.endswith("s"):
            return self.pick("request_count", param=param), {}  # 'How many days?'
        schema = ((self.tools.get(t.name) or {}).get("parameters") or {}).get("properties", {}).get(self.withheld) or {}
        options = [str(v) for v in schema.get("enum") or []]
        if 2 <= len(options) <= 5 and all(re.fullmatch(r"[a-z][a-z ]*", o) for o in options):  # 'car, train or plane?'
            return self.pick("request_options", param=param, options=", ".join(options[:-1]) + " or " + options[-1]), {}
        return self.pick("request", param=param), {}

    def fail_inform(self, param: str) -> str:
        """The user cannot give the value: they say what it is to something they name, that they would have to
        find it (a search: not 'I'm not sure what the product is'), or that they do not know it."""
        if self.scenario == "missing_parameter" and (what := self.source_relation()):
            return self.pick("fail_inform_source", param=param, relation=what)  # it's the capital of a country
        if self.scenario == "missing_parameter" and not self.source_named():
            return self.pick("fail_inform_search", param=param)
        return self.pick("fail_inform", param=param)

    def utterance(self, action: str) -> tuple[str, dict]:
        if self.scenario == FOLLOW_UP and action in ("inform_intent_clear", "inform_intent_followup"):
            step = self.task.chain[self.step]  # a value from the last answer is referred to, not a fact to spell
            return follow_up_request(self.task, self.step, self.rng), {
                k: v for k, v in step.arguments.items() if k not in step.bindings
            }
        return self._utterance(action)

    def _utterance(self, action: str) -> tuple[str, dict]:
        t, param = self.target, param_phrase(self.withheld or "")
        if action in ("inform_intent_clear", "inform_intent_clear_add"):
            self.current = self.extra if action == "inform_intent_clear_add" else self.current
            return render_example(self.current, self.rng), self.current.chain[-1].arguments
        if action == "inform_intent_missing":  # the request, with the withheld value left out as a person would
            given = {k: v for k, v in t.arguments.items() if k != self.withheld}
            source = entity_of(self.source.name) if self.scenario == "missing_parameter" else ""
            source = source if source.split()[-1:] and source.split()[-1] in HELD else ""  # not 'of my city'
            return withholding_request(
                Task(self.task.task_id, "single", [t], self.task.seed, self.task.meta), self.withheld, self.rng, source
            ), given  # 'the country of my order'
        changes = is_action(t.name)  # a call that changes something is not opened as a question about it
        if action == "inform_intent_vague":
            return self.pick(action + "_change" * changes, a_topic=a_topic(t.name)), {}
        if action == "request":
            return self.request(param)
        if action == "fail_inform":
            return self.fail_inform(param), {}
        if action == "response_fail":
            return self.pick(action, param=param), {}
        if action == "request_source" and not self.source_named():  # a search: the user says what they look for
            return self.pick("request_search", entity=param), {}  # 'find the product', not the cart it goes in
        if action == "request_source":  # 'Which country is it?' where a person names it, not its code
            names = " and ".join(
                re.sub(r" code$", "", param_phrase(k)) if spoken.code_name(v, k) else param_phrase(k)
                for k, v in self.source.arguments.items()
            )
            return self.pick(action, param=param, entity=entity_of(self.source.name), source_params=names), {}
        if action == "inform_source" and not self.source_named():  # 'Search the shop for "kitchen".'
            return render_example(
                Task(self.task.task_id, "single", [self.source], self.task.seed, self.task.meta), self.rng
            ), dict(self.source.arguments)
        if action == "inform_source":  # an answer to 'Which order should I use?': 'It's order ord_1001.'
            said = stated(self.source.arguments, asked=True)
            capital = said[:1].upper() + said[1:]
            return self.pick(action, stated=said, stated_capital=capital), dict(self.source.arguments)
        if action == "inform":
            if self.scenario == "suggest_affirm":  # after agreeing, the user says the whole request
                return render_example(self.current, self.rng), dict(t.arguments)
            value = t.arguments[self.withheld]
            enum = ((self.tools.get(t.name) or {}).get("parameters") or {}).get("properties", {}).get(
                self.withheld, {}
            ).get("enum") or []
            said = str(value) if value in enum else spoken.written(value, self.withheld)  # 'It's train.', no quotes
            key = "inform_query" if self.searched() and self.scenario != "missing_parameter" else action
            return self.pick(key, param=param, value=said), {self.withheld: value}
        if action == "suggest":  # only a change is suggested (scenario_for): 'Shall I add a product to the cart?'
            return self.pick(action, tool_purpose=self.purpose_of(t.name)), {}
        if action == "suggest_other":
            other = self.purpose_of(self.other) if self.other else "help with something else"
            return self.pick("suggest", tool_purpose=other), {}
        return self.pick(action + "_change" * (changes and f"{action}_change" in self.phrases)), {}
