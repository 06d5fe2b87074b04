"""Offline answers as a person writes them: what a one-value result is, counts with separators, yes/no for
availability, what is left until a date; and which calls are actions."""

import json
import re

from toolloom.answers import sentence
from toolloom.wording import THEN_SPLIT


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
        == "There are 364 days."
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
    from toolloom.request_asks import is_action

    assert [is_action(t) for t in ("add_to_cart", "cancel_order", "add_vat", "set_days")] == [True, True, False, False]


def test_a_field_with_a_unit_is_named_without_it_and_a_bound_entity_is_not_said_twice():
    import random

    from toolloom.domain import Step, Task
    from toolloom.wording import render_example

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
    from toolloom.wording import render_example

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


def test_an_earlier_result_is_counted_among_results_about_the_same_thing():
    """'the second country' is the second country the chain looked up, not the second step (an order
    first made 'the second country' the first one and the conversion ran the wrong way)."""
    import random

    from toolloom.agents.offline import Results, fill_arguments
    from toolloom.domain import Step, Task
    from toolloom.wording import bound_phrase, render_example

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


def test_a_result_without_a_name_is_said_of_what_its_call_named_by_the_names_earlier_results_gave():
    from toolloom.answers import answer_from

    def call(i, name, **arguments):
        return {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
            ],
        }

    def result(i, value):
        return {"role": "tool", "tool_call_id": f"c{i}", "content": json.dumps(value)}

    messages = [
        {
            "role": "user",
            "content": "Which city is the capital of DE? Then, how far is the first capital "
            "city from the capital city of FR?",
        },
        call(0, "get_capital_city", country_code="DE"),
        result(0, {"city_id": "berlin", "name": "Berlin"}),
        call(1, "get_capital_city", country_code="FR"),
        result(1, {"city_id": "paris", "name": "Paris"}),
        call(2, "city_distance", from_city_id="berlin", to_city_id="paris"),
        result(2, {"distance_km": 877.5, "from_city_id": "berlin", "to_city_id": "paris"}),
    ]
    assert answer_from(messages).endswith("The distance from Berlin to Paris is 877.5 km.")
    # an end no result named is said as a person names it (the slug id paris: Paris)
    assert (
        sentence(
            {"distance_km": 877.5},
            "How far?",
            {"from_city_id": "paris", "to_city_id": "berlin"},
            "city_distance",
            {"berlin": "Berlin"},
        )
        == "The distance from Paris to Berlin is 877.5 km."
    )
    # a code beside other inputs is a parameter, not what the result is about
    assert (
        sentence(
            {"gross_amount": 71.28, "vat": 11.38},
            "Add VAT for DE to 59.90.",
            {"country_code": "DE", "net_amount": 59.9},
            "add_vat",
        )
        == "The VAT is 11.38."
    )
    assert (
        sentence(
            {"status": "processing", "total_eur": 418.8},
            "What is the status of order ord_1002?",
            {"order_id": "ord_1002"},
            "get_order_status",
        )
        == "The status of order ord_1002 is processing."
    )
    # an empty search says what it searched for, not that there are none at all
    assert (
        sentence(
            {"cities": []},
            "List the big cities of FR.",
            {"country_code": "FR", "min_population": 3000000},
            "list_cities",
        )
        == "I found no cities in France with a population of at least 3,000,000."
    )
    assert (
        sentence(
            {"countries": [], "language_code": "es"},
            "Where is language code es official, in Asia?",
            {"language_code": "es", "region": "Asia"},
            "countries_speaking",
        )
        == "I found no countries in Asia with language code es."
    )


def test_an_update_says_what_it_set_and_times_read_as_events_to_the_minute():
    from toolloom.answer_phrases import value_text
    from toolloom.answers import answer_from

    renamed = {
        "content": None,
        "last_modified": "2026-12-04T09:53:34.858503Z",
        "mimetype": "text/markdown",
        "name": "done.md",
        "path": "notes/done.md",
        "size": 126,
    }
    request = 'Update content path "notes/todo.md" with body path "notes/done.md".'
    # the request's words name what to change: 'content' is no question, and its null is nothing to report
    assert (
        sentence(renamed, request, {"path": "notes/todo.md", "body_path": "notes/done.md"}, "patch__api_contents_path")
        == "The path of done.md is notes/done.md."
    )
    assert (
        sentence(
            {"id": "cp1", "last_modified": "2026-12-04T09:53:34.858503Z"},
            "Make a checkpoint of a.md.",
            {"path": "a.md"},
            "post__api_contents_path_checkpoints",
        )
        == "The ID is cp1 and it was last modified on 2026-12-04 09:53 UTC."
    )
    assert value_text("2026-12-31T18:00") == "2026-12-31 18:00" and value_text("2026-12-31") == "2026-12-31"

    def call(i, name, **arguments):
        return {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
            ],
        }

    messages = [
        {"role": "user", "content": "Delete checkpoint cp1 of a.md. Then, delete checkpoint cp2 of b.md."},
        call(0, "delete_checkpoint", path="a.md", checkpoint_id="cp1"),
        {"role": "tool", "tool_call_id": "c0", "content": "{}"},
        call(1, "delete_checkpoint", path="b.md", checkpoint_id="cp2"),
        {"role": "tool", "tool_call_id": "c1", "content": "{}"},
    ]
    # each action said as done, in the request's words
    assert answer_from(messages) == "I deleted checkpoint cp1 of a.md. I deleted checkpoint cp2 of b.md."
    messages[0]["content"] = "I want cp1 of a.md gone. Then, cp2 of b.md as well."
    assert answer_from(messages) == "Done."  # no verb to say it with: 'Done.' once, not 'Done. Done.'


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


