"""Answers in plain words: yes or no to a shipping question, a fact said once, what an action left, a place's facts."""

import json

from toolloom.answers.sentence import sentence


def tool_call(i, name, **arguments):
    return {
        "role": "assistant",
        "tool_calls": [{"id": f"c{i}", "function": {"name": name, "arguments": json.dumps(arguments)}}],
    }


def tool_result(i, value):
    return {"role": "tool", "tool_call_id": f"c{i}", "content": json.dumps(value)}


def test_a_shipping_question_is_answered_yes_or_no_and_a_fact_is_said_once():
    from toolloom.checks.judging import said_before
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
