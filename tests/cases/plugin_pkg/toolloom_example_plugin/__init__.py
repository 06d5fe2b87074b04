"""A worked toolloom plug-in: an ingest format, an executor, a filter check, an export format, a
model provider and a stage, registered through the `toolloom.plugins` entry point (see docs/plugins.md)."""

import pyarrow as pa

from toolloom.executors import ExecutorConfig, ExecutorPlugin
from toolloom.ingest import Rejection, ToolSpec
from toolloom.ingest.records import content_hash
from toolloom.sandbox import Observation
from toolloom.stages import StageResult
from toolloom.stages.asset import StageAsset, configured


class ToolCards:
    """Ingest format `toolcards`: {"toolcards": [{"name", "summary", "inputs": {name: type}, "required": [...]}]}."""

    FORMAT = "toolcards"

    @staticmethod
    def looks_like(doc) -> bool:
        return isinstance(doc, dict) and isinstance(doc.get("toolcards"), list)

    @staticmethod
    def parse(doc, source: str, stage: str = "ingest"):
        for i, card in enumerate(doc["toolcards"]):
            if not card.get("name"):
                yield Rejection(stage, f"{source}#{i}", "spec", "missing_name", f"{source}: card {i} has no name")
                continue
            props = {k: {"type": t} for k, t in (card.get("inputs") or {}).items()}
            yield ToolSpec(
                name=card["name"],
                description=card.get("summary", ""),
                parameters={"type": "object", "properties": props, "required": card.get("required", list(props))},
                returns=None,
                source_format="toolcards",
                source_file=source,
                spec_hash=content_hash(card),
            )


class LookupConfig(ExecutorConfig):
    kind: str = "lookup"
    table: dict[str, dict] = {}


class LookupExecutor:
    """Executor `lookup`: answers every call from a table in the pipeline YAML (tool -> answer)."""

    kind = "lookup"

    def __init__(self, config: LookupConfig):
        self.config = config

    def runs(self, tool_name: str) -> bool:
        return tool_name in self.config.table

    async def call(self, tool, arguments, episode) -> Observation:
        return Observation(True, {**self.config.table[tool["name"]], "asked": arguments})

    def close(self) -> None:
        pass


def no_shouting(traj: dict):
    """Filter check `no_shouting`: a request written in capitals is not an example to learn from."""
    request = next((m["content"] for m in traj["messages"] if m["role"] == "user"), "") or ""
    letters = [c for c in request if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        return "shouting", "the request is all capitals"
    return None


ALPACA = pa.schema([("instruction", pa.string()), ("output", pa.string())])


def to_alpaca(row: dict):
    """Export format `alpaca`: the request and the final answer."""
    users = [m for m in row["messages"] if m["role"] == "user"]
    return {"instruction": users[0]["content"], "output": row["final_answer"] or ""} if users else None


ANSWER_LENGTHS = pa.schema([("sample_id", pa.string()), ("answer_words", pa.int64())])


def answer_lengths(rt, version: str, log) -> StageResult:
    """Words in each sample's final answer; answers shorter than `min_words` rejected."""
    settings = rt.pipeline.stages.plugins["answer_lengths"]
    read = lambda table: rt.store.read(rt.pipeline.name, table, version).to_pylist()  # noqa: E731
    answers = {t["traj_id"]: t["final_answer"] or "" for t in read("trajectories")}
    rows, rejections, ids = [], [], []
    for s in read("samples"):
        ids.append(s["sample_id"])
        words = len(answers[s["traj_id"]].split())
        if words < settings.get("min_words", 1):
            rejections.append(Rejection("lengths", s["sample_id"], "lengths", "short_answer", f"{words} words"))
        else:
            rows.append({"sample_id": s["sample_id"], "answer_words": words})
    log(f"answer_lengths: {len(rows)} of {len(ids)} long enough")
    return StageResult(pa.Table.from_pylist(rows, schema=ANSWER_LENGTHS), rejections, ids, key="sample_id")


def plugin(registries) -> None:
    from toolloom.agents.offline import RetrievalAssistant, TemplateUser
    from toolloom.agents.realisers import PhraseRealiser

    registries["ingest format"].register("toolcards", ToolCards)
    registries["executor"].register(
        "lookup", ExecutorPlugin(LookupConfig, lambda config, collection, ctx: LookupExecutor(config))
    )
    registries["filter check"].register("no_shouting", no_shouting)
    registries["export format"].register("alpaca", (to_alpaca, ALPACA))
    roles = registries["model provider"].setdefault("scripted", {})
    roles["user"] = lambda ctx: TemplateUser()
    roles["assistant"] = lambda ctx: RetrievalAssistant()
    roles["realiser.user"] = roles["realiser.assistant"] = lambda ctx: PhraseRealiser()  # multi-turn dialogue phrasing
    registries["stage"].register(
        "answer_lengths",
        StageAsset(
            "answer_lengths",
            "lengths",
            ("samples",),
            answer_lengths,
            preview=("sample_id", "answer_words"),
            reads=("samples", "trajectories"),
            enabled=configured("answer_lengths"),
        ),
    )
