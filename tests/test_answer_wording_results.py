"""Answers to what results hold and in what order they are said: a found record's notes, the parts of a request
in the order it asks them."""

import json


def _conversation(request: str, calls: list[tuple[str, dict, dict]]) -> list[dict]:
    """A request, its calls made together, and their results in call order."""
    made = [
        {"id": f"c{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
        for i, (n, a, _) in enumerate(calls)
    ]
    results = [{"role": "tool", "tool_call_id": f"c{i}", "content": json.dumps(r)} for i, (_, _, r) in enumerate(calls)]
    return [{"role": "user", "content": request}, {"role": "assistant", "content": None, "tool_calls": made}, *results]


def test_parts_are_answered_in_the_order_the_request_asks_them():
    """'How much is one GBP worth in Brazil's currency? Additionally, I have 99.5 CHF; how many SEK is that?' was
    answered CHF first (the order the calls came back in): a blind reader marked it."""
    from toolloom.answers.sentence import answer_from

    messages = _conversation(
        "How much is one GBP worth in BRL? Additionally, I have 99.5 CHF; how many SEK is that?",
        [
            ("convert_currency", {"amount": 99.5, "from_currency": "CHF", "to_currency": "SEK"}, {"amount": 1155.27}),
            ("get_exchange_rate", {"from_currency": "GBP", "to_currency": "BRL"}, {"rate": 7.395413}),
        ],
    )
    answer = answer_from(messages)
    assert answer.index("7.395413") < answer.index("1155.27"), answer
    # the first part needed a lookup (Brazil's currency), and the calls came back lookup, second part, first part
    messages = _conversation(
        "How much is one GBP worth in Brazil's currency? Additionally, I have 99.5 CHF; how many SEK is that?",
        [
            ("get_country", {"country_code": "BR"}, {"name": "Brazil", "currency": "BRL"}),
            ("convert_currency", {"amount": 99.5, "from_currency": "CHF", "to_currency": "SEK"}, {"amount": 1155.27}),
            ("get_exchange_rate", {"from_currency": "GBP", "to_currency": "BRL"}, {"rate": 7.395413}),
        ],
    )
    answer = answer_from(messages)
    assert answer.index("BRL") < answer.index("7.395413") < answer.index("1155.27"), answer
    # a lookup named by the code it was given ('the capital city of Germany': DE) belongs to the part naming it
    messages = _conversation(
        "If I go from Madrid to the capital city of Germany by car, how long will it take? Separately, list the "
        "countries in the Americas.",
        [
            ("get_capital_city", {"country_code": "DE"}, {"capital": "Berlin", "city_id": "berlin"}),
            ("list_countries_by_region", {"region": "Americas"}, {"countries": [{"name": "Canada", "code": "CA"}]}),
            ("travel_time", {"from_city_id": "madrid", "to_city_id": "berlin", "mode": "car"}, {"hours": 23.9}),
        ],
    )
    answer = answer_from(messages)
    assert answer.index("Berlin") < answer.index("23.9") < answer.index("Canada"), answer


def test_one_found_record_says_the_notes_it_holds_not_only_its_name():
    """'Open the node named "Lea Favre"' was answered 'I found one entity: Lea Favre (person).': what the node holds
    (the memory server's observations) is what was asked for; codes and tags are not notes."""
    from toolloom.answers.sentence import sentence

    notes = ["Mountain guide for the tour", "Reachable through the Chamonix guides office"]
    node = {"entities": [{"entityType": "person", "name": "Lea Favre", "observations": notes}], "relations": []}
    said = sentence(node, 'Open the node named "Lea Favre".', {"names": ["Lea Favre"]}, "open_nodes")
    assert said == (
        'I found one entity: Lea Favre (person), with observations "Mountain guide for the tour" and "Reachable '
        'through the Chamonix guides office".'
    ), said
    country = {"countries": [{"name": "Canada", "languages": ["en", "fr"]}]}
    assert "languages" not in sentence(country, "Which countries speak French?", {"language": "fr"}, "find_countries")


def test_a_count_of_days_until_is_said_from_the_day_the_call_was_given():
    """'New Year's Day is on 2027-01-01 and it is 5 days away' for the holiday after 2026-12-27: 5 days from that day,
    not from today (a blind reader marked it misleading twice)."""
    from toolloom.answers.sentence import sentence

    holiday = {"country_code": "DE", "date": "2027-01-01", "days_until": 5, "name": "New Year's Day"}
    ask = "Find the first public holiday in Germany following 2026-12-27."
    after = sentence(holiday, ask, {"country_code": "DE", "after_date": "2026-12-27"}, "next_holiday")
    assert "5 days after 2026-12-27" in after and "away" not in after, after
    today = sentence(holiday, "Which public holiday comes up in Germany?", {"country_code": "DE"}, "next_holiday")
    assert "5 days away" in today, today
    # 'the next holiday' asks for its date: said, the count of days is not needed
    asked = sentence(holiday, "Find the next public holiday in Germany.", {"country_code": "DE"}, "next_holiday")
    assert "2027-01-01" in asked, asked


def test_a_search_beside_a_read_is_said_too_and_a_fenced_diff_is_fenced_once():
    """Read a file and search for files, together: the search's paths were dropped as 'said before' (its only
    capitalised word was 'Here'); an edit's diff that came fenced was fenced again (a blind reader saw both)."""
    from toolloom.answers.sentence import answer_from, sentence

    answer = answer_from(
        _conversation(
            'What are the complete contents of the file "/w/notes/a.md"? Also, in the directory "/w", search for '
            'files matching "**/*.md".',
            [
                ("read_text_file", {"path": "/w/notes/a.md"}, {"content": "# Itinerary\n\n| day | from |\n"}),
                ("search_files", {"path": "/w", "pattern": "**/*.md"}, {"content": "/w/notes/a.md\n/w/notes/b.md"}),
            ],
        )
    )
    assert "Here is what I found:\n\n```\n/w/notes/a.md\n/w/notes/b.md\n```" in answer, answer
    diff = "```diff\n--- a\n+++ a\n@@ -1 +1 @@\n-x\n+y\n```"
    assert sentence({"text": diff}, 'Edit the file "/a".', {}, "edit_file") == f"Here is the change:\n\n{diff}"


def test_a_namespaced_change_is_said_as_done_once():
    """git_add, git_reset and move_file change something: 'Hi, I have a question about git' opened a command, and
    'Files staged successfully.' was the whole answer to 'Stage the file "README.md".'."""
    from toolloom.answers.sentence import answer_from
    from toolloom.text.tool_names import is_action

    from toolloom.checks.answers import grounded

    assert all(map(is_action, ["git_add", "git_commit", "git_reset", "move_file", "edit_file"]))
    assert not any(map(is_action, ["git_status", "read_text_file", "list_add_ons", "add_vat", "get_added_items"]))
    said = {
        ('Stage the file "README.md".', "git_add", "Files staged successfully."): 'I staged the file "README.md".',
        ("Unstage all staged changes.", "git_reset", "All staged changes reset."): "I unstaged all staged changes.",
        ('Create a new branch named "fix/a".', "git_create_branch", "Created branch 'fix/a' from 'main'."): (
            "Created branch 'fix/a' from 'main'."
        ),
    }
    for (request, tool, text), answer in said.items():
        assert answer_from(_conversation(request, [(tool, {}, {"text": text})])) == answer
        assert grounded({"text": text}, answer)  # the filter's check agrees: saying it was done is grounded
    assert not grounded({"text": "Paris"}, "I staged the file.")  # a value is no confirmation


def test_a_code_a_call_was_given_and_echoes_is_no_lookup_for_a_later_call():
    """'Standard VAT in the United States? ... the next holiday in the United States': the VAT result says 'US',
    which the holiday call also took, from the request; the answer said 'The country of the United States is the
    United States' instead of the VAT note (a read of a replayed escalation)."""
    from toolloom.answers.sentence import answer_from

    note = "there is no single national VAT rate: sales taxes vary by state or province"
    messages = _conversation(
        "Standard VAT in the United States? Additionally, express 42.195 km in mi. If the result is below 25 mi, "
        "what is the next public holiday in the United States after 2026-12-27? Otherwise, after 2026-11-24, when do "
        "people in the United States next get a public holiday?",
        [
            (
                "get_vat_rate",
                {"country_code": "US"},
                {"country_code": "US", "note": note, "standard_rate_percent": None},
            ),
            ("convert_units", {"value": 42.195, "from_unit": "km", "to_unit": "mi"}, {"value": 26.2188, "unit": "mi"}),
            (
                "next_holiday",
                {"country_code": "US", "after_date": "2026-11-24"},
                {"country_code": "US", "date": "2026-11-26", "name": "Thanksgiving Day"},
            ),
        ],
    )
    answer = answer_from(messages)
    assert "no single national VAT rate" in answer and "The country of" not in answer, answer


def test_a_branched_request_is_answered_for_the_branch_taken_not_by_the_words_of_its_condition():
    """'What's the current GBP/USD rate? If the rate is below 1.5, what's 1200 USD worth in GBP? Otherwise, ...' was
    answered 'The rate is 0.74295' for the conversion: the condition's 'rate' was taken for what was asked."""
    from toolloom.answers.sentence import answer_from, taken_branch

    request = (
        "What's the current GBP/USD rate? If the rate is below 1.5, what's 1200 USD worth in GBP? "
        "Otherwise, what's 250 USD worth in GBP?"
    )
    conversion = {"amount": 1200, "from_currency": "USD", "to_currency": "GBP"}
    assert taken_branch(request, [{}, conversion]) == (
        "What's the current GBP/USD rate? Then, what's 1200 USD worth in GBP?"
    )
    assert taken_branch(request, [{}, {**conversion, "amount": 250}]).endswith("Then, what's 250 USD worth in GBP?")
    messages = _conversation(
        request,
        [
            ("get_exchange_rate", {"from_currency": "GBP", "to_currency": "USD"}, {"rate": 1.345986}),
            ("convert_currency", conversion, {"amount": 891.54, "currency": "GBP", "rate": 0.74295}),
        ],
    )
    answer = answer_from(messages)
    assert "1200 USD is 891.54 GBP" in answer and "0.74295" not in answer, answer


def test_a_lookup_that_no_part_names_answers_the_part_whose_result_it_took_its_value_from():
    """'Summarise the country of order ord_1002: capital, region and currency. Additionally, which languages are
    spoken in Brazil ...? Then, ...': the calls came back order, Brazil, France, and the answer gave Brazil's
    capital for the order's country and France's calling code for Brazil (a read of the demo)."""
    from toolloom.answers.sentence import answer_from

    france = {"code": "FR", "name": "France", "capital": "Paris", "currency": "EUR", "region": "Europe"}
    brazil = {"code": "BR", "name": "Brazil", "capital": "Brasilia", "currency": "BRL", "region": "Americas"}
    messages = _conversation(
        "Summarise the country of order ord_1002 for me: capital, region and currency. Additionally, which "
        "languages are spoken in Brazil, and what is its calling code? Then, what do 99.5 of the first country's "
        "currency come to in that country's currency?",
        [
            ("get_order_status", {"order_id": "ord_1002"}, {"order_id": "ord_1002", "country_code": "FR"}),
            ("get_country", {"country_code": "BR"}, {**brazil, "languages": ["pt"], "calling_code": "+55"}),
            ("get_country", {"country_code": "FR"}, {**france, "languages": ["fr"], "calling_code": "+33"}),
            ("convert_currency", {"amount": 99.5, "from_currency": "EUR", "to_currency": "BRL"}, {"amount": 641.66}),
        ],
    )
    answer = answer_from(messages)
    assert "Paris" in answer and "+55" in answer, answer
    assert "Brasilia" not in answer and "+33" not in answer, answer
    assert answer.index("Paris") < answer.index("+55") < answer.index("641.66"), answer
    # a list said of its subject: not 'There is one language: Portuguese', which says not where
    assert "Brazil has one language: Portuguese" in answer, answer


def test_what_was_done_names_the_value_its_reference_stood_for():
    """'Is my order ord_1002 on its way? After that, please add 1 of the product of that order to the basket.' was
    answered 'I added 1 of the product of that order to the basket.' (a read of the demo)."""
    from toolloom.answers.sentence import answer_from

    messages = _conversation(
        "Is my order ord_1002 on its way? After that, please add 1 of the product of that order to the basket.",
        [
            (
                "get_order_status",
                {"order_id": "ord_1002"},
                {"order_id": "ord_1002", "status": "processing", "items": [{"product_id": "p200", "quantity": 1}]},
            ),
            (
                "add_to_cart",
                {"product_id": "p200", "quantity": 1},
                {"items": [{"product_id": "p200", "quantity": 1}], "subtotal_eur": 349.0},
            ),
        ],
    )
    answer = answer_from(messages)
    assert "I added 1 of product p200 to the basket." in answer and "that order" not in answer, answer


def test_a_date_calculation_says_what_it_counted_from_and_an_action_needs_no_bare_done():
    """'There are 82 days. That is Wednesday, 2027-03-24.' never said which date is which, and 'Next, I want 2 of its
    product in my cart' was answered 'Done. The cart now has ...' (a blind read)."""
    from toolloom.answers.sentence import answer_from, sentence

    span = {"start_date": "2026-11-24", "end_date": "2027-02-14"}
    assert sentence({"days": 82}, "How many days?", span, "days_between") == (
        "There are 82 days from 2026-11-24 to 2027-02-14."
    )
    later = {"date": "2027-03-24", "weekday": "Wednesday"}
    assert sentence(
        later, "What is the date 120 days later?", {"start_date": "2026-11-24", "days": 120}, "add_days"
    ) == ("120 days after 2026-11-24 is Wednesday, 2027-03-24.")
    assert sentence({"days": 1}, "How many days?", {**span, "end_date": "2026-11-25"}, "days_between").startswith(
        "It is 1 day "
    )
    messages = _conversation(
        "I want 2 of product p200 in my cart.",
        [("add_to_cart", {"product_id": "p200", "quantity": 2}, {"items": [{"product_id": "p200", "quantity": 2}]})],
    )
    assert not answer_from(messages).startswith("Done."), answer_from(messages)


def test_a_name_said_with_the_takes_it_at_the_start_of_a_sentence_too():
    """'United States has no single national VAT rate' (a read of the demo)."""
    from toolloom.text.wording import the_names

    assert the_names("United States has no single VAT rate. I live in United States.") == (
        "The United States has no single VAT rate. I live in the United States."
    )


def test_an_open_question_about_a_country_says_its_capital_before_its_calling_code():
    """'I'm curious about Brazil; what can you tell me?' was answered with the calling code first (a blind read)."""
    from toolloom.answers.sentence import sentence

    brazil = {"calling_code": "+55", "capital": "Brasilia", "code": "BR", "currency": "BRL", "name": "Brazil"}
    brazil |= {"languages": ["pt"], "population": 216400000, "region": "Americas"}
    said = sentence(brazil, "I'm curious about Brazil; what can you tell me?", {"country_code": "BR"}, "get_country")
    assert said.startswith("The capital of Brazil is Brasilia") and "+55" not in said, said


def test_a_lookup_whose_code_the_answer_names_by_its_name_is_not_said_first():
    """'What is the standard VAT rate in the country of order ord_1001?' was answered 'The country of order ord_1001
    is Germany. The standard rate in Germany is 19 percent.': the lookup step first (a blind read)."""
    from toolloom.answers.sentence import answer_from

    messages = _conversation(
        "What is the standard VAT rate in the country of order ord_1001?",
        [
            ("get_order_status", {"order_id": "ord_1001"}, {"order_id": "ord_1001", "country_code": "DE"}),
            ("get_vat_rate", {"country_code": "DE"}, {"country_code": "DE", "standard_rate_percent": 19.0}),
        ],
    )
    answer = answer_from(messages)
    assert answer.startswith("The standard rate in Germany is 19") and "order" not in answer, answer
