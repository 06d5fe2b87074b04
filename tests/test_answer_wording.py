"""Offline answers to one result as a person writes them (`sentence`): what a one-value result is, counts with
separators, yes/no for availability and status, units, places, dates and clock differences; and which calls are
actions. Chains of calls are in test_answer_wording_chains.py, whole conversations in
test_answer_wording_conversations.py."""

import re

from toolloom.answers.sentence import sentence


def test_a_one_value_answer_says_what_the_value_is_and_big_counts_read_as_people_write_them():
    def one(tool, result, request, **arguments):
        return sentence(result, request, arguments, tool)

    assert (
        one(
            "days_between",
            {"days": 364},
            "Count the days between 2026-01-01 and 2026-12-31.",
            start="2026-01-01",
            end="2026-12-31",
        )
        == "There are 364 days from 2026-01-01 to 2026-12-31."
    )
    assert (
        one(
            "time_difference",
            {"hours": -5.0, "from_city_id": "london", "to_city_id": "new_york"},
            "How far ahead of london is new_york?",
            from_city_id="london",
            to_city_id="new_york",
        )
        == "New York is 5 hours behind London."
    )  # of the places the call named, as people name them and say it
    assert (
        one(
            "get_city",
            {"city_id": "tokyo", "name": "Tokyo", "population": 14094034},
            "What's the population of tokyo?",
            city_id="tokyo",
        )
        == "The population of Tokyo is 14,094,034."
    )
    assert (
        one("get_order", {"order_id": 12345678, "status": "shipped"}, "Where is order 12345678?", order_id=12345678)
        == "The status of order 12345678 is shipped."
    )
    assert (
        one(
            "get_product",
            {"product_id": "p101", "name": "Jacket", "stock": 12},
            'Is "p101" available right now?',
            product_id="p101",
        )
        == "Yes, there are 12 in stock."
    )
    assert (
        one(
            "next_holiday",
            {"name": "New Year's Day", "date": "2027-01-01", "days_until": 5},
            "Which holiday comes next in DE?",
            country_code="DE",
        )
        == "New Year's Day is on 2027-01-01 and it is 5 days away."
    )
    from toolloom.text.tool_names import is_action

    assert [is_action(t) for t in ("add_to_cart", "cancel_order", "add_vat", "set_days")] == [True, True, False, False]


def test_a_field_with_a_unit_is_named_without_it_and_a_bound_entity_is_not_said_twice():
    import random

    from toolloom.domain import Step, Task
    from toolloom.text.wording import render_example

    assert (
        sentence(
            {"product_id": "p1", "name": "Tent", "price_eur": 139.0, "stock": 4},
            'What are the price and stock of "p1"?',
            {"product_id": "p1"},
            "get_product",
        )
        == "Tent costs 139 EUR and there are 4 in stock."
    )
    first = Step("d.get_capital_city", "get_capital_city", "", {"country_code": "FR"})
    second = Step("d.get_city", "get_city", "", {"city_id": "paris"}, {"city_id": {"step": 0, "path": "city_id"}})
    meta = {
        "d.get_city": {"utterances": ["Look up the city {city_id} for me."]},
        "d.get_capital_city": {"utterances": ["Which city is the capital of {country_code}?"]},
    }
    for seed in range(4):
        text = render_example(Task("t", "multi_hop", [first, second], seed, meta), random.Random(seed))
        # the capital named by where it comes from ('the capital city of France') or as a reference ('that city')
        assert not re.search(r"the city (th|the)", text), text
        assert re.search(r"up (th(is|at) (capital )?city|the capital city of France) for me", text), text


