"""MCP servers' summaries (git, memory, filesystem) worded as requests: the imperative of their first sentence, each
value on the noun it names, and read back by the offline assistant."""

from toolloom.agents.offline import fill_arguments

from .test_summary_requests import PATH, requests


def test_an_mcp_tools_first_sentence_words_its_request_in_the_imperative():
    """MCP servers describe a tool as 'Shows the working tree status'; an argument-less tool whose name says what it
    shows is asked by its name ('Show me the git status.': a blind read called the summary copied documentation)."""
    from toolloom.text.purposes import first_sentence

    assert first_sentence("Shows the commit logs. More text\nhere") == "Shows the commit logs"
    assert requests("git_status", "Shows the working tree status", {}) <= {
        "Show me the git status.",
        "What is the git status?",
    }
    assert requests("git_reset", "Unstages all staged changes", {}) == {"Unstage all staged changes."}
    assert requests(
        "create_directory", "Create a new directory or ensure a directory exists", {"path": "/w/photos"}
    ) == {'Create a new directory at "/w/photos".'}


def test_mcp_git_summaries_read_as_requests_with_their_values_on_the_nouns():
    """Read offline from mcp-server-git: 'Show me the git diff unstaged.' and 'Show me the contents of a commit with
    revision "HEAD"'; then 'Show me the changes in the working directory that are not yet staged.', the summary
    recited (a blind read): the name says it, its participle first."""
    import random

    from toolloom.domain import Step, Task
    from toolloom.text.wording import render_example

    def said(name, summary, args):
        task = Task(
            "t", "single", [Step("repo." + name, name, summary, args)], 0, {"repo." + name: {"summary": summary}}
        )
        return render_example(task, random.Random(0))

    unstaged = said("git_diff_unstaged", "Shows changes in the working directory that are not yet staged", {})
    assert unstaged == "Show me the unstaged git diff."
    show = said(
        "git_show",
        "Shows the contents of a commit, or of a file or directory given as <revision>:<path>",
        {"revision": "HEAD"},
    )
    assert show.endswith('the commit "HEAD".')


def test_a_summary_that_names_a_format_or_a_lookup_key_leaves_them_to_the_value():
    from toolloom.text.summary_requests import summary_words

    words = summary_words("List the JSON data for all kernels that are currently running")  # Jupyter Server
    assert " ".join(words) == "list all kernels that are currently running"
    assert " ".join(summary_words("Search for nodes in the knowledge graph based on a query")) == (
        "search for nodes in the knowledge graph"
    )
    assert "names" not in summary_words("Open specific nodes in the knowledge graph by their names")


def test_mcp_memory_and_git_summaries_name_what_the_values_name():
    """'Open specific nodes in the knowledge graph with names "Lea Favre"' and 'Add file contents to the staging
    area with files "README.md"' were the blind reader's stiff requests: names name the object, a quantifier gives
    way to the value, git's staging idiom is 'stage', one given side of a comparison is set against the current
    one; the offline assistant reads every value back."""
    names = {"type": "array", "items": {"type": "string"}}
    cases = [
        (
            "open_nodes",
            "Open specific nodes in the knowledge graph by their names",
            {"names": ["Trient hut", "Mont Fort hut"]},
            'the nodes named "Trient hut" and "Mont Fort hut" in the knowledge graph',
        ),
        (
            "delete_entities",
            "Delete multiple entities and their associated relations from the knowledge graph",
            {"entityNames": ["Champex"]},
            'Delete the entity "Champex".',
        ),
        ("git_add", "Adds file contents to the staging area", {"files": ["README.md"]}, 'Stage the file "README.md".'),
        (
            "read_multiple_files",
            "Read the contents of multiple files simultaneously. This is more efficient",
            {"paths": ["/ws/a.txt", "/ws/b.md"]},
            'the contents of the files "/ws/a.txt" and "/ws/b.md"',
        ),
        (
            "git_diff",
            "Shows differences between branches or commits",
            {"target": "origin/feature/weather"},
            'the differences between the current branch and "origin/feature/weather"',
        ),
    ]
    for name, summary, arguments, said in cases:
        got = requests(name, summary, arguments)
        assert got and all(said in t for t in got), (name, got)
        key = next(iter(arguments))
        kind = names if isinstance(arguments[key], list) else {"type": "string"}
        schema = {"type": "object", "properties": {key: kind}, "required": [key]}
        assert all(fill_arguments(t, schema) == arguments for t in got), (name, got)
    assert "What are the differences" in " ".join(requests(*cases[-1][:3]))  # counted by 'differences'


