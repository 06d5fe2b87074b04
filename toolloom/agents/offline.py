"""Offline agents: deterministic, seeded, template-phrased, and weak on purpose (DESIGN section 7).

The user fills utterance templates from tool metadata; the assistant picks a tool by BM25 over
the offered tools' documentation and fills arguments from values it can find in the request.
"""

from __future__ import annotations

import json
import random
import re

from rank_bm25 import BM25Plus

from ..answers.sentence import answer_from
from ..prompts import render
from ..domain import Task, Tool, known_values
from ..text.tool_names import FAMILY, parse_name, words_of
from ..text import spoken
from ..text.purposes import DANGLING, purpose
from ..text.wording import render_example
from ..text.words import STOPWORDS, tokens
from .base import AssistantTurn
from .reading import Results, fill_arguments, references
from .unnest import plan

__all__ = ["RetrievalAssistant", "Results", "TemplateEscalator", "TemplateUser", "decline", "fill_arguments"]


# what a request's clause asks to do, by its first word ('For the file ..., delete ...'), and what a tool does
_CLAUSE_VERB = re.compile(r"(?:^|[,.;?]\s+|\b(?:then|also)\s+)([a-z]+)")  # not 'and': '... and get a refund'
_ACTS = {
    "get": "read",
    "list": "read",
    "search": "read",
    "thing": "read",
    "create": "create",
    "update": "update",
    "set": "update",
    "delete": "delete",
    "compute": "compute",
}


_REMOVAL = re.compile(r"\b(?:stop|drop|discard|erase|purge|undo|withdraw|terminate|abort|trash|call (?:it )?off)\b")


def _asks_removal(request: str) -> bool:
    """Whether a request asks to delete, cancel or remove something ('Could you call off order ...?')."""
    return any(FAMILY.get(w) == "delete" for w in tokens(request)) or bool(_REMOVAL.search(request.lower()))


class TemplateUser:
    name = "offline-template-user"

    async def instruction(self, task: Task) -> str:
        return render_example(task, random.Random(f"{task.task_id}:{task.seed}"))

    async def propose_arguments(self, tool: Tool, k: int, hints: dict) -> list[dict]:
        """Offline, arguments come from the schema (toolloom.text.synthesis), not from a user agent."""
        return []

    async def details(self, task: Task, request: str, question: str) -> str:
        values = known_values(task)
        return (
            "Here are the details: "
            + ", ".join(f"{k.replace('_', ' ')} {spoken.listed(v) or json.dumps(v)}" for k, v in values.items())
            + "."
        )


def decline(tools: list[dict]) -> str:
    """No offered tool fits: say so, and what the offered tools do (from their names)."""
    abilities = []
    for f in (t["function"] for t in tools):  # short, from the name; where it reads as no phrase ('look up the
        said = purpose(f["name"], f.get("parameters"))  # days between'), from the documentation, else unsaid
        said = purpose(f["name"], f.get("parameters"), f.get("description") or "") if DANGLING.search(said) else said
        abilities += [said] if not DANGLING.search(said) and said not in abilities else []
    return render("simulate/decline.j2", abilities=abilities[:4]).strip()


class RetrievalAssistant:
    """BM25 tool choice plus argument filling; answers from the tool results it got."""

    name = "offline-bm25-assistant"

    async def step(self, messages: list[dict], tools: list[dict]) -> AssistantTurn:
        return self.decide(messages, tools)

    async def answer(self, messages: list[dict], tools: list[dict]) -> AssistantTurn:
        return AssistantTurn(answer_from(messages), None)

    def decide(self, messages: list[dict], tools: list[dict]) -> AssistantTurn:
        """Turn k makes the calls of the request's k-th part ('Then, ' separates parts, 'Also, '
        separates calls made together; a value named by where it comes from, 'the currency of Japan', is
        looked up first), with values from earlier results where the request says so."""
        request = next(m["content"] for m in messages if m["role"] == "user")
        turns_planned = plan(request, tools)
        turns = sum(1 for m in messages if m["role"] == "assistant" and m.get("tool_calls"))
        results = [m["content"] for m in messages if m["role"] == "tool"]
        summary = answer_from(messages)
        if turns >= len(turns_planned) or (results and '"error"' in results[-1][:20]):
            return AssistantTurn(summary, None)
        context = Results(
            [json.loads(r) for r in results], [m.get("name") or "" for m in messages if m["role"] == "tool"]
        )
        calls = [
            c
            for c in (
                self.best_call(text, [t for t in tools if only in (None, t["function"]["name"])], context)
                for text, only in turns_planned[turns]
            )
            if c
        ]
        if not calls:
            return AssistantTurn(summary if results else decline(tools), None)
        n = sum(len(m.get("tool_calls") or []) for m in messages if m["role"] == "assistant")
        return AssistantTurn(
            None,
            [
                {
                    "id": f"call_{n + k}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)},
                }
                for k, (name, args) in enumerate(calls)
            ],
        )

    @staticmethod
    def best_call(request: str, tools: list[dict], context=None) -> tuple[str, dict] | None:
        if not tools:
            return None
        docs = []
        for t in tools:
            f = t["function"]
            params = " ".join(
                f"{k} {p.get('description', '')}" for k, p in (f.get("parameters", {}).get("properties") or {}).items()
            )
            docs.append(tokens(f"{f['name']} {f.get('description', '')} {params}") or ["_"])
        query = tokens(request)
        # BM25+ keeps idf positive when a word is in most of the few offered tools
        scores = BM25Plus(docs).get_scores(query)
        acts = {_ACTS.get(FAMILY.get(w)) for w in _CLAUSE_VERB.findall(request.lower())} - {None}
        if acts:  # 'delete the checkpoint' is the DELETE operation, not the one that mentions checkpoints most
            scores = [
                s * (1.5 if _ACTS.get(parse_name(words_of(t["function"]["name"]))[0]) in acts else 1.0)
                for s, t in zip(scores, tools)
            ]
        words = set(query) - STOPWORDS
        # a request that refers to an earlier result ("that country's region") wants a tool that takes it, and of
        # those the one that takes most of what it says ('1250 plus VAT of that country': add_vat, not place_order)
        referred = bool(context) and bool(references(request + " ", context)[0])
        fitting = []
        for i in sorted(range(len(tools)), key=lambda i: -scores[i]):
            f = tools[i]["function"]
            if parse_name(words_of(f["name"]))[0] == "delete" and not _asks_removal(request):
                continue  # 'Has my order shipped?' never cancels it: a deletion is made only when asked for
            args = fill_arguments(request, f.get("parameters") or {}, context)
            if args is None:
                continue
            # without a word in common, only a tool whose required inputs the request supplies will do
            if words & set(docs[i]) or (f.get("parameters") or {}).get("required"):
                if not referred:
                    return f["name"], args
                takes = fill_arguments(request, f.get("parameters") or {}) != args  # the reference changes the call
                fitting.append((not takes, -len(args), len(fitting), f["name"], args))
        return min(fitting)[3:] if fitting else None


class TemplateEscalator:
    """Offline escalator: the structural operators' template request, without rewording (DESIGN 7)."""

    name = "offline-template-escalator"

    async def phrase(self, task: Task, operator: str | None, previous: str | None) -> str:
        return render_example(task, random.Random(f"{task.task_id}:{task.seed}"))
