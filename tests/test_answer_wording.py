"""Offline answers as a person writes them: what a one-value result is, counts with separators, yes/no for
availability, what is left until a date; and which calls are actions."""

from toolloom.answers import sentence


def test_a_one_value_answer_says_what_the_value_is_and_big_counts_read_as_people_write_them():
    def one(tool, result, request, **arguments):
        return sentence(result, request, arguments, tool)

    assert one("days_between", {"days": 364}, "Count the days between 2026-01-01 and 2026-12-31.",
               start="2026-01-01", end="2026-12-31") == "There are 364 days."
    assert one("time_difference", {"hours": -5.0, "from_city_id": "london", "to_city_id": "new_york"},
               "How far ahead of london is new_york?", from_city_id="london", to_city_id="new_york") \
        == "The time difference is -5 hours."
    assert one("get_city", {"city_id": "tokyo", "name": "Tokyo", "population": 14094034},
               "What's the population of tokyo?", city_id="tokyo") == "Tokyo: the population is 14,094,034."
    assert one("get_order", {"order_id": 12345678, "status": "shipped"}, "Where is order 12345678?",
               order_id=12345678) == "The status is shipped."
    assert one("get_product", {"product_id": "p101", "name": "Jacket", "stock": 12}, 'Is "p101" available right now?',
               product_id="p101") == "Yes: the stock is 12."
    assert one("next_holiday", {"name": "New Year's Day", "date": "2027-01-01", "days_until": 5},
               "Which holiday comes next in DE?", country_code="DE") \
        == "New Year's Day: the date is 2027-01-01 and it is 5 days away."
    from toolloom.answers import is_action

    assert [is_action(t) for t in ("add_to_cart", "cancel_order", "add_vat", "set_days")] == [True, True, False, False]


def test_a_field_with_a_unit_is_named_without_it_and_a_bound_entity_is_not_said_twice():
    import random
    import re

    from toolloom.domain import Step, Task
    from toolloom.wording import render_example

    assert sentence({"product_id": "p1", "name": "Tent", "price_eur": 139.0, "stock": 4},
                    'What are the price and stock of "p1"?', {"product_id": "p1"}, "get_product") \
        == "Tent: the price is 139 EUR and the stock is 4."
    first = Step("d.get_capital_city", "get_capital_city", "", {"country_code": "FR"})
    second = Step("d.get_city", "get_city", "", {"city_id": "paris"}, {"city_id": {"step": 0, "path": "city_id"}})
    meta = {"d.get_city": {"utterances": ["Look up the city {city_id} for me."]},
            "d.get_capital_city": {"utterances": ["Which city is the capital of {country_code}?"]}}
    for seed in range(4):
        text = render_example(Task("t", "multi_hop", [first, second], seed, meta), random.Random(seed))
        assert "the city th" not in text and re.search(r"up th(is|at) (capital )?city for me", text), text
