"""Answers in plain words: yes or no to a shipping question, a fact said once, what an action left, a place's facts."""

import json
import re

from toolloom.answers.sentence import answer_from, sentence
from toolloom.checks.judging import said_before


def tool_call(i, name, **arguments):
    return {
        "role": "assistant",
        "tool_calls": [{"id": f"c{i}", "function": {"name": name, "arguments": json.dumps(arguments)}}],
    }


def tool_result(i, value):
    return {"role": "tool", "tool_call_id": f"c{i}", "content": json.dumps(value)}


def test_a_shipping_question_is_answered_yes_or_no_and_a_fact_is_said_once():
    from toolloom.answers.sentence import answer_from

    order = {"country_code": "FR", "order_id": "ord_1002", "status": "processing", "total_eur": 418.8}
    assert (
        sentence(order, "Is my order ord_1002 on its way?", {"order_id": "ord_1002"}, "get_order_status")
        == "No, order ord_1002 is still processing."
    )
    assert (
        sentence(
            {**order, "status": "shipped"},
            "Has order ord_1002 been sent?",
            {"order_id": "ord_1002"},
            "get_order_status",
        )
        == "Yes, order ord_1002 is shipped."
    )
    # a listing that found one item is said as the list (the population is a bound, not what is asked)
    messages = [
        {
            "role": "user",
            "content": "Which cities does DE have, with a population of at least 3000000? "
            "Then, what's the population of that city?",
        },
        tool_call(0, "list_cities", country_code="DE", min_population=3000000),
        tool_result(0, {"cities": [{"city_id": "berlin", "name": "Berlin", "population": 3878100}]}),
        tool_call(1, "get_city", city_id="berlin"),
        tool_result(1, {"city_id": "berlin", "name": "Berlin", "population": 3878100, "timezone": "Europe/Berlin"}),
    ]
    assert (
        answer_from(messages) == "I found one city in Germany with a population of at least 3,000,000: Berlin "
        "(population 3,878,100)."
    )
    assert said_before("The population of Berlin is 3,878,100.", ["There is one city: Berlin (population 3,878,100)."])
    assert not said_before("The population of Berlin is 3,878,100.", ["There is one city: Berlin (population 3,878)."])
    # a name is said whole: 'Africa' is not said by 'South Africa'
    assert not said_before("South Africa is in Africa.", ["Cape Town is in South Africa."])


def test_a_chain_of_more_calls_than_request_parts_answers_each_part():
    """'What region is the country of Cape Town in, and how many people live there? Next, ...': the lookups the
    first part needs come first; that part's region and population are said of the country, said once each."""
    request = (
        "What region is the country of Cape Town in, and how many people live there? Next, list the countries in "
        "its region."
    )
    city = {"city_id": "cape_town", "country_code": "ZA", "name": "Cape Town", "population": 4772846}
    country = {"code": "ZA", "name": "South Africa", "population": 60410000, "region": "Africa", "currency": "ZAR"}
    listed = {"countries": [{"country_code": "ZA", "name": "South Africa"}, {"country_code": "EG", "name": "Egypt"}]}
    messages = [
        {"role": "user", "content": request},
        tool_call(0, "get_city", city_id="cape_town"),
        tool_result(0, city),
        tool_call(1, "get_country", country_code="ZA"),
        tool_result(1, country),
        tool_call(2, "list_countries_by_region", region="Africa"),
        tool_result(2, {**listed, "region": "Africa"}),
    ]
    answer = answer_from(messages)
    assert "60,410,000" in answer and re.search(r"\b(?:in|is) Africa\b", answer) and "Egypt" in answer, answer
    assert "ZAR" not in answer and answer.count("South Africa (ZA)") == 1, answer


def test_a_sentence_a_later_one_goes_on_from_is_said_once():
    messages = [
        {"role": "user", "content": "Is a product available right now?"},
        {"role": "user", "content": "I'm not sure what the product is."},
        {"role": "user", "content": 'It\'s query "kitchen" and max price eur 60.'},
        tool_call(0, "search_products", query="kitchen", max_price_eur=60),
        tool_result(0, {"results": [{"name": "Cast iron skillet", "price_eur": 54.5, "product_id": "p202"}]}),
        tool_call(1, "get_product", product_id="p202"),
        tool_result(1, {"name": "Cast iron skillet", "price_eur": 54.5, "product_id": "p202", "stock": 17}),
    ]
    sentences = re.split(r"(?<=[.!?]) ", answer_from(messages))
    # was 'Cast iron skillet costs 54.5 EUR. Cast iron skillet costs 54.5 EUR and there are 17 in stock.'
    assert len(sentences) == len(set(sentences)) == 1 and "17 in stock" in sentences[0], sentences


def test_a_call_about_a_place_is_said_of_it():
    messages = [
        {"role": "user", "content": "In Chicago, what is the local time when it is 2026-12-31 23:00 UTC?"},
        tool_call(0, "local_time", city_id="chicago", utc_time="2026-12-31T23:00"),
        tool_result(0, {"city_id": "chicago", "local_time": "2026-12-31T17:00", "timezone": "America/Chicago"}),
    ]
    from toolloom.answers.sentence import answer_from

    assert answer_from(messages) == "The local time in Chicago is 2026-12-31 17:00."


def test_what_an_action_left_is_said_of_what_holds_it():
    from toolloom.answers.sentence import answer_from

    messages = [
        {"role": "user", "content": "Add 3 of p401 to my cart, please."},
        tool_call(0, "add_to_cart", product_id="p401", quantity=3),
        tool_result(
            0, {"items": [{"product_id": "p401", "quantity": 3, "unit_price_eur": 24.5}], "subtotal_eur": 73.5}
        ),
    ]
    assert (
        answer_from(messages) == "I added 3 of p401 to your cart. The cart now has one item: p401 (quantity 3, "
        "unit price 24.5 EUR); the subtotal is 73.5 EUR."
    )


def test_what_was_done_is_said_even_when_its_values_were_said_and_a_list_of_no_noun_is_results():
    from toolloom.answers.sentence import answer_from

    messages = [
        {"role": "user", "content": 'List the checkpoints of "notes/todo.md". Then, delete that checkpoint.'},
        tool_call(0, "get__api_contents_path_checkpoints", path="notes/todo.md"),
        tool_result(0, [{"id": "checkpoint", "last_modified": "2026-12-04T09:53:34Z"}]),
        tool_call(
            1, "delete__api_contents_path_checkpoints_checkpoint_id", path="notes/todo.md", checkpoint_id="checkpoint"
        ),
        tool_result(1, {}),
    ]
    assert answer_from(messages).endswith("I deleted that checkpoint.")
    assert (
        sentence(
            {"resolved": [{"path": "data/huts.csv", "scope": "server"}]},
            'Resolve "data/huts.csv".',
            {"path": "data/huts.csv"},
            "get__api_resolvePath",
        )
        == "I found one result: data/huts.csv (server)."
    )


def test_a_weekday_is_said_of_its_date_and_a_yes_no_on_one_weekday_answered():
    day = {"date": "2026-12-25", "weekday": "Friday"}
    assert sentence(day, "What day is 2026-12-25?", {"day": "2026-12-25"}, "day_of_week") == "2026-12-25 is a Friday."
    assert (
        sentence(day, "Is 2026-12-25 a Monday?", {"day": "2026-12-25"}, "day_of_week") == "No, 2026-12-25 is a Friday."
    )
    assert (
        sentence(day, "Is 2026-12-25 a Monday, a Friday, or something else?", {"day": "2026-12-25"}, "day_of_week")
        == "2026-12-25 is a Friday."
    )
