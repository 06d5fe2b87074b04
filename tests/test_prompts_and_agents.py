import asyncio
import json
import re

import jinja2
import pytest

from toolloom.agents import build
from toolloom.domain import Step, Task
from toolloom.agents.offline import RetrievalAssistant, TemplateUser, fill_arguments
from toolloom.prompts import all_templates, render, template_hash

from .conftest import PROJECT

SAMPLE_VARS = {
    "simulate/user.j2": {
        "steps": [
            {
                "purpose": "Country facts",
                "about": "country",
                "stated": {"country_code": "FR"},
                "names": {"FR": "France"},
                "from_earlier": {},
            },
            {
                "purpose": "List its cities",
                "about": "city",
                "stated": {},
                "names": {},
                "from_earlier": {"country_code": "that country"},
            },
        ],
        "example": "What is the capital of FR?",
    },
    "simulate/assistant_system.j2": {"today": "2026-11-24"},
    "simulate/answer_now.j2": {},
    "simulate/answer_again.j2": {"problem": "the final answer states 1871, which nothing before it says"},
    "simulate/executor.j2": {
        "name": "get_weather",
        "description": "Weather now",
        "parameters": {"type": "object"},
        "returns": {"type": "object"},
        "arguments": {"city": "Oslo"},
        "example": {"temp_c": 3},
        "chosen": True,
        "history": [{"name": "get_weather", "arguments": {"city": "Bergen"}, "response": {"temp_c": 7}}],
    },
    "simulate/dialogue_turn.j2": {
        "speaker": "user",
        "action": "inform",
        "meaning": "give the value that was asked for",
        "facts": {"country_code": "FR"},
        "example": "The country code is FR.",
        "history": [{"role": "assistant", "content": "Which country code should I use?"}],
    },
    "simulate/user_details.j2": {
        "values": {"country_code": "FR"},
        "request": "Tell me about a country.",
        "question": "Which one?",
    },
    "tasks/propose.j2": {
        "name": "get_country",
        "description": "Country facts",
        "k": 2,
        "hints": {"country_code": ["FR"]},
        "parameters": {
            "type": "object",
            "properties": {"country_code": {"type": "string"}},
            "required": ["country_code"],
        },
    },
    "filter/judge.j2": {
        "tools": ["get_country"],
        "kind": "recover",
        "messages": [
            {"role": "user", "content": "Capital of FR?", "tool_calls": None},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"function": {"name": "get_country", "arguments": "{}"}}],
            },
        ],
    },
    "graph/validate_edge.j2": {
        "edge": {"src_slot": "city_id", "dst_slot": "city_id"},
        "src": {"name": "get_capital_city", "description": "Capital of a country"},
        "dst": {"name": "get_city", "description": "City facts", "parameters": {"type": "object"}},
        "src_slot_description": "",
    },
    "common/json_repair.j2": {"problem": "not valid JSON", "schema": {"type": "object"}},
    "escalate/reword.j2": {
        "draft": "What is the capital of FR? Then, tell me about the city id of that country.",
        "calls": [
            {"name": "get_capital_city", "arguments": {"country_code": "FR"}, "condition": ""},
            {"name": "get_city", "arguments": {}, "condition": ""},
            {
                "name": "get_vat_rate",
                "arguments": {"country_code": "SE"},
                "condition": "the population is above 1,000,000",
                "branches": [{"country_code": "SE"}, {"country_code": "DE"}],
            },
        ],
        "operator": "add_hop",
        "previous": "What is the capital of FR?",
    },
    "escalate/verify.j2": {
        "question": "What is the capital of FR?",
        "reference": {"city_id": "paris"},
        "steps": [{"name": "get_capital_city", "arguments": {"country_code": "FR"}, "result": {"city_id": "paris"}}],
    },
    "refine/document.j2": {
        "section": "parameters",
        "name": "get_vat_rate",
        "purpose": "",
        "returns": ["country_code", "standard_rate_percent"],
        "params": [
            {
                "name": "country_code",
                "type": "string",
                "required": True,
                "confirmed": True,
                "description": "ISO code",
                "allowed": None,
                "refused": "404: no VAT data for '<value>'",
            }
        ],
        "errors": ["404: no VAT data for '<value>'"],
        "example": {"arguments": {"country_code": "SE"}, "response": '{"standard_rate_percent": 25.0}'},
    },
    "simulate/decline.j2": {"abilities": ["convert an amount between currencies", "days between two dates"]},
    "export/hermes_system.j2": {
        "tools": '[{"type": "function", "function": {"name": "get_vat_rate"}}]',
        "instructions": "Be brief.",
    },
    "refine/explore.j2": {
        "name": "get_vat_rate",
        "documentation": "VAT rates.",
        "parameters": {"type": "object"},
        "example": {"country_code": "SE"},
        "suggestion": "try an unknown code",
        "earlier": ["VAT in Sweden?"],
        "rejected": ["VAT in Sweden, please?"],
    },
    "refine/analyze.j2": {
        "name": "get_vat_rate",
        "documentation": "VAT rates.",
        "explorations": [
            {
                "query": "VAT in Sweden?",
                "arguments": {"country_code": "SE"},
                "ok": True,
                "response": {"standard_rate_percent": 25.0},
                "error": "",
            }
        ],
        "failures": [{"source": "simulation", "problem": "called with {}: missing country_code"}],
    },
    "refine/rewrite.j2": {
        "name": "get_vat_rate",
        "original": "",
        "documentation": "VAT rates.",
        "findings": ["needs country_code"],
        "suggestion": "try an unknown code",
        "budget": 1200,
    },
}


