"""What the examples' requests teach: dependencies that are real lookups (fake, ambiguous, redundant,
degenerate and circular chains refused), a looked-up value described in the request and resolved offline, tool
names read as words, entities and plain purposes, and the ToolDial suggestion of the closest offered tool."""

import random
import re

import pytest

from toolloom.text import spoken
from toolloom.domain import Step, Task
from toolloom.text.wording import bound_phrase, render_example
from toolloom.graph.chains import chain_problem
from toolloom.prompts import DEFAULT_ROOT
from toolloom.agents.realisers import load_phrases

from .offline_episode import demo_tools, play


def _steps(*specs):
    return [Step(f"demo.{n}", n, "", a, b, r) for n, a, b, r in specs]


def test_chain_problems_fake_dependency_ambiguity_degenerate_and_circular():
    country = {"code": "IN", "name": "India"}
    fake = _steps(
        ("get_country", {"country_code": "IN"}, {}, country),
        ("get_vat_rate", {"country_code": "IN"}, {"country_code": {"step": 0, "path": "code"}}, {"rate": 18}),
    )
    assert chain_problem(fake)[0] == "fake_dependency"
    circular = _steps(
        ("get_country", {"country_code": "IN"}, {}, country),
        (
            "find_country",
            {"name": "India"},
            {"name": {"step": 0, "path": "name"}},
            {"results": [{"country_code": "IN", "name": "India"}]},
        ),
    )
    assert chain_problem(circular)[0] == "circular_lookup"
    several = _steps(
        ("list_cities", {"country_code": "US"}, {}, {"cities": [{"city_id": "a"}, {"city_id": "b"}]}),
        ("get_city", {"city_id": "a"}, {"city_id": {"step": 0, "path": "cities|city_id"}}, {"name": "A"}),
    )
    assert chain_problem(several)[0] == "ambiguous_binding"
    redundant = _steps(  # 'Find headphones. Then add 3 to my cart. Then show me the product of that cart.'
        ("search_products", {"query": "headphones"}, {}, {"results": [{"product_id": "p300"}]}),
        (
            "add_to_cart",
            {"product_id": "p300", "quantity": 3},
            {"product_id": {"step": 0, "path": "results|product_id"}},
            {"items": [{"product_id": "p300"}], "total": 8},
        ),
        ("get_product", {"product_id": "p300"}, {"product_id": {"step": 1, "path": "items|product_id"}}, {"stock": 9}),
    )
    assert chain_problem(redundant)[0] == "redundant_lookup" and chain_problem(redundant[:2]) is None
    same = _steps(("travel_time", {"from_city_id": "tokyo", "to_city_id": "Tokyo", "mode": "car"}, {}, {"hours": 0}))
    assert chain_problem(same)[0] == "degenerate_call"
    real = _steps(
        ("get_city", {"city_id": "toronto"}, {}, {"country_code": "CA"}),
        (
            "is_holiday",
            {"country_code": "CA", "day": "2026-05-18"},
            {"country_code": {"step": 0, "path": "country_code"}},
            {"is_holiday": True, "name": "Victoria Day"},
        ),
    )
    assert chain_problem(real) is None
    # TMDB's trending list mixes movies, shows and people: a movie's id is no person_id (kept levels did this)
    trending = {"results": [{"id": 550, "media_type": "movie", "title": "Fight Club"}]}
    movie_as_person = _steps(
        ("GET_trending-media_type-time_window", {"media_type": "all", "time_window": "day"}, {}, trending),
        ("GET_person-person_id", {"person_id": 550}, {"person_id": {"step": 0, "path": "results|id"}}, {"name": "?"}),
    )
    assert chain_problem(movie_as_person) == (
        "kind_mismatch",
        "step 2 takes person_id from an item of step 1 that is a movie, not a person",
    )
    movie_as_movie = [
        movie_as_person[0],
        Step(
            "t.m",
            "GET_movie-movie_id",
            "",
            {"movie_id": 550},
            {"movie_id": {"step": 0, "path": "results|id"}},
            {"title": "Fight Club"},
        ),
    ]
    assert chain_problem(movie_as_movie) is None


@pytest.mark.parametrize("seed", range(6))
def test_a_request_describes_a_looked_up_value_and_the_offline_assistant_resolves_it(seed):
    step0 = Step("demo.get_city", "get_city", "", {"city_id": "toronto"})
    step1 = Step(
        "demo.is_holiday",
        "is_holiday",
        "",
        {"country_code": "CA", "day": "2026-05-18"},
        {"country_code": {"step": 0, "path": "country_code"}},
    )
    meta = {"demo.is_holiday": {"utterances": ["Is {day} a public holiday in {country_code}?"]}}
    text = render_example(Task("t", "multi_hop", [step0, step1], seed, meta), random.Random(seed))
    assert "from step" not in text and " CA" not in text
    # as a person says it: where the value comes from ('a public holiday in Toronto', 'the country Toronto is
    # in'), or a reference to the result of a lookup asked for first ("that city's country")
    assert re.search(
        r"(country of th(at|is) city|that city's country|its country|the country Toronto is in|"
        r"the country of Toronto|holiday in Toronto\?)",
        text,
    ), text
    tools = demo_tools("get_city", "is_holiday", "get_country")
    results = {"get_city": [{"city_id": "toronto", "country_code": "CA"}], "is_holiday": [{"is_holiday": True}]}
    assert play(text, tools, results) == [
        ("get_city", {"city_id": "toronto"}),
        ("is_holiday", {"country_code": "CA", "day": "2026-05-18"}),
    ], text
    assert bound_phrase({"step": 0, "path": "city_id"}, 1, "get_city") == "that city"


