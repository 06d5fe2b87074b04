import pytest

from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger, run_async
from toolloom.llm.fake_server import FakeModel, FakeServer
from toolloom.spec import ModelSpec


def _client(server, tmp_path, **spec):
    spec = ModelSpec(provider="openai", model="fake", base_url=server.base_url, timeout_s=5.0, **spec)
    return ModelClient(
        spec,
        cache=RequestCache(tmp_path / "cache.sqlite"),
        ledger=UsageLedger(),
        budget=RunBudget(None),
        backoff_s=0.01,
    )


SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string", "minLength": 1}},
    "required": ["question"],
    "additionalProperties": False,
}


@pytest.mark.parametrize("mode, sent", [("json_schema", "json_schema"), ("json_object", "json_object"), ("none", None)])
def test_structured_output_asks_the_endpoint_and_validates_in_every_mode(tmp_path, mode, sent):
    from toolloom.llm.structured import chat_json
    from toolloom.prompts import DEFAULT_ROOT

    model = FakeModel()
    model.enqueue({"content": '```json\n{"question": "Where?"}\n```'})
    with FakeServer(model) as server:
        c = _client(server, tmp_path, structured_output=mode)
        answer = run_async(
            chat_json(
                c,
                [{"role": "user", "content": "q"}],
                SCHEMA,
                name="question",
                stage="s",
                role="r",
                prompts_root=DEFAULT_ROOT,
            )
        )
    assert answer == {"question": "Where?"}
    fmt = model.history[0].get("response_format")
    assert (fmt or {}).get("type") == sent
    if sent == "json_schema":
        assert fmt["json_schema"] == {"name": "question", "schema": SCHEMA, "strict": True}
        from toolloom.llm.structured import response_format

        open_object = {
            "type": "object",
            "properties": {"arguments": {"type": "object"}},
            "required": ["arguments"],
            "additionalProperties": False,
        }
        assert (
            response_format("json_schema", "x", open_object)["json_schema"]["strict"] is False
        )  # OpenAI strict would refuse it


def test_structured_output_repairs_once_then_rejects_with_the_reason(tmp_path):
    from toolloom.llm.structured import UnusableAnswer, chat_json
    from toolloom.prompts import DEFAULT_ROOT

    model = FakeModel()
    model.enqueue(
        {"content": "not json"},
        {"content": '{"question": "Fixed?"}'},
        {"content": '{"question": ""}'},
        {"content": '{"question": 3}'},
    )
    with FakeServer(model) as server:
        c = _client(server, tmp_path, structured_output="none")

        def ask(text):
            return run_async(
                chat_json(
                    c,
                    [{"role": "user", "content": text}],
                    SCHEMA,
                    name="q",
                    stage="s",
                    role="escalator",
                    prompts_root=DEFAULT_ROOT,
                )
            )

        assert ask("first") == {"question": "Fixed?"}
        repair = model.history[1]["messages"]
        assert repair[1] == {"role": "assistant", "content": "not json"} and "not valid JSON" in repair[2]["content"]
        with pytest.raises(
            UnusableAnswer, match=r"escalator answer unusable after one repair: .*question: 3 is not of type 'string'"
        ):
            ask("second")
    assert len(model.history) == 4
