"""The offline assistant played through a request against scripted tool results: the calls it makes, in order."""

from __future__ import annotations

import json
from pathlib import Path

from toolloom.agents.offline import RetrievalAssistant


def demo_tools(*names: str) -> list[dict]:
    """The demo collection's tools of these names, as offered to an assistant."""
    tools = {
        t["function"]["name"]: {"type": "function", "function": t["function"]}
        for f in sorted(Path("api_graphs/demo").glob("*.json"))
        for t in json.loads(f.read_text())
    }
    return [tools[n] for n in names]


def play(request: str, tools: list[dict], results: dict[str, list]) -> list[tuple[str, dict]]:
    """The calls the offline assistant makes for `request`; each call of a tool gets that tool's next result."""
    messages, calls = [{"role": "user", "content": request}], []
    left = {name: list(rs) for name, rs in results.items()}
    for _ in range(8):
        turn = RetrievalAssistant().decide(messages, tools)
        if not turn.tool_calls:
            return calls
        messages.append({"role": "assistant", "content": None, "tool_calls": turn.tool_calls})
        for c in turn.tool_calls:
            name, args = c["function"]["name"], json.loads(c["function"]["arguments"])
            calls.append((name, args))
            result = left[name].pop(0) if left.get(name) else {"error": f"no scripted result for {name}"}
            messages.append({"role": "tool", "tool_call_id": c["id"], "name": name, "content": json.dumps(result)})
    return calls
