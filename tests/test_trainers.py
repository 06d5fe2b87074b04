"""The exports as TRL trains on them, on the CPU: a tiny randomly initialised Qwen2 model built from a config and a
byte-level BPE tokenizer trained here on the export's own text (nothing downloaded), with Qwen2.5's own chat
template. SFTTrainer takes the default config as it is (tools and arguments as objects), DPOTrainer the preference
config, GRPOTrainer the environment's tasks with its rewards (toolloom.rl.grpo); their losses are finite."""

import copy
import json
import math

import pytest

from .conftest import CASES

pytest.importorskip(
    "trl", reason="TRL and the CPU build of torch are not installed (the README's test command installs them)"
)

from types import SimpleNamespace  # noqa: E402

from datasets import load_dataset  # noqa: E402
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM  # noqa: E402
from trl import DPOConfig, DPOTrainer, GRPOConfig, GRPOTrainer, SFTConfig, SFTTrainer  # noqa: E402

from toolloom.llm.fake_server import FakeServer, Faults  # noqa: E402
from toolloom.rl.grpo import EndpointTurns, EnvRollouts, environment_reward, prompt_dataset  # noqa: E402
from toolloom.rl.load import load_environment  # noqa: E402
from toolloom.spec import load_pipeline  # noqa: E402

from .conftest import PROJECT  # noqa: E402


@pytest.fixture(scope="module")
def tiny(demo_export):
    folder, _ = demo_export
    rows = load_dataset(folder, split="train")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        (json.dumps([r["messages"], r["tools"]]) for r in rows),
        trainers.BpeTrainer(
            vocab_size=600,
            special_tokens=["<|im_start|>", "<|im_end|>", "<|endoftext|>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=(CASES / "chat_templates" / "qwen2.5.jinja").read_text(),
    )
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=4096,
    )
    return folder, rows, tokenizer, Qwen2ForCausalLM(config)


def _losses(trainer) -> list[float]:
    trainer.train()
    return [log["loss"] for log in trainer.state.log_history if "loss" in log]


def test_the_chat_template_takes_default_rows_as_they_are(tiny):
    _, rows, tokenizer, _ = tiny
    row = next(r for r in rows if any(m["tool_calls"] for m in r["messages"]))
    text = tokenizer.apply_chat_template(row["messages"], tools=row["tools"], tokenize=False)
    call = next(c for m in row["messages"] for c in m["tool_calls"] or [])["function"]
    assert json.dumps({"name": call["name"], "arguments": call["arguments"]}, ensure_ascii=False) in text
    assert '"arguments": "' not in text and json.dumps(row["tools"][0], ensure_ascii=False) in text


def test_sft_trainer_runs_on_the_default_config(tiny, tmp_path):
    _, rows, tokenizer, model = tiny
    args = SFTConfig(
        output_dir=str(tmp_path),
        max_steps=3,
        per_device_train_batch_size=2,
        logging_steps=1,
        report_to=[],
        max_length=2048,
        use_cpu=True,
        save_strategy="no",
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        processing_class=tokenizer,
        train_dataset=rows.select(range(8)).select_columns(["messages", "tools"]),
    )
    losses = _losses(trainer)
    assert len(losses) == 3 and all(math.isfinite(x) and x > 0 for x in losses)


def test_dpo_trainer_runs_on_the_preference_config(tiny, tmp_path):
    folder, _, tokenizer, model = tiny
    pairs = load_dataset(folder, "preference", split="train")
    assert pairs.num_rows >= 4
    args = DPOConfig(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=2,
        logging_steps=1,
        report_to=[],
        max_length=2048,
        use_cpu=True,
        save_strategy="no",
    )
    trainer = DPOTrainer(
        model=model,
        ref_model=copy.deepcopy(model),
        args=args,
        processing_class=tokenizer,
        train_dataset=pairs.select(range(4)).select_columns(["prompt", "chosen", "rejected", "tools"]),
    )
    losses = _losses(trainer)
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)


@pytest.fixture(scope="module")
def demo_env(demo_run):
    loaded = load_environment(load_pipeline(PROJECT / "pipelines" / "demo.yaml"), PROJECT, demo_run.home, split="all")
    yield loaded.env
    loaded.close()


