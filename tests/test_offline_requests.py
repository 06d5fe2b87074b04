"""Requests for tools without utterance templates (every real collection) are worded from the tool's
name and arguments, never pasted from its documentation (toolloom/text/offline_requests.py)."""

import random
import re

import pytest

from toolloom.agents.offline import fill_arguments
from toolloom.domain import Step, Task
from toolloom.text.request_asks import request_parts
from toolloom.text.purposes import plain_purpose
from toolloom.text.wording import THEN_SPLIT, bound_phrase, render_example

# a plain short sentence: the old wording pasted it into the request as the tool's purpose
DOCS = "Retrieves zephyr quokka manifests from the blorpington archive."
SEEDS = range(12)


def requests(name: str, arguments: dict, meta: dict | None = None, description: str = DOCS) -> set[str]:
    """Every request the seeds give for one call of `name`."""
    step = Step(f"c.{name}", name, description, arguments)
    return {render_example(Task("t", "single", [step], s, {step.tool_id: meta or {}}), random.Random(s)) for s in SEEDS}


def test_a_get_tool_asks_for_the_thing_of_the_identified_record():
    meta = {"path": "/movie/{movie_id}/keywords", "params": {"movie_id": ["path", "movie_id"]}}
    assert requests("GET_movie-movie_id-keywords", {"movie_id": 914298}, meta) == {
        "What are the keywords of movie 914298?",
        "Show me the keywords of movie 914298.",
    }
    # a bare id belongs to the path segment before it; a place-like argument is "in" it
    got = requests(
        "get-an-artists-albums", {"id": "0OdUWJ0sBjDrqHygGUXeCF", "market": "ES"}, {"path": "/artists/{id}/albums"}
    )
    assert got == {
        'What are the albums of artist "0OdUWJ0sBjDrqHygGUXeCF" in market "ES"?',
        'Show me the albums of artist "0OdUWJ0sBjDrqHygGUXeCF" in market "ES".',
    }
    # nothing but the record: its details
    assert requests("get_user", {"username": "alice"}) == {
        'What are the details of user "alice"?',
        'Show me the details of user "alice".',
    }


def test_an_id_with_a_documented_name_is_said_with_it():
    """'What are the reviews of movie 297761?' (a blind read: stiff); a person knows Suicide Squad by its name."""
    meta = {"path": "/movie/{movie_id}/keywords", "params": {"movie_id": ["path", "movie_id"]}}
    said = requests("GET_movie-movie_id-keywords", {"movie_id": 550}, {**meta, "named": {"movie_id": "Fight Club"}})
    assert said == {
        "What are the keywords of Fight Club (movie 550)?",
        "Show me the keywords of Fight Club (movie 550).",
    }


def test_a_list_tool_lists():
    assert requests("list_countries_by_region", {"region": "Europe"}) == {
        'List the countries by region "Europe".',
        'Show me the countries by region "Europe".',
    }
    assert requests("Fruityvice__getAllFruits", {}) == {"List all fruits.", "Show me all fruits."}


def test_a_search_tool_searches_for_its_query():
    assert requests("GET_search-movie", {"query": "Inception"}) == {
        'Search for movies matching "Inception".',
        'Find movies matching "Inception".',
    }
    # a verb after a namespace: sports_db_find_athlete finds athletes
    assert requests("sports_db_find_athlete", {"name": "Regina Nguyen", "sport": "Basketball"}) == {
        'Find athletes with name "Regina Nguyen" and sport "Basketball".'
    }


