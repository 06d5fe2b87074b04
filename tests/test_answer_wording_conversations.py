"""Offline final answers written from a whole conversation (`answer_from`): a result said of what earlier
results named, actions said as done in the request's words, updates, a lookup beside an action, the parts of one
request, and a tool's own text blocks."""

import pytest
import json

from toolloom.answers.sentence import sentence


def test_a_result_without_a_name_is_said_of_what_its_call_named_by_the_names_earlier_results_gave():
    from toolloom.answers.sentence import answer_from

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


@pytest.mark.services
def test_an_update_says_what_it_set_and_times_read_as_events_to_the_minute():
    from toolloom.answers.phrases import value_text
    from toolloom.answers.sentence import answer_from

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


def test_parts_asked_in_one_sentence_keep_their_question_mark_so_a_yes_no_part_is_still_one():
    from toolloom.text.request_asks import is_yes_no, request_parts

    parts = request_parts('Has order "ord_1001" shipped yet, and then what is the VAT in the country of that order?')
    assert parts == ['Has order "ord_1001" shipped yet?', "what is the VAT in the country of that order?"]
    assert is_yes_no(parts[0])
    assert request_parts("How much is 1 USD in GBP? Separately, how many people live in Oslo?") == [
        "How much is 1 USD in GBP?",
        "how many people live in Oslo?",
    ]


def test_an_action_is_said_as_done_in_the_requests_words():
    from toolloom.answers.sentence import answer_from
    from toolloom.checks.answers import grounded
    from toolloom.text.request_asks import action_said

    assert (
        action_said('For the file "notes/todo.md", delete the checkpoint "checkpoint".')
        == 'I deleted the checkpoint "checkpoint".'
    )
    got = action_said("Please cancel my order ord_1001, then what is my balance?")
    assert got == "I cancelled your order ord_1001."
    assert action_said('Delete a file. Oh, sorry: "notes/a.txt".') == "I deleted the file."
    assert action_said("What is the status of my order?") == ""
    # the request's 'before it ships' is no part of what was done (a blind read: 'I stopped ... before it ships')
    assert action_said("Stop order ord_1002 before it ships.") == "I stopped order ord_1002."

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
    # a result that only confirms adds nothing ('... Entities deleted successfully and success: yes.');
    # a failure is said
    deleted = ('Delete the entity "Champex".', "delete_entities", {"entityNames": ["Champex"]})
    got = answer_from(conversation(*deleted, {"message": "Entities deleted successfully", "success": True}))
    assert got == 'I deleted the entity "Champex".'
    assert grounded({"message": "Entities deleted successfully", "success": True}, got)  # the filter's check agrees
    assert not grounded({"message": "Entities deleted successfully", "success": True}, "It could not be deleted.")
    got = answer_from(conversation(*deleted, {"message": "Entity not found", "success": False}))
    assert got == "That did not work: Entity not found.", got
    # where the request names no action, 'Done.' as before
    got = answer_from(conversation("I would like ord_1001 gone.", "cancel_order", {"order_id": "ord_1001"}, {}))
    assert got == "Done."


def test_a_lookup_is_answered_beside_an_action():
    from toolloom.answers.sentence import answer_from

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


def test_two_blocks_of_a_tools_own_lines_stay_apart_so_each_fence_closes():
    from toolloom.answers.sentence import answer_from

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
    # asked apart, each block is headed by what its part asked to be shown (both in one phrase: 'Here it is:')
    messages[0]["content"] = "Show me the working tree status. Separately, what are the unstaged changes?"
    answer = answer_from(messages)
    assert answer.startswith("Here is the working tree status:\n\n```\nOn branch main")
    assert "```\n\nHere are the unstaged changes:\n\n```\ndiff --git" in answer


def test_a_tool_text_too_long_for_an_answer_is_shown_by_its_start_and_size():
    """Jupyter's GET /api/spec.yaml is 1,000 lines of YAML: an answer pasting it whole teaches nothing."""
    from toolloom.answers.phrases import BLOCK_HEAD
    from toolloom.checks.answers import grounded
    from toolloom.answers.sentence import answer_from

    spec = "\n".join(f"line {i}: value" for i in range(1, 1001))
    messages = [
        {"role": "user", "content": "Show me the current spec for the server's APIs."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "get__api_spec_yaml", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "a", "content": json.dumps({"text": spec})},
    ]
    answer = answer_from(messages)
    assert answer.startswith("It is 1,000 lines long") and f"line {BLOCK_HEAD}: value" in answer, answer[:200]
    assert f"line {BLOCK_HEAD + 1}:" not in answer and answer.count("```") == 2
    assert grounded({"text": spec}, answer)  # the filter's check: its first lines are the result's


