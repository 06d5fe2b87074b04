"""Model realisers (ToolDial's dialogue acts said by a model): what a small model writes for a turn is
used only where it says what the act must say; otherwise the plain example is said, and counted."""

import json

import pytest

from toolloom.agents.realisers import ModelRealiser
from toolloom.llm import run_async
from toolloom.llm.fake_server import FakeModel, FakeServer
from toolloom.prompts import DEFAULT_ROOT

from .conftest import fake_client

pytestmark = pytest.mark.services

CALL = {"id": "call_0", "type": "function", "function": {"name": "get_city", "arguments": '{"city_id": "cape_town"}'}}
RESULT = {"name": "Cape Town", "country_code": "ZA", "population": 4772846}
HISTORY = [
    {"role": "system", "content": "You are a helpful assistant with access to tools."},
    {"role": "user", "content": "How many people live in Cape Town?"},
    {"role": "assistant", "content": None, "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "call_0", "name": "get_city", "content": json.dumps(RESULT)},
]
EXAMPLE = "The population of Cape Town is 4,772,846."


def _said(tmp_path, replies, speaker, action, example, facts, history):
    model = FakeModel()
    model.enqueue(*({"content": r} for r in replies))
    with FakeServer(model) as server:
        realiser = ModelRealiser(fake_client(server, tmp_path / "c.sqlite"), DEFAULT_ROOT, "assistant")
        text = run_async(realiser.utter(speaker, action, example, facts, history))
    return text, realiser.fallbacks, model.history


def test_the_answer_is_the_model_s_own_turn_after_the_results(tmp_path):
    text, fallbacks, history = _said(
        tmp_path, ["About 4,772,846 people live in Cape Town."], "assistant", "response", EXAMPLE, RESULT, HISTORY
    )
    assert text == "About 4,772,846 people live in Cape Town." and fallbacks == 0
    sent = history[-1]["messages"]  # the conversation itself, no rewording prompt and no tools
    assert sent[-1]["role"] == "tool" and "tools" not in history[-1]


def test_an_answer_that_is_a_call_again_is_asked_with_the_note_and_one_that_says_nothing_is_not_used(tmp_path):
    call = '{"name": "get_city", "arguments": {"city_id": "cape_town"}}'
    text, fallbacks, history = _said(
        tmp_path, [call, "Cape Town has 4,772,846 people."], "assistant", "response", EXAMPLE, RESULT, HISTORY
    )
    assert text == "Cape Town has 4,772,846 people." and fallbacks == 0
    assert "answer my question" in history[-1]["messages"][-1]["content"]
    # the 0.5B model's 'Showing me the now playing movies.': states nothing the result says
    text, fallbacks, _ = _said(
        tmp_path / "b", ["<example>Showing me the city.</example>"], "assistant", "response", EXAMPLE, RESULT, HISTORY
    )
    assert text == EXAMPLE and fallbacks == 1


def test_a_reworded_request_loses_the_prompt_s_markup_and_keeps_every_value_the_example_states(tmp_path):
    history = HISTORY[:1]
    example, facts = "Which cities does ZA have with at least 3,000,000 people?", {"country_code": "ZA"}
    text, fallbacks, _ = _said(
        tmp_path,
        ["<example>What big cities are there in ZA?</example>"],
        "user",
        "inform_intent_clear",
        example,
        facts,
        history,
    )
    assert text == "What big cities are there in ZA?" and fallbacks == 0
    text, fallbacks, _ = _said(
        tmp_path / "b",
        ['"Which cities does South Africa have?"'],
        "user",
        "inform_intent_clear",
        example,
        facts,
        history,
    )
    assert text == example and fallbacks == 1  # ZA, which the example states, was left out


def test_a_turn_that_repeats_the_last_message_is_not_used(tmp_path):
    history = HISTORY[:2] + [{"role": "assistant", "content": "Which city do you mean?"}]
    text, fallbacks, _ = _said(
        tmp_path, ["Which city do you mean?"], "user", "inform", "Cape Town.", {"city_id": "cape_town"}, history
    )
    assert text == "Cape Town." and fallbacks == 1


def test_an_answer_written_to_the_token_limit_is_asked_with_the_note(tmp_path):
    model = FakeModel()
    model.enqueue({"content": "Cape " * 40, "finish_reason": "length"}, {"content": "Cape Town has 4,772,846 people."})
    with FakeServer(model) as server:
        realiser = ModelRealiser(fake_client(server, tmp_path / "c.sqlite"), DEFAULT_ROOT, "assistant")
        text = run_async(realiser.utter("assistant", "response", EXAMPLE, RESULT, HISTORY))
    assert text == "Cape Town has 4,772,846 people." and realiser.fallbacks == 0
    assert "answer my question" in model.history[-1]["messages"][-1]["content"]


def test_a_turn_that_says_the_act_s_instruction_or_an_earlier_message_is_not_used(tmp_path):
    """The 0.5B user: 'Tell me what is needed, stating every value ...', and the assistant's answer pasted back."""
    example, facts = "Which cities does ZA have?", {"country_code": "ZA"}
    told = "Tell me what is needed, stating every value: ZA."
    text, fallbacks, _ = _said(tmp_path, [told], "user", "inform_intent_clear", example, facts, HISTORY[:1])
    assert text == example and fallbacks == 1
    history = HISTORY + [{"role": "assistant", "content": EXAMPLE}, {"role": "user", "content": "Thanks."}]
    text, fallbacks, _ = _said(
        tmp_path / "b", [EXAMPLE], "user", "inform_intent_clear", "What about ZA?", facts, history
    )
    assert text == "What about ZA?" and fallbacks == 1


def test_a_goodbye_is_the_plain_phrase_and_a_user_turn_in_the_assistant_s_voice_is_not_used(tmp_path):
    """The 0.5B user: 'I'm glad you found the movies interesting. Have you seen ...?' for a goodbye, and
    'Would you like me to provide you with a brief overview ...? Please provide the name of the movie.'"""
    text, fallbacks, asked = _said(tmp_path, [], "user", "user_bye", "Thanks, that's all I needed.", {}, HISTORY)
    assert text == "Thanks, that's all I needed." and fallbacks == 0 and asked == []  # the model is not asked
    offer = "Would you like me to provide you with the population? Please provide the name of the city."
    example = "For that city, how many people live there?"
    text, fallbacks, _ = _said(tmp_path / "b", [offer], "user", "inform_intent_clear", example, {}, HISTORY)
    assert text == example and fallbacks == 1
    ask = "And how many people live in that city?"
    text, fallbacks, _ = _said(tmp_path / "c", [ask], "user", "inform_intent_clear", example, {}, HISTORY)
    assert text == ask and fallbacks == 0


def test_a_follow_up_request_that_keeps_none_of_the_ask_is_not_used(tmp_path):
    """The 0.5B user's follow-up was 'You Can Do Better', the show the last answer named."""
    example = "For that tv show, what are the similar tv shows?"
    text, fallbacks, _ = _said(tmp_path, ["You Can Do Better"], "user", "inform_intent_clear", example, {}, HISTORY)
    assert text == example and fallbacks == 1
    own = "Which shows are similar to that one?"
    text, fallbacks, _ = _said(tmp_path / "b", [own], "user", "inform_intent_clear", example, {}, HISTORY)
    assert text == own and fallbacks == 0


def test_the_simulate_asset_counts_the_turns_said_plainly():
    from types import SimpleNamespace

    from toolloom.agents.realisers import PhraseRealiser
    from toolloom.stages.simulate import said_plainly

    assert said_plainly((SimpleNamespace(fallbacks=2), SimpleNamespace(fallbacks=3), {})) == 5
    assert said_plainly((PhraseRealiser(), PhraseRealiser(), {})) == 0 and said_plainly(None) == 0


def test_an_answer_that_invents_a_fact_is_not_used(tmp_path):
    """'The Doctor Who show is available on Netflix.': a follow-up dialogue's first answer (a TMDB run)."""
    said = "Cape Town has 4,772,846 people and hosted the 2010 World Cup final."
    text, fallbacks, _ = _said(tmp_path, [said], "assistant", "response", EXAMPLE, RESULT, HISTORY)
    assert text == EXAMPLE and fallbacks == 1
