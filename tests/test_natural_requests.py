"""Requests as a person words them: a part of a name searched as a part, two independent requests joined as a
person joins them (blind reads of the demo and the MCP servers)."""

import random

from toolloom.agents.unnest import plan
from toolloom.domain import Step, Task
from toolloom.text.wording import render_example

from .offline_episode import demo_tools
from .test_nested_requests import _chain


def test_part_of_a_name_is_searched_as_part_of_one():
    """'Is there a country named South, and what is its code?' (a demo read): a part of a name is asked as what
    names contain; a whole name keeps the other templates; a product search keeps all of its own."""
    from toolloom.text.template_fit import fit_name

    templates = ['Is there a country named "{name}"?', 'Which countries have "{name}" in their name?']
    part, whole = ({"name": v} for v in ("South", "Germany"))
    assert fit_name(templates, Step("demo.find_country", "find_country", "", part)) == templates[1:]
    assert fit_name(templates, Step("demo.find_country", "find_country", "", whole)) == templates[:1]
    shop = ['Do you sell anything matching "{query}"?', 'Search the shop for "{query}".']
    assert fit_name(shop, Step("demo.search_products", "search_products", "", {"query": "kitchen"})) == shop


def test_two_independent_requests_are_never_joined_by_separately():
    """'Show me the differences ... Separately, show me the working tree status.' read as two tasks glued together
    (blind reads); 'Also' and 'Additionally' are written, 'Separately' is still read."""
    country = Step("demo.get_country", "get_country", "", {"country_code": "JP"})
    city = Step("demo.get_city", "get_city", "", {"city_id": "paris"})
    said = {
        render_example(Task("t", "parallel", [country, city], s, _chain(country, city).meta), random.Random(s))
        for s in range(40)
    }
    assert not any("Separately" in t for t in said) and any("Also, " in t for t in said), said
    assert plan("Tell me about Japan. Separately, look up the city paris.", demo_tools("get_country", "get_city")) == [
        [("Tell me about Japan.", None), ("look up the city paris.", None)]
    ]


def test_a_model_users_request_that_copies_the_prompts_rules_is_asked_again():
    """'What are the countries of Europe? Values are the names, codes, ids, numbers, dates.' (the 1.5B user)."""
    from toolloom.agents.requests import request_problems

    task = Task("t", "single", [Step("d.countries", "list_countries_by_region", "", {"region": "Europe"})], 0, {})
    copied = "What are the countries of Europe? Values are the names, codes, ids, numbers, dates. List them."
    assert "words of these instructions" in request_problems(task, copied)
    assert request_problems(task, "Which countries are in Europe? List them, please.") == ""
    # the 0.5B user: 'List cities in Germany. Values the country code as 'DE'.' (a blind read: garbled)
    assert "words of these instructions" in request_problems(
        task, "Countries in Europe. Values the region as 'Europe'."
    )
    assert request_problems(task, "Which values does Europe hold? The countries, please.") == ""


def test_a_model_users_request_that_is_a_sentence_of_the_documentation_is_asked_again():
    """'Get the most newly created TV show.' (the 0.5B user on TMDB's GET /tv/latest): seven words, all the doc's."""
    from toolloom.agents.requests import request_problems

    doc = "Get the most newly created TV show. This is a live response and will continuously change."
    task = Task("t", "single", [Step("tmdb.GET_tv-latest", "GET_tv-latest", doc, {})], 0, {})
    assert "copies the tool's documentation" in request_problems(task, "Get the most newly created TV show.")
    assert request_problems(task, "Which TV show was added most recently?") == ""
    assert request_problems(task, "What is the newest TV show?") == ""


def test_a_request_in_the_assistants_voice_is_refused():
    """The 0.5B user's 'Sure! Please provide the information you need to inform me about similar TV shows of TV show
    31917.' (a blind read: bad), asked again and else replaced by the plain request."""
    from toolloom.agents.requests import request_problems

    task = Task("t", "single", [Step("d.countries", "list_countries_by_region", "", {"region": "Europe"})], 0, {})
    assert "speaks as the assistant" in request_problems(
        task, "Sure! Please provide the information you need about Europe."
    )
    assert "speaks as the assistant" in request_problems(task, "Certainly, I'd be happy to help with Europe.")
    assert request_problems(task, "Which countries are in Europe? List them, please.") == ""
