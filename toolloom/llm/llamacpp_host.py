"""`llama-server` from the xllamacpp package, for machines without the binary: takes the flags
LlamaCppServer passes and serves until SIGTERM (python -m toolloom.llm.llamacpp_host -m MODEL ...)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="toolloom.llm.llamacpp_host")
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--alias")
    ap.add_argument("--jinja", action="store_true")
    ap.add_argument("-np", "--parallel", type=int, default=1)
    ap.add_argument("-c", "--ctx-size", type=int, default=4096)
    ap.add_argument("-t", "--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=int, default=600)
    args = ap.parse_args(argv)

    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = args.model
    params.hostnames = [args.host]
    params.port = args.port
    params.n_parallel = args.parallel
    params.n_ctx = args.ctx_size
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.use_jinja = args.jinja
    params.timeout_read = params.timeout_write = args.timeout
    if args.alias:
        params.model_alias = {args.alias}
    if os.environ.get("LLAMA_API_KEY"):
        params.api_keys = [os.environ["LLAMA_API_KEY"]]
    print(f"toolloom llamacpp_host: loading {args.model} ({args.threads} threads, {args.parallel} slots)", flush=True)
    server = xlc.Server(params)  # raises when the model cannot be loaded
    print(f"toolloom llamacpp_host: serving at {server.listening_address}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
