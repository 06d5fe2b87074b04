"""Checks added from blind reads of the 0.5B model's TMDB examples: an answer that lists an item twice, a call
with a text value nobody asked for."""

import json

from toolloom.checks.answers import listed_as_subject, listed_twice, lists_unsaid, unnamed_pick, wrong_size
from toolloom.checks.invented import unasked_values


def test_an_item_listed_twice_where_the_result_names_it_once_is_invented():
    """A show's name and its original_name listed as two recommendations (the 0.5B model)."""
    show = {"results": [{"id": 64122, "name": "The Shannara Chronicles", "original_name": "The Shannara Chronicles"}]}
    assert listed_twice(show, "1. The Shannara Chronicles\n2. The Shannara Chronicles (original name)")
    assert listed_twice(show, "1. The Shannara Chronicles") is None
    assert listed_twice({"results": [{"title": "Heat"}, {"title": "Heat"}]}, "- Heat (1995)\n- Heat (1986)") is None


def test_a_text_value_nobody_asked_for_is_an_invented_argument():
    """The 0.5B model's region "US" on 'Show me the upcoming movies.'; a default or a date said in words is fine."""

    def played(request, arguments, result=None, default=None):
        tool = {"name": "upcoming", "parameters": {"properties": {"region": {"type": "string", "default": default}}}}
        call = {"id": "c0", "function": {"name": "upcoming", "arguments": json.dumps(arguments)}}
        return {
            "tools_offered": [{"type": "function", "function": tool}],
            "messages": [
                {"role": "user", "content": request},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "c0", "content": json.dumps(result or {"results": []})},
            ],
        }

    assert unasked_values(played("Show me the upcoming movies.", {"region": "US"})) == ["upcoming: region US"]
    assert unasked_values(played("Show me the upcoming movies in the US.", {"region": "US"})) == []
    assert unasked_values(played("Show me the upcoming movies.", {"region": "US"}, default="US")) == []
    assert unasked_values(played("Is the second Tuesday of July 2026 a holiday?", {"day": "2026-07-14"})) == []
    # a call the request does not ask for (a distractor looked up on the side) is overuse's business, not this rule's
    aside = {**played("Show me the upcoming movies.", {"region": "US"}), "chain": '[{"name": "now_playing"}]'}
    assert unasked_values(aside) == []
    assert unasked_values({**aside, "chain": '[{"name": "upcoming"}]'}) == ["upcoming: region US"]


def test_a_year_nobody_gave_is_an_unstated_argument():
    """The 0.5B model's `year: 2023, primary_release_year: 2023` on a search for 'The Day Will Dawn' (a 1942 film)."""
    from toolloom.checks.invented import unstated_optional

    params = {
        "properties": {"query": {"type": "string"}, "year": {"type": "integer"}, "page": {"type": "integer"}},
        "required": ["query"],
    }
    args = {"query": "The Day Will Dawn", "year": 2023, "primary_release_year": 2023, "page": 2}
    known = "search for movies matching 'the day will dawn'"
    assert unstated_optional(args, params, known) == ["year", "primary_release_year"]  # a page is no year
    assert unstated_optional(args, params, known + " from 2023") == []


def test_a_size_no_record_has_is_invented():
    """The 0.5B model said a 1000 x 268 logo as '268x268 pixel', and an aspect ratio as a width."""
    logos = {"logos": [{"aspect_ratio": 3.73, "file_path": "/w.png", "height": 268, "width": 1000}]}
    assert wrong_size(logos, "The logo is a 268x268 pixel SVG file.") == "268x268"
    assert wrong_size(logos, "The logo is 3.73x268px.") == "3.73x268"
    assert wrong_size(logos, "The logo is 1000 x 268 pixels.") is None
    assert wrong_size({"name": "Berlin"}, "A 2x3 grid.") is None  # a result without sizes says nothing about them
    # ... but a size in pixels there is made up: 'Its logo is a 86x64 pixel image.' (a blind read of TMDB: bad)
    assert wrong_size({"logo_path": "/o86D.png"}, "Its logo is a 86x64 pixel image.") == "86x64"


