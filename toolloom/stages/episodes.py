"""One simulated episode (ToolAlpaca): the user asks, the assistant calls the offered tools until it
answers, the executor answers each call; and the tools an episode offers (the needed ones among
distractors). Shared by simulation and escalation (the frontier's attempts).
"""

from __future__ import annotations

import json
import re

import numpy as np

from ..agents.base import AssistantAgent, UserAgent
from ..checks.arguments import parse_arguments
from ..checks.focus import named_tools, raw_result
from ..checks.invented import known_text, unstated_optional
from ..checks.misreports import answer_problem, check_completeness
from ..domain import Episode, Task, Tool
from ..executors.routing import ToolExecutor
from ..llm import BudgetExhausted, ModelCallError, RunawayOutput, text_calls
from ..llm.structured import UnusableAnswer
from ..messages import normalise, to_openai
from ..retrieval import SparseBM25
from ..agents.offline import TemplateUser
from ..answers.sentence import answer_from
from ..text.words import tokens

MAX_CLARIFICATIONS = 2
ANSWER_ASKS = 2  # a misreporting answer asked again: greedily, then one sample
# Who wrote a request in the plain wording after the model user's request was refused twice (DESIGN 3.2)
PLAIN_FALLBACK = f"{TemplateUser.name} (the model's request was refused)"
PLAIN_ANSWER = "(the final answer in plain wording: the model's misreported the results)"
# Episodes running at once. Above any endpoint's request limit on purpose: an episode between two
# requests (executing a tool, rendering a prompt) must not leave a request slot idle.
EPISODES_IN_FLIGHT = 1024


def openai_tool(tool: Tool) -> dict:
    return {
        "type": "function",
        "function": {"name": tool["name"], "description": tool["description"], "parameters": tool["parameters"]},
    }


class Distractors:
    """Tools offered beside the needed ones, chosen by BM25 similarity to the needed tools' docs."""

    def __init__(self, tools: list[Tool]):
        self.tools = tools
        self.index = SparseBM25([tokens(f"{t['name']} {t['description']}") or ["_"] for t in tools]) if tools else None
        self.name_rank = np.argsort(np.argsort([t["name"] for t in tools], kind="stable")) if tools else None

    def offer(self, needed: list[dict], k: int) -> list[dict]:
        """The tools an episode offers (OpenAI format): the needed ones and k distractors, sorted by
        name so the needed tool does not always come first. A tool a chain calls twice is offered once."""
        needed = list({t["name"]: t for t in needed}.values())
        return sorted((openai_tool(t) for t in needed + self.pick(needed, k)), key=lambda t: t["function"]["name"])

    def unrelated(self, needed: list[dict], k: int) -> list[dict]:
        """k tools as far from the needed ones as retrieval can tell (lowest BM25 score, ties by
        name): an offer in which no tool fits the request (an abstain example)."""
        if not self.index or k == 0:
            return []
        names = {t["name"] for t in needed}
        scores = self.index.get_scores(tokens(" ".join(f"{t['name']} {t['description']}" for t in needed)))
        far = []
        for i in np.lexsort((self.name_rank, scores)):
            if self.tools[i]["name"] not in names and len(far) < k:
                names.add(self.tools[i]["name"])
                far.append(self.tools[i])
        return sorted((openai_tool(t) for t in far), key=lambda t: t["function"]["name"])

    def pick(self, needed: list[dict], k: int) -> list[dict]:
        if not self.index or k == 0:
            return []
        query = tokens(" ".join(f"{t['name']} {t['description']}" for t in needed))
        names = {t["name"] for t in needed}
        scores = self.index.get_scores(query)
        ranked = np.lexsort((self.name_rank, -scores))  # best score first, ties by name
        out = []
        for i in ranked:
            if self.tools[i]["name"] not in names:  # a name offered twice (two collections' tools) is offered once
                names.add(self.tools[i]["name"])
                out.append(self.tools[i])
                if len(out) == k:
                    break
        return out


async def _request(task: Task, user: UserAgent, plain_fallback: bool) -> tuple[str, dict]:
    """The user's request, and who wrote it where not the user agent (the plain wording after a refused one)."""
    try:
        return await user.instruction(task), {}
    except UnusableAnswer:
        if not plain_fallback:
            raise
        return await TemplateUser().instruction(task), {"user_agent": PLAIN_FALLBACK}


