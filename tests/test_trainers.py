"""The exports as TRL trains on them, on the CPU: a tiny randomly initialised Qwen2 model built from a config and a
byte-level BPE tokenizer trained here on the export's own text (nothing downloaded), with Qwen2.5's own chat
template. SFTTrainer takes the default config as it is (tools and arguments as objects), DPOTrainer the preference
config; their losses are finite."""
import copy
import json
import math

import pytest

from .conftest import CASES

pytest.importorskip("trl", reason="TRL and the CPU build of torch are not installed (the README's test command "
                                  "installs them)")

from datasets import load_dataset  # noqa: E402
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM  # noqa: E402
from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer  # noqa: E402


@pytest.fixture(scope="module")
def tiny(demo_export):
    folder, _ = demo_export
    rows = load_dataset(folder, split="train")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator((json.dumps([r["messages"], r["tools"]]) for r in rows), trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<|im_start|>", "<|im_end|>", "<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        chat_template=(CASES / "chat_templates" / "qwen2.5.jinja").read_text())
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096)
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
    args = SFTConfig(output_dir=str(tmp_path), max_steps=3, per_device_train_batch_size=2, logging_steps=1,
                     report_to=[], max_length=2048, use_cpu=True, save_strategy="no")
    trainer = SFTTrainer(model=model, args=args, processing_class=tokenizer,
                         train_dataset=rows.select(range(8)).select_columns(["messages", "tools"]))
    losses = _losses(trainer)
    assert len(losses) == 3 and all(math.isfinite(x) and x > 0 for x in losses)


def test_dpo_trainer_runs_on_the_preference_config(tiny, tmp_path):
    folder, _, tokenizer, model = tiny
    pairs = load_dataset(folder, "preference", split="train")
    assert pairs.num_rows >= 4
    args = DPOConfig(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=2, logging_steps=1,
                     report_to=[], max_length=2048, use_cpu=True, save_strategy="no")
    trainer = DPOTrainer(model=model, ref_model=copy.deepcopy(model), args=args, processing_class=tokenizer,
                         train_dataset=pairs.select(range(4)).select_columns(["prompt", "chosen", "rejected", "tools"]))
    losses = _losses(trainer)
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)