def _grpo_args(tmp_path, **kw) -> GRPOConfig:
    return GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_generations=4,
        logging_steps=1,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        beta=0.0,
        **kw,
    )


def test_rollouts_carry_the_whole_episode_with_the_environments_tokens_masked(tiny, demo_env):
    """Played with the fake endpoint as the policy, each episode's tokens are the chat template's rendering of the
    conversation the environment holds, tool results masked out; the reference-like policy earns the reward."""
    _, _, tokenizer, _ = tiny
    prompts = prompt_dataset(demo_env).select(range(6))["prompt"]
    with FakeServer() as server:
        rollouts = EnvRollouts(demo_env, tokenizer, EndpointTurns(tokenizer, server.base_url, "fake"))
        out = rollouts(prompts, SimpleNamespace(max_completion_length=4096))
    assert len(out["completion_ids"]) == len(out["env_mask"]) == len(out["env_reward"]) == 6
    assert sum(r == 1.0 for r in out["env_reward"]) >= 4, out["env_reason"]
    called = [i for i, mask in enumerate(out["env_mask"]) if 0 in mask]
    assert called, "no episode called a tool"
    for i in called:
        ids, mask = out["completion_ids"][i], out["env_mask"][i]
        environment_text = tokenizer.decode([t for t, m in zip(ids, mask) if m == 0])
        assert "<tool_response>" in environment_text and "<tool_call>" not in environment_text
        text = tokenizer.decode(out["prompt_ids"][i] + ids)
        assert text.count("<|im_start|>assistant") >= 2 and text.endswith("<|im_end|>")


def test_grpo_trainer_runs_with_the_environments_rewards(tiny, demo_env, tmp_path, monkeypatch):
    """GRPO steps with an endpoint as the policy whose calls are sometimes wrong: the environment's rewards vary
    within a group, so the advantages are not all zero, and the loss is finite."""
    monkeypatch.setenv("TRL_EXPERIMENTAL_SILENCE", "1")
    _, _, tokenizer, model = tiny
    tokenizer = copy.deepcopy(tokenizer)
    tokenizer.padding_side = "left"
    with FakeServer(faults=Faults(rate=0.5, kinds=("wrong_types", "unknown_tool"), seed=3)) as server:
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=environment_reward,
            processing_class=tokenizer,
            args=_grpo_args(tmp_path, max_steps=3, max_completion_length=2048),
            train_dataset=prompt_dataset(demo_env).select(range(6)),
            rollout_func=EnvRollouts(demo_env, tokenizer, EndpointTurns(tokenizer, server.base_url, "fake")),
        )
        trainer.train()
    logs = [log for log in trainer.state.log_history if "loss" in log]
    assert len(logs) == 3 and all(math.isfinite(log["loss"]) for log in logs)
    assert any(log["reward_std"] > 0 for log in logs), logs
    assert all(0.0 <= log["rewards/environment_reward/mean"] <= 1.0 for log in logs)


def test_grpo_trainer_rolls_out_with_its_own_model(tiny, demo_env, tmp_path, monkeypatch):
    """The on-policy route: the trainer's own model writes every turn (TRL's generation); each episode ends,
    by an answer or by the token budget, with a reward in range, and the loss is finite."""
    monkeypatch.setenv("TRL_EXPERIMENTAL_SILENCE", "1")
    _, _, tokenizer, model = tiny
    tokenizer = copy.deepcopy(tokenizer)
    tokenizer.padding_side = "left"
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=environment_reward,
        processing_class=tokenizer,
        args=_grpo_args(tmp_path, max_steps=1, max_completion_length=32),
        train_dataset=prompt_dataset(demo_env).select(range(2)),
        rollout_func=EnvRollouts(demo_env, tokenizer),
    )
    trainer.train()
    logs = [log for log in trainer.state.log_history if "loss" in log]
    assert len(logs) == 1 and math.isfinite(logs[0]["loss"])
    assert 0.0 <= logs[0]["rewards/environment_reward/mean"] <= 1.0
