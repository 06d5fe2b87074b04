"""Tools with no implementation are simulated: schema-checked JSON, repair once, episode history."""

import pytest
import json

from toolloom.agents.simulator import ModelSimulator
from toolloom.executors.routing import ToolExecutor
from toolloom.llm import run_async
from toolloom.llm.fake_server import FakeModel, FakeServer
from toolloom.prompts import DEFAULT_ROOT
from toolloom.sandbox import Sandbox

from .conftest import PROJECT, fake_client, simulated_by

WEATHER = {
    "name": "get_weather",
    "collection": "ext",
    "executable": False,
    "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "returns": {
        "type": "object",
        "properties": {"temp_c": {"type": "number"}, "sky": {"type": "string"}},
        "required": ["temp_c", "sky"],
    },
}


def _executor(server, tmp_path):
    client = fake_client(server, tmp_path / "c.sqlite")
    return ToolExecutor(Sandbox(PROJECT / "sandbox"), [WEATHER], simulator=ModelSimulator(client, DEFAULT_ROOT))


def test_valid_answer_and_history_and_repeat(tmp_path):
    model = FakeModel()
    model.enqueue(
        {"content": json.dumps({"temp_c": 7.5, "sky": "rain"})},
        {"content": '```json\n{"temp_c": 9, "sky": "clear"}\n```'},
    )
    with FakeServer(model) as server:
        ex = _executor(server, tmp_path)

        async def episode():
            ep = ex.episode()
            first = await ep.call("get_weather", {"city": "Bergen"})
            again = await ep.call("get_weather", {"city": "Bergen"})
            other = await ep.call("get_weather", {"city": "Oslo"})
            return first, again, other

        first, again, other = run_async(episode())
    assert first.ok and first.content == {"temp_c": 7.5, "sky": "rain"}
    assert again.content == first.content  # a repeated call agrees without asking
    assert other.ok and other.content == {"temp_c": 9, "sky": "clear"}
    assert len(model.history) == 2
    second_prompt = model.history[1]["messages"][0]["content"]
    history = second_prompt.split("Earlier in this session", 1)[1].split("Call:", 1)[0]
    assert '"Bergen"' in history and '"rain"' in history
    fmt = model.history[1]["response_format"]  # decoding held to the response schema: a result, never an error
    assert fmt["type"] == "json_schema"
    result = fmt["json_schema"]["schema"]
    assert result["required"] == ["temp_c", "sky"] and result["additionalProperties"] is False


def test_invalid_answer_is_repaired_once_then_reported(tmp_path):
    model = FakeModel()
    model.enqueue(
        {"content": "sunny, 20 degrees"},
        {"content": json.dumps({"temp_c": 20, "sky": "sunny"})},
        {"content": json.dumps({"temp_c": "warm"})},
        {"content": "still not json"},
    )
    with FakeServer(model) as server:
        ex = _executor(server, tmp_path)
        repaired = ex.execute("get_weather", {"city": "Rome"})
        failed = ex.execute("get_weather", {"city": "Nice"})
    assert repaired.ok and repaired.content == {"temp_c": 20, "sky": "sunny"}
    assert "cannot be used: not valid JSON" in model.history[1]["messages"][-1]["content"]
    assert not failed.ok and failed.content["error"]["status"] == 502 and "unusable after one repair" in failed.error