async def run_episode(
    task: Task,
    user: UserAgent,
    assistant: AssistantAgent,
    executor: ToolExecutor,
    offered: list[dict],
    system_prompt: str,
    max_turns: int,
    plain_fallback: bool = False,
    plain_answer: bool = False,
) -> Episode:
    """One single-request episode. Never raises for model or tool trouble: the outcome says what happened.
    `plain_fallback`: a request refused twice is the plain wording shown to the user (`_request`); `plain_answer`:
    an answer still misreporting when asked again is the plain one composed from the results (`_checked_answer`)."""
    episode, messages, calls = executor.episode(), [{"role": "system", "content": system_prompt}], []
    outcome, error, final, clarifications, answer_asked, mended = "answered", "", None, 0, False, {}
    offered_names, wrote = {t["function"]["name"] for t in offered}, {}
    try:
        request, wrote = await _request(task, user, plain_fallback)
        messages.append({"role": "user", "content": request})
        for left in range(max_turns, 0, -1):
            history = [to_openai(m) for m in messages]
            turn = await assistant.step(history, offered)
            if calls and hasattr(assistant, "answer") and _answer_due(turn, messages, left == 1, offered):
                # repeated calls, turns spent, nothing said or calls narrated: asked without tools (small models loop)
                turn, answer_asked = await assistant.answer(history, offered), True
                if text_calls.recover(turn.content, offered_names).looked_like_call:
                    messages.append(turn.message())
                    outcome, error = "no_final_answer", "asked for its answer, the assistant wrote a tool call again"
                    break
            _drop_narration(turn, offered_names)
            _drop_unstated(turn, messages, offered)
            messages.append(turn.message())
            if ended := _ended(turn):
                outcome, error = ended
                break
            if not turn.tool_calls:
                text = (turn.content or "").strip()
                if text.endswith("?") and not calls and clarifications < MAX_CLARIFICATIONS:
                    clarifications += 1  # a clarifying question before any call: the user answers it
                    messages.append({"role": "user", "content": await user.details(task, messages[1]["content"], text)})
                    continue
                if not (final := text):
                    outcome, error = "empty_answer", "assistant ended without calling a tool or answering"
                elif calls and hasattr(assistant, "answer_again"):
                    final, mended = await _checked_answer(assistant, messages, calls, offered, final, plain_answer)
                break
            await _answer_calls(turn, offered_names, episode, calls, messages)
        else:
            outcome, error = "turn_limit", f"no final answer within {max_turns} assistant turns"
    except BudgetExhausted as e:
        outcome, error = "budget_exhausted", str(e)
    except ModelCallError as e:  # runaway output: the model's failure (it wrote to its limit), not the endpoint's
        outcome, error = "runaway_output" if isinstance(e, RunawayOutput) else "model_error", str(e)
    finally:
        episode.close()
    row = {"messages": [normalise(m) for m in messages], "calls": calls, "final_answer": final, "error": error}
    return row | {"outcome": outcome, "answer_asked": answer_asked, **mended, **wrote}


async def _checked_answer(assistant, messages: list, calls: list, offered: list[dict], answer: str, plain: bool):
    """(the final answer, what the episode row says of it): an answer that misreports the results (`answer_problem`:
    'Doctor Who is available on Netflix') or leaves out what was asked is asked again (twice at most); a new one
    replaces it where it has no such problem and is no call (`answer_repaired`); else, with `plain`, the plain answer
    composed from the results where that has none (its `assistant_agent` says so: the 0.5B model mended 1 of about
    12 such answers when asked again, and they were half of the TMDB rejections)."""
    problem = misreport(messages[:-1], calls, answer)
    names = {t["function"]["name"] for t in offered}
    for attempt in range(ANSWER_ASKS if problem else 0):
        again = await assistant.answer_again([to_openai(m) for m in messages], offered, problem, attempt)
        better = (again.content or "").strip()
        if better and not text_calls.recover(better, names).looked_like_call and not echoes(better, problem):
            if not misreport(messages[:-1], calls, better):
                messages[-1] = {"role": "assistant", "content": better}
                return better, {"answer_repaired": True}
    composed = answer_from(messages[:-1]) if problem and plain else ""
    if composed and not misreport(messages[:-1], calls, composed):
        messages[-1] = {"role": "assistant", "content": composed}
        return composed, {"assistant_agent": f"{assistant.name} {PLAIN_ANSWER}"}
    return answer, {}


