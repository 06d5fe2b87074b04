"""The `models:` section of a pipeline: one ModelSpec per role, and how toolloom serves the models
it starts itself (`vllm` on a GPU machine, `llamacpp` on a CPU)."""

from __future__ import annotations

import os
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..registry import PROVIDERS
from .tool_parsers import tool_parser_for

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VLLMServe(Strict):
    """How toolloom starts `vllm serve MODEL` for a `vllm` provider (GPU machines)."""

    command: list[str] = Field(
        ["vllm"], min_length=1, description="the executable (and leading arguments) that is `vllm`"
    )
    tensor_parallel_size: int = Field(1, ge=1)
    max_model_len: int | None = Field(None, ge=256)
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    tool_call_parser: str = Field("auto", description="auto: chosen from the model family (llm/tool_parsers.py)")
    chat_template: str | None = None
    load_format: str | None = Field(None, description="e.g. dummy: random weights, for lifecycle and throughput checks")
    port: int | None = Field(None, ge=1, le=65535, description="default: a free port")
    startup_timeout_s: float = Field(1200.0, gt=0, description="loading weights and compiling can take minutes")
    extra_args: list[str] = []

    def parser_for(self, model: str) -> str:
        return tool_parser_for(model) if self.tool_call_parser == "auto" else self.tool_call_parser


class LlamaCppServe(Strict):
    """How toolloom starts llama.cpp's server for a `llamacpp` provider (a GGUF file, CPU defaults)."""

    command: list[str] | None = Field(
        None,
        description="the server executable (and leading arguments); default: "
        "`llama-server` on PATH, else the xllamacpp package (pip install 'toolloom[llamacpp]')",
    )
    threads: int | None = Field(None, ge=1, description="CPU threads the slots share; default: every core")
    slots: int | None = Field(
        None, ge=1, description="requests decoded together (-np); default: the model's max_concurrency"
    )
    ctx_per_slot: int = Field(4096, ge=256, description="context tokens each slot holds (-c is this times slots)")
    request_timeout_s: float = Field(1800.0, gt=0, description="the server's read/write timeout: CPU answers are slow")
    port: int | None = Field(None, ge=1, le=65535, description="default: a free port")
    startup_timeout_s: float = Field(600.0, gt=0, description="mapping the GGUF file and warming up")
    extra_args: list[str] = []


class ModelSpec(Strict):
    """One model endpoint for an agent role. `offline` needs no server (DESIGN section 7); `vllm`
    is served by toolloom itself (`vllm serve`, started and stopped with the run)."""

    provider: str = Field(
        "offline", description="offline, openai (any OpenAI-compatible endpoint), vllm, or a plug-in's"
    )
    model: str = "offline"
    base_url: str | None = None  # may hold ${VAR} or ${VAR:-default}
    base_urls: list[str] = Field(
        [],
        description="several endpoints serving the same model (vLLM replicas): each "
        "request goes to the least busy one that is up (instead of base_url)",
    )
    api_key_env: str = "OPENAI_API_KEY"  # the key itself never enters a spec
    temperature: float = 0.0
    max_tokens: int = 1024
    seed: int | None = 0
    max_concurrency: int = Field(16, ge=1)
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(6, ge=0)
    structured_output: Literal["json_schema", "json_object", "none"] = Field(
        "json_schema", description="how the endpoint is asked for JSON answers (judge, verifier, escalator)"
    )

    vllm: VLLMServe | None = Field(None, description="provider vllm: how to serve the model")
    llamacpp: LlamaCppServe | None = Field(None, description="provider llamacpp: how to serve the GGUF file")

    @field_validator("provider")
    @classmethod
    def _registered_provider(cls, v: str) -> str:
        return PROVIDERS.check(v)

    @model_validator(mode="after")
    def _endpoint_needed(self):
        if self.base_url and self.base_urls:
            raise ValueError("give base_url (one endpoint) or base_urls (several), not both")
        if self.provider == "openai" and not self.endpoints:
            raise ValueError("provider 'openai' needs base_url (an OpenAI-compatible endpoint) or base_urls")
        if self.base_urls and self.provider != "openai":
            raise ValueError(f"base_urls needs provider 'openai' (provider is {self.provider!r})")
        self._check_vllm()
        self._check_llamacpp()
        return self

    def _check_vllm(self) -> None:
        """A `vllm` provider starts its own server (its block filled in); a vllm: block needs that provider."""
        if self.provider == "vllm":
            if self.base_url:
                raise ValueError(
                    "provider 'vllm' starts its own server; for a running vLLM endpoint use provider 'openai' with "
                    "base_url"
                )
            if self.model == "offline":
                raise ValueError("provider 'vllm' needs model (a Hugging Face id or a local path)")
            if self.vllm is None:
                self.vllm = VLLMServe()
            if "${" not in self.model:
                self.vllm.parser_for(self.model)  # an unknown family is an error now, not when the GPU is up
        elif self.vllm is not None:
            raise ValueError(f"a vllm: block needs provider 'vllm' (provider is {self.provider!r})")

    def _check_llamacpp(self) -> None:
        """A `llamacpp` provider starts its own server with CPU defaults; a llamacpp: block needs that provider."""
        if self.provider == "llamacpp":
            if self.base_url:
                raise ValueError(
                    "provider 'llamacpp' starts its own server; for a running llama-server use provider 'openai' "
                    "with base_url"
                )
            if self.model == "offline":
                raise ValueError("provider 'llamacpp' needs model: the path of a GGUF file")
            self.llamacpp = self.llamacpp or LlamaCppServe()
            if "timeout_s" not in self.model_fields_set:  # a CPU answer of 1,000 tokens takes minutes
                self.timeout_s = self.llamacpp.request_timeout_s
            if "max_concurrency" not in self.model_fields_set:
                self.max_concurrency = self.llamacpp.slots or 4
        elif self.llamacpp is not None:
            raise ValueError(f"a llamacpp: block needs provider 'llamacpp' (provider is {self.provider!r})")

    @property
    def endpoints(self) -> list[str]:
        """The endpoint URLs requests go to: base_urls, or base_url alone."""
        return list(self.base_urls) or ([self.base_url] if self.base_url else [])

    def resolved(self) -> "ModelSpec":
        """Substitute ${VAR} references from the environment (done late, so a file validates anywhere);
        a llamacpp model path may start with ~ (the user's home)."""
        model = expand_env(self.model)
        if self.provider == "llamacpp":
            model = os.path.expanduser(model)
        return self.model_copy(
            update={
                "base_url": expand_env(self.base_url),
                "model": model,
                "base_urls": [expand_env(u) for u in self.base_urls],
            }
        )


def expand_env(value: str | None) -> str | None:
    if value is None:
        return None

    def sub(m: re.Match) -> str:
        name, default = m.group(1), m.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise KeyError(f"environment variable {name} is not set (referenced as ${{{name}}})")

    return _ENV_REF.sub(sub, value)
