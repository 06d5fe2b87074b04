"""Arguments synthesised from a tool's schema and documentation, and the consistent offline simulator."""

import json
import random

import pytest

from toolloom.domain import tool_of

from toolloom.checks.arguments import argument_errors, schema_errors
from toolloom.executors.routing import ToolExecutor
from toolloom.executors.simulated import SchemaSimulator, default_returns
from toolloom.llm import run_async
from toolloom.text.synthesis import ArgumentSynthesizer, Unsynthesizable, described_values
from toolloom.text.values import ValueFactory, has_placeholder, is_placeholder, placeholder


def _tool(name, properties, required, description="", returns=None):
    return tool_of(
        {
            "name": name,
            "collection": "c",
            "description": description,
            "execution": "simulated",
            "meta": "{}",
            "parameters": json.dumps({"type": "object", "properties": properties, "required": required}),
            "returns": json.dumps(returns) if returns else None,
        }
    )  # as read from the store


def test_documented_values_come_first_and_are_coerced_to_the_parameter_type():
    synth = ArgumentSynthesizer()
    tool = _tool(
        "list",
        {
            "limit": {"type": "integer", "default": "10"},
            "sort": {"type": "string", "enum": ["asc", "desc"]},
            "lang": {"type": "string", "description": "Language code, e.g. 'en-US' or 'fr-FR'."},
        },
        ["limit", "sort", "lang"],
    )
    args = synth.arguments(tool, seed=1)
    assert args["limit"] == 10 and args["sort"] == "asc" and args["lang"] == "en-US"
    assert (
        synth.arguments(tool, seed=1, variant=1)["sort"] == "desc"
    )  # the next variant takes the next documented value


def test_formats_patterns_bounds_and_names_give_values_that_validate():
    props = {
        "day": {"type": "string", "format": "date"},
        "email": {"type": "string"},
        "code": {"type": "string", "pattern": "^[A-Z]{3}-\\d{2}$"},
        "count": {"type": "integer", "minimum": 5, "maximum": 7},
        "ratio": {"type": "number", "exclusiveMaximum": 1, "minimum": 0},
        "city": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "where": {
            "type": "object",
            "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
            "required": ["lat", "lon"],
        },
    }
    tool = _tool("t", props, list(props))
    for seed in range(20):
        args = ArgumentSynthesizer().arguments(tool, seed=seed)
        assert argument_errors(tool["parameters"], args) == []
        assert "@" in args["email"] and 5 <= args["count"] <= 7 and len(args["tags"]) >= 2
        assert -90 <= args["where"]["lat"] <= 90 and -180 <= args["where"]["lon"] <= 180


def test_a_required_parameter_with_nothing_to_draw_from_names_itself():
    tool = _tool("t", {"blob": {"description": "anything"}}, ["blob"])
    with pytest.raises(Unsynthesizable, match="required parameter `blob` has no type, enum, example or format"):
        ArgumentSynthesizer().arguments(tool, seed=0)


def test_an_id_parameter_takes_an_id_another_tool_returned_along_a_graph_edge():
    edges = [{"src_tool": "search_movie", "src_slot": "results|id", "dst_tool": "get_movie", "dst_slot": "movie_id"}]
    synth = ArgumentSynthesizer(edges)
    synth.observe("search_movie", {"results": [{"id": 603, "title": "The Matrix"}]})
    tool = _tool("get_movie", {"movie_id": {"type": "integer"}}, ["movie_id"])
    assert synth.fed_by_graph("get_movie") and synth.arguments(tool, seed=0) == {"movie_id": 603}


def test_described_values_are_read_from_prose():
    assert described_values("One of: red, green or blue.", {"type": "string"})[:3] == ["red", "green", "blue"]
    assert described_values("Page size (default 25)", {"type": "integer"}) == [25]


def test_synthesis_is_deterministic_for_a_seed():
    tool = _tool("t", {"name": {"type": "string"}, "n": {"type": "integer"}}, ["name", "n"])
    assert ArgumentSynthesizer().arguments(tool, seed=5) == ArgumentSynthesizer().arguments(tool, seed=5)
    assert ArgumentSynthesizer().arguments(tool, seed=5) != ArgumentSynthesizer().arguments(tool, seed=6)


MOVIE = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "title": {"type": "string"}, "release_date": {"type": "string"}},
}
SEARCH = _tool(
    "search_movie",
    {"query": {"type": "string"}},
    ["query"],
    returns={"type": "object", "properties": {"results": {"type": "array", "items": MOVIE}}},
)
DETAILS = _tool("get_movie", {"movie_id": {"type": "integer"}}, ["movie_id"], returns=MOVIE)
RENAME = _tool(
    "rename_movie",
    {"movie_id": {"type": "integer"}, "title": {"type": "string"}},
    ["movie_id", "title"],
    returns={"type": "object", "properties": {"id": {"type": "integer"}, "updated": {"type": "boolean"}}},
)


def test_the_simulator_answers_fit_the_schema_and_a_repeated_call_agrees():
    sim = SchemaSimulator()
    a = run_async(sim.respond(SEARCH, {"query": "matrix"}, []))
    b = run_async(SchemaSimulator().respond(SEARCH, {"query": "matrix"}, []))
    assert a.ok and a.content == b.content and schema_errors(SEARCH["returns"], a.content) == []