def test_results_of_calls_made_together_are_said_of_the_part_that_names_them_not_of_the_next_in_order():
    """Two calls made together came back Brazil first, though the request asks about the city's country
    first: the answer once gave Brazil's capital as Japan's and Japan's calling code as Brazil's."""
    from toolloom.answers.sentence import answer_from

    def call(i, name, arguments):
        return {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}

    def result(i, value):
        return {"role": "tool", "tool_call_id": f"c{i}", "content": json.dumps(value)}

    brazil = {"calling_code": "+55", "capital": "Brasilia", "code": "BR", "currency": "BRL", "name": "Brazil"}
    japan = {"calling_code": "+81", "capital": "Tokyo", "code": "JP", "currency": "JPY", "name": "Japan"}
    messages = [
        {
            "role": "user",
            "content": "Which time zone is Tokyo in? Next, what are the capital and currency of the country of this "
            "city? Also, what is the calling code of Brazil?",
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [call(1, "get_city", {"city_id": "tokyo"}), call(2, "get_country", {"country_code": "BR"})],
        },
        result(1, {"city_id": "tokyo", "country_code": "JP", "name": "Tokyo", "timezone": "Asia/Tokyo"}),
        result(2, brazil),
        {"role": "assistant", "content": None, "tool_calls": [call(3, "get_country", {"country_code": "JP"})]},
        result(3, japan),
    ]
    answer = answer_from(messages)
    assert "calling code of Brazil is +55" in answer and "+81" not in answer
    assert "capital of Japan is Tokyo" in answer and "Brasilia" not in answer


@pytest.mark.parametrize("holiday, lead", [(True, "Yes, it is a holiday (Victoria Day)."), (False, "No, it is not")])
def test_a_yes_no_question_that_names_no_field_is_answered_yes_or_no_first(holiday, lead):
    """'a day off' names no field of is_holiday's result; its one flag answers it, before the lookup's sentence."""
    from toolloom.answers.sentence import answer_from

    def call(i, name, arguments):
        return {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
            ],
        }

    day = {
        "country_code": "CA",
        "date": "2026-05-18",
        "is_holiday": holiday,
        "name": "Victoria Day" if holiday else None,
    }
    messages = [
        {"role": "user", "content": "Is the third Monday of May 2026 a day off in the country Toronto is in?"},
        call(1, "get_city", {"city_id": "toronto"}),
        {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"city_id": "toronto", "country_code": "CA"})},
        call(2, "is_holiday", {"country_code": "CA", "day": "2026-05-18"}),
        {"role": "tool", "tool_call_id": "c2", "content": json.dumps(day)},
    ]
    assert answer_from(messages).startswith(lead)


def test_a_field_that_maps_names_to_records_is_said_as_a_list_of_them():
    """Jupyter's kernel specs come as {"default": ..., "kernelspecs": {name: record}}: the answer once read
    'The kernelspecs: .' for an empty map, which the filter then rejected as saying nothing of the result."""
    from toolloom.answers.sentence import sentence
    from toolloom.checks.answers import grounded

    empty = {"default": "python3", "kernelspecs": {}}
    said = sentence(empty, "Show me the kernel specs.", {}, "get__api_kernelspecs")
    assert said == "I found no kernelspecs." and grounded(empty, said)
    one = {"default": "python3", "kernelspecs": {"python3": {"name": "python3", "spec": {"language": "python"}}}}
    said = sentence(one, "Show me the kernel specs.", {}, "get__api_kernelspecs")
    assert said.startswith("I found one kernelspec: python3") and grounded(one, said), said


def test_a_real_services_text_said_as_the_answers_say_it_grounds_the_answer():
    """The filter rejected right answers to MCP servers as saying nothing of the result: git's '* main', a diff's
    'Staged changes:' over nothing, a filesystem's 'Successfully created directory /a/b'."""
    from toolloom.checks.answers import grounded

    assert grounded({"text": "* main"}, "There is one branch, main, and it is checked out.")
    assert grounded({"text": "Staged changes:\n"}, "There are no staged changes.")
    created = {"content": "Successfully created directory /tmp/ws/photos"}
    assert grounded(created, 'I created a new directory at "/tmp/ws/photos".')
    assert not grounded(created, "I created a new directory.") and not grounded({"text": "Staged changes:\n"}, "Done.")


def test_a_change_whose_result_only_says_back_what_was_set_is_said_once():
    """'I updated the configuration section "notebook", setting autosave interval to 120. The autosave interval is
    120.' said the one fact twice (both blind readers of the Jupyter examples marked it)."""
    from toolloom.answers.sentence import answer_from

    call = {"section_name": "notebook", "body": {"autosave_interval": 120}}
    request = 'Update the configuration section "notebook", setting autosave interval to 120.'
    messages = [
        {"role": "user", "content": request},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "a",
                    "type": "function",
                    "function": {"name": "patch__api_config_section_name", "arguments": json.dumps(call)},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "a", "content": json.dumps({"autosave_interval": 120, "theme": "dark"})},
    ]
    answer = answer_from(messages)
    assert answer.count("120") == 1 and answer.startswith("I updated the configuration section"), answer
