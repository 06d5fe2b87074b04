"""What a GGUF model costs on this machine's CPU through toolloom's llama.cpp host: prompt and generated
tokens a second for one request on one slot, so model-path figures from different machines can be told apart.

  python benchmarks/llamacpp_speed.py ~/.cache/toolloom/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

Prints the server's own timings and the ratio of this run's prompt rate to `--peer` (a rate measured
elsewhere, e.g. on the machine an earlier benchmark ran on) when given.
"""

import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gguf")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-words", type=int, default=280, help="about as many prompt tokens")
    ap.add_argument("--generate", type=int, default=64)
    ap.add_argument("--peer", type=float, default=None, help="a prompt rate (tokens/s) to compare with")
    args = ap.parse_args()
    port = free_port()
    host = [sys.executable, "-m", "toolloom.llm.llamacpp_host", "-m", str(Path(args.gguf).expanduser())]
    host += ["--host", "127.0.0.1", "--port", str(port), "--jinja", "-np", "1", "-c", "4096", "-t", str(args.threads)]
    server = subprocess.Popen(host, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(1)
        prompt = " ".join(["Write a short story about a robot who learns to paint."] * (args.prompt_words // 10))
        body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": args.generate, "temperature": 0}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )
        timings = json.load(urllib.request.urlopen(request, timeout=1800)).get("timings", {})
    finally:
        server.kill()
    prompt_rate, gen_rate = timings.get("prompt_per_second", 0.0), timings.get("predicted_per_second", 0.0)
    print(
        f"{Path(args.gguf).name}: {timings.get('prompt_n')} prompt tokens at {prompt_rate:.1f}/s, "
        f"{timings.get('predicted_n')} generated at {gen_rate:.1f}/s ({args.threads} threads)"
    )
    if args.peer:
        print(f"prompt rate = {prompt_rate / args.peer:.2f} of the peer's {args.peer:.1f}/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