def test_every_template_renders_strictly():
    names = all_templates()
    assert set(names) == set(SAMPLE_VARS), "add sample variables for each new template"
    for name in names:
        assert render(name, **SAMPLE_VARS[name])
        assert len(template_hash(name)) == 12


def test_missing_variable_is_an_error():
    with pytest.raises(jinja2.UndefinedError):
        render("simulate/user.j2", chain=[])


def test_fill_arguments_finds_values_by_type_format_and_pattern():
    schema = {
        "type": "object",
        "properties": {
            "amount": {"type": "number"},
            "from_currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "to_currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        },
        "required": ["amount", "from_currency", "to_currency"],
    }
    assert fill_arguments("How much is 99.5 CHF in SEK?", schema) == {
        "amount": 99.5,
        "from_currency": "CHF",
        "to_currency": "SEK",
    }
    assert fill_arguments("How much is it in SEK?", schema) is None
    dates = {
        "type": "object",
        "properties": {"start_date": {"type": "string", "format": "date"}, "days": {"type": "integer"}},
        "required": ["start_date", "days"],
    }
    assert fill_arguments("What date is -45 days after 2026-07-01?", dates) == {"start_date": "2026-07-01", "days": -45}


def _tools():
    specs = json.loads((PROJECT / "api_graphs/demo/money.json").read_text()) + json.loads(
        (PROJECT / "api_graphs/demo/geo.json").read_text()
    )
    return [{"type": "function", "function": s["function"]} for s in specs]


def test_offline_assistant_calls_the_right_tool_then_answers_from_results():
    a = RetrievalAssistant()
    msgs = [{"role": "user", "content": "How much is 250 EUR in JPY?"}]
    turn = asyncio.run(a.step(msgs, _tools()))
    call = turn.tool_calls[0]["function"]
    assert call["name"] == "convert_currency" and json.loads(call["arguments"]) == {
        "amount": 250,
        "from_currency": "EUR",
        "to_currency": "JPY",
    }
    msgs += [
        turn.message(),
        {"role": "tool", "tool_call_id": "call_0", "content": json.dumps({"amount": 45972.5, "currency": "JPY"})},
    ]
    final = asyncio.run(a.step(msgs, _tools()))
    assert final.tool_calls is None and "45,972.5" in final.content


def test_offline_assistant_declines_when_nothing_fits():
    turn = asyncio.run(RetrievalAssistant().step([{"role": "user", "content": "Sing me a song"}], _tools()))
    assert turn.tool_calls is None and turn.content.startswith("Sorry, I can't help with that here.")
    assert " I can only " in turn.content and turn.content.count(" and ") == 1  # what the offered tools do
    assert not re.search(r"\btools?\b", turn.content)  # said in the person's terms


