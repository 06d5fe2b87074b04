"""A stand-in for `vllm serve MODEL ...`: serves toolloom's fake OpenAI-compatible endpoint.

Behaviour from the environment, so tests can script it:
  FAKE_VLLM_RECORD      file that gets one JSON line per start: pid, argv, VLLM_API_KEY present
  FAKE_VLLM_STARTUP_S   seconds to "load weights" before serving (a slow start)
  FAKE_VLLM_NEVER_HEALTHY=1   log forever, never serve
  FAKE_VLLM_DIE_AFTER   exit hard after this many chat requests, the first time only (marker file
                        FAKE_VLLM_RECORD + ".died")
  FAKE_VLLM_LATENCY_S   per-request latency
"""

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # toolloom, without installing

from toolloom.llm.competent_model import competent  # noqa: E402
from toolloom.llm.fake_server import FakeModel, FakeServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("verb", choices=["serve"])
    parser.add_argument("model")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args, rest = parser.parse_known_args()
    serve(args.model, args.port, "VLLM_API_KEY", served=(args.model,))  # vLLM serves the model under its name


def serve(model: str, port: int, key_variable: str, served: tuple[str, ...]) -> None:
    """Record the start, then load (or hang, or die) and serve as the environment says."""
    record = os.environ.get("FAKE_VLLM_RECORD")
    if record:
        with open(record, "a") as f:
            f.write(
                json.dumps(
                    {"pid": os.getpid(), "argv": sys.argv[1:], "api_key_in_env": bool(os.environ.get(key_variable))}
                )
                + "\n"
            )
    print(f"INFO fake server: loading {model}", flush=True)
    if os.environ.get("FAKE_VLLM_NEVER_HEALTHY"):
        while True:
            print("INFO fake server: still loading weights...", flush=True)
            time.sleep(0.2)
    time.sleep(float(os.environ.get("FAKE_VLLM_STARTUP_S", "0")))
    die_after = int(os.environ.get("FAKE_VLLM_DIE_AFTER", "0"))
    marker = Path(f"{record}.died") if record else None
    answered = {"n": 0}
    lock = threading.Lock()

    def respond(request):
        with lock:
            answered["n"] += 1
            if die_after and answered["n"] > die_after and marker is not None and not marker.exists():
                marker.write_text("died")
                print("ERROR fake server: engine core died", flush=True)
                os._exit(3)
        return competent(request)

    server = FakeServer(
        FakeModel(default=respond),
        port=port,
        latency_s=float(os.environ.get("FAKE_VLLM_LATENCY_S", "0")),
        served=served,
    )
    server.start()
    print(f"INFO fake server: serving on {port}", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