def echoes(answer: str, problem: str, run: int = 4) -> bool:
    """The answer says back `run` words in a row of the problem it was asked again with: the 0.5B model answered
    'The final answer states Guernika is Guernica's, one of 5 records.', which no check of the results refused."""
    said, told = re.findall(r"\w+", answer.lower()), re.findall(r"\w+", problem.lower())
    runs = {tuple(told[i : i + run]) for i in range(len(told) - run + 1)}
    return any(tuple(said[i : i + run]) in runs for i in range(len(said) - run + 1))


def misreport(before: list, calls: list, answer: str) -> str:
    """What an answer after the conversation `before` says that the results do not, or leaves out of what the
    request asks ('Brad Pitt is an American actor.' for his details), by the filter's checks (the last result
    standing in for the reference answer), or ""."""
    traj = {"messages": [normalise(m) for m in before], "calls": calls}
    results = [m["content"] for m in traj["messages"] if m["role"] == "tool"]
    found = answer_problem(traj, answer, results)
    if not found and results:
        found = check_completeness(traj | {"reference_answer": results[-1], "final_answer": answer})
    return found[1] if found else ""


async def _answer_calls(turn, offered_names: set[str], episode, calls: list, messages: list) -> None:
    """Each call of the turn executed, recorded in `calls`, its result appended to `messages`."""
    for call in turn.tool_calls:
        record, answered = await answer_call(call, turn, offered_names, episode)
        calls.append(record)
        messages.append(answered)


def _ended(turn) -> tuple[str, str] | None:
    """A turn the episode ends on: a call written as text that names no offered tool or is not JSON; a made-up
    parameter kept after the API's 400 (no request more for an example the format check rejects)."""
    if turn.unreadable_call:
        return "unreadable_tool_call", turn.unreadable_call
    return ("refused_call", turn.refused) if turn.refused else None


def _drop_narration(turn, offered_names: set[str]) -> None:
    """'I will call the `get_capital_city` function with ...' beside the call: the call says it, the text only
    teaches a model to narrate its calls (kept in the call's record as dropped)."""
    if turn.tool_calls and named_tools(turn.content or "", list(offered_names)):
        turn.dropped, turn.content = [*turn.dropped, f"the turn's text: {turn.content[:200]}"], None


def _drop_unstated(turn, messages: list[dict], offered: list[dict]) -> None:
    """An optional text argument that nothing said, removed before the call runs (kept in the call's record as
    dropped): the 0.5B model's `region: "US"` on 'Show me the upcoming movies.' narrowed the answer, and the
    filter refused 3 of 28 TMDB examples for it (`unasked_values`)."""
    parameters = {t["function"]["name"]: t["function"].get("parameters") or {} for t in offered}
    said = [m.get("content") or "" for m in messages if m["role"] in ("user", "tool")]
    known = known_text(said, [v for v in (_json(t) for t in said) if v is not None])
    for call in turn.tool_calls or []:
        name, written = call["function"]["name"], call["function"].get("arguments")
        args, problem = parse_arguments(written)
        unstated = (
            [] if problem or not isinstance(args, dict) else unstated_optional(args, parameters.get(name, {}), known)
        )
        if unstated:
            turn.dropped = [*turn.dropped, f"unstated: {name}({', '.join(f'{k}={args[k]!r}' for k in unstated)})"]
            kept = {k: v for k, v in args.items() if k not in unstated}
            call["function"]["arguments"] = json.dumps(kept, ensure_ascii=False) if isinstance(written, str) else kept


def _json(text: str):
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return None


def _answer_due(turn, messages: list[dict], last_turn: bool, offered: list[dict]) -> bool:
    """Whether to ask for the answer without tools: the turn repeats answered calls, the turns are spent, or the
    assistant said nothing, or answered by naming the tools it called ('I called the `find_country` function')."""
    if turn.tool_calls:
        again = _repeated(turn.tool_calls, messages) or _paged_on(turn.tool_calls, messages)
        return again or _fed_back(turn.tool_calls, messages) or last_turn
    if raw_result(turn.content or ""):  # the result's JSON pasted back: asked for the answer in plain language
        return True
    text, results = (
        (turn.content or "").strip(),
        "\n".join(m.get("content") or "" for m in messages if m["role"] == "tool"),
    )
    return (not text and not turn.unreadable_call) or bool(
        named_tools(text, [t["function"]["name"] for t in offered], results)
    )


