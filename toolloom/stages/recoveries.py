"""Recover examples: a call fails with a real error from the tool, and the assistant corrects it.

The user states a value the way people write it ("Tokyo", "eur", "18/05/2026"); the assistant
passes it on as written, the tool (really executed) rejects it, and the assistant calls again with
the form the tool takes, then answers. Only learnable recoveries are kept: the error message, or
the parameter's documentation, shows the accepted form (the value itself, or the format it must
have). A task none of whose values gives such an error yields no recover example (a rejection
`no_recoverable_error`, counted like any).
"""

from __future__ import annotations

import json
import random
import re
from datetime import date

from ..domain import Episode, Step, Task
from ..text.spoken import documented_examples
from ..text.purposes import param_phrase
from ..text.wording import render_example
from ..answers.sentence import answer_from
from ..checks.arguments import argument_errors
from ..executors.routing import ToolExecutor
from ..llm import BudgetExhausted, ModelCallError
from ..messages import normalise
from ..agents.realisers import Realiser

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FORMAT_HINT = re.compile(r"YYYY|must (be|look)|one of|supported|available|expected|valid", re.IGNORECASE)


def user_forms(value) -> list[str]:
    """How a person might write a value a tool wants in another form."""
    if not isinstance(value, str) or not value.strip():
        return []
    if _ISO_DATE.match(value):
        try:
            d = date.fromisoformat(value)
        except ValueError:
            return []
        return [d.strftime("%d/%m/%Y"), d.strftime("%B %-d, %Y")]
    if value == value.upper():  # a code: 'eur' (a person does not shout 'TOKYO' or write 'Eur')
        forms = [value.lower()]
    elif value == value.lower():  # a slug or a word: 'Cape Town'
        forms = [value.replace("_", " ").title()]
    else:
        forms = [value.replace("_", " ").title(), value.lower()]
    return [f for f in dict.fromkeys(forms) if f != value]


def _case(text: str) -> str:
    return "lower" if text == text.lower() else "upper" if text == text.upper() else "mixed"


def learnable(error: str, canonical: str, form: str, doc: str) -> bool:
    """The error or the parameter's documentation shows the accepted form: it names the value, states
    the format, or gives an example written like the value and unlike the user's form ('such as tokyo')."""
    if canonical in error or canonical in doc or _FORMAT_HINT.search(error):
        return True
    examples = documented_examples(doc)
    return any(_case(x) == _case(canonical) != _case(form) for x in examples)


async def find_failure(step: Step, executor: ToolExecutor, rng: random.Random):
    """(parameter, user form) of a schema-valid user form the tool rejects with a learnable error, or
    None. Each form is tried in an episode of its own, so a probe never changes the example's state."""
    tool = executor.by_name[step.name]
    schema = tool["parameters"]
    spots = [(k, f) for k, v in step.arguments.items() for f in user_forms(v)]
    rng.shuffle(spots)
    for param, form in spots:
        arguments = {**step.arguments, param: form}
        if argument_errors(schema, arguments):  # a schema violation is the format check's business, not a tool error
            continue
        probe = executor.episode()
        try:
            obs = await probe.call(step.name, arguments)
        finally:
            probe.close()
        doc = str(((schema.get("properties") or {}).get(param) or {}).get("description") or "")
        if not obs.ok and learnable(obs.error or "", str(step.arguments[param]), form, doc):
            return param, form
    return None


async def run_recovery(
    task: Task,
    system: Realiser,
    executor: ToolExecutor,
    offered: list[dict],
    system_prompt: str,
    phrases: dict,
    rng: random.Random,
) -> Episode:
    """An episode like simulate.run_episode's; outcome `no_recoverable_error` when no value gives
    one. Never raises for model trouble (the outcome says what happened)."""
    step = task.chain[0]
    messages: list[dict] = [{"role": "system", "content": system_prompt}]
    calls: list[dict] = []
    found = await find_failure(step, executor, rng)
    if found is None:
        return no_recoverable_error(step, messages)
    param, form = found
    episode = executor.episode()
    try:
        said = as_user_wrote(task, param, form)
        messages.append({"role": "user", "content": render_example(said, rng)})
        for k, arguments in enumerate((said.chain[0].arguments, step.arguments)):
            text = json.dumps(arguments, ensure_ascii=False)
            content = None
            if k:  # what went wrong and what changes, before the corrected call
                example = rng.choice(phrases["recover"]).format(
                    param=param_phrase(param), wrong=json.dumps(form), value=json.dumps(step.arguments[param])
                )
                content = await system.utter("assistant", "recover", example, {"error": calls[0]["error"]}, messages)
            obs = await episode.call(step.name, arguments)
            _record_call(messages, calls, f"call_{k}", step.name, text, content, obs)
        final = answer_from(messages[:2] + messages[-2:])  # the request and the corrected call's result
        messages.append({"role": "assistant", "content": final})
        ok = calls[-1]["ok"]
        outcome, error = ("answered", "") if ok else ("tool_error", calls[-1]["error"])
    except BudgetExhausted as e:
        final, outcome, error = None, "budget_exhausted", str(e)
    except ModelCallError as e:
        final, outcome, error = None, "model_error", str(e)
    finally:
        episode.close()
    return {
        "messages": [normalise(m) for m in messages],
        "calls": calls,
        "final_answer": final if outcome == "answered" else None,
        "outcome": outcome,
        "error": error,
    }


def no_recoverable_error(step: Step, messages: list[dict]) -> Episode:
    return {
        "messages": messages,
        "calls": [],
        "final_answer": None,
        "outcome": "no_recoverable_error",
        "error": f"no value of {step.name}'s call, written as a user might, gives an error that shows the "
        "accepted form",
    }


def as_user_wrote(task: Task, param: str, form: str) -> Task:
    """The one-step task with `param` in the user's form."""
    step = task.chain[0]
    return Task(
        task.task_id,
        task.shape,
        [Step(step.tool_id, step.name, step.description, {**step.arguments, param: form})],
        task.seed,
        task.meta,
    )


def _record_call(messages: list[dict], calls: list[dict], call_id: str, name: str, text: str, content, obs) -> None:
    """The assistant's call message, its record in `calls`, and the tool's reply."""
    messages.append(
        {
            "role": "assistant",
            "content": content,
            "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}],
        }
    )
    calls.append({"name": name, "arguments": text, "ok": obs.ok, "error": obs.error, "answered_by": obs.answered_by})
    messages.append({"role": "tool", "tool_call_id": call_id, "name": name, "content": obs.to_json()})
