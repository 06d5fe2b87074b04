"""llama.cpp's server as a managed server (managed_server.py has the lifecycle), for generating on a
CPU: a GGUF file, every core, one slot per request in flight, long timeouts.

The executable is `llamacpp.command` when given, else `llama-server` on PATH, else the xllamacpp
package's embedded server (prebuilt CPU wheels; `pip install 'toolloom[llamacpp]'`) run by
`python -m toolloom.llm.llamacpp_host`, which takes the same flags. The key, when the role names
one, is handed over as LLAMA_API_KEY in the environment, never on the command line.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from .model_spec import ModelSpec
from .managed_server import ManagedServer, ServerStartError


def llamacpp_executable(command: list[str] | None) -> list[str]:
    if command:
        return list(command)
    if shutil.which("llama-server"):
        return ["llama-server"]
    if importlib.util.find_spec("xllamacpp") is not None:
        return [sys.executable, "-m", "toolloom.llm.llamacpp_host"]
    raise ServerStartError(
        "provider 'llamacpp' needs llama.cpp's server: `llama-server` on PATH, or the xllamacpp "
        "package (pip install 'toolloom[llamacpp]'), or llamacpp.command"
    )


class LlamaCppServer(ManagedServer):
    kind = "llamacpp"

    @staticmethod
    def options_of(spec: ModelSpec):
        return spec.llamacpp

    def start(self) -> None:
        if not Path(self.spec.model).is_file():  # a clear error now, not a log tail after the health wait
            raise ServerStartError(
                f"provider 'llamacpp': model {self.spec.model!r} is not a file (the path of a GGUF model)"
            )
        super().start()

    def command(self) -> list[str]:
        o = self.options
        slots = o.slots or self.spec.max_concurrency
        cmd = [
            *llamacpp_executable(o.command),
            "-m",
            self.spec.model,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--alias",
            self.spec.model,  # /v1/models lists the name the client sends
            "--jinja",  # the model's own chat template, tools included
            "-np",
            str(slots),
            "-c",
            str(slots * o.ctx_per_slot),
            "-t",
            str(o.threads or os.cpu_count() or 1),
            "--timeout",
            str(int(o.request_timeout_s)),
        ]
        return cmd + list(o.extra_args)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        key = os.environ.get(self.spec.api_key_env) if "api_key_env" in self.spec.model_fields_set else None
        if key:  # llama-server reads its key from LLAMA_API_KEY
            env["LLAMA_API_KEY"] = key
        return env
