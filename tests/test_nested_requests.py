"""Requests that name a value by where it comes from ('Convert 250 EUR into the currency of Japan'): written by the
offline user, read back by the offline assistant as the lookup first and the call that uses it second, answered
with what the lookup gave."""

import json
import random

import pytest

from toolloom.agents.unnest import plan
from toolloom.answers.sentence import answer_from
from toolloom.domain import Step, Task
from toolloom.text.wording import THEN_SPLIT, nestable, render_example

from .offline_episode import demo_tools, play

COUNTRY = {"code": "JP", "name": "Japan", "capital": "Tokyo", "currency": "JPY", "population": 124500000}


@pytest.mark.parametrize(
    "request_text, calls",
    [
        (
            "Convert 250 EUR into the currency of Japan.",
            [
                ("get_country", {"country_code": "JP"}),
                ("convert_currency", {"amount": 250, "from_currency": "EUR", "to_currency": "JPY"}),
            ],
        ),
        (
            "Change 250 of the currency of Japan into USD.",
            [
                ("get_country", {"country_code": "JP"}),
                ("convert_currency", {"amount": 250, "from_currency": "JPY", "to_currency": "USD"}),
            ],
        ),
        (
            "Change 250 of Japan's currency into USD.",
            [
                ("get_country", {"country_code": "JP"}),
                ("convert_currency", {"amount": 250, "from_currency": "JPY", "to_currency": "USD"}),
            ],
        ),
        (
            "What is the standard VAT rate in the country of order ord_1001?",
            [("get_order_status", {"order_id": "ord_1001"}), ("get_vat_rate", {"country_code": "DE"})],
        ),
        (
            "Is 2026-05-18 a holiday in the country Toronto is in?",
            [("get_city", {"city_id": "toronto"}), ("is_holiday", {"country_code": "CA", "day": "2026-05-18"})],
        ),
        (
            "How much is 250 EUR in Japan's currency?",
            [
                ("get_country", {"country_code": "JP"}),
                ("convert_currency", {"amount": 250, "from_currency": "EUR", "to_currency": "JPY"}),
            ],
        ),
        (
            "How far is the capital city of Germany from the capital city of Australia?",
            [
                ("get_capital_city", {"country_code": "DE"}),
                ("get_capital_city", {"country_code": "AU"}),
                ("city_distance", {"from_city_id": "berlin", "to_city_id": "canberra"}),
            ],
        ),
    ],
)
def test_the_offline_assistant_looks_up_a_value_named_by_where_it_comes_from_first(request_text, calls):
    tools = demo_tools(
        "get_country",
        "convert_currency",
        "get_order_status",
        "get_vat_rate",
        "get_city",
        "is_holiday",
        "get_capital_city",
        "city_distance",
        "list_currencies",
        "find_country",
    )
    results = {
        "get_country": [COUNTRY],
        "convert_currency": [{}],
        "get_vat_rate": [{}],
        "is_holiday": [{}],
        "city_distance": [{}],
        "get_order_status": [{"order_id": "ord_1001", "status": "shipped", "country_code": "DE"}],
        "get_city": [{"city_id": "toronto", "name": "Toronto", "country_code": "CA"}],
        "get_capital_city": [
            {"country_code": "DE", "city_id": "berlin", "name": "Berlin"},
            {"country_code": "AU", "city_id": "canberra", "name": "Canberra"},
        ],
    }
    assert play(request_text, tools, results) == calls


@pytest.mark.parametrize(
    "request_text",
    [
        "What is the capital of France?",  # the phrase is what is asked, not an input of another call
        "What is the population of Japan?",
        "What is the status of order ord_1001?",
        "Which currencies do you know?",
        "What is Tokyo's population?",
        "What's the exchange rate from EUR to JPY?",
    ],
)
def test_a_question_about_a_thing_stays_one_call(request_text):
    tools = demo_tools(
        "get_country",
        "get_capital_city",
        "get_order_status",
        "list_currencies",
        "list_countries_by_region",
        "convert_currency",
        "get_vat_rate",
    )
    assert plan(request_text, tools) == [[(request_text, None)]]


def _chain(*steps):
    return Task("t", "multi_hop", list(steps), 1, {f"demo.{s.name}": {"utterances": UTTER[s.name]} for s in steps})


UTTER = {
    "get_country": ["Tell me about {country_code}."],
    "get_city": ["Look up the city {city_id}."],
    "list_cities": ["Which cities are in {country_code}?"],
    "convert_currency": ["Convert {amount} {from_currency} into {to_currency}."],
    "city_distance": ["How far is {from_city_id} from {to_city_id}?"],
    "get_capital_city": ["What is the capital of {country_code}?"],
}