def test_an_answer_about_another_entity_or_with_placeholders_is_asked_again_then_refused(tmp_path):
    movie = {
        "name": "get_movie",
        "collection": "ext",
        "executable": False,
        "description": "A movie by its id",
        "parameters": {"type": "object", "properties": {"movie_id": {"type": "integer"}}, "required": ["movie_id"]},
        "returns": {"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}},
    }
    model = FakeModel()
    model.enqueue(
        {"content": json.dumps({"id": 550, "title": "Fight Club"})},  # Prism's "Fight Club" for any id
        {"content": json.dumps({"id": 24428, "title": "The Avengers"})},
        {"content": json.dumps({"id": 7, "title": "title"})},
        {"content": json.dumps({"id": 7, "title": "string"})},
    )
    with FakeServer(model) as server:
        client = fake_client(server, tmp_path / "c.sqlite")
        ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), [movie], simulator=ModelSimulator(client, DEFAULT_ROOT))
        repaired = ex.execute("get_movie", {"movie_id": 24428})
        refused = ex.execute("get_movie", {"movie_id": 7})
    assert repaired.ok and repaired.content == {"id": 24428, "title": "The Avengers"}
    assert "not about the call" in model.history[1]["messages"][-1]["content"]
    assert "id is 550" in model.history[1]["messages"][-1]["content"]
    assert not refused.ok and "stand-ins" in refused.error and "title" in refused.error


def test_a_valid_call_gets_a_result_and_bad_arguments_get_the_schemas_error(tmp_path):
    model = FakeModel()
    model.enqueue({"content": json.dumps({"temp_c": 18.0, "sky": "clear"})})
    with FakeServer(model) as server:
        ex = _executor(server, tmp_path)
        found = ex.execute("get_weather", {"city": "Atlantis"})
        bad = ex.execute("get_weather", {"town": "Oslo"})
        assert len(model.history) == 1  # bad arguments never reach the model
    assert found.ok and found.content == {"temp_c": 18.0, "sky": "clear"}
    prompt = model.history[0]["messages"][0]["content"]
    assert '"error"' not in prompt and "error" not in json.dumps(model.history[0]["response_format"])
    assert not bad.ok and bad.content["error"]["status"] == 400 and "'city' is a required property" in bad.error


@pytest.mark.services
def test_a_clarifying_question_is_answered_by_the_user_agent(tmp_path):
    import pyarrow.compute as pc

    from toolloom.spec import SimulateStage, TasksStage, load_pipeline
    from toolloom.stages.tasks import sample_tasks
    from toolloom.stages.tools import build_tools

    tools = build_tools(load_pipeline(PROJECT / "pipelines/demo.yaml"), PROJECT, Sandbox(PROJECT / "sandbox")).table
    ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), tools.to_pylist())
    tasks = sample_tasks(tools.filter(pc.equal(tools["name"], "get_country")), ex, TasksStage(per_tool=1, seed=2)).table
    code = json.loads(tasks["chain"][0].as_py())[0]["arguments"]["country_code"]
    model = FakeModel()
    model.enqueue(
        {"content": json.dumps({"request": f"Tell me about the country {code}."})},  # the user's request
        {"content": "Which country do you mean?"},  # the assistant asks
        {"content": f"The one with code {code}."},  # the user answers (get_details)
        {"tool_calls": [{"name": "get_country", "arguments": {"country_code": code}}]},
        {"content": "Done."},
    )
    with FakeServer(model) as server:
        client = fake_client(server, tmp_path / "c.sqlite")
        result = simulated_by(client, tasks, tools, ex, SimulateStage(distractors=0))
    (row,) = result.table.to_pylist()
    assert [m["role"] for m in row["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "tool",
        "assistant",
    ]
    assert row["outcome"] == "answered" and row["messages"][3]["content"] == f"The one with code {code}."
    assert "The assistant asked: Which country do you mean?" in model.history[2]["messages"][0]["content"]


def test_stand_ins_are_found_and_the_calls_own_values_are_not():
    from toolloom.text.values import stand_ins

    answer = {
        "id": 12345,
        "results": [
            {
                "name": "John Doe",
                "url": "https://www.example.com/r/1",
                "file_path": "/path/to/poster1.jpg",
                "title": "Fight Club",
                "year": 12345,
            }
        ],
    }
    assert [f.split(":")[0] for f in stand_ins(answer)] == [
        "id",
        "results[0].name",
        "results[0].url",
        "results[0].file_path",
    ]
    assert stand_ins({"id": 12345, "title": "Heat"}, allowed={12345}) == []  # the call asked for 12345
    # ids counted out (the 0.5B user proposed tv show 123456789), not ids records have
    counted = {"tv_id": 123456789, "movie_id": 1234567890, "person_id": 98765, "season_id": 11111}
    assert [f.split(":")[0] for f in stand_ins(counted)] == ["tv_id", "movie_id", "person_id", "season_id"]
    assert stand_ins({"tv_id": 1399, "movie_id": 550, "person_id": 287, "id": 1111, "page": 12345}) == []
    assert (
        len(
            stand_ins(
                {
                    "name": "Example Company",
                    "homepage": "http://www.examplecompany.com",
                    "overview": "A thriller, for example.",
                }
            )
        )
        == 2
    )


def test_a_cut_response_keeps_what_names_things_before_links_and_paths():
    from toolloom.agents.simulator import decoding_schema

    fields = [
        "poster_path",
        "popularity",
        "id",
        "backdrop_path",
        "vote_average",
        "overview",
        "first_air_date",
        "genre_ids",
        "original_language",
        "vote_count",
        "name",
        "original_name",
    ]
    schema = {
        "type": "object",
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {f: {"type": "array" if f == "genre_ids" else "string"} for f in fields},
                },
            }
        },
    }
    kept = decoding_schema(schema)["properties"]["results"]["items"]["required"]
    assert kept[:3] == ["name", "original_name", "id"] and "poster_path" not in kept and "backdrop_path" not in kept
    image = {
        "type": "object",
        "properties": {
            f: {"type": "number"} for f in ("aspect_ratio", "height", "iso_639_1", "vote_average", "vote_count")
        },
    }
    image["properties"]["file_path"] = {"type": "string"}
    assert "file_path" in decoding_schema({"type": "array", "items": image})["items"]["required"]  # nothing names it


