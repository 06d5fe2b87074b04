"""vLLM's tool-call parser for a model family (`vllm serve --tool-call-parser NAME`).

Matched on the model name, most specific pattern first; a family not listed needs the parser named
in the pipeline YAML (`vllm.tool_call_parser`).
"""

from __future__ import annotations

FAMILIES = (
    ("qwen3-coder", "qwen3_coder"),
    ("qwen", "hermes"),
    ("qwq", "hermes"),
    ("hermes", "hermes"),
    ("llama-4", "llama4_pythonic"),
    ("llama4", "llama4_pythonic"),
    ("llama-3", "llama3_json"),
    ("llama3", "llama3_json"),
    ("mistral", "mistral"),
    ("mixtral", "mistral"),
    ("ministral", "mistral"),
    ("granite", "granite"),
    ("internlm", "internlm"),
    ("xlam", "xlam"),
    ("deepseek-v3", "deepseek_v3"),
    ("deepseek-r1", "deepseek_v3"),
    ("phi-4-mini", "phi4_mini_json"),
    ("gpt-oss", "openai"),
    ("kimi-k2", "kimi_k2"),
    ("glm-4.5", "glm45"),
    ("glm-4.6", "glm45"),
    ("jamba", "jamba"),
)


def tool_parser_for(model: str) -> str:
    name = model.rstrip("/").rsplit("/", 1)[-1].lower()
    for pattern, parser in FAMILIES:
        if pattern in name:
            return parser
    families = ", ".join(sorted({p for p, _ in FAMILIES}))
    raise ValueError(
        f"no tool-call parser known for model {model!r} (families: {families}); "
        f"set vllm.tool_call_parser (one of vLLM's --tool-call-parser names)"
    )
