"""Values in requests are written as people write them (toolloom/text/spoken.py): a slug id as the name it stands
for, a name or a short id without quotes; the offline assistant reads them back into the form the tool takes."""

import json
import random
import re

from toolloom.text import spoken
from toolloom.agents.offline import RetrievalAssistant, fill_arguments
from toolloom.domain import Step, Task
from toolloom.text.wording import THEN_SPLIT, render_example

from .conftest import PROJECT

FILES = {
    f: json.loads((PROJECT / "api_graphs" / "demo" / f).read_text())
    for f in ("geo.json", "clock.json", "shop.json", "travel.json", "languages.json", "holidays.json")
}
TOOLS = {t["function"]["name"]: t for tools in FILES.values() for t in tools}


def _requests(name: str, arguments: dict) -> set[str]:
    meta = {f"demo.{name}": TOOLS[name]["x-toolloom"]}
    step = Step(f"demo.{name}", name, "", arguments)
    return {render_example(Task("t", "single", [step], s, meta), random.Random(s)) for s in range(16)}


def test_a_slug_id_is_said_as_its_name_and_a_short_id_without_quotes():
    cities = _requests("get_city", {"city_id": "new_york"})
    assert all("New York" in r and "new_york" not in r and '"' not in r for r in cities), cities
    orders = _requests("get_order_status", {"order_id": "ord_1002"})
    assert all("ord_1002" in r and '"ord_1002"' not in r for r in orders), orders
    # what a person would not write bare keeps its quotes: a search phrase
    assert all('"travel"' in r for r in _requests("search_products", {"query": "travel"}))
    # a date and time as people write it, and a language code where the request says it is a code
    times = _requests("local_time", {"city_id": "chicago", "utc_time": "2026-12-31T23:00"})
    assert all("2026-12-31 23:00" in r and '"' not in r for r in times), times
    spanish = _requests("countries_speaking", {"language_code": "es"})  # by its name, or as a code where it says so
    assert all(("code es" in r or "Spanish" in r) and '"' not in r for r in spanish)
    assert any("Spanish" in r for r in spanish)


def test_the_offline_assistant_reads_back_the_form_the_tool_takes_from_every_wording():
    """Every template of these tools, said with names, fills the tool's arguments exactly as the reference call."""
    cases = [
        ("get_city", {"city_id": "cape_town"}),
        ("time_difference", {"from_city_id": "mexico_city", "to_city_id": "new_york", "day": "2026-07-01"}),
        ("get_order_status", {"order_id": "ord_1001"}),
        ("find_country", {"name": "Mexico"}),
        ("travel_time", {"from_city_id": "paris", "to_city_id": "berlin", "mode": "train"}),
        ("local_time", {"city_id": "chicago", "utc_time": "2026-12-31T23:00"}),
        ("countries_speaking", {"language_code": "es"}),
        ("get_language", {"language_code": "pt"}),
        ("get_capital_city", {"country_code": "KR"}),
        ("list_cities", {"country_code": "US"}),
    ]
    for name, arguments in cases:
        schema = TOOLS[name]["function"]["parameters"]
        for request in _requests(name, arguments):
            assert fill_arguments(request, schema) == arguments, request
    shop = FILES["shop.json"]
    assert RetrievalAssistant.best_call("What is the status of order ord_1002?", shop) == (
        "get_order_status",
        {"order_id": "ord_1002"},
    )


def test_names_are_capitalised_runs_that_do_not_merely_start_a_sentence():
    assert spoken.names("What is the population of Tokyo?") == ["Tokyo"]
    assert spoken.names("In Chicago, what time is it? Also, how far is Paris from New York?") == [
        "Chicago",
        "Paris",
        "New York",
    ]
    assert spoken.names("Tokyo, please.") == ["Tokyo"] and spoken.names("Oh, sorry: Cape Town.") == ["Cape Town"]
    assert spoken.names("Give me the city list for US.") == []