async def answer_call(call: dict, turn, offered_names: set[str], episode) -> tuple[dict, str]:
    """One tool call of a turn answered: (its record in `calls`, the tool message). A call to a tool not offered,
    or with arguments that are not JSON, is answered with an error and not executed."""
    name = call["function"]["name"]
    args, parse_error = parse_arguments(call["function"].get("arguments"))
    by = "none"
    if name not in offered_names:
        content, ok, err = (
            json.dumps({"error": {"status": 404, "message": f"unknown tool '{name}'"}}),
            False,
            (f"unknown tool '{name}'"),
        )
    elif parse_error:
        content, ok, err = json.dumps({"error": {"status": 400, "message": parse_error}}), False, parse_error
    else:
        obs = await episode.call(name, args)
        content, ok, err, by = obs.to_json(), obs.ok, obs.error, obs.answered_by
    record = {
        "name": name,
        "arguments": call["function"].get("arguments"),
        "ok": ok,
        "error": err,
        "call_source": turn.call_source,
        "answered_by": by,
    }
    if turn.dropped and call is turn.tool_calls[0]:  # once a turn: what the text reader left out
        record["dropped"] = turn.dropped
    return record, {"role": "tool", "tool_call_id": call["id"], "name": name, "content": content}


def _repeated(tool_calls: list[dict], messages: list[dict]) -> bool:
    """Every call of the turn was made before in this episode with the same arguments (and answered)."""
    made = {
        (c["function"]["name"], json.dumps(parse_arguments(c["function"].get("arguments"))[0], sort_keys=True))
        for m in messages
        for c in m.get("tool_calls") or []
    }
    return all(
        (c["function"]["name"], json.dumps(parse_arguments(c["function"].get("arguments"))[0], sort_keys=True)) in made
        for c in tool_calls
    )


_PAGING = re.compile(r"cursor|page|token|offset|next", re.I)


def _paged_on(tool_calls: list[dict], messages: list[dict]) -> bool:
    """Every call of the turn is an earlier call with only its paging changed, where the user asked for no page
    or more results: the 0.5B model called pages 1, 2 and 3 of similar shows once page 1 had answered."""
    unpaged = lambda c: (  # noqa: E731
        c["function"]["name"],
        json.dumps(
            {
                k: v
                for k, v in (parse_arguments(c["function"].get("arguments"))[0] or {}).items()
                if not _PAGING.search(k)
            },
            sort_keys=True,
        ),
    )
    made = {unpaged(c) for m in messages for c in m.get("tool_calls") or []}
    asked = " ".join(m.get("content") or "" for m in messages if m["role"] == "user")
    return not _MORE.search(asked) and all(unpaged(c) in made for c in tool_calls)


_MORE = re.compile(r"\b(page|pages|more|next|all|every)\b", re.I)


def _fed_back(tool_calls: list[dict], messages: list[dict]) -> bool:
    """Every call of the turn calls a tool again with a field of its own last result as the argument of that name,
    changed: 42.195 km -> {"value": 26.2188}, then value 26.2188 converted again (the 0.5B model loops so). A page
    cursor passed on is not this."""
    made, results = {}, {}
    for m in messages:
        for c in m.get("tool_calls") or []:
            made[c.get("id")] = (c["function"]["name"], parse_arguments(c["function"].get("arguments"))[0] or {})
        if m["role"] == "tool" and m.get("tool_call_id") in made:
            name, args = made[m["tool_call_id"]]
            result, _ = parse_arguments(m.get("content"))
            results[name] = (args, result if isinstance(result, dict) and "error" not in result else {})

    def fed(call: dict) -> bool:
        args, _ = parse_arguments(call["function"].get("arguments"))
        before, result = results.get(call["function"]["name"], ({}, {}))
        return any(
            k in result and v == result[k] and v != before.get(k) and not _PAGING.search(k)
            for k, v in (args or {}).items()
        )

    return bool(tool_calls) and all(fed(c) for c in tool_calls)