def test_parts_asked_in_one_sentence_keep_their_question_mark_so_a_yes_no_part_is_still_one():
    from toolloom.request_asks import is_yes_no, request_parts

    parts = request_parts('Has order "ord_1001" shipped yet, and then what is the VAT in the country of that order?')
    assert parts == ['Has order "ord_1001" shipped yet?', "what is the VAT in the country of that order?"]
    assert is_yes_no(parts[0])
    assert request_parts("How much is 1 USD in GBP? Separately, how many people live in Oslo?") == [
        "How much is 1 USD in GBP?",
        "how many people live in Oslo?",
    ]


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


def test_an_action_is_said_as_done_in_the_requests_words():
    from toolloom.answers import answer_from
    from toolloom.request_asks import action_said

    assert (
        action_said('For the file "notes/todo.md", delete the checkpoint "checkpoint".')
        == 'I deleted the checkpoint "checkpoint".'
    )
    got = action_said("Please cancel my order ord_1001, then what is my balance?")
    assert got == "I cancelled your order ord_1001."
    assert action_said('Delete a file. Oh, sorry: "notes/a.txt".') == "I deleted the file."
    assert action_said("What is the status of my order?") == ""

    def conversation(request, tool, arguments, result):
        return [
            {"role": "user", "content": request},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c0", "type": "function", "function": {"name": tool, "arguments": json.dumps(arguments)}}
                ],
            },
            {"role": "tool", "tool_call_id": "c0", "content": json.dumps(result)},
        ]

    # a rename says what it did, not 'The path of done.md is notes/done.md' (the value it was given)
    got = answer_from(
        conversation(
            'Rename the file "notes/todo.md" to "notes/done.md".',
            "patch__api_contents_path",
            {"path": "notes/todo.md", "body_path": "notes/done.md"},
            {"name": "done.md", "path": "notes/done.md", "content": None},
        )
    )
    assert got == 'I renamed the file "notes/todo.md" to "notes/done.md".'
    # where the request names no action, 'Done.' as before
    got = answer_from(conversation("I would like ord_1001 gone.", "cancel_order", {"order_id": "ord_1001"}, {}))
    assert got == "Done."


def test_a_lookup_is_answered_beside_an_action():
    from toolloom.answers import answer_from

    messages = [
        {"role": "user", "content": "I'd like to know the capital of DE."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c0",
                    "type": "function",
                    "function": {"name": "get_capital_city", "arguments": json.dumps({"country_code": "DE"})},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "c0",
            "content": json.dumps({"city_id": "berlin", "country_code": "DE", "name": "Berlin"}),
        },
    ]
    assert "Berlin" in answer_from(messages)


def test_a_date_with_its_weekday_a_product_out_of_stock_and_one_record_found_read_as_a_person_says_them():
    assert (
        sentence(
            {"date": "2026-01-03", "weekday": "Saturday"},
            "My trip starts 2025-12-24 and lasts 10 days; when does it end?",
            {"start_date": "2025-12-24", "days": 10},
            "add_days",
        )
        == "That is Saturday, 2026-01-03."
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
    from toolloom.answer_checks import unstated

    asked, result = "How many hours apart are the clocks of Sydney and Berlin?", {"hours": -9.0}
    assert unstated(asked, result, gap(-9.0)) == [] and unstated(asked, result, gap(9.0)) == ["hours"]


def test_two_blocks_of_a_tools_own_lines_stay_apart_so_each_fence_closes():
    from toolloom.answers import answer_from

    calls = [
        {"id": c, "type": "function", "function": {"name": n, "arguments": "{}"}}
        for c, n in (("a", "git_status"), ("b", "git_diff"))
    ]
    messages = [
        {"role": "user", "content": "Show me the git status and the git diff."},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "a", "content": json.dumps({"text": "On branch main\nclean"})},
        {"role": "tool", "tool_call_id": "b", "content": json.dumps({"text": "diff --git a/x b/x\n+2"})},
    ]
    answer = answer_from(messages)
    assert "```\n\nHere it is:" in answer and "``` Here" not in answer and answer.count("```") == 4
