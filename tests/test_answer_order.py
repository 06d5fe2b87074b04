"""An answer says what was asked first; the lookups a request named ('the capital city of Australia') come after,
or not at all where the answer names what they found anyway (blind reads: 'The capital city of Australia is
Canberra. The capital city of Canada is Ottawa. The travel time ... is 25.6 hours.')."""

import json

from toolloom.answers.sentence import answer_from


def _turn(call_id: str, name: str, args: dict, result: dict) -> list[dict]:
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
    return [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call_id, "name": name, "content": json.dumps(result)},
    ]


def test_a_one_part_answer_says_the_asked_value_before_the_lookups_that_fed_it_an_id():
    request = "How many hours by plane between the capital city of Australia and the capital city of Canada?"
    messages = [{"role": "user", "content": request}]
    messages += _turn("a", "get_capital_city", {"country_code": "AU"}, {"city_id": "canberra", "name": "Canberra"})
    messages += _turn("b", "get_capital_city", {"country_code": "CA"}, {"city_id": "ottawa", "name": "Ottawa"})
    trip = {"from_city_id": "canberra", "to_city_id": "ottawa", "mode": "plane"}
    messages += _turn("c", "travel_time", trip, {**trip, "distance_km": 16108.0, "hours": 25.6})
    answer = answer_from(messages)
    assert answer.startswith("The travel time from Canberra to Ottawa is 25.6 hours."), answer
    assert "The capital city of Australia is Canberra." in answer  # said, after: the request named it so


def test_a_first_parts_lookup_the_answer_names_anyway_is_not_said():
    request = (
        "Tell me which city is the capital of the country of order ord_1001. After that, what will the clocks show "
        "in that capital city at 2026-03-01 14:30 UTC?"
    )
    messages = [{"role": "user", "content": request}]
    order = {"order_id": "ord_1001", "status": "shipped", "country_code": "DE", "total_eur": 94.96}
    messages += _turn("a", "get_order_status", {"order_id": "ord_1001"}, order)
    messages += _turn("b", "get_capital_city", {"country_code": "DE"}, {"city_id": "berlin", "name": "Berlin"})
    local = {"city_id": "berlin", "local_time": "2026-03-01T15:30", "utc_offset_hours": 1.0}
    messages += _turn("c", "local_time", {"city_id": "berlin", "utc_time": "2026-03-01T14:30"}, local)
    answer = answer_from(messages)
    # not 'The country of order ord_1001 is Germany.' first: the capital's sentence names Germany
    assert answer.startswith("The capital city of Germany is Berlin."), answer
    assert "order ord_1001" not in answer and "15:30" in answer


def test_how_many_are_left_asks_for_the_stock():
    """'How many of p101 are left, and at what price?' was answered with the price alone (a blind read)."""
    messages = [{"role": "user", "content": "How many of p101 are left, and at what price?"}]
    product = {"category": "sports", "name": "Waterproof hiking jacket", "price_eur": 189.5, "stock": 6}
    messages += _turn("a", "get_product", {"product_id": "p101"}, {**product, "product_id": "p101"})
    answer = answer_from(messages)
    assert "6 in stock" in answer and "189.5 EUR" in answer, answer