def test_create_update_and_delete_tools_say_so():
    assert requests("Auth0__createRole", {"roleName": "Ann"}) == {'Create a role named "Ann".'}
    assert requests("add-tracks-to-playlist", {"playlist_id": "3cEYpjA9oz9GiPac4AsH4n", "uris": "spotify:track:1"}) == {
        'Add tracks to playlist "3cEYpjA9oz9GiPac4AsH4n" with uris "spotify:track:1".'
    }
    assert requests("DigitalOcean__updateFirewall", {"firewall_id": "754903", "name": "web"}) == {
        'Update firewall "754903" with name "web".'
    }
    assert requests("set-volume-for-users-playback", {"volume_percent": 51}) == {
        "Set the volume for my playback to 51."
    }
    assert requests("Apache_Superset__deleteDashboard", {"dashboardId": 368478}) == {"Delete dashboard 368478."}
    # an OpenAPI operation without an operationId is named method__path: the method is its verb (a PATCH
    # that renames a file was asked as 'What are the details of ...?')
    for name, verb in (
        ("patch__api_contents_path", "Update"),
        ("jupyter__post__api_contents_path_checkpoints", "Create"),
        ("delete__api_sessions_session", "Delete"),
    ):
        assert all(r.startswith(verb) for r in requests(name, {"path": "notes/todo.md"})), name


def test_convert_and_calculate_tools():
    assert requests(
        "convert_time", {"time": "14:30", "from_timezone": "Europe/Paris", "to_timezone": "Asia/Tokyo"}
    ) == {'Convert "14:30" from "Europe/Paris" to "Asia/Tokyo".'}
    assert requests("convert_currency", {"amount": 5, "from": "USD", "to": "GBP"}) == {'Convert 5 from "USD" to "GBP".'}
    assert requests("calculate_bmi_60a165", {"height": 1.8, "weight": 70}) == {
        "Calculate the bmi for height 1.8 and weight 70.",
        "What is the bmi for height 1.8 and weight 70?",
    }


def test_other_verbs_and_names_without_a_verb():
    assert requests("send_sms", {"phone_number": "+15550100", "message": "hi"}) == {
        'Send sms with phone number "+15550100" and message "hi".'
    }
    assert requests("kinematics_final_velocity", {"initial_velocity": 10, "time": 3}) == {
        "What is the kinematics final velocity with initial velocity 10 and time 3?",
        "Show me the kinematics final velocity with initial velocity 10 and time 3.",
    }
    assert requests("Alpaca__Popular_Coupons", {}) <= {"What are the popular coupons?", "Show me the popular coupons."}


@pytest.mark.parametrize(
    "name, arguments",
    [
        ("GET_movie-movie_id-keywords", {"movie_id": 914298, "language": "en-US", "page": 2}),
        ("search_hotels", {"location": "Paris", "query": "spa", "max_price": 200.5}),
        ("Box__updateWebLink", {"accessToken": "tok", "webLinkId": "935216", "name": "docs"}),
        ("get_stock_price", {"company": "ACME", "days": 25, "exchange": "NYSE"}),
        ("convert_time", {"time": "14:30", "from_timezone": "Europe/Paris", "to_timezone": "Asia/Tokyo"}),
    ],
)
def test_every_value_is_stated_where_the_offline_assistant_finds_it(name, arguments):
    """Strings quoted, numbers bare, and in the argument order it fills parameters in (an identifier
    after another string is not moved before it)."""
    types = {str: "string", int: "integer", float: "number"}
    schema = {
        "type": "object",
        "properties": {k: {"type": types[type(v)]} for k, v in arguments.items()},
        "required": list(arguments),
    }
    for text in requests(name, arguments):
        assert fill_arguments(text, schema) == arguments, text
        assert text.endswith("?") == text.startswith(("What", "Which")), text