def test_a_status_the_question_names_is_a_yes_and_a_named_subject_is_not_said_twice():
    order = {"country_code": "DE", "order_id": "ord_1001", "status": "shipped", "total_eur": 94.96}
    assert (
        sentence(order, 'Has order "ord_1001" shipped yet?', {"order_id": "ord_1001"}, "get_order_status")
        == "Yes, the status is shipped."
    )  # not the unasked country code
    assert (
        sentence(order, 'Where is order "ord_1001"?', {"order_id": "ord_1001"}, "get_order_status")
        == "The status of order ord_1001 is shipped."
    )  # 'where' asks for the status; no yes/no asked: no 'Yes'
    capital = {"city_id": "canberra", "country_code": "AU", "name": "Canberra"}
    assert (
        sentence(capital, "Name the capital city of AU.", {"country_code": "AU"}, "get_capital_city")
        == "The capital city of Australia is Canberra."
    )  # not 'Canberra: the name is Canberra'
    rate = {"amount": 1.36, "as_of": "2026-01-02", "currency": "EUR", "rate": 0.005438}
    said = sentence(rate, "Separately, what do 250 JPY come to in EUR?", {"amount": 250}, "convert_currency")
    pair = {"as_of": "2026-01-02", "from_currency": "JPY", "rate": 9.192996, "to_currency": "KRW"}
    assert (
        sentence(
            pair,
            "I need the JPY to KRW exchange rate.",
            {"from_currency": "JPY", "to_currency": "KRW"},
            "get_exchange_rate",
        )
        == "1 JPY is 9.192996 KRW (as of 2026-01-02)."
    )  # which way the rate goes
    assert "rate" not in said and "1.36 EUR" in said  # 'sepaRATEly' names no field


def test_a_field_written_as_one_word_is_named_by_its_two_words():
    city = {"city_id": "tokyo", "name": "Tokyo", "population": 14094034, "timezone": "Asia/Tokyo", "latitude": 35.7}
    assert (
        sentence(city, 'What time zone and population does the city "tokyo" have?', {"city_id": "tokyo"}, "get_city")
        == "The population of Tokyo is 14,094,034 and its timezone is Asia/Tokyo."
    )


def test_what_a_create_made_is_named_by_its_id_and_a_file_name_keeps_its_case():
    made = sentence(
        {"id": "checkpoint", "last_modified": "2026-12-03T14:33:46Z"},
        'Create a checkpoint for "x.md".',
        {"path": "x.md"},
        "post__api_contents_path_checkpoints",
    )
    assert made.startswith("The ID is checkpoint")
    assert (
        sentence(
            {"name": "todo.md", "content": "# To do"},
            'What is in "notes/todo.md"?',
            {"path": "notes/todo.md"},
            "get__api_contents_path",
        )
        == "The content of todo.md is # To do."
    )


def test_a_named_thing_is_in_its_place_and_coordinates_come_both_or_neither():
    city = {
        "city_id": "tokyo",
        "country_code": "JP",
        "name": "Tokyo",
        "population": 14094034,
        "timezone": "Asia/Tokyo",
        "latitude": 35.6762,
        "longitude": 139.6503,
    }
    assert sentence(city, 'Which country is "tokyo" in?', {"city_id": "tokyo"}, "get_city") == "Tokyo is in Japan."
    told = sentence(city, 'Details on the city "tokyo".', {"city_id": "tokyo"}, "get_city")
    assert told == "Tokyo is in Japan, its population is 14,094,034 and its timezone is Asia/Tokyo.", told
    assert (
        sentence(city, 'Where exactly is "tokyo"?', {"city_id": "tokyo"}, "get_city")
        == "The latitude of Tokyo is 35.6762 and its longitude is 139.6503."
    )
    # an order is not 'in' its country: said of an id, the field keeps its name, and the code is said as a name
    assert (
        sentence(
            {"country_code": "DE", "status": "shipped"},
            'Which country does order "ord_1001" go to?',
            {"order_id": "ord_1001"},
            "get_order_status",
        )
        == "The country of order ord_1001 is Germany."
    )