def test_a_few_small_records_are_said_by_their_fields_and_read_back():
    """The memory server's add_observations takes [{"entityName": ..., "contents": [...]}]: said as a sentence, not
    pasted as JSON (test_record_requests.py); records of no shape a sentence says are said by their fields, and the
    offline assistant reads both back; what would not read back stays JSON."""
    from toolloom.text import records

    contents = {"type": "array", "items": {"type": "string"}}
    item = {"type": "object", "properties": {"entityName": {"type": "string"}, "contents": contents}}
    schema = {"type": "object", "properties": {"observations": {"type": "array", "items": item}}}
    two = [
        {"entityName": "Lea Favre", "contents": ["Speaks French", "Has a van"]},
        {"entityName": "Trient hut", "contents": ["Closed on Mondays"]},
    ]
    got = requests(
        "add_observations", "Add new observations to existing entities in the knowledge graph", {"observations": two}
    )
    assert got == {
        'Add the observations "Speaks French" and "Has a van" to "Lea Favre", and the observation "Closed on Mondays" '
        'to "Trient hut".'
    }
    assert all(fill_arguments(t, schema) == {"observations": two} for t in got)
    # records no sentence says: by their fields, on the noun the summary names
    tickets = [{"title": "Broken lamp", "owner": "Ana"}]
    fields = {"title": {"type": "string"}, "owner": {"type": "string"}}
    ticket_schema = {"type": "object", "properties": {"tickets": {"type": "array", "items": {"properties": fields}}}}
    ticket_schema["properties"]["tickets"]["items"]["type"] = "object"
    got = requests("create_tickets", "Create new tickets in the tracker", {"tickets": tickets})
    assert got and all('(title "Broken lamp", owner "Ana")' in t for t in got), got
    assert all(fill_arguments(t, ticket_schema) == {"tickets": tickets} for t in got)
    assert records.said([{"entityName": 'say "hi"'}]) is None  # a quote inside would not read back
    assert records.said([{"a": {"nested": 1}}]) is None and records.said([]) is None


def test_an_edit_is_asked_as_an_edit_and_its_diff_shown_as_the_change():
    """'Make line-based edits to a text file' was worded 'Edit the file with path "..." and edits [...]', and its diff
    answered 'Here it is:'."""
    from toolloom.answers.sentence import sentence

    edits = [{"oldText": "three weeks", "newText": "four weeks"}]
    item = {"type": "object", "properties": {"oldText": {"type": "string"}, "newText": {"type": "string"}}}
    schema = {"type": "object", "properties": {"path": PATH, "edits": {"type": "array", "items": item}}}
    arguments = {"path": "/ws/notes/contacts.txt", "edits": edits}
    got = requests("edit_file", "Make line-based edits to a text file. Each edit replaces exact lines", arguments)
    assert got == {'Change "three weeks" to "four weeks" in the file "/ws/notes/contacts.txt".'}
    assert fill_arguments(got.pop(), schema) == arguments
    diff = "```diff\n--- a\n+++ a\n@@ -1,2 +1,2 @@\n-three weeks\n+four weeks\n```"
    assert sentence({"text": diff}, 'Edit the file "/ws/a.txt".', arguments, "edit_file").startswith(
        "Here is the change:\n"
    )


def test_a_diff_is_answered_with_what_it_changes_and_without_the_servers_heading():
    """The git server's 'Unstaged changes:' pasted under 'Here are the unstaged changes:' (an MCP read: raw output
    without a summary): the answer says which files changed and by how many lines, then the diff."""
    import json

    from toolloom.answers.sentence import answer_from

    diff = (
        "Unstaged changes:\ndiff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1,3 +1,4 @@\n"
        " # trailmap\n+The 2026 season: huts open in mid-June.\n"
        "--- a/huts.py\n+++ b/huts.py\n@@ -1 +1 @@\n-a = 1\n+a = 2"
    )
    call = {"id": "a", "type": "function", "function": {"name": "git_diff_unstaged", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "Show me the changes in the working directory that are not yet staged."},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "a", "content": json.dumps({"text": diff})},
    ]
    answer = answer_from(messages)
    assert answer.startswith("2 files changed: README.md (1 line added) and huts.py (1 line added, 1 line removed)")
    assert "Unstaged changes:" not in answer and "```\ndiff --git a/README.md" in answer, answer


def test_a_deleted_file_is_said_by_its_name_and_a_verb_name_is_no_thing_to_show():
    """A blind read: 'One file changed, /dev/null: 2 lines removed.' for a deleted file (the diff's new side), and
    'Show me the git show.' for git_show asked without its revision."""
    import random

    from toolloom.answers.phrases import diff_summary
    from toolloom.domain import Step, Task
    from toolloom.text.wording import render_example

    deleted = "--- a/trailmap/weather.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b"
    assert diff_summary(deleted) == "One file changed, trailmap/weather.py: 2 lines removed."
    step = Step("repo.git_show", "git_show", "", {})
    task = Task("t", "single", [step], 0, {step.tool_id: {"summary": "Shows the contents of a commit"}})
    assert render_example(task, random.Random(0)) == "Show me the contents of a commit."
