"""A model simulator's lists are chosen among the records the collection's documentation shows
(executors/catalogue.py): real, distinct things of the list's kind, filled from the documentation."""

import json

from toolloom.agents.simulator import ModelSimulator, documented_lists, response_schema
from toolloom.executors.catalogue import choices, documented_records
from toolloom.llm import run_async
from toolloom.llm.fake_server import FakeModel, FakeServer
from toolloom.prompts import DEFAULT_ROOT

from .conftest import fake_client

SHOW = {
    "type": "object",
    "properties": {k: {"type": "string"} for k in ("name", "overview", "first_air_date", "original_name")}
    | {"id": {"type": "integer"}, "vote_average": {"type": "number"}},
}
MOVIE = {
    "type": "object",
    "properties": {k: {"type": "string"} for k in ("title", "overview", "release_date", "original_title")}
    | {"id": {"type": "integer"}},
}
GENRE = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}


def _listing(item) -> dict:
    return {"type": "object", "properties": {"results": {"type": "array", "items": item}}}


def _show(i, name):
    return {"id": i, "name": name, "original_name": name, "overview": f"{name}'s story.", "first_air_date": "2011"}


POPULAR = [_show(1399, "Game of Thrones"), _show(1396, "Breaking Bad"), _show(60059, "Better Call Saul")]
FILMS = [{"id": 550, "title": "Fight Club", "original_title": "Fight Club", "overview": "A ticking bomb."}]


def _tool(name, returns, example=None, required=(), collection="tmdb") -> dict:
    params = {"type": "object", "properties": {k: {"type": "integer"} for k in required}, "required": list(required)}
    meta = {"example_response": example} if example is not None else {}
    return {"name": name, "collection": collection, "parameters": params, "returns": returns, "meta": meta}


TOOLS = [
    _tool("GET_tv-popular", _listing(SHOW), {"page": 1, "results": POPULAR}),
    _tool("GET_movie-now_playing", _listing(MOVIE), {"results": FILMS}),
    _tool("GET_genre-tv-list", {"type": "object", "properties": {"genres": {"type": "array", "items": GENRE}}},
          {"genres": [{"id": 18, "name": "Drama"}, {"id": 35, "name": "Comedy"}]}),
    # a record in the example of a tool about one thing belongs to it: Brad Pitt's character is not another's
    _tool("GET_person-person_id-tv_credits", _listing(SHOW | {"character": {"type": "string"}}),
          {"id": 287, "cast": [{**_show(1668, "Friends"), "character": "Will Colbert"}]}, required=("person_id",)),
    _tool("GET_keywords", {"type": "object", "properties": {"keywords": {"type": "array", "items": GENRE}}},
          {"keywords": [{"id": 825, "name": "support group"}]}, collection="other"),
]  # fmt: skip


def _offered(item, field="results", arguments=None, query=""):
    records = documented_records(TOOLS)["tmdb"]
    return [r.get("name") or r.get("title") for r in choices(item, item, field, records, arguments or {}, query)]


def test_a_list_is_offered_the_documented_records_of_its_own_kind_only():
    assert sorted(_offered(SHOW)) == ["Better Call Saul", "Breaking Bad", "Game of Thrones"]  # not Friends
    assert _offered(MOVIE) == ["Fight Club"]
    assert sorted(_offered(GENRE, "genres")) == ["Comedy", "Drama"]
    assert _offered(GENRE, "keywords") == []  # id and name alone do not tell a keyword from a genre
    assert _offered(GENRE, "results") == []  # nor does a list called results
    assert "support group" not in str(documented_records(TOOLS)["tmdb"])  # another collection's


def test_the_asked_record_is_never_offered_and_a_search_is_offered_what_it_names():
    assert "Game of Thrones" not in _offered(SHOW, arguments={"tv_id": 1399})
    assert _offered(SHOW, arguments={"query": "breaking"}, query="breaking") == ["Breaking Bad"]
    assert _offered(SHOW, arguments={"query": "The Wire"}, query="The Wire") == []


def test_the_model_chooses_by_name_and_the_documentation_fills_the_record(tmp_path):
    similar = _tool("GET_tv-tv_id-similar", _listing(SHOW), None, required=("tv_id",))
    similar["documented_records"] = documented_records(TOOLS)["tmdb"]
    schema = response_schema(similar, {"tv_id": 1399})
    documented_lists(schema, similar, {"tv_id": 1399})
    chosen = schema["properties"]["results"]["items"]
    assert sorted(chosen["properties"]["name"]["enum"]) == ["Better Call Saul", "Breaking Bad"]
    model = FakeModel()
    model.enqueue({"content": json.dumps({"results": [{"name": "Breaking Bad"}, {"name": "Better Call Saul"}]})})
    with FakeServer(model) as server:
        simulator = ModelSimulator(fake_client(server, tmp_path / "c.sqlite"), DEFAULT_ROOT)
        seen = run_async(simulator.respond(similar, {"tv_id": 1399}, []))
    assert seen.ok and [r["id"] for r in seen.content["results"]] == [1396, 60059]
    assert seen.content["results"][0]["overview"] == "Breaking Bad's story."
    sent = model.history[0]["response_format"]["json_schema"]["schema"]
    assert sent["properties"]["results"]["items"]["properties"]["name"]["enum"]  # decoding held to the names


