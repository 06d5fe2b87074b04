"""Requests worded from an OpenAPI operation's summary when it is a sentence (toolloom/text/summary_requests.py):
the values sit on the nouns they name, the offline assistant reads them back, and a title-like summary
leaves the wording to the tool's name."""

import random
import re

from toolloom.agents.offline import fill_arguments
from toolloom.domain import Step, Task
from toolloom.text.wording import render_example

SEEDS = range(8)
PATH = {"type": "string", "description": "file path"}


def requests(name: str, summary: str, arguments: dict) -> set[str]:
    step = Step(f"j.{name}", name, "", arguments)
    meta = {step.tool_id: {"summary": summary, "path": "/api/contents/{path}"}}
    return {render_example(Task("t", "single", [step], s, meta), random.Random(s)) for s in SEEDS}


def test_a_sentence_summary_puts_each_value_on_its_noun():
    assert requests(
        "patch__api_contents_path",
        "Rename a file or directory without re-uploading content",
        {"path": "notes/todo.md", "body_path": "notes/done.md"},
    ) == {'Rename the file "notes/todo.md" to "notes/done.md".'}
    assert requests(
        "post__api_contents_path_checkpoints", "Create a new checkpoint for a file", {"path": "reports/season.md"}
    ) == {'Create a new checkpoint for the file "reports/season.md".'}
    assert requests("get__api_contents_path", "Get contents of file or directory", {"path": "notes/todo.md"}) == {
        'What are the contents of the file "notes/todo.md"?',
        'Show me the contents of the file "notes/todo.md".',
    }
    # a value whose noun the summary lacks is said first, so values stay in argument order
    assert requests(
        "delete__api_contents_path_checkpoints_checkpoint_id",
        "Delete a checkpoint",
        {"path": "notes/todo.md", "checkpoint_id": "checkpoint"},
    ) == {'For the file "notes/todo.md", delete the checkpoint "checkpoint".'}
    # not inside a compound ('the kernel "k" information'): after it
    assert requests("get__api_kernels_kernel_id", "Get kernel information", {"kernel_id": "k-1"}) == {
        'What is the kernel information for kernel "k-1"?',
        'Show me the kernel information for kernel "k-1".',
    }
    assert requests("get__api_status", "Get the current status/activity of the server.", {}) == {
        "What is the current status of the server?",
        "Show me the current status of the server.",
    }


def test_the_offline_assistant_reads_the_values_back():
    schema = {
        "type": "object",
        "properties": {"path": PATH, "checkpoint_id": {"type": "string"}},
        "required": ["path", "checkpoint_id"],
    }
    for text in requests(
        "delete__api_contents_path_checkpoints_checkpoint_id",
        "Delete a checkpoint",
        {"path": "notes/todo.md", "checkpoint_id": "checkpoint"},
    ):
        assert fill_arguments(text, schema) == {"path": "notes/todo.md", "checkpoint_id": "checkpoint"}


def test_a_hedged_noun_and_an_object_of_settings_are_said_as_a_person_says_them():
    """'Restore a file to a particular checkpointed state' names the checkpoint the call gives; an object argument
    of a few plain settings is said as settings, not pasted as JSON; the offline assistant reads both back."""
    restore = {"path": "notes/todo.md", "checkpoint_id": "checkpoint"}
    got = requests(
        "post__api_contents_path_checkpoints_checkpoint_id",
        "Restore a file to a particular checkpointed state",
        restore,
    )
    assert got == {'Restore the file "notes/todo.md" to the checkpoint "checkpoint".'}
    update = {"section_name": "notebook", "body": {"autosave_interval": 120}}
    got = requests("patch__api_config_section_name", "Update a configuration section by name", update)
    assert got == {'Update the configuration section "notebook", setting autosave interval to 120.'}
    schema = {
        "type": "object",
        "properties": {"section_name": {"type": "string"}, "body": {"type": "object"}},
        "required": ["section_name", "body"],
    }
    assert fill_arguments(got.pop(), schema) == update
    # what would not read back the same stays JSON
    odd = {"section_name": "notebook", "body": {"autoSave": True}}
    assert all(
        '{"autoSave": true}' in t
        for t in requests("patch__api_config_section_name", "Update a configuration section by name", odd)
    )


