"""`vllm serve` as a managed server (managed_server.py has the lifecycle): the command line and the
key's variable. Nothing here imports vllm: it is an executable to start."""

from __future__ import annotations

import os

from .model_spec import ModelSpec
from .managed_server import ManagedServer


class VLLMServer(ManagedServer):
    kind = "vllm"

    @staticmethod
    def options_of(spec: ModelSpec):
        return spec.vllm

    def command(self) -> list[str]:
        o = self.options
        cmd = [
            *o.command,
            "serve",
            self.spec.model,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--tensor-parallel-size",
            str(o.tensor_parallel_size),
            "--gpu-memory-utilization",
            str(o.gpu_memory_utilization),
            "--enable-auto-tool-choice",
            "--tool-call-parser",
            o.parser_for(self.spec.model),
            # one episode's requests share their prefix (system prompt, tools): reused, and reported in
            # usage.prompt_tokens_details.cached_tokens for the ledger (checked on real vLLM, benchmarks/vllm_cpu.py)
            "--enable-prefix-caching",
            "--enable-prompt-tokens-details",
        ]
        if o.max_model_len:
            cmd += ["--max-model-len", str(o.max_model_len)]
        if o.chat_template:
            cmd += ["--chat-template", o.chat_template]
        if o.load_format:
            cmd += ["--load-format", o.load_format]
        return cmd + list(o.extra_args)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        key = os.environ.get(self.spec.api_key_env)
        if key:  # vLLM reads its key from VLLM_API_KEY
            env["VLLM_API_KEY"] = key
        return env