def test_only_a_lookup_of_one_stated_value_whose_one_field_is_used_is_said_inside_the_request():
    country = Step("demo.get_country", "get_country", "", {"country_code": "JP"})
    convert = Step(
        "demo.convert_currency",
        "convert_currency",
        "",
        {"amount": 250, "from_currency": "EUR", "to_currency": "JPY"},
        {"to_currency": {"step": 0, "path": "currency"}},
    )
    assert nestable(_chain(country, convert)) == {0: ("the currency of Japan", "that currency")}
    assert {nestable(_chain(country, convert), random.Random(seed))[0][0] for seed in range(12)} == {
        "the currency of Japan",
        "Japan's currency",
    }
    city = Step("demo.get_city", "get_city", "", {"city_id": "toronto"})
    cities = Step(
        "demo.list_cities",
        "list_cities",
        "",
        {"country_code": "CA"},
        {"country_code": {"step": 0, "path": "country_code"}},
    )
    assert nestable(_chain(city, cities))[0][0] == "the country Toronto is in"
    listing = Step("demo.list_cities", "list_cities", "", {"country_code": "US"})
    capital = Step("demo.get_capital_city", "get_capital_city", "", {"country_code": "CA"})
    distance = Step(
        "demo.city_distance",
        "city_distance",
        "",
        {"from_city_id": "ottawa", "to_city_id": "new_york"},
        {"from_city_id": {"step": 1, "path": "city_id"}, "to_city_id": {"step": 0, "path": "cities|city_id"}},
    )
    # one of the two values comes from a listing ('that city'): neither is named by where it comes from
    assert nestable(_chain(listing, capital, distance)) == {}