def test_mcp_filesystem_summaries_read_as_requests():
    """The filesystem MCP server's summaries: 'Move or rename files and directories' moves a file (not 'Move file
    with source ... and destination ...'); a path names a directory or a file by its shape; where a file is read
    from is no part of the request."""
    moved = {"source": "/ws/notes/a.txt", "destination": "/ws/a.txt"}
    assert requests("move_file", "Move or rename files and directories", moved) == {
        'Move "/ws/notes/a.txt" to "/ws/a.txt".'
    }
    listing = requests(
        "list_directory",
        "Get a detailed listing of all files and directories in a specified path",
        {"path": "/ws/notes"},
    )
    assert listing and all('of the directory "/ws/notes"' in t for t in listing), listing
    assert not any(t.startswith("What is a ") for t in listing), listing  # 'What is a detailed listing of ...?'
    read = requests(
        "read_text_file", "Read the complete contents of a file from the file system as text", {"path": "/ws/a.md"}
    )
    assert read == {
        'Show me the complete contents of the file "/ws/a.md".',
        'What are the complete contents of the file "/ws/a.md"?',
    }
    schema = {
        "type": "object",
        "properties": {"source": PATH, "destination": PATH},
        "required": ["source", "destination"],
    }
    assert fill_arguments('Move "/ws/notes/a.txt" to "/ws/a.txt".', schema) == moved


def test_a_search_says_where_it_looks_and_what_it_matches():
    """'Recursively search for files ... matching a pattern' (filesystem MCP): the path is where the search looks
    and the pattern what it matches, not 'Search for files with path ... and pattern ...'."""
    found = {"path": "/ws", "pattern": "*.md"}
    made = requests("search_files", "Recursively search for files and directories matching a pattern", found)
    assert made == {'In the directory "/ws", search for files matching "*.md".'}, made
    schema = {"type": "object", "properties": {"path": PATH, "pattern": {"type": "string"}}, "required": list(found)}
    assert fill_arguments(made.pop(), schema) == found


def test_a_kind_parameter_is_said_before_its_noun_and_read_back_from_the_documented_values():
    """git's MCP server: git_branch(branch_type='local') was 'List the Git branches with branch type "local".'"""
    doc = "Whether to list local branches ('local'), remote branches ('remote') or all branches('all')."
    assert requests("git_branch", "List Git branches", {"branch_type": "local"}) == {"List the local Git branches."}
    schema = {"type": "object", "properties": {"branch_type": {"type": "string", "description": doc}}}
    assert fill_arguments("List the local Git branches.", {**schema, "required": ["branch_type"]}) == {
        "branch_type": "local"
    }


def test_a_value_from_an_earlier_result_is_said_on_its_noun():
    first = Step("j.get__api_contents_path_checkpoints", "get__api_contents_path_checkpoints", "", {"path": "n.md"})
    then = Step(
        "j.delete__api_contents_path_checkpoints_checkpoint_id",
        "delete__api_contents_path_checkpoints_checkpoint_id",
        "",
        {"path": "n.md", "checkpoint_id": "checkpoint"},
        bindings={"checkpoint_id": {"step": 0, "path": "id"}},
    )
    meta = {
        first.tool_id: {"summary": "Get a list of checkpoints for a file", "path": "/api/contents/{path}/checkpoints"},
        then.tool_id: {"summary": "Delete a checkpoint", "path": "/api/contents/{path}/checkpoints/{checkpoint_id}"},
    }
    for s in SEEDS:
        text = render_example(Task("t", "multi_hop", [first, then], s, meta), random.Random(s))
        assert re.search(r"delete (that|this) checkpoint\.$", text) and "checkpoint's id" not in text, text
        # the offline assistant takes 'that checkpoint' as the id of the checkpoint the first call listed
        schema = {
            "type": "object",
            "properties": {"path": PATH, "checkpoint_id": {"type": "string"}},
            "required": ["path", "checkpoint_id"],
        }
        listed = [[{"id": "cp-7", "last_modified": "2026-12-05T06:08:10Z"}]]
        assert fill_arguments(text[text.rindex("for the file") :], schema, listed) == {
            "path": "n.md",
            "checkpoint_id": "cp-7",
        }, text