def test_a_dialogue_s_earlier_answers_are_checked_for_invented_facts_too():
    """The 0.5B model's first answer in a follow-up: 'The Dark Knight is a TV show that aired on Netflix in 2012.'"""
    from toolloom.checks.invented import conversation_known, invented
    from toolloom.checks.misreports import earlier_answers

    found = '{"results": [{"id": 1399, "name": "The Dark Knight", "vote_average": 7.91}]}'
    reviews = '{"results": [{"author": "Frank Ochieng"}]}'
    first = "The Dark Knight is a TV show that aired on Netflix in 2012."
    final = "Frank Ochieng wrote the review."
    call = [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    traj = {
        "final_answer": final,
        "tools_offered": [],
        "messages": [
            {"role": "user", "content": 'Search for TV shows matching "The Dark Knight".'},
            {"role": "assistant", "content": None, "tool_calls": call},
            {"role": "tool", "tool_call_id": "c", "content": found},
            {"role": "assistant", "content": first},
            {"role": "user", "content": "What are its reviews?"},
            {"role": "assistant", "content": None, "tool_calls": call},
            {"role": "tool", "tool_call_id": "c", "content": reviews},
            {"role": "assistant", "content": final},
        ],
    }
    assert earlier_answers(traj) == [first]
    assert invented(first, conversation_known(traj)) == ["Netflix", "2012"]


def test_an_answer_that_says_nothing_of_one_of_a_result_s_lists_leaves_it_out():
    """A show's images answered with its posters alone, its backdrops left out (a blind read: flawed)."""
    images = {
        "id": 1399,
        "backdrops": [{"file_path": "/mUkuc2wyV9dHLG0D0Loaw5pO2s8.jpg", "height": 1080, "width": 1920}],
        "posters": [{"file_path": "/jIhL6mlT7AblhbHJgEoiBIOUVl1.jpg", "height": 1500, "width": 1000}],
    }
    request = "Show me the images of TV show 1399."
    assert lists_unsaid(request, images, "Its poster is /jIhL6mlT7AblhbHJgEoiBIOUVl1.jpg.") == ["backdrops"]
    both = "It has one backdrop (/mUkuc2wyV9dHLG0D0Loaw5pO2s8.jpg) and one poster (/jIhL6mlT7AblhbHJgEoiBIOUVl1.jpg)."
    assert lists_unsaid(request, images, both) == []
    assert lists_unsaid("Which posters does show 1399 have?", images, "/jIhL6mlT7AblhbHJgEoiBIOUVl1.jpg") == []
    movie = {"id": 550, "title": "Fight Club", "genres": [{"name": "Drama"}], "spoken_languages": [{"name": "English"}]}
    assert lists_unsaid("Tell me about movie 550.", movie, "Fight Club is a drama.") == []  # a record, not lists


def test_one_of_several_records_said_as_the_only_one_is_a_misreport():
    """'What is the release date of movie 550?' answered with Egypt's date of five countries' (two blind reads)."""
    dates = {
        "id": 550,
        "results": [
            {"iso_3166_1": "EG", "release_dates": [{"release_date": "2000-03-01T00:00:00.000Z", "type": 3}]},
            {"iso_3166_1": "HU", "release_dates": [{"release_date": "2000-01-27T00:00:00.000Z", "type": 3}]},
        ],
    }
    said = unnamed_pick(dates, "The release date of the movie with id 550 is 2000-03-01T00:00:00.000Z.")
    assert said and "Egypt's, one of 2 records" in said
    assert unnamed_pick(dates, "It came out in EG on 2000-03-01 and in HU on 2000-01-27.") is None
    assert unnamed_pick(dates, "There are release dates for 2 countries.") is None  # no record's value said


def test_a_listed_record_named_as_what_the_list_is_for_is_a_misreport():
    """A follow-up's recommendations for 'You Can Do Better' said to be for their first show (a TMDB run)."""
    recs = {"results": [{"id": 1418, "name": "The Big Bang Theory"}, {"id": 60802, "name": "The Last Ship"}]}
    said = 'The recommendations for "The Big Bang Theory" are:\n1. "The Big Bang Theory"\n2. "The Last Ship"'
    assert listed_as_subject(recs, said) == "The Big Bang Theory"
    fine = 'The recommendations for "You Can Do Better" are:\n1. The Big Bang Theory\n2. The Last Ship'
    assert listed_as_subject(recs, fine) is None
    assert listed_as_subject({"id": 1418, "name": "The Big Bang Theory"}, "The name of The Big Bang Theory is") is None


def test_a_listing_requests_answer_names_every_listed_item():
    """The 0.5B model said three of five popular shows as the list (a blind read of TMDB: drops what it found)."""
    from toolloom.checks.answers import unlisted

    shows = {"results": [{"id": i, "name": n} for i, n in enumerate(["Suits", "Mr. Robot", "Lost"])]}
    said = "The popular TV shows include Suits and Mr. Robot."
    assert unlisted("GET_tv-popular", shows, said, "Show me the popular tv shows.") == ["Lost"]
    assert unlisted("GET_tv-popular", shows, said, "Which popular tv show is the oldest?") == []  # not a listing
    assert unlisted("GET_search-tv", shows, said) == ["Lost"]  # RestBench's searches