def test_tool_names_give_words_entities_and_plain_purposes():
    from toolloom.text.purposes import param_phrase, plain_purpose, purpose
    from toolloom.text.words import entity_of
    from toolloom.text.withholding import vague

    assert entity_of("Cataas__findCatByTag") == "cat" and purpose("Cataas__findCatByTag") == "find cats by tag"
    assert entity_of("list_countries_by_region") == "country" and entity_of("get_order_status") == "order"
    assert purpose("get_order_status") == "look up the order status" and purpose("get_city") == "look up a city"
    assert purpose("add_to_cart", {"required": ["product_id", "quantity"]}) == "add a product to the cart"
    assert purpose("tmdb__GET_search-movie") == "search for movies"
    # a short plain documentation sentence says it better than a name that reads as no phrase
    assert (
        purpose("countries_speaking", None, "List the countries where a language is official.")
        == "list the countries where a language is official"
    )
    assert (
        purpose("days_between", None, "Number of days from one date to another.")
        == "count the days from one date to another"
    )
    assert (
        purpose("is_holiday", None, "Whether a date is a national public holiday in a country, and which.")
        == "check whether a date is a national public holiday in a country"
    )
    assert purpose("get_vat_rate", None, "A country's standard VAT/GST rate in percent.") == "look up the VAT rate"
    assert purpose("tmdb__GET_movie-keywords", None, "Get Movie Keywords") == "look up the movie keywords"
    assert (param_phrase("from_city_id"), param_phrase("product_id")) == ("starting city", "product")
    assert (vague("to_city_id", "x"), vague("quantity", 2), vague("country_code", "FR"), vague("product_id", "p1")) == (
        "a city",
        "some",
        "my country",
        "a product",
    )  # a person's own country, but one of two cities
    messy = "Is today a public holiday The calculation is made on the basis of UTC time.<br />"
    assert plain_purpose(messy, "Nager_Date__PublicHolidayIsToday") == "Public holiday is today"
    assert plain_purpose("Get country info for the given country", "x") == "Get country info for the given country"


def test_a_suggestion_names_the_offered_tool_closest_to_the_request():
    from toolloom.stages.dialogues import Dialogue

    target = Step(
        "demo.list_holidays",
        "list_holidays",
        "Public holidays of a country in a year.",
        {"country_code": "JP", "year": 2027},
    )
    offered = [
        {"function": {"name": n, "description": d}}
        for n, d in (
            ("add_to_cart", "Put a product in the cart."),
            ("list_holidays", "Public holidays of a country in a year."),
            ("next_holiday", "The next public holiday of a country after a date."),
            ("convert_units", "Convert a length."),
        )
    ]
    tools = {"list_holidays": {"parameters": {"required": ["country_code", "year"]}}}
    state = Dialogue(
        Task("t", "single", [target], 1, {}), None, tools, offered, load_phrases(DEFAULT_ROOT), random.Random(0)
    )
    assert state.other == "next_holiday"


def test_an_earlier_result_alone_of_its_kind_is_that_one_not_the_first():
    """'the exchange rate from the first country's currency' where only one country was looked up (a blind reader
    marked it): 'that country's currency', read back from the result about the country, not the latest result."""
    from toolloom.agents.reading import Results, fill_arguments

    names = ["get_country", "convert_units", "get_exchange_rate"]
    binding = {"step": 0, "path": "currency"}
    phrases = {bound_phrase(binding, 2, "get_country", random.Random(s), names=names) for s in range(12)}
    assert phrases == {"that country's currency", "the currency of that country"}, phrases
    several = {
        bound_phrase(binding, 3, "get_country", random.Random(s), names=["get_country", *names]) for s in range(12)
    }
    assert all("first country" in p for p in several), several  # among two countries the ordinal says which
    schema = {"type": "object", "properties": {"from_currency": {"type": "string"}}, "required": ["from_currency"]}
    context = Results([{"name": "Japan", "currency": "JPY"}, {"value": 232.78, "currency": "C"}], names[:2])
    assert fill_arguments("What is the rate from that country's currency?", schema, context) == {"from_currency": "JPY"}


def test_a_third_step_is_not_joined_by_the_word_that_joined_the_second():
    """'... what is its country code? Next, which city is its capital? Next, ...' read as a template (blind read)."""
    from toolloom.text.wording import THEN_WORDS, _joined

    step = Step("demo.time_difference", "time_difference", "", {"to_city_id": "x"}, {"to_city_id": {"step": 1}})
    for seed in range(12):
        for used in THEN_WORDS:
            so_far = f"What is the country code of Mexico? {used}, which city is the capital of that country?"
            text = _joined(so_far, "How many hours apart are Sydney and that city?", step, 3, random.Random(seed))
            assert text.count(f"{used},") == 1 and text.startswith(so_far), text


def test_a_step_of_two_sentences_is_not_joined_inline_and_an_amount_of_a_currency_is_said_as_its_owner_s():
    """'Is it a Friday, or something else, and also a deadline is 90 days after X. Which date is that?' and '250 of
    the currency of Brazil' were read as spliced templates (blind read)."""
    from toolloom.text.wording import _joined

    step = Step("demo.add_days", "add_days", "", {"days": 90})
    two = "A deadline is 90 days after 2026-03-14. Which date is that?"
    for seed in range(12):
        text = _joined("Is 2026-12-25 a Friday?", two, step, 2, random.Random(seed))
        assert text.startswith("Is 2026-12-25 a Friday? ") and ", and also" not in text, text
    assert spoken.amounts_owned("How much is 250 of the currency of Brazil in JPY?") == (
        "How much is 250 of Brazil's currency in JPY?"
    )
    assert "99.5 of the United States' currency" in spoken.amounts_owned(
        "Change 99.5 of the currency of the United States"
    )
