"""The model simulator held to the tool's documented example (agents/simulator.py): lists as long as a real
service's, and no example's facts passed off as another entity's. Each case is from a TMDB blind read."""

import json

from toolloom.agents.simulator import MIN_ITEMS, ModelSimulator, decoding_schema, problems, response_schema
from toolloom.llm import run_async
from toolloom.llm.fake_server import FakeModel, FakeServer
from toolloom.prompts import DEFAULT_ROOT

from .conftest import fake_client

SHOW = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
LISTING = {"type": "object", "properties": {"results": {"type": "array", "items": SHOW}}}


def _tool(name: str, example, returns=None) -> dict:
    return {"name": name, "parameters": {"type": "object"}, "returns": returns, "meta": {"example_response": example}}


def test_a_list_the_example_shows_with_several_items_is_never_decoded_as_one():
    popular = {"results": [{"id": 31917, "name": "Pretty Little Liars"}, {"id": 62560, "name": "Mr. Robot"}]}
    decoded = response_schema(_tool("GET_tv-popular", popular, LISTING), {})
    assert decoded["properties"]["results"]["minItems"] == MIN_ITEMS
    one = {"results": [{"id": 18, "name": "Drama"}]}  # a movie's genres may be one
    assert "minItems" not in response_schema(_tool("GET_genres", one, LISTING), {})["properties"]["results"]
    assert "minItems" not in decoding_schema(LISTING)["properties"]["results"]  # no example, no floor
    search = response_schema(_tool("GET_search-tv", popular, LISTING), {"query": "Mr. Robot"})
    assert "minItems" not in search["properties"]["results"]  # a search may find the one show it names


def test_a_response_that_says_only_what_the_example_says_about_another_entity_cannot_stand():
    keywords = _tool("GET_movie-movie_id-keywords", {"id": 550, "keywords": [{"id": 825, "name": "support group"}]})
    copied = {"id": 297761, "keywords": [{"id": 825, "name": "support group"}]}  # Fight Club's, for Suicide Squad
    assert "copies the documented example" in problems(keywords, {"movie_id": 297761}, copied)
    assert problems(keywords, {"movie_id": 550}, {**copied, "id": 550}) == ""  # the example's own movie
    own = {"id": 297761, "keywords": [{"id": 825, "name": "support group"}, {"id": 9715, "name": "superhero"}]}
    assert problems(keywords, {"movie_id": 297761}, own) == ""  # shares a keyword and says its own


def test_a_documented_id_under_another_name_cannot_stand():
    search = _tool("GET_search-tv", {"results": [{"id": 1399, "name": "Game of Thrones"}]})
    renamed = {"results": [{"id": 1399, "name": "The Dark Knight"}]}
    said = problems(search, {"query": "The Dark Knight"}, renamed)
    assert "id 1399 is 'Game of Thrones' in the documentation, not 'The Dark Knight'" in said
    assert problems(search, {"query": "Game of Thrones"}, {"results": [{"id": 1399, "name": "Game of Thrones"}]}) == ""
    assert problems(search, {"query": "Dark"}, {"results": [{"id": 70523, "name": "Dark"}]}) == ""


def test_a_list_that_repeats_a_record_or_holds_the_asked_one_cannot_stand():
    similar = _tool("GET_tv-tv_id-similar", None)
    show = {"id": 67625, "name": "You Can Do Better"}
    said = problems(similar, {"tv_id": 67625}, {"results": [show, dict(show)]})
    assert "holds the record with id 67625 twice" in said
    assert "the asked tv_id 67625 itself" in problems(similar, {"tv_id": 67625}, {"results": [show]})
    other = {"results": [{"id": 1396, "name": "Breaking Bad"}, {"id": 60059, "name": "Better Call Saul"}]}
    assert problems(similar, {"tv_id": 67625}, other) == ""


def test_repeated_records_and_the_asked_one_are_dropped_where_others_remain_without_asking_again(tmp_path):
    tool = _tool("GET_tv-tv_id-similar", None, LISTING)
    show, other = {"id": 67625, "name": "You Can Do Better"}, {"id": 1396, "name": "Breaking Bad"}
    model = FakeModel()
    model.enqueue({"content": json.dumps({"results": [show, other, dict(other)]})})
    with FakeServer(model) as server:
        simulator = ModelSimulator(fake_client(server, tmp_path / "c.sqlite"), DEFAULT_ROOT)
        seen = run_async(simulator.respond(tool, {"tv_id": 67625}, []))
    assert seen.ok and seen.content == {"results": [other]} and len(model.history) == 1


def test_a_search_whose_results_match_nothing_it_searched_for_cannot_stand():
    search = _tool("GET_search-tv", None)
    found = {"results": [{"id": 1399, "name": "Game of Thrones"}]}
    assert "matches the search for 'The Dark Knight'" in problems(search, {"query": "The Dark Knight"}, found)
    assert problems(search, {"query": "thrones"}, found) == ""
    assert problems(search, {"query": "<query>"}, found) == ""  # a placeholder query has no words to match


def test_a_total_below_the_items_listed_is_raised_to_them():
    from toolloom.agents.simulator import counted_totals

    page = {"results": [{"id": 31917}, {"id": 62560}], "total_results": 1, "total_pages": 1}
    counted_totals(page)
    assert page["total_results"] == 2 and page["total_pages"] == 1
    only = {"page": 1, "results": [{"id": 31917}, {"id": 62560}], "total_results": 133, "total_pages": 1}
    counted_totals(only)
    assert only["total_results"] == 2  # the only page holds the whole list
    first = {"page": 1, "results": [{"id": 31917}, {"id": 62560}], "total_results": 133, "total_pages": 67}
    counted_totals(first)
    assert first["total_results"] == 133


def test_a_record_s_two_values_the_example_has_the_other_way_round_are_swapped_back_without_asking_again(tmp_path):
    """The 0.5B simulator wrote a cast as name "Daenerys Targaryen", character "Emilia Clarke", and wrote it
    again the same way when told: the task was lost (reference_call_failed)."""
    cast = {"type": "object", "properties": {"name": {"type": "string"}, "character": {"type": "string"}}}
    returns = {"type": "object", "properties": {"cast": {"type": "array", "items": cast}}}
    documented = {"cast": [{"character": "Daenerys Targaryen", "name": "Emilia Clarke"}, {"character": "Jon Snow"}]}
    documented["cast"][1]["name"] = "Kit Harington"
    tool = _tool("GET_tv-tv_id-season-season_number-credits", documented, returns)
    swapped = [
        {"name": "Daenerys Targaryen", "character": "Emilia Clarke"},
        {"name": "Kit Harington", "character": "Jon Snow"},
    ]
    model = FakeModel()
    model.enqueue({"content": json.dumps({"cast": swapped})})
    with FakeServer(model) as server:
        simulator = ModelSimulator(fake_client(server, tmp_path / "c.sqlite"), DEFAULT_ROOT)
        seen = run_async(simulator.respond(tool, {"tv_id": 1399, "season_number": 1}, []))
    assert seen.ok and seen.content["cast"][0] == {"name": "Emilia Clarke", "character": "Daenerys Targaryen"}
    assert len(model.history) == 1
    # a value alone in another field has nothing to swap with: it is still refused
    lone = {"cast": [{"name": "Jon Snow", "character": "Ygritte"}]}
    assert "in the wrong fields" in problems(tool, {"tv_id": 1399, "season_number": 1}, lone)