def test_template_user_is_deterministic_and_uses_values():
    task = Task(
        "t1",
        "single",
        [
            Step(
                "demo.convert_currency",
                "convert_currency",
                "",
                {"amount": 5, "from_currency": "USD", "to_currency": "GBP"},
            )
        ],
        seed=3,
        meta={"demo.convert_currency": {"utterances": ["Convert {amount} {from_currency} to {to_currency}."]}},
    )
    text = asyncio.run(TemplateUser().instruction(task))
    assert text == "Convert 5 USD to GBP." == asyncio.run(TemplateUser().instruction(task))


def test_unknown_provider_is_a_clear_error():
    expected = r"unknown model provider 'nope' \(did you mean 'openai'\?\); known: llamacpp, offline, openai, vllm"
    with pytest.raises(ValueError, match=expected):
        build("nope", "user", None)


def test_an_argument_the_utterance_template_has_no_place_for_is_still_said():
    import random

    from toolloom.text.wording import render_example

    step = Step(
        "demo.list_cities", "list_cities", "Cities of a country", {"country_code": "US", "min_population": 3000000}
    )
    task = Task(
        "t",
        "single",
        [step],
        1,
        {"demo.list_cities": {"utterances": ["Which cities in {country_code} do you know about?"]}},
    )
    text = render_example(task, random.Random(1))
    assert text == "Which cities in the United States do you know about, with a population of at least 3,000,000?"
    schema = {
        "properties": {
            "country_code": {"type": "string", "pattern": "^[A-Z]{2}$"},
            "min_population": {"type": "integer"},
        },
        "required": ["country_code"],
    }
    assert fill_arguments(text, schema) == {"country_code": "US", "min_population": 3000000}


def test_a_model_users_request_may_state_a_code_or_date_as_a_person_says_it():
    """The 1.5B user wrote 'the United States', 'November 24, 2026', 'Sweden', 'US dollars': 15 of 51 episodes were
    lost as 'must state these values exactly as given'. A name or a spoken date stands; another value does not."""
    from toolloom.agents.requests import request_problems

    def task(**arguments):
        return Task("t", "single", [Step("d.next_holiday", "next_holiday", "", arguments)], 0, {})

    holiday = task(country_code="US", day="2026-11-24")
    assert request_problems(holiday, "What is the next holiday in the US after 2026-11-24?") == ""
    assert request_problems(holiday, "What's the next holiday in the United States after November 24th, 2026?") == ""
    assert request_problems(holiday, "Which holiday comes after 24 Nov 2026 in the United States?") == ""
    wrong_day = request_problems(holiday, "What's the next holiday in the United States after November 25, 2026?")
    assert "'2026-11-24'" in wrong_day and "'US'" not in wrong_day
    assert "'US'" in request_problems(holiday, "What's the next holiday in Canada after November 24, 2026?")
    money = task(amount=100, to_currency="USD", to_city_id="new_york")
    assert request_problems(money, "Convert 100 euros to US dollars for my trip to New York.") == ""
    assert "'USD'" in request_problems(money, "Convert 100 euros to yen for my trip to New York.")


def test_a_model_users_request_that_copies_the_tools_title_is_asked_again():
    """'Get Reviews Get the user reviews for movie 297761.' (the 0.5B user on TMDB; a blind read: bad)."""
    from toolloom.agents.requests import request_problems

    step = Step("t.reviews", "GET_movie-movie_id-reviews", "Get the user reviews for a movie.", {"movie_id": 297761})
    task = Task("t", "single", [step], 0, {"t.reviews": {"summary": "Get Reviews"}})
    assert "copies the tool's title" in request_problems(task, "Get Reviews Get the user reviews for movie 297761.")
    assert request_problems(task, "What do people say about movie 297761 in their reviews?") == ""
    # a request that opens with the title in other case: 'Get recommendations of TV show 31917?' (a blind read)
    assert "copies the tool's title" in request_problems(task, "Get reviews of movie 297761?")
    assert request_problems(task, "Can you get reviews of movie 297761?") == ""
    sentence = Task("t", "single", [step], 0, {"t.reviews": {"summary": "get the reviews"}})  # no title: a phrase
    assert request_problems(sentence, "Can you get the reviews of movie 297761?") == ""