def test_a_title_or_a_summary_without_a_verb_leaves_the_name_to_word_it():
    # 'Get Keywords' is a title: the path says whose keywords
    step = Step("t.get_movie_movie_id_keywords", "GET_movie-movie_id-keywords", "", {"movie_id": 914298})
    meta = {
        step.tool_id: {
            "summary": "Get Keywords",
            "path": "/movie/{movie_id}/keywords",
            "params": {"movie_id": ["path", "movie_id"]},
        }
    }
    got = {render_example(Task("t", "single", [step], s, meta), random.Random(s)) for s in SEEDS}
    assert got == {"What are the keywords of movie 914298?", "Show me the keywords of movie 914298."}
    assert requests(
        "patch__api_sessions_session", "This can be used to rename the session.", {"session": "s1"}
    ).isdisjoint({'Rename the session "s1".'})
    for text in requests("patch__api_sessions_session", "This can be used to rename the session.", {"session": "s1"}):
        assert "This can be used" not in text  # documentation is never pasted


def test_a_word_that_names_a_quoted_value_is_not_a_value_itself():
    """'the file "notes/todo.md"' names the path; 'file' must not also fill an optional `type` enum (BFCL's checker
    then finds an argument the reference does not have)."""
    schema = {
        "type": "object",
        "required": ["path"],
        "properties": {"path": PATH, "type": {"type": "string", "enum": ["file", "directory"]}},
    }
    assert fill_arguments('What are the contents of the file "notes/todo.md"?', schema) == {"path": "notes/todo.md"}
    assert fill_arguments('Show "notes" with type directory.', schema) == {"path": "notes", "type": "directory"}


def test_the_assistant_takes_the_operation_whose_verb_the_request_uses():
    """'delete the checkpoint': the DELETE operation, though the POST's documentation says 'checkpoint' more often."""
    from toolloom.agents.offline import RetrievalAssistant

    path = {"type": "string", "description": "file path"}
    tools = [
        {
            "type": "function",
            "function": {
                "name": "post__api_contents_path_checkpoints",
                "parameters": {"type": "object", "properties": {"path": path}, "required": ["path"]},
                "description": "Create a new checkpoint for a file. "
                "Create a new checkpoint with the current state of a file. "
                "Only one checkpoint is supported, so creating new checkpoints clobbers existing ones.",
            },
        },
        {
            "type": "function",
            "function": {
                "name": "delete__api_contents_path_checkpoints_checkpoint_id",
                "description": "Delete a checkpoint",
                "parameters": {
                    "type": "object",
                    "properties": {"path": path, "checkpoint_id": {"type": "string"}},
                    "required": ["path", "checkpoint_id"],
                },
            },
        },
    ]
    name, args = RetrievalAssistant.best_call('For the file "a.md", delete the checkpoint "c1".', tools)
    assert name == "delete__api_contents_path_checkpoints_checkpoint_id"
    assert args == {"path": "a.md", "checkpoint_id": "c1"}


def test_an_operation_is_about_its_paths_last_noun():
    from toolloom.text.words import entity_of

    assert entity_of("get__api_contents_path_checkpoints") == "checkpoint"
    assert entity_of("get__api_config_section_name") == "section"
    assert entity_of("get_city_info") == "city"  # names without an HTTP method as before
    # RestBench names its operations by method and path segments: the path's last noun, not its parameters
    assert entity_of("GET_tv-tv_id-season-season_number") == "season"
    assert entity_of("GET_person-person_id-tv_credits") == "tv credit"
    assert entity_of("GET_tv-popular") == entity_of("GET_tv-latest") == "tv"
    assert entity_of("GET_artists-id-related-artists") == "artist"


