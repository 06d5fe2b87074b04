"""The model servers toolloom starts itself (`provider: vllm`, `provider: llamacpp`), one per model."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from .model_spec import ModelSpec
from .llamacpp_server import LlamaCppServer
from .managed_server import ManagedServer
from .vllm_server import VLLMServer

MANAGED: dict[str, type[ManagedServer]] = {"vllm": VLLMServer, "llamacpp": LlamaCppServer}  # provider -> its server


def server_key(spec: ModelSpec) -> str:
    """What makes two roles share one server: provider, model and serve options."""
    return json.dumps([spec.provider, spec.model, MANAGED[spec.provider].options_of(spec).model_dump()], sort_keys=True)


class ServerPool:
    """One server per (model, serve options): two roles naming the same model share it."""

    def __init__(self, log_dir: Path):
        self.log_dir = Path(log_dir)
        self.servers: dict[str, ManagedServer] = {}
        self._lock = threading.Lock()

    def server_for(self, spec: ModelSpec) -> ManagedServer:
        key = server_key(spec)
        with self._lock:
            if key not in self.servers:
                server = MANAGED[spec.provider](spec, self.log_dir)
                server.start()
                self.servers[key] = server
            return self.servers[key]

    def close(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