def test_a_value_of_another_shape_than_the_documented_examples_is_not_taken_for_an_id():
    """'such as paris or new_york': an id of letters; the quoted time and the product code are not one."""
    schema = TOOLS["local_time"]["function"]["parameters"]
    doc = schema["properties"]["city_id"]["description"]
    assert spoken.fits("tokyo", doc) and not spoken.fits("p300", doc) and not spoken.fits("2026-12-31T23:00", doc)
    args = fill_arguments('In Chicago, what is the local time when it is "2026-12-31T23:00" UTC?', schema)
    assert args == {"city_id": "chicago", "utc_time": "2026-12-31T23:00"}


def test_a_value_in_a_dialogue_turn_is_bare_where_people_write_it_bare():
    """'Oh, sorry: 2026-10-10.' and 'Sure: order ord_1001.', but a search phrase keeps its quotes."""
    assert [
        spoken.written(v, k)
        for k, v in [
            ("day", "2026-10-10"),
            ("country_code", "CA"),
            ("amount", 99.5),
            ("city_id", "cape_town"),
            ("order_id", "ord_1001"),
        ]
    ] == ["2026-10-10", "Canada", "99.5", "Cape Town", "ord_1001"]
    assert spoken.written("kitchen stuff", "query") == '"kitchen stuff"'
    assert spoken.documented_examples("city identifier such as paris or new_york") == ["paris", "new_york"]


def test_a_large_count_is_written_with_separators_and_read_back():
    """'a population of at least 3,000,000' (not 3000000), read back as the number; a year or an id stays as it is."""
    assert spoken.counted(3000000, "min_population") == "3,000,000"
    assert spoken.counted(2026, "year") is None and spoken.counted(123456, "movie_id") is None
    schema = TOOLS["list_cities"]["function"]["parameters"]
    assert fill_arguments("Name the big cities of DE, with a population of at least 3,000,000.", schema) == {
        "country_code": "DE",
        "min_population": 3000000,
    }
    meta = {"demo.list_cities": TOOLS["list_cities"]["x-toolloom"]}
    step = Step("demo.list_cities", "list_cities", "", {"country_code": "DE", "min_population": 3000000})
    for seed in range(8):
        request = render_example(Task("t", "single", [step], seed, meta), random.Random(seed))
        assert "3,000,000" in request and fill_arguments(request, schema) == step.arguments, request


def test_a_step_after_a_listing_does_not_ask_what_the_listing_showed():
    """list_cities gives each city's population: the get_city step after it asks something else (its time zone)."""
    steps = [
        Step("demo.list_cities", "list_cities", "", {"country_code": "DE", "min_population": 3000000}),
        Step(
            "demo.get_city", "get_city", "", {"city_id": "berlin"}, {"city_id": {"step": 0, "path": "cities|city_id"}}
        ),
    ]
    meta = {
        f"demo.{n}": {**TOOLS[n]["x-toolloom"], "returns": TOOLS[n].get("returns")} for n in ("list_cities", "get_city")
    }
    for seed in range(12):
        request = render_example(Task("t", "multi_hop", steps, seed, meta), random.Random(seed))
        assert "population" not in THEN_SPLIT.split(request)[-1], request


def test_a_reference_fills_the_end_of_a_conversion_it_is_said_at_and_its_reads_as_the_latest_result():
    """'250 EUR ... in that country's currency' is the target currency, not the source; 'its country' is the
    country of the result just before."""
    from toolloom.agents.offline import Results

    money = json.loads((PROJECT / "api_graphs" / "demo" / "money.json").read_text())
    convert = next(t for t in money if t["function"]["name"] == "convert_currency")["function"]["parameters"]
    japan = Results([{"code": "JP", "currency": "JPY", "calling_code": "+81"}], ["get_country"])
    for request in (
        "Then, what do 250 EUR come to in that country's currency?",
        "Then, what do 250 EUR come to in its currency?",
    ):
        assert fill_arguments(request, convert, japan) == {
            "amount": 250,
            "from_currency": "EUR",
            "to_currency": "JPY",
        }, request
    assert fill_arguments("Then, convert 100 of its currency to USD.", convert, japan) == {
        "amount": 100,
        "from_currency": "JPY",
        "to_currency": "USD",
    }
    vat = next(t for t in money if t["function"]["name"] == "get_vat_rate")["function"]["parameters"]
    order = Results([{"country_code": "DE", "order_id": "ord_1001", "status": "shipped"}], ["get_order_status"])
    assert fill_arguments("Then, the standard VAT in its country?", vat, order) == {"country_code": "DE"}