def test_an_answer_that_talks_about_the_exchange_is_rejected():
    """'The answer to your request is: Suicide Squad. This answer is provided by the tool response you provided.'
    (the 0.5B assistant on TMDB; a blind read)."""
    from toolloom.checks.focus import check_focus
    from toolloom.spec import FilterStage

    def traj(answer: str) -> dict:
        return {
            "kind": "single_turn",
            "final_answer": answer,
            "messages": [
                {"role": "user", "content": "Show me the now playing movies."},
                {"role": "tool", "content": '{"results": [{"title": "Suicide Squad"}]}'},
                {"role": "assistant", "content": answer},
            ],
            "tools_offered": [],
        }

    talk = (
        "The answer to your request is:\n\nSuicide Squad\n\nThis answer is provided by the tool response you provided."
    )
    assert check_focus(traj(talk), FilterStage())[0] == "talks_about_the_exchange"
    assert check_focus(traj("Suicide Squad is now playing."), FilterStage()) is None
    # the 0.5B model in every role on the shipped tools, accepted before: a quoted question, a pasted result
    quoted = 'The answer to the question "Which movies are playing now?" is Suicide Squad.'
    assert check_focus(traj(quoted), FilterStage())[0] == "talks_about_the_exchange"
    for pasted in ('{"results": [{"title": "Suicide Squad"}]}', '```json\n[{"title": "Suicide Squad"}]\n```'):
        assert check_focus(traj(pasted), FilterStage())[0] == "raw_result", pasted
    assert check_focus(traj("{Suicide Squad} is playing."), FilterStage()) is None


def test_the_offline_assistant_deletes_only_when_asked_to():
    """'Any update on order ord_1002?' cancelled the order (a demo run: cancel_order's documentation shares more
    words with 'has it shipped' than the status lookup's); a cancellation asked in any words still cancels."""
    from .offline_episode import demo_tools

    tools = demo_tools("cancel_order", "get_order_status", "get_product")
    for question in ("Any update on order ord_1002?", "I ordered a while ago (ord_1002); has it shipped?"):
        assert RetrievalAssistant.best_call(question, tools)[0] == "get_order_status", question
    for asked in ("Could you call off order ord_1002?", "Stop order ord_1002 before it ships.", "Cancel ord_1002."):
        assert RetrievalAssistant.best_call(asked, tools)[0] == "cancel_order", asked


def test_a_yes_no_question_is_answered_yes_or_no_first():
    """'Is 2026-05-18 a holiday in Canada?' answered 'Victoria Day is a holiday in Canada.' (the 0.5B model; a blind
    reader: flawed); a polite request ('Can you express ...?') and a question of several parts are not held to it."""
    from toolloom.checks.focus import check_focus
    from toolloom.spec import FilterStage

    def verdict(request: str, answer: str):
        traj = {
            "kind": "single_turn",
            "final_answer": answer,
            "messages": [
                {"role": "user", "content": request},
                {"role": "tool", "content": '{"is_holiday": true, "name": "Victoria Day"}'},
                {"role": "assistant", "content": answer},
            ],
            "tools_offered": [],
        }
        return (check_focus(traj, FilterStage()) or ("",))[0]

    asked = "Is 2026-05-18 a holiday in Canada?"
    assert verdict(asked, "Victoria Day is a holiday in Canada.") == "yes_no_unsaid"
    assert verdict(asked, "Yes, 2026-05-18 is Victoria Day, a holiday in Canada.") == ""
    assert verdict("Can you express 42.195 km as mi?", "42.195 km is 26.2188 mi.") == ""
    assert verdict("Do you know the capital of Australia?", "The capital city of Australia is Canberra.") == ""
    assert verdict("Is 2026-12-25 a Monday, a Friday, or something else?", "2026-12-25 is a Friday.") == ""
    assert verdict("Is 2026-05-18 a holiday in Canada or not?", "Victoria Day is a holiday in Canada.") != ""
    assert verdict(asked + " Also, what is the next one?", "Victoria Day is a holiday in Canada.") == ""
