"""Records said as sentences (MCP's memory server, a file's edits): worded without field labels, read back the same
by the offline assistant, and said as done in the answer."""

import random

import pytest

from toolloom.agents.reading import fill_arguments
from toolloom.domain import Step
from toolloom.text import record_requests
from toolloom.text.request_asks import action_said


def _records(**fields):
    props = {
        k: {"type": "array", "items": {"type": "string"}} if v == "list" else {"type": "string"}
        for k, v in fields.items()
    }
    return {"type": "array", "items": {"type": "object", "properties": props, "required": list(props)}}


# as the reference MCP servers declare them (server-memory, server-filesystem)
RELATIONS = {"type": "object", "properties": {"relations": _records(**{"from": "", "to": "", "relationType": ""})}}
ADD_OBS = {"type": "object", "properties": {"observations": _records(entityName="", contents="list")}}
DELETE_OBS = {"type": "object", "properties": {"deletions": _records(entityName="", observations="list")}}
ENTITIES = {"type": "object", "properties": {"entities": _records(name="", entityType="", observations="list")}}
EDIT = {
    "type": "object",
    "properties": {
        "path": {"type": "string"},
        "edits": _records(oldText="", newText=""),
        "dryRun": {"type": "boolean"},
    },
}
for schema in (RELATIONS, ADD_OBS, DELETE_OBS, ENTITIES, EDIT):
    schema["required"] = [k for k in schema["properties"] if k != "dryRun"]

CASES = [
    (
        "memory__create_relations",
        "Create multiple new relations between entities in the knowledge graph. Relations should be in active voice",
        RELATIONS,
        {"relations": [{"from": "Lea Favre", "to": "Mont Fort hut", "relationType": "guides the route to"}]},
        ['that "Lea Favre" guides the route to "Mont Fort hut"', "knowledge graph"],
    ),
    (
        "memory__delete_relations",
        "Delete multiple relations from the knowledge graph",
        RELATIONS,
        {
            "relations": [
                {"from": "Champex", "to": "Mont Fort hut", "relationType": "is a day's walk from"},
                {"from": "Lea Favre", "to": "Chamonix guides office", "relationType": "works with"},
            ]
        },
        ['relations that "Champex" is a day\'s walk from "Mont Fort hut" and that "Lea Favre" works with'],
    ),
    (
        "memory__add_observations",
        "Add new observations to existing entities in the knowledge graph",
        ADD_OBS,
        {"observations": [{"entityName": "Lea Favre", "contents": ["Speaks French", "Carries a radio"]}]},
        ['Add the observations "Speaks French" and "Carries a radio" to "Lea Favre"'],
    ),
    (
        "memory__delete_observations",
        "Delete specific observations from entities in the knowledge graph",
        DELETE_OBS,
        {"deletions": [{"entityName": "Trient hut", "observations": ["In Switzerland"]}]},
        ['the observation "In Switzerland" from "Trient hut"'],
    ),
    (
        "memory__create_entities",
        "Create multiple new entities in the knowledge graph",
        ENTITIES,
        {"entities": [{"name": "Lea Favre", "entityType": "person", "observations": ["Mountain guide for the tour"]}]},
        ['the person "Lea Favre", noting "Mountain guide for the tour"'],
    ),
    (
        "filesystem__edit_file",
        "Make line-based edits to a text file. Each edit replaces exact line sequences with new content.",
        EDIT,
        {"path": "/tmp/ws/notes/contacts.txt", "edits": [{"oldText": "three weeks", "newText": "four weeks"}]},
        ['Change "three weeks" to "four weeks" in the file "/tmp/ws/notes/contacts.txt"'],
    ),
]


@pytest.mark.parametrize("name,summary,schema,arguments,says", CASES, ids=[c[0] for c in CASES])
def test_records_are_said_as_a_sentence_and_read_back(name, summary, schema, arguments, says):
    step = Step(tool_id="t", name=name, description=summary, arguments=arguments)
    for seed in range(3):
        request = record_requests.request(step, {"summary": summary}, random.Random(seed))
        assert request and all(s in request for s in says), request
        assert not any(w in request for w in ("entity name", "relation type", "old text", "(from ")), request
        assert fill_arguments(request, schema) == arguments, request
        assert action_said(request).startswith("I ") and says[0].split('"')[1] in action_said(request)


def test_a_sentence_is_read_back_inside_a_request_that_asks_more():
    request = 'Remove the observation "In Switzerland" from "Trient hut", and also search for nodes matching "guide".'
    assert fill_arguments(request, DELETE_OBS) == {
        "deletions": [{"entityName": "Trient hut", "observations": ["In Switzerland"]}]
    }


def test_records_no_sentence_says_keep_their_field_labels():
    step = Step(tool_id="t", name="create_tickets", description="Create tickets", arguments={})
    odd = {"tickets": [{"title": "Broken lamp", "owner": "Ana", "priority": "high"}]}  # no known shape
    assert record_requests.request(step.__class__(**{**step.__dict__, "arguments": odd}), {}, random.Random(0)) is None
    quoted = {
        "relations": [{"from": 'The "Old" hut', "to": "Champex", "relationType": "is near"}]
    }  # would not read back
    step = Step(tool_id="t", name="memory__create_relations", description="", arguments=quoted)
    assert (
        record_requests.request(step, {"summary": "Create relations in the knowledge graph"}, random.Random(0)) is None
    )


def test_the_whole_graph_is_answered_with_every_list_and_relations_said_as_facts():
    """'Show me the entire knowledge graph' was answered with the entity names alone (an MCP blind read)."""
    import json

    from toolloom.answers.sentence import answer_from

    graph = {
        "entities": [
            {"name": "Lea Favre", "entityType": "person", "observations": ["Mountain guide for the tour"]},
            {"name": "Trient hut", "entityType": "hut", "observations": ["In Switzerland"]},
        ],
        "relations": [{"from": "Lea Favre", "relationType": "guides the route to", "to": "Trient hut"}],
    }
    call = {"id": "a", "type": "function", "function": {"name": "read_graph", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "Show me the entire knowledge graph."},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "a", "content": json.dumps(graph)},
    ]
    answer = answer_from(messages)
    assert "Lea Favre (person)" in answer and "Lea Favre guides the route to Trient hut" in answer, answer
    messages[0]["content"] = 'Search for nodes in the knowledge graph matching "hut".'  # asks for the nodes only
    assert "relation" not in answer_from(messages)