def test_a_nested_request_is_one_sentence_and_its_answer_says_what_the_lookup_gave_where_it_names_it_not():
    country = Step("demo.get_country", "get_country", "", {"country_code": "JP"})
    convert = Step(
        "demo.convert_currency",
        "convert_currency",
        "",
        {"amount": 250, "from_currency": "EUR", "to_currency": "JPY"},
        {"to_currency": {"step": 0, "path": "currency"}},
    )
    texts = {render_example(_chain(country, convert), random.Random(seed)) for seed in range(40)}
    nested = [t for t in texts if len(THEN_SPLIT.split(t)) == 1]
    assert nested and all("the currency of Japan" in t or "Japan's currency" in t for t in nested), texts
    assert len(nested) < len(texts)  # the two-part form stays in the mix
    messages = [
        {"role": "user", "content": "Convert 250 EUR into the currency of Japan."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "a",
                    "type": "function",
                    "function": {"name": "get_country", "arguments": '{"country_code": "JP"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "a", "content": json.dumps(COUNTRY)},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "b",
                    "type": "function",
                    "function": {
                        "name": "convert_currency",
                        "arguments": '{"amount": 250, "from_currency": "EUR", "to_currency": "JPY"}',
                    },
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "b",
            "content": json.dumps({"amount": 45972.5, "currency": "JPY", "rate": 183.89, "as_of": "2026-01-02"}),
        },
    ]
    # what was asked comes first, and alone: 'JPY' says what the lookup gave ('The currency of Japan is JPY. 250 EUR
    # is ...' opened with the in-between step, a blind reader found)
    # (with the date the reference rate holds on: 'today's rate' without it was read bad)
    assert answer_from(messages) == "250 EUR is 45,972.5 JPY (as of 2026-01-02).", answer_from(messages)
    # a lookup whose value the answer does not name is said: the field the next call took, not capital and population
    messages[0]["content"] = "Convert 250 EUR into the currency of Japan, and give me the rate only."
    messages[-1]["content"] = json.dumps({"rate": 183.89, "as_of": "2026-01-02"})
    # ... after what was asked ('The country of order ord_1001 is Germany. German Unity Day is ...' opened with the
    # lookup, a blind reader found)
    answer = answer_from(messages)
    assert answer == "The rate is 183.89 (as of 2026-01-02). The currency of Japan is JPY.", answer


def test_a_reference_fills_the_second_end_of_a_route_whatever_word_leads_it():
    from toolloom.agents.reading import Results, fill_arguments

    params = demo_tools("time_difference")[0]["function"]["parameters"]
    context = Results([{"city_id": "berlin", "name": "Berlin"}], ["get_capital_city"])
    assert fill_arguments(
        "Between Paris and that capital city, how many hours do the clocks differ on 2026-01-15?", params, context
    ) == {"from_city_id": "paris", "to_city_id": "berlin", "day": "2026-01-15"}
    # two references, the second after 'from': the one left takes the second end
    params = demo_tools("city_distance")[0]["function"]["parameters"]
    context = Results([{"city_id": "berlin"}, {"city_id": "canberra"}], ["get_capital_city", "get_capital_city"])
    assert fill_arguments(
        "Tell me how far the first capital city is from the second capital city.", params, context
    ) == {"from_city_id": "berlin", "to_city_id": "canberra"}


def test_a_yes_no_question_is_never_joined_inline_after_another_part():
    search = Step("demo.search_products", "search_products", "", {"query": "headphones"})
    product = Step(
        "demo.get_product",
        "get_product",
        "",
        {"product_id": "p300"},
        {"product_id": {"step": 0, "path": "results|product_id"}},
    )
    meta = {
        "demo.search_products": {"utterances": ['Which products come up for "{query}"?']},
        "demo.get_product": {"utterances": ['Is "{product_id}" in stock?']},
    }
    texts = {render_example(Task("t", "multi_hop", [search, product], s, meta), random.Random(s)) for s in range(12)}
    assert not any(", and then is" in t or ", and after that is" in t for t in texts), texts
    assert any(THEN_SPLIT.search(t) for t in texts)


def test_a_nested_phrase_is_not_said_inside_its_own_head_noun():
    capital = Step("demo.get_capital_city", "get_capital_city", "", {"country_code": "DE"})
    city = Step("demo.get_city", "get_city", "", {"city_id": "berlin"}, {"city_id": {"step": 0, "path": "city_id"}})
    task = Task(
        "t",
        "multi_hop",
        [capital, city],
        1,
        {"demo.get_city": {"utterances": ["Tell me about the city of {city_id}."]}},
    )
    texts = {render_example(task, random.Random(seed)) for seed in range(12)}
    # 'Tell me about the city of the capital city of Germany' read as garbled to a blind reader
    assert "Tell me about the capital city of Germany." in texts and not any("city of the" in t for t in texts), texts


def test_a_later_question_may_start_with_and_and_is_still_read_as_its_own_part():
    from toolloom.text.request_asks import request_parts

    city = Step("demo.get_city", "get_city", "", {"city_id": "tokyo"})
    vat = Step(
        "demo.get_vat_rate",
        "get_vat_rate",
        "",
        {"country_code": "JP"},
        {"country_code": {"step": 0, "path": "country_code"}},
    )
    meta = {
        "demo.get_city": {"utterances": ["Tell me about the city of {city_id}."]},
        "demo.get_vat_rate": {
            "utterances": ["What is the standard VAT rate in {country_code}?", "VAT in {country_code}?"]
        },
    }
    texts = {render_example(Task("t", "multi_hop", [city, vat], s, meta), random.Random(s)) for s in range(40)}
    anded = [t for t in texts if ". And what" in t]
    assert anded and not any(" Next, " in t or " Afterwards, " in t for t in texts), texts
    tools = demo_tools("get_city", "get_vat_rate")
    for t in anded:
        assert len(plan(t, tools)) == 2 and len(request_parts(t)) == 2, t
        results = {"get_city": [{"city_id": "tokyo", "country_code": "JP"}], "get_vat_rate": [{}]}
        assert play(t, tools, results) == [("get_city", {"city_id": "tokyo"}), ("get_vat_rate", {"country_code": "JP"})]


def test_a_count_from_two_steps_back_is_still_that_many_days_and_read_back():
    between = Step("demo.days_between", "days_between", "", {"start_date": "2026-11-24", "end_date": "2027-02-14"})
    weekday = Step("demo.day_of_week", "day_of_week", "", {"day": "2026-02-28"})
    later = Step(
        "demo.add_days", "add_days", "", {"start_date": "2026-03-14", "days": 82}, {"days": {"step": 0, "path": "days"}}
    )
    meta = {
        "demo.days_between": {"utterances": ["How many days from {start_date} to {end_date}?"]},
        "demo.day_of_week": {"utterances": ["What weekday is {day}?"], "returns": {"properties": {"weekday": {}}}},
        "demo.add_days": {"utterances": ["Which date comes {days} after {start_date}?"]},
    }
    text = render_example(Task("t", "merged", [between, weekday, later], 1, meta), random.Random(1))
    assert "that many days after 2026-03-14" in text and "day's days" not in text, text  # not 'the first day's days'
    results = {"days_between": [{"days": 82}], "day_of_week": [{"weekday": "Saturday"}], "add_days": [{}]}
    calls = play(text, demo_tools("days_between", "day_of_week", "add_days"), results)
    assert calls[-1] == ("add_days", {"start_date": "2026-03-14", "days": 82}), (text, calls)
    # where a result since could hold days too, or says nothing of what it holds, the count is named by its place
    meta["demo.day_of_week"]["returns"] = None
    text = render_example(Task("t", "merged", [between, weekday, later], 1, meta), random.Random(1))
    assert "that many" not in text, text


def test_a_field_documented_as_a_relation_is_said_that_way_and_read_back():
    """'the country of order ord_1002' (a blind read: a template hop) is 'the country order ord_1002 ships to' where
    the order's result documents its country_code as 'the country the order ships to'."""
    spec = {t["function"]["name"]: t for t in json.loads(open("api_graphs/demo/shop.json").read())}
    returns = spec["get_order_status"]["returns"]
    assert returns["properties"]["country_code"]["description"] == "the country the order ships to"
    order = Step("demo.get_order_status", "get_order_status", "", {"order_id": "ord_1002"})
    cities = Step(
        "demo.list_cities",
        "list_cities",
        "",
        {"country_code": "FR"},
        {"country_code": {"step": 0, "path": "country_code"}},
    )
    task = _chain(Step("demo.get_country", "get_country", "", {}), cities)
    task = Task("t", "multi_hop", [order, cities], 1, {**task.meta, "demo.get_order_status": {"returns": returns}})
    assert nestable(task)[0][0] == "the country order ord_1002 ships to"
    request = render_example(task, random.Random(1))
    assert request == "Which cities are in the country order ord_1002 ships to?", request
    calls = play(
        request,
        demo_tools("get_order_status", "list_cities", "get_country"),
        {"get_order_status": [{"order_id": "ord_1002", "status": "processing", "country_code": "FR"}]},
    )
    assert calls == [("get_order_status", {"order_id": "ord_1002"}), ("list_cities", {"country_code": "FR"})]
    undocumented = Task("t", "multi_hop", [order, cities], 1, _chain(cities).meta)
    assert nestable(undocumented)[0][0] == "the country of order ord_1002"


def test_a_place_is_said_for_its_country_where_the_request_names_what_the_country_is_for():
    """'Which public holidays does the country Toronto is in have?' read as contrived to every reader: a person asks
    for Toronto's holidays, and the offline assistant reads the city's country first. Where the request would not
    say what the country is for ('What days off does Toronto have?'), and for a question about the country or its
    cities themselves, the place stays 'the country Toronto is in'."""
    city = Step("demo.get_city", "get_city", "", {"city_id": "toronto"})
    holidays = Step(
        "demo.list_holidays",
        "list_holidays",
        "",
        {"country_code": "CA", "year": 2027},
        {"country_code": {"step": 0, "path": "country_code"}},
    )
    said = {**UTTER, "list_holidays": ["Which public holidays does {country_code} have in {year}?"]}
    task = Task("t", "multi_hop", [city, holidays], 1, {f"demo.{s}": {"utterances": u} for s, u in said.items()})
    request = render_example(task, random.Random(3))
    assert request == "Which public holidays does Toronto have in 2027?", request
    tools = demo_tools("get_city", "list_holidays", "get_country", "list_cities")
    city_result = {"city_id": "toronto", "name": "Toronto", "country_code": "CA", "population": 2794356}
    calls = play(request, tools, {"get_city": [city_result], "list_holidays": [{}]})
    assert calls == [("get_city", {"city_id": "toronto"}), ("list_holidays", {"country_code": "CA", "year": 2027})]
    # nothing in the request says the country is meant: the long form, still read back
    vague = {**said, "list_holidays": ["What days off does {country_code} have in {year}?"]}
    task = Task("t", "multi_hop", [city, holidays], 1, {f"demo.{s}": {"utterances": u} for s, u in vague.items()})
    assert "the country Toronto is in" in render_example(task, random.Random(3))
    cities = Step("demo.list_cities", "list_cities", "", {"country_code": "CA"}, holidays.bindings)
    assert "the country Toronto is in" in render_example(_chain(city, cities), random.Random(3))
    # a question about the place itself is one call, though a tool for its country's holidays is offered
    assert plan("How many people live in Toronto?", tools) == [[("How many people live in Toronto?", None)]]