def test_an_iso_code_is_said_by_its_name_and_read_back():
    """DE is Germany, KR South Korea (its common name), es Spanish; where a template says 'code', the code stays."""
    assert [spoken.code_name(c) for c in ("DE", "KR", "US")] == ["Germany", "South Korea", "United States"]
    assert spoken.code_name("es", "language_code") == "Spanish" and spoken.code_name("EUR", "currency") is None
    assert spoken.code_for("Germany", "country_code") == "DE" and spoken.code_for("Spanish", "language_code") == "es"
    holidays = _requests("is_holiday", {"country_code": "CA", "day": "2026-05-18"})
    assert all("Canada" in r for r in holidays), holidays
    schema = TOOLS["is_holiday"]["function"]["parameters"]
    assert all(fill_arguments(r, schema) == {"country_code": "CA", "day": "2026-05-18"} for r in holidays), holidays
    template, values = spoken.unquoted('Capital of the country with ISO code "{country_code}"?', {"country_code": "DE"})
    assert template.format(**values) == "Capital of the country with ISO code DE?"


def test_a_date_keeps_the_article_after_it_when_a_value_is_left_out():
    from toolloom.text.withholding import withholding_request

    holidays = json.loads((PROJECT / "api_graphs" / "demo" / "holidays.json").read_text())
    meta = {"demo.is_holiday": {"utterances": ["Is {day} a holiday in {country_code}?"]}}
    assert any(t["function"]["name"] == "is_holiday" for t in holidays)
    step = Step("demo.is_holiday", "is_holiday", "", {"country_code": "CA", "day": "2026-05-18"})
    text = withholding_request(Task("t", "single", [step], 1, meta), "country_code", random.Random(1))
    assert text == "Is 2026-05-18 a holiday in my country?", text


def test_a_withheld_city_is_my_city_not_the_city_of_my_city():
    from toolloom.text.withholding import withholding_request

    step = Step("demo.get_city", "get_city", "", {"city_id": "tokyo"})
    meta = {"demo.get_city": {"utterances": ["Tell me about the city of {city_id}."]}}
    text = withholding_request(Task("t", "single", [step], 1, meta), "city_id", random.Random(1))
    assert text == "Tell me about my city.", text  # a blind reader: 'Tell me about the city of my city.'


def test_a_request_with_a_value_left_out_still_says_the_constraint_its_template_has_no_place_for():
    from toolloom.text.withholding import withholding_request

    args = {"country_code": "FR", "min_population": 3000000}
    step = Step("demo.list_cities", "list_cities", "", args, {"country_code": {"step": 0, "path": "country_code"}})
    meta = {"demo.list_cities": {"utterances": ["Which cities in {country_code} do you know about?"]}}
    text = withholding_request(Task("t", "single", [step], 1, meta), "country_code", random.Random(1), "order")
    # a blind read: the call's filter of 3,000,000 came from nowhere
    assert text == "Which cities in the country of my order do you know about, with a population of at least 3,000,000?"


def test_a_withheld_day_drops_the_clause_that_held_it_and_a_city_said_for_its_country_is_in_it():
    """'Compare the clocks of Sydney and Berlin on a certain day.' and 'the VAT of Cape Town' (a blind read)."""
    from toolloom.text.withholding import withholding_request

    step = Step(
        "demo.time_difference",
        "time_difference",
        "",
        {"from_city_id": "sydney", "to_city_id": "berlin", "day": "2026-10-10"},
    )
    meta = {"demo.time_difference": {"utterances": ["Compare the clocks of {from_city_id} and {to_city_id} on {day}."]}}
    text = withholding_request(Task("t", "single", [step], 1, meta), "day", random.Random(1))
    assert text == "Compare the clocks of Sydney and Berlin.", text
    city = Step("demo.get_city", "get_city", "", {"city_id": "cape_town"})
    vat = Step("demo.add_vat", "add_vat", "", {"net_amount": 1250, "country_code": "ZA"})
    vat.bindings = {"country_code": {"step": 0, "path": "country_code"}}
    meta = {"demo.add_vat": {"utterances": ["What's {net_amount} after adding the VAT of {country_code}?"]}}
    said = {render_example(Task("t", "multi_hop", [city, vat], s, meta), random.Random(s)) for s in range(20)}
    assert "What's 1250 after adding the VAT in Cape Town?" in said and not any("of Cape Town" in t for t in said), said