def test_an_entity_is_the_same_wherever_a_simulated_tool_shows_it():
    executor = ToolExecutor(None, [SEARCH, DETAILS, RENAME])
    found = executor.execute("search_movie", {"query": "matrix"}).content["results"][0]
    details = executor.execute("get_movie", {"movie_id": found["id"]}).content
    assert (
        details["id"] == found["id"]
        and details["title"] == found["title"]
        and details["release_date"] == found["release_date"]
    )


def test_later_calls_of_an_episode_see_earlier_effects():
    executor = ToolExecutor(None, [SEARCH, DETAILS, RENAME])

    async def episode():
        ep = executor.episode()
        before = (await ep.call("get_movie", {"movie_id": 42})).content
        await ep.call("rename_movie", {"movie_id": 42, "title": "Road Trip"})
        after = (await ep.call("get_movie", {"movie_id": 42})).content
        other = await executor.episode().call("get_movie", {"movie_id": 42})
        return before, after, other.content

    before, after, elsewhere = run_async(episode())
    assert before["title"] != "Road Trip" and after["title"] == "Road Trip" and after["id"] == 42
    assert elsewhere["title"] == before["title"]  # another episode never sees this one's change


def test_a_tool_without_a_response_schema_answers_its_name_and_echoes_its_arguments():
    assert default_returns({"name": "calculate_triangle_area"}) == {
        "type": "object",
        "properties": {"triangle_area": {"type": "number"}},
    }
    executor = ToolExecutor(
        None,
        [
            _tool(
                "calculate_triangle_area",
                {"base": {"type": "number"}, "height": {"type": "number"}},
                ["base", "height"],
            )
        ],
    )
    obs = executor.execute("calculate_triangle_area", {"base": 3.0, "height": 4.0})
    assert obs.ok and obs.content["base"] == 3.0 and isinstance(obs.content["triangle_area"], float)


def test_values_fit_their_names():
    f, rng = ValueFactory(), random.Random(3)
    assert "@" in f.value({"type": "string"}, "contact_email", rng)
    assert f.value({"type": "string"}, "release_date", rng)[:2] == "20"
    assert f.value({"type": "string", "format": "uuid"}, "x", rng).count("-") == 4


def test_a_simulated_answer_is_about_what_was_asked():
    season = _tool(
        "get_season",
        {
            "tv_id": {"type": "integer"},
            "season_number": {"type": "integer"},
        },
        ["tv_id", "season_number"],
        returns={
            "type": "object",
            "properties": {"id": {"type": "integer"}, "season_number": {"type": "integer"}, "name": {"type": "string"}},
        },
    )
    page = _tool(
        "list_movies",
        {"page": {"type": "integer"}},
        [],
        returns={
            "type": "object",
            "properties": {"page": {"type": "integer"}, "results": {"type": "array", "items": MOVIE}},
        },
    )
    executor = ToolExecutor(None, [season, page])
    for n in (1, 5, 12):
        assert executor.execute("get_season", {"tv_id": 347685, "season_number": n}).content["season_number"] == n
    assert [executor.execute("list_movies", {"page": p}).content["page"] for p in (2, 3)] == [2, 3]


def test_a_string_nothing_documents_is_a_placeholder_that_says_so_never_a_random_word():
    f, rng = ValueFactory(), random.Random(5)
    for name in ("board_visualization", "tag", "query", "source", "title", "overview", "albumMetadata"):
        value = f.value({"type": "string", "maxLength": 4}, name, rng)
        assert is_placeholder(value) and value == placeholder(name), (name, value)
    assert placeholder("albumMetadata") == "<album metadata>"
    # documented or known kinds still give values: an enum, an example, a format, a kind Faker knows
    assert f.value({"type": "string", "enum": ["asc", "desc"]}, "sort", rng) in ("asc", "desc")
    assert f.value({"type": "string", "example": "Inception"}, "query", rng) == "Inception"
    assert not is_placeholder(f.value({"type": "string"}, "city", rng))
    assert not is_placeholder(f.value({"type": "string", "format": "date"}, "day", rng))


def test_a_generic_field_is_read_with_its_parents_name():
    movie = {
        "type": "object",
        "properties": {
            "genres": {
                "type": "array",
                "items": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
            },
            "production_countries": {
                "type": "array",
                "items": {"type": "object", "properties": {"code": {"type": "string"}}},
            },
        },
    }
    value = ValueFactory().value(movie, "result", random.Random(1))
    genres = {"Drama", "Comedy", "Action", "Documentary", "Jazz", "Pop"}
    assert all(g["name"] in genres for g in value["genres"])  # a genre, never a person's name
    assert all(len(c["code"]) == 2 and c["code"].isupper() for c in value["production_countries"])


def test_rows_holding_a_placeholder_anywhere_are_labelled():
    from toolloom.stages.samples import content_of

    def traj(args: str, result: str, request: str = "Find it.") -> dict:
        return {
            "messages": [
                {"role": "user", "content": request},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": args}}],
                },
                {"role": "tool", "content": result},
                {"role": "assistant", "content": "Done."},
            ]
        }

    assert content_of(traj('{"q": "Inception"}', '{"title": "Inception", "html": "<p>x</p>"}')) == "filled"
    assert content_of(traj('{"q": "<query>"}', '{"n": 1}')) == "placeholder"
    assert content_of(traj('{"q": "x"}', '{"results": [{"overview": "<overview>"}]}')) == "placeholder"
    assert content_of(traj('{"q": "x"}', "{}", 'Search for "<query>".')) == "placeholder"
    assert has_placeholder({"a": ["<board visualization>"]}) and not has_placeholder({"a": "<b>bold</b>"})
