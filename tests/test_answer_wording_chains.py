"""Offline requests and answers over chains of calls: a value taken from an earlier result reads in the
request's template, is counted among results about the same thing, and the offline assistant resolves it."""

import re

from toolloom.text.wording import THEN_SPLIT


def _demo_meta(*names: str) -> dict:
    import json
    from pathlib import Path

    tools = [t for f in sorted(Path("api_graphs/demo").glob("*.json")) for t in json.loads(f.read_text())]
    by_name = {t["function"]["name"]: t for t in tools}
    return {f"d.{n}": by_name[n]["x-toolloom"] for n in names}, {n: by_name[n]["function"]["parameters"] for n in names}


def test_a_value_from_an_earlier_result_reads_in_the_template_and_the_offline_assistant_reads_it_back():
    """'250 that country's currency', 'that day's days days', 'the country of this country' and 'the that
    city' were requests: a reference is said only where a noun phrase reads, and the assistant still finds it."""
    import random

    from toolloom.domain import Step, Task
    from toolloom.text.wording import render_example

    from .offline_episode import demo_tools, play

    meta, params = _demo_meta(
        "get_country",
        "convert_currency",
        "days_between",
        "add_days",
        "find_country",
        "get_capital_city",
        "get_product",
        "search_products",
    )
    chains = [  # (steps, the result of the first step)
        (
            [
                Step("d.get_country", "get_country", "", {"country_code": "FR"}),
                Step(
                    "d.convert_currency",
                    "convert_currency",
                    "",
                    {"amount": 250, "from_currency": "EUR", "to_currency": "JPY"},
                    {"from_currency": {"step": 0, "path": "currency"}},
                ),
            ],
            {"code": "FR", "currency": "EUR"},
        ),
        (
            [
                Step("d.days_between", "days_between", "", {"start_date": "2026-01-01", "end_date": "2026-12-31"}),
                Step(
                    "d.add_days",
                    "add_days",
                    "",
                    {"start_date": "2026-07-01", "days": 364},
                    {"days": {"step": 0, "path": "days"}},
                ),
            ],
            {"days": 364},
        ),
        (
            [
                Step("d.find_country", "find_country", "", {"name": "Mexico"}),
                Step(
                    "d.get_capital_city",
                    "get_capital_city",
                    "",
                    {"country_code": "MX"},
                    {"country_code": {"step": 0, "path": "results|country_code"}},
                ),
            ],
            {"results": [{"country_code": "MX", "name": "Mexico"}]},
        ),
        (
            [
                Step("d.search_products", "search_products", "", {"query": "headphones"}),
                Step(
                    "d.get_product",
                    "get_product",
                    "",
                    {"product_id": "p300"},
                    {"product_id": {"step": 0, "path": "results|product_id"}},
                ),
            ],
            {"results": [{"product_id": "p300", "name": "Headphones"}]},
        ),
    ]
    garbled = re.compile(
        r"\d (that|this|the) |\b(the|a|one|x) (that|this) |(\w+)'s \3s?\b|\bdays days\b|"
        r"\bcountry (that|this|the) |\bproduct (that|this) |of (that|this) country's country"
    )
    for steps, first_result in chains:
        tools = demo_tools(*{s.name for s in steps})
        for seed in range(12):
            text = render_example(Task("t", "multi_hop", steps, seed, meta), random.Random(seed))
            assert not garbled.search(text), text
            calls = play(text, tools, {steps[0].name: [first_result], steps[1].name: [{}]})
            assert calls == [(s.name, s.arguments) for s in steps], text


def test_an_earlier_result_is_counted_among_results_about_the_same_thing():
    """'the second country' is the second country the chain looked up, not the second step (an order
    first made 'the second country' the first one and the conversion ran the wrong way)."""
    import random

    from toolloom.agents.offline import Results, fill_arguments
    from toolloom.domain import Step, Task
    from toolloom.text.wording import bound_phrase, render_example

    meta, params = _demo_meta("get_order_status", "get_country", "get_exchange_rate")
    steps = [
        Step("d.get_order_status", "get_order_status", "", {"order_id": "ord_1002"}),
        Step(
            "d.get_country",
            "get_country",
            "",
            {"country_code": "FR"},
            {"country_code": {"step": 0, "path": "country_code"}},
        ),
        Step("d.get_country", "get_country", "", {"country_code": "JP"}),
        Step(
            "d.get_exchange_rate",
            "get_exchange_rate",
            "",
            {"from_currency": "EUR", "to_currency": "JPY"},
            {"from_currency": {"step": 1, "path": "currency"}, "to_currency": {"step": 2, "path": "currency"}},
        ),
    ]
    names = [s.name for s in steps]
    assert (
        bound_phrase({"step": 1, "path": "currency"}, 3, "get_country", names=names)
        == "the currency of the first country"
    )
    results = Results(
        [
            {"order_id": "ord_1002", "country_code": "FR"},
            {"code": "FR", "currency": "EUR"},
            {"code": "JP", "currency": "JPY"},
        ],
        names[:3],
    )
    for seed in range(8):
        text = render_example(Task("t", "multi_hop", steps, seed, meta), random.Random(seed))
        last = THEN_SPLIT.split(text)[-1]
        assert fill_arguments(last, params["get_exchange_rate"], results) == steps[3].arguments, text


def test_a_third_stitched_question_joins_with_and_and_the_offline_assistant_still_reads_every_part():
    """'Next, ...' and 'After that, ...' after 'Then, ...' read as templates (blind reads)."""
    import random

    from toolloom.domain import Step, Task
    from toolloom.text.wording import render_example

    from .offline_episode import demo_tools, play

    meta, _ = _demo_meta("get_city", "get_capital_city", "city_distance")
    steps = [
        Step("d.get_city", "get_city", "", {"city_id": "cape_town"}),
        Step(
            "d.get_capital_city",
            "get_capital_city",
            "",
            {"country_code": "ZA"},
            {"country_code": {"step": 0, "path": "country_code"}},
        ),
        Step(
            "d.city_distance",
            "city_distance",
            "",
            {"to_city_id": "pretoria", "from_city_id": "paris"},
            {"to_city_id": {"step": 1, "path": "city_id"}},
        ),
    ]
    tools = demo_tools("get_city", "get_capital_city", "city_distance")
    results = {
        "get_city": [{"country_code": "ZA"}],
        "get_capital_city": [{"city_id": "pretoria"}],
        "city_distance": [{}],
    }
    anded = 0
    for seed in range(30):
        text = render_example(Task("t", "multi_hop", steps, seed, meta), random.Random(seed))
        assert not re.search(r"\b(?:Next|After that|Afterwards), (?!I\b|I')", text), text  # 'Next, I'm ...' stands
        if " Then, " in text and " And " in text:
            anded += 1  # read as the same parts as with 'Next, '
            third = text.split(" And ", 1)[1]
            assert play(text, tools, results) == play(text.replace(" And " + third, " Next, " + third), tools, results)
            assert len(play(text, tools, results)) == 3, text
    assert anded  # some draws stitch all three parts, the third with 'And'