def test_without_documented_records_of_the_kind_the_model_writes_the_list():
    similar = _tool("GET_movie-movie_id-keywords", _listing(GENRE), None, required=("movie_id",))
    similar["documented_records"] = documented_records(TOOLS)["tmdb"]
    schema = response_schema(similar, {"movie_id": 550})
    assert documented_lists(schema, similar, {"movie_id": 550}) == {}
    assert "enum" not in schema["properties"]["results"]["items"]["properties"]["name"]


def test_offline_a_list_of_a_documented_kind_holds_documented_records_the_same_each_time():
    from toolloom.executors.simulated import SchemaSimulator

    similar = _tool("GET_tv-tv_id-similar", _listing(SHOW), None, required=("tv_id",))
    similar["documented_records"] = documented_records(TOOLS)["tmdb"]
    first, again = (run_async(SchemaSimulator().respond(similar, {"tv_id": 1399}, [])) for _ in range(2))
    shows = first.content["results"]
    assert shows and all(s["id"] in (1396, 60059) and s["overview"] == f"{s['name']}'s story." for s in shows)
    assert again.content == first.content
    keywords = _tool("GET_movie-movie_id-keywords", _listing(GENRE), None, required=("movie_id",))
    keywords["documented_records"] = similar["documented_records"]
    made = run_async(SchemaSimulator().respond(keywords, {"movie_id": 550}, [])).content["results"]
    assert not {k["name"] for k in made} & {"Drama", "Comedy"}  # no documented keywords: generated ones


def test_a_numbered_part_of_a_thing_has_its_own_id():
    from toolloom.executors.simulated import contradicted_ids

    season = {"id": 3624, "cast": []}  # TMDB: season 1 of show 1399 is 3624
    assert contradicted_ids(season, {"tv_id": 1399, "season_number": 1}) == []
    assert contradicted_ids({"id": 3624}, {"tv_id": 1399}) == ["id is 3624, the call asked for 1399"]


def test_a_call_that_says_a_documented_default_is_answered_as_the_call_without_it():
    from toolloom.executors.routing import ToolExecutor

    similar = _tool("GET_tv-tv_id-similar", _listing(SHOW), None, required=("tv_id",))
    similar["parameters"]["properties"]["page"] = {"type": "integer", "default": 1}
    ex = ToolExecutor(None, [{**similar, "executable": False}, *TOOLS])
    plain, paged = (
        ex.execute("GET_tv-tv_id-similar", {"tv_id": 1399}),
        ex.execute("GET_tv-tv_id-similar", {"tv_id": 1399, "page": 1}),
    )
    assert plain.ok and paged.content == plain.content  # the reference answer a task made is reached
    assert ex.execute("GET_tv-tv_id-similar", {"tv_id": 1399, "page": 2}).content != plain.content


def test_a_search_is_for_a_name_the_documentation_holds_and_finds_all_of_its_words():
    from toolloom.executors.catalogue import searched_names
    from toolloom.text.synthesis import ArgumentSynthesizer

    search = _tool("GET_search-tv", _listing(SHOW), None)
    search["parameters"] = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
    names = searched_names(search, documented_records(TOOLS)["tmdb"])
    assert sorted(names["query"]) == ["Better Call Saul", "Breaking Bad", "Game of Thrones"]
    synth = ArgumentSynthesizer([])
    synth.offer(search["name"], "query", names["query"])
    assert synth.argument_sets(search, 1, 1)[0]["query"] in names["query"]  # not a placeholder
    assert _offered(SHOW, arguments={"query": "Better Days"}, query="Better Days") == []  # not Better Call Saul


def test_two_tools_answering_the_same_call_are_offered_the_records_in_their_own_orders():
    """A show's similar shows and its recommendations were offered in one order, and the 0.5B model gave the same
    first three for both (a blind read: 'The Sopranos, Supernatural, The Strain' twice for Pretty Little Liars)."""
    shows = [("results", _show(i, f"Show {i}")) for i in range(100, 108)]
    call = {"tv_id": 31917}
    similar, recommended = (
        [r["name"] for r in choices(SHOW, SHOW, "results", shows, call, salt=name)]
        for name in ("GET_tv-tv_id-similar", "GET_tv-tv_id-recommendations")
    )
    assert sorted(similar) == sorted(recommended) and similar != recommended
    assert similar == [r["name"] for r in choices(SHOW, SHOW, "results", shows, call, salt="GET_tv-tv_id-similar")]