def test_a_nameless_field_beside_others_is_what_the_tool_computes():
    result = {"distance_km": 877.5, "from_city_id": "paris", "hours": 10.1, "mode": "train", "to_city_id": "berlin"}
    said = sentence(
        result,
        'Show me the travel time from "paris" to "berlin" by "train".',
        {"from_city_id": "paris", "to_city_id": "berlin", "mode": "train"},
        "travel_time",
    )
    assert said == "The distance from Paris to Berlin is 877.5 km and the travel time is 10.1 hours.", said


def test_a_files_text_is_shown_below_its_sentence_and_counts_read_as_people_say_them():
    got = sentence(
        {"content": "# To do\n\n- Book the hut\n", "name": "todo.md", "path": "notes/todo.md", "size": 126},
        'What are the contents of the file "notes/todo.md"?',
        {"path": "notes/todo.md"},
        "get__api_contents_path",
    )
    assert got == "The content of todo.md is:\n\n# To do\n\n- Book the hut"  # 'contents' names content, no '.'
    got = sentence({"connections": 0, "kernels": 2}, "What is the current status of the server?", {}, "get__api_status")
    assert got == "It has no connections and 2 kernels."


def test_a_date_with_its_weekday_a_product_out_of_stock_and_one_record_found_read_as_a_person_says_them():
    assert (
        sentence(
            {"date": "2026-01-03", "weekday": "Saturday"},
            "My trip starts 2025-12-24 and lasts 10 days; when does it end?",
            {"start_date": "2025-12-24", "days": 10},
            "add_days",
        )
        == "10 days after 2025-12-24 is Saturday, 2026-01-03."
    )
    holiday = {"country_code": "DE", "date": "2026-10-03", "name": "German Unity Day", "weekday": "Saturday"}
    assert "German Unity Day" in sentence(
        holiday,
        "When is the next holiday in DE after 2026-09-01?",
        {"country_code": "DE", "after_date": "2026-09-01"},
        "next_holiday",
    )
    product = {"product_id": "p302", "name": "E-book reader", "price_eur": 139.0, "stock": 0}
    assert (
        sentence(product, "What's the price and stock of p302?", {"product_id": "p302"}, "get_product")
        == "E-book reader costs 139 EUR and it is out of stock."
    )
    found = {"results": [{"country_code": "MX", "name": "Mexico"}]}
    assert (
        sentence(found, "Is there a country named Mexico, and what is its code?", {"name": "Mexico"}, "find_country")
        == "Yes, Mexico's country code is MX."
    )
    # 'ISO code' and 'two-letter code' ask for the country code too, not for the search's list (a blind read)
    for asked in ("What's the ISO code for Mexico?", "What two-letter code does Mexico use?"):
        assert sentence(found, asked, {"name": "Mexico"}, "find_country") == "Mexico's country code is MX."
    # a search the request names no field of is still listed
    skillet = {"results": [{"product_id": "p202", "name": "Cast iron skillet", "price_eur": 54.5}]}
    assert (
        sentence(skillet, 'Do you sell anything for "kitchen"?', {"query": "kitchen"}, "search_products")
        == "Yes, I found one result: Cast iron skillet (price 54.5 EUR)."
    )


def test_a_time_difference_says_which_clock_is_ahead():
    def gap(hours):
        return sentence(
            {"hours": hours, "from_city_id": "sydney", "to_city_id": "berlin", "date": "2026-10-10"},
            "Compare the clocks of Sydney and Berlin on 2026-10-10.",
            {"from_city_id": "sydney", "to_city_id": "berlin", "day": "2026-10-10"},
            "time_difference",
        )

    assert gap(-9.0) == "Berlin is 9 hours behind Sydney." and gap(1.5) == "Berlin is 1.5 hours ahead of Sydney."
    assert gap(0) == "Berlin and Sydney show the same time."
    # the completeness check reads '9 hours behind' as the -9 hours asked for, and a wrong direction as missing
    from toolloom.checks.answers import unstated

    asked, result = "How many hours apart are the clocks of Sydney and Berlin?", {"hours": -9.0}
    assert unstated(asked, result, gap(-9.0)) == [] and unstated(asked, result, gap(9.0)) == ["hours"]