def test_the_simulator_is_shown_what_the_documentation_says_about_the_ids_asked_for(tmp_path):
    """The call a documented example answers gets that example, lists cut to their first items, with no model request;
    another tool asked about the same id is simulated with the documented facts shown and kept."""
    details = {
        "name": "GET_movie-movie_id",
        "collection": "ext",
        "executable": False,
        "description": "A movie",
        "parameters": {"type": "object", "properties": {"movie_id": {"type": "integer"}}, "required": ["movie_id"]},
        "returns": {"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}},
        "meta": {
            "example_response": {
                "id": 550,
                "title": "Fight Club",
                "release_date": "1999-10-14",
                "genres": [{"id": g, "name": f"genre {g}"} for g in range(8)],
            }
        },
    }
    credits = {**details, "name": "GET_movie-movie_id-credits", "meta": {}}
    popular = {
        **details,
        "name": "GET_tv-popular",
        "parameters": {"type": "object", "properties": {}},
        "meta": {"example_response": {"results": [{"id": 551, "name": "Pretty Little Liars"}]}},
    }
    model = FakeModel()
    model.enqueue(
        {"content": json.dumps({"id": 550, "title": "Fight Club 2"})},
        {"content": json.dumps({"id": 551, "title": "Heat"})},
    )
    with FakeServer(model) as server:
        client = fake_client(server, tmp_path / "c.sqlite")
        tools = [details, credits, popular]
        ex = ToolExecutor(Sandbox(PROJECT / "sandbox"), tools, simulator=ModelSimulator(client, DEFAULT_ROOT))
        documented = ex.execute("GET_movie-movie_id", {"movie_id": 550})
        assert model.history == []  # the documentation answers its own call
        known = ex.execute("GET_movie-movie_id-credits", {"movie_id": 550})
        other = ex.execute("GET_movie-movie_id-credits", {"movie_id": 551})  # a tv show's id: no movie documented
    genres = [g["id"] for g in documented.content["genres"]]
    assert documented.content["title"] == "Fight Club" and genres == list(range(5))  # the first items
    assert '"Fight Club"' in model.history[0]["messages"][0]["content"]
    assert known.content == {"id": 550, "title": "Fight Club"}  # the documented title stands
    assert "Pretty Little Liars" not in model.history[1]["messages"][0]["content"].split("Rules:")[1]
    assert other.content == {"id": 551, "title": "Heat"}


def test_the_user_is_told_the_documented_name_of_an_id_it_states():
    from toolloom.agents.requests import user_prompt
    from toolloom.domain import Step, Task
    from toolloom.executors.simulated import documented_entities, documented_names

    tools = [{"name": "GET_movie-movie_id", "meta": {"example_response": {"id": 550, "title": "Fight Club"}}}]
    named = documented_names(documented_entities(tools), {"movie_id": 550, "page": 2})
    assert named == {"movie_id": "Fight Club"}
    assert documented_names(documented_entities(tools), {"movie_id": 551}) == {}
    step = Step(
        "c.GET_movie-movie_id-keywords",
        "GET_movie-movie_id-keywords",
        "Get the keywords of a movie.",
        {"movie_id": 550},
    )
    prompt = user_prompt(Task("t1", "single", [step], 1, {step.tool_id: {"named": named}}), DEFAULT_ROOT)
    assert '550 is "Fight Club"' in prompt


def test_free_text_is_bounded_while_decoding_and_ended_at_a_sentence():
    from toolloom.agents.simulator import MAX_TEXT, decoding_schema, ended_text

    schema = {
        "type": "object",
        "properties": {"overview": {"type": "string"}, "released": {"type": "string", "format": "date"}},
    }
    decoded = decoding_schema(schema)["properties"]
    assert decoded["overview"]["maxLength"] == MAX_TEXT and "maxLength" not in decoded["released"]
    cut = ("A heist goes wrong. " * 40)[:MAX_TEXT]
    assert ended_text({"overview": cut, "title": "Heat"}) == {"overview": cut[: cut.rfind(". ") + 1], "title": "Heat"}


def test_a_response_that_copies_the_example_about_another_entity_or_counts_ids_cannot_stand():
    from toolloom.agents.simulator import problems

    person = {
        "name": "GET_person-person_id",
        "parameters": {"type": "object"},
        "meta": {
            "example_response": {
                "id": 287,
                "name": "Brad Pitt",
                "biography": "William Bradley Pitt is an American actor.",
            }
        },
    }
    copied = {"id": 1223786, "name": "Brad Pitt", "biography": "William Bradley Pitt is an American actor."}
    assert "copies the documented example" in problems(person, {"person_id": 1223786}, copied)
    assert problems(person, {"person_id": 287}, {**copied, "id": 287}) == ""  # the example's own entity
    assert problems(person, {"person_id": 1223786}, {"id": 1223786, "name": "Emilia Clarke"}) == ""
    shows = {"results": [{"id": 1000, "name": "The Crown"}, {"id": 1001, "name": "Dark"}, {"id": 1002, "name": "Lost"}]}
    assert "count up by one" in problems({"name": "GET_tv-popular"}, {}, shows)
    shows["results"][1]["id"] = 66732
    assert problems({"name": "GET_tv-popular"}, {}, shows) == ""


def test_a_response_with_values_in_the_example_s_other_fields_cannot_stand():
    """The 0.5B simulator gave a season's cast as name "Jon Snow", character "Kit Harington" (a blind read: bad)."""
    from toolloom.agents.simulator import problems

    credits = {
        "name": "GET_tv-tv_id-season-season_number-credits",
        "parameters": {"type": "object"},
        "meta": {"example_response": {"cast": [{"character": "Jon Snow", "name": "Kit Harington"}]}},
    }
    swapped = {"cast": [{"character": "Kit Harington", "name": "Jon Snow"}]}
    assert "in the wrong fields" in problems(credits, {"tv_id": 1399, "season_number": 1}, swapped)
    right = {"cast": [{"character": "Jon Snow", "name": "Kit Harington"}, {"character": "Arya", "name": "Maisie"}]}
    assert problems(credits, {"tv_id": 1399, "season_number": 1}, right) == ""
