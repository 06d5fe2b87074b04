"""A stand-in for `llama-server -m MODEL.gguf ...`: the same scripted behaviour as fake_vllm.py
(FAKE_VLLM_* variables), llama-server's flags, LLAMA_API_KEY as its key variable, and /v1/models
listing the --alias it was given."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_vllm import serve  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("-m", "--model", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--alias", required=True)
    args, _ = parser.parse_known_args()
    if not Path(args.model).is_file():
        print(f"error: failed to open GGUF file '{args.model}'", flush=True)
        sys.exit(1)
    serve(args.model, args.port, "LLAMA_API_KEY", served=(args.alias,))