def test_a_value_from_an_earlier_result_is_referred_to_and_resolved():
    first = Step("c.GET_search-movie", "GET_search-movie", DOCS, {"query": "Dune"})
    second = Step(
        "c.GET_movie-movie_id-keywords",
        "GET_movie-movie_id-keywords",
        DOCS,
        {"movie_id": 914298},
        {"movie_id": {"step": 0, "path": "movie_id"}},
    )
    meta = {"c.GET_movie-movie_id-keywords": {"path": "/movie/{movie_id}/keywords"}}
    schema = {"type": "object", "properties": {"movie_id": {"type": "integer"}}, "required": ["movie_id"]}
    seen = set()
    for seed in SEEDS:
        text = render_example(Task("t", "multi_hop", [first, second], seed, meta), random.Random(seed))
        assert "914298" not in text
        first_part, part = request_parts(text)  # 'Search ... "Dune". Then, for ...' or '... "Dune", and then for ...'
        assert first_part in ('Search for movies matching "Dune".', 'Find movies matching "Dune".')
        assert part.startswith(("for that movie, ", "for this movie, ")) and "keywords" in part, text
        assert fill_arguments(part, schema, [{"movie_id": 42, "title": "Dune"}]) == {"movie_id": 42}
        seen.add(part)
    assert bound_phrase({"step": 0, "path": "movie_id"}, 1, "GET_search-movie") == "that movie"
    assert len(seen) > 1  # 'that' or 'this', a question or 'Show me'


def test_a_bound_argument_that_is_not_the_record_is_said_with_its_name():
    first = Step("c.get_city", "get_city", DOCS, {"city_id": "toronto"})
    second = Step(
        "c.get_holidays",
        "get_holidays",
        DOCS,
        {"country_code": "CA", "year": 2026},
        {"country_code": {"step": 0, "path": "country_code"}},
    )
    schema = {
        "type": "object",
        "properties": {"country_code": {"type": "string"}, "year": {"type": "integer"}},
        "required": ["country_code", "year"],
    }
    for seed in SEEDS:
        text = render_example(Task("t", "multi_hop", [first, second], seed, {}), random.Random(seed))
        part = THEN_SPLIT.split(text)[-1]
        assert " CA" not in text and re.match(
            r"for country code (the country code of th(at|is) city|th(at|is) "
            r"city's country code), ",
            part,
        ), text
        assert fill_arguments(part, schema, [{"city_id": "toronto", "country_code": "CA"}]) == {
            "country_code": "CA",
            "year": 2026,
        }


def test_independent_steps_are_joined_with_also_and_keep_a_leading_acronym():
    one = Step("c.GET_movie-popular", "GET_movie-popular", DOCS, {})
    two = Step("c.Apache_Superset__deleteDashboard", "Apache_Superset__deleteDashboard", DOCS, {"dashboardId": 7})
    for seed in SEEDS:
        text = render_example(Task("t", "parallel", [one, two], seed, {}), random.Random(seed))
        assert re.fullmatch(
            r"(What are|Show me) the popular movies(?:[?.] (Also|Separately|Additionally), |"
            r", and also )delete dashboard 7\.",
            text,
        ), text  # one sentence where both are requests


def test_no_request_copies_the_tools_documentation():
    distinctive = {"zephyr", "quokka", "manifests", "blorpington", "archive", "retrieves"}
    cases = [
        ("GET_movie-movie_id-keywords", {"movie_id": 1}),
        ("getZebraInfo", {"zebra_id": "z1"}),
        ("Result", {"evn": "x"}),
        ("search", {"q": "jazz"}),
        ("fetch__fetch", {"url": "https://a.b/"}),
        ("api", {}),
        ("Cataas__count", {}),
        ("Multilingual_Text_Analysis_Bundle__Multilingu_cfb93677", {}),
    ]
    for name, arguments in cases:
        # the old wording pasted a short plain first sentence, so this test fails on it
        assert plain_purpose(DOCS, name).startswith("Retrieves zephyr")
        for text in requests(name, arguments):
            assert not set(re.findall(r"[a-z]+", text.lower())) & distinctive, (name, text)


def test_a_list_of_a_kind_is_asked_for_as_its_things():
    """TMDB's GET_genre-tv-list was 'Show me the genre tv list.' (a blind read: stiff)."""
    assert requests("GET_genre-tv-list", {}) == {"Show me the tv genres.", "List the tv genres."}