def test_a_records_id_from_an_earlier_result_is_that_record():
    """TMDB: the latest show's id for tv_id was "for tv id that tv latest's id"; it is 'that tv show', and the
    offline assistant takes it as the earlier result's id."""
    latest = Step("t.GET_tv-latest", "GET_tv-latest", "", {})
    credits = Step(
        "t.GET_tv-tv_id-credits", "GET_tv-tv_id-credits", "", {"tv_id": 1399}, {"tv_id": {"step": 0, "path": "id"}}
    )
    meta = {latest.tool_id: {"path": "/tv/latest"}, credits.tool_id: {"path": "/tv/{tv_id}/credits"}}
    for s in SEEDS:
        text = render_example(Task("t", "multi_hop", [latest, credits], s, meta), random.Random(s))
        assert re.search(r"\bfor that tv show, (what are|show me) the credits\b", text), text
        assert "tv id" not in text and "latest's" not in text, text
    schema = {"type": "object", "properties": {"tv_id": {"type": "integer"}}, "required": ["tv_id"]}
    assert fill_arguments("Next, for that tv show, show me the credits.", schema, [{"id": 1399, "name": "x"}]) == {
        "tv_id": 1399
    }


def test_a_value_a_description_quotes_is_a_pair_of_one_mark():
    """TMDB's "watch provider ID's. Combine this filter with `watch_region`" gave the value 's. Combine this filter
    with' (an apostrophe taken for an opening quote)."""
    from toolloom.text.synthesis import described_values

    text = "A comma or pipe separated list of watch provider ID's. Combine this filter with `watch_region`."
    assert not any("Combine" in str(v) for v in described_values(text, {"type": "string"}))
    assert described_values("Sort by 'popularity.desc' or \"vote_average.desc\"", {"type": "string"}) == [
        "popularity.desc",
        "vote_average.desc",
    ]


def test_an_empty_lookup_and_a_tools_own_words_are_said_plainly():
    from toolloom.answers.sentence import sentence

    assert (
        sentence(
            {},
            'Show me the configuration section "notebook".',
            {"section_name": "notebook"},
            "get__api_config_section_name",
        )
        == "The section notebook is empty."
    )
    assert (
        sentence({"text": "Switched to branch 'main'"}, 'Switch to "main".', {}, "git_checkout")
        == "Switched to branch 'main'."
    )
    assert (
        sentence({"text": "On branch main\nnothing to commit\n"}, "What is the status?", {}, "git_status")
        == "Here is the status:\n\n```\nOn branch main\nnothing to commit\n```"
    )  # a block is headed by what the request asked to be shown
    diff = sentence(
        {"text": "diff --git a/x b/x\n+2\n"}, 'Show me the differences between main and "dev".', {}, "git_diff"
    )
    assert diff.startswith('Here are the differences between main and "dev":'), diff
    shown = sentence({"text": "commit 1a2b\nAuthor: A\n"}, "Show me the contents of a commit.", {}, "git_show")
    assert shown.startswith("Here are the contents of the commit:"), shown
    # the tool's hint to the model that calls it ('git_status shows ...') is no part of the person's answer
    staged = "No changes were staged: nothing new to stage. git_status shows what is modified or untracked."
    assert sentence({"text": staged}, 'Stage the file "README.md".', {}, "git_add") == (
        "No changes were staged: nothing new to stage."
    )
    assert (
        sentence({"capital": "Ottawa"}, "What is the capital of CA?", {"country_code": "CA"}, "get_capital")
        == "The capital of Canada is Ottawa."
    )  # a value, not a sentence of the tool's own
    # a heading over nothing says there is nothing; git's lone branch is said, not 'The text is * main.'
    assert (
        sentence(
            {"text": "Staged changes:\n"}, "Show me the changes that are staged for commit.", {}, "git_diff_staged"
        )
        == "There are no staged changes."
    )
    assert (
        sentence({"text": "* main"}, "List the Git branches.", {}, "git_branch")
        == "There is one branch, main, and it is checked out."
    )
    import json

    from toolloom.answers.sentence import answer_from

    call = {
        "id": "a",
        "type": "function",
        "function": {"name": "create_directory", "arguments": json.dumps({"path": "/w/photos"})},
    }
    assert (
        answer_from(
            [
                {"role": "user", "content": 'Create a new directory at "/w/photos".'},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {
                    "role": "tool",
                    "tool_call_id": "a",
                    "content": json.dumps({"text": "Successfully created directory /w/photos"}),
                },
            ]
        )
        == 'I created a new directory at "/w/photos".'
    )  # said once, not again in the tool's words