def test_a_request_that_leaves_out_its_only_value_says_what_the_user_is_after():
    from toolloom.text.withholding import withholding_request

    step = Step("demo.find_country", "find_country", "", {"name": "Mexico"})
    meta = {"demo.find_country": TOOLS["find_country"]["x-toolloom"]}
    assert (
        withholding_request(Task("t", "single", [step], 1, meta), "name", random.Random(1))
        == "I'm looking for a country."
    )  # not 'Find countries.'
    # a call that changes something is asked for as the change, not as a search ('I'm looking for a content.')
    delete = Step("jupyter.delete__api_contents_path", "delete__api_contents_path", "", {"path": "notes/a.txt"})
    text = withholding_request(Task("t", "single", [delete], 1, {}), "path", random.Random(1))
    assert "looking for" not in text and text.lower().startswith("delete"), text


def test_a_vague_opening_of_a_change_is_no_question_and_its_clarification_asks_what_to_do():
    from toolloom.agents.realisers import load_phrases
    from toolloom.prompts import DEFAULT_ROOT
    from toolloom.stages.dialogues import Dialogue

    phrases = load_phrases(DEFAULT_ROOT)
    for tool, asks in (("cancel_order", False), ("get_order_status", True)):
        step = Step(f"demo.{tool}", tool, "", {"order_id": "ord_1001"})
        task = Task("t", "single", [step], 1, {})
        said = set()
        for seed in range(12):
            tools = {tool: {"parameters": {"properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}
            state = Dialogue(task, None, tools, [], phrases, random.Random(seed))
            said.add(state.utterance("inform_intent_vague")[0] + " " + state.utterance("clarify")[0])
        questions = [s for s in said if re.search(r"find something out|look something up|what .*know|look up", s)]
        assert bool(questions) == asks, said


def test_a_list_of_strings_is_listed_in_quotes_and_read_back_as_one_list():
    """'the paths "/ws/a.md" and "/ws/b.md"', not '["/ws/a.md", "/ws/b.md"]'; the offline assistant reads the
    listed values back as the list, and an optional list takes only values its own noun leads."""
    schemas = {
        "read_multiple_files": (["paths"], {"paths": ["/ws/notes/todo.md", "/ws/README.md"]}),
        "git_add": (["repo_path", "files"], {"repo_path": "/ws/repo", "files": ["README.md"]}),
        "create_entities": (["names"], {"names": ["Ada Lovelace", "Alan Turing", "Grace Hopper"], "kind": "person"}),
    }
    for name, (required, arguments) in schemas.items():
        props = {k: _schema_of(v) for k, v in arguments.items()}
        schema = {"type": "object", "properties": props, "required": required}
        step = Step(f"x.{name}", name, "", arguments)
        for seed in range(4):
            request = render_example(Task("t", "single", [step], seed, {step.tool_id: {}}), random.Random(seed))
            assert "[" not in request and fill_arguments(request, schema) == arguments, request
    assert spoken.written(["a.md", "b.md", "c.md"], "files") == '"a.md", "b.md" and "c.md"'
    assert spoken.written([1, 2], "ids") == "[1, 2]"  # not a list of strings: as JSON
    tagged = {"tags": _schema_of([""]), "title": {"type": "string"}}
    schema = {"type": "object", "properties": tagged, "required": ["title"]}
    assert fill_arguments('Create a note titled "groceries".', schema) == {"title": "groceries"}
    assert fill_arguments('Create a note with tags "home" and "food", titled "groceries".', schema) == {
        "tags": ["home", "food"],
        "title": "groceries",
    }


def _schema_of(value) -> dict:
    return {"type": "array", "items": {"type": "string"}} if isinstance(value, list) else {"type": "string"}
