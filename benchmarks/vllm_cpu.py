"""Real vLLM on this machine's CPU: starts `vllm serve`, checks what toolloom's vllm provider relies on, stops it.

Prints one line each: tool calls parsed by the hermes parser (or left in `content`), structured output
(`response_format` json_schema) valid, prefix cache (cached_tokens in usage, /metrics hit counters), prompt and
generated tokens a second. Standard library and `openai` only.

  python benchmarks/vllm_cpu.py --vllm /tmp/vllm-venv/bin/vllm --model /tmp/qwen2.5-coder-0.5b-instruct
  python benchmarks/vllm_cpu.py --url http://127.0.0.1:8011    # a server already running (left running)

vllm-cpu 0.32.0 does not read GGUF itself (vllm-gguf-plugin does, with CUDA/Triton kernels only): on a CPU give a
safetensors folder. transformers + gguf + accelerate dequantize a GGUF (`from_pretrained(dir, gguf_file=name)`,
set `hf_quantizer = None`, delete `config.quantization_config`, `save_pretrained` model and tokenizer). The
first start compiles the model (3-6 minutes on 2 cores). float32 prefilled 4.7x faster than bfloat16 on AVX2.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

from openai import OpenAI

GGUF = os.path.expanduser("~/.cache/toolloom/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")


def tool(name: str, description: str, **props: str) -> dict:
    params = {"type": "object", "properties": {k: {"type": t} for k, t in props.items()}, "required": list(props)}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": params}}


CURRENCY = {"amount": "number", "from_currency": "string", "to_currency": "string"}
TOOLS = [
    tool("convert_currency", "Convert an amount between ISO 4217 currencies.", **CURRENCY),
    tool("get_country", "Look up a country by its ISO 3166 alpha-2 code.", code="string"),
]
PROPS = {"city": {"type": "string"}, "population": {"type": "integer"}}
SCHEMA = {"type": "object", "properties": PROPS, "required": list(PROPS), "additionalProperties": False}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def fail(msg: str, log: str | None = None) -> None:  # one line, then the end of the server's log
    tail = open(log, errors="replace").readlines()[-25:] if log and os.path.exists(log) else []
    print(msg + (" -- end of its log:\n" + "".join(tail).rstrip() if tail else ""))
    sys.exit(1)


def start(args) -> tuple[subprocess.Popen, str, str]:
    exe = shutil.which(args.vllm)
    if not exe:
        print(f"vllm not installed: no executable {args.vllm!r} (pass --vllm PATH)")
        sys.exit(2)
    port = free_port()
    flags = f"--host 127.0.0.1 --port {port} --max-model-len 4096 --dtype {args.dtype} --enable-prefix-caching"
    flags += " --enable-prompt-tokens-details --enable-auto-tool-choice --tool-call-parser hermes"
    cmd = [exe, "serve", args.model, *flags.split()]
    if args.tokenizer:
        cmd += ["--tokenizer", args.tokenizer]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    log = os.path.join(tempfile.mkdtemp(prefix="vllm_cpu_"), "serve.log")
    print("starting:", " ".join(cmd), f"(log {log})", flush=True)
    proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url, t0 = f"http://127.0.0.1:{port}", time.time()
    while time.time() - t0 < args.timeout:
        if proc.poll() is not None:
            fail(f"vllm serve exited with status {proc.returncode} before /health answered", log)
        try:
            get(url + "/health")
            print(f"server healthy after {time.time() - t0:.0f} s", flush=True)
            return proc, url, log
        except OSError:
            time.sleep(2)
    stop(proc)
    fail(f"vllm serve did not answer /health within {args.timeout:.0f} s", log)


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, 15)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)


def prefix_counters(url: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in get(url + "/metrics").splitlines():
        m = re.match(r"vllm:prefix_cache_(hits|queries)_total\{.*\} ([0-9.e+]+)$", line)
        if m:
            out[m[1]] = out.get(m[1], 0.0) + float(m[2])
    return out


def stream(client: OpenAI, model: str, messages: list, max_tokens: int, **extra) -> tuple[float, float, object]:
    t0, first, usage = time.perf_counter(), None, None
    kw = dict(model=model, messages=messages, max_tokens=max_tokens, temperature=0, stream=True)
    for chunk in client.chat.completions.create(**kw, stream_options={"include_usage": True}, extra_body=extra):
        if chunk.choices and first is None and chunk.choices[0].delta.content:
            first = time.perf_counter()
        if chunk.usage:
            usage = chunk.usage
    end = time.perf_counter()
    return (first or end) - t0, end - t0, usage


def chat(client: OpenAI, model: str, content: str, **kw):
    messages = [{"role": "user", "content": content}]
    return client.chat.completions.create(model=model, messages=messages, temperature=0, **kw).choices[0].message


def check_tools(client: OpenAI, model: str) -> None:
    msg = chat(client, model, "How much is 250 US dollars in euros?", tools=TOOLS, tool_choice="auto", max_tokens=200)
    if msg.tool_calls:
        calls = [f"{c.function.name}({c.function.arguments})" for c in msg.tool_calls]
        print(f"tool_calls parsed: yes ({'; '.join(calls)})")
    else:
        print(f"tool_calls parsed: no (content: {(msg.content or '')[:200]!r})")


def check_schema(client: OpenAI, model: str) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA}}
    text = chat(client, model, "Name the capital of France and its population, as JSON.", response_format=fmt).content
    try:
        obj = json.loads(text or "")
        ok = isinstance(obj, dict) and set(obj) == {"city", "population"} and isinstance(obj["city"], str)
        ok = ok and type(obj["population"]) is int
    except ValueError:
        ok = False
    print(f"structured output valid: {'yes' if ok else 'no'} ({text[:160]!r})")


def check_cache_and_speed(client: OpenAI, model: str, url: str) -> None:
    words = "The invoice lists the items, their quantities, unit prices, taxes and the delivery address. " * 60
    system = {"role": "system", "content": f"[{uuid.uuid4()}] You summarise documents.\n{words}"}
    messages = [system, {"role": "user", "content": "Summarise it in one sentence."}]
    before = prefix_counters(url)
    ttft1, _, u1 = stream(client, model, messages, 1)
    ttft2, _, u2 = stream(client, model, messages, 1)
    after = prefix_counters(url)
    cached = getattr(getattr(u2, "prompt_tokens_details", None), "cached_tokens", None)
    hits = after.get("hits", 0) - before.get("hits", 0)
    queries = after.get("queries", 0) - before.get("queries", 0)
    seen = f"second request cached_tokens={cached} of {u2.prompt_tokens}; /metrics hits {hits:.0f} of {queries:.0f}"
    seen += f"; first token {ttft1:.2f} s cold, {ttft2:.2f} s warm"
    print(f"prefix cache: {'yes' if cached or hits else 'no'} ({seen})")
    print(f"prompt tok/s: {u1.prompt_tokens / ttft1:.1f} ({u1.prompt_tokens} tokens, cold, {ttft1:.2f} s to first)")
    gen = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]
    ttft, total, u = stream(client, model, gen, 200, ignore_eos=True, min_tokens=200)
    n = u.completion_tokens
    print(f"generated tok/s: {(n - 1) / (total - ttft):.1f} ({n} tokens in {total:.2f} s, {ttft:.2f} s to first)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vllm", default="vllm", help="the vllm executable (default: vllm on PATH)")
    p.add_argument("--model", default=GGUF, help="model folder or .gguf (default: %(default)s)")
    p.add_argument("--tokenizer", help="tokenizer folder (for a .gguf model)")
    p.add_argument("--dtype", default="float32", help="float32 (default) or bfloat16")
    p.add_argument("--timeout", type=float, default=900, help="seconds to wait for /health")
    p.add_argument("--url", help="use this running server instead of starting one")
    args = p.parse_args()
    proc, log = None, None
    if args.url:
        url = args.url.rstrip("/")
    else:
        proc, url, log = start(args)
    try:
        client = OpenAI(base_url=url + "/v1", api_key=os.environ.get("VLLM_API_KEY", "none"), timeout=600)
        model = client.models.list().data[0].id
        print(f"/v1/models: {model}")
        check_tools(client, model)
        check_schema(client, model)
        check_cache_and_speed(client, model, url)
    finally:
        if proc:
            stop(proc)
            print(f"server stopped (log {log})")


if __name__ == "__main__":
    main()
