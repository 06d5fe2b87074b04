"""Checks beyond APIGen's three: safety (prompt injection in tool results, tool poisoning in
descriptions), secrets (credentials anywhere in an example), tool overuse, and near-duplicate removal; plus
diversity statistics."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict

from rapidfuzz import fuzz

from ..checks.arguments import parse_arguments
from ..secrets import credential_values, find_credential

# Phrases that address the model rather than describe data; seen in injection and poisoning reports.
_INJECTION = re.compile(
    r"ignore (all |any )?(the )?(previous|prior|above|earlier) (instructions|prompts?|messages)"
    r"|disregard (all |any )?(the )?(previous|prior|above|your) (instructions|rules)"
    r"|you are now (a|an|in) |new instructions?:|system prompt|<\|im_start\|>|<\|system\|>"
    r"|do not (tell|inform|mention (this|it) to) the user|before using this tool,? (read|send|call)"
    r"|exfiltrat|send (the|all|your) (conversation|api key|credentials|secrets)",
    re.IGNORECASE,
)


def check_safety(traj: dict) -> tuple[str, str] | None:
    for tool in traj["tools_offered"]:
        desc = tool["function"].get("description") or ""
        m = _INJECTION.search(desc)
        if m:
            return "tool_poisoning", f"description of {tool['function']['name']} addresses the model: {m.group(0)!r}"
    for msg in traj["messages"]:
        if msg["role"] == "tool":
            m = _INJECTION.search(msg.get("content") or "")
            if m:
                return "prompt_injection", f"result of {msg.get('name')} contains {m.group(0)!r}"
    return None


def check_secrets(traj: dict) -> tuple[str, str] | None:
    """A credential anywhere in the example: a message, a call's arguments, a tool's description."""
    parts = [("the tools offered", json.dumps(traj["tools_offered"], ensure_ascii=False))]
    for msg in traj["messages"]:
        parts.append((f"a {msg['role']} message", msg.get("content") or ""))
        for call in msg.get("tool_calls") or []:
            parts.append((f"the arguments of {call['function']['name']}", call["function"].get("arguments") or ""))
    values = credential_values()
    for where, text in parts:
        found = find_credential(text, values)
        if found:
            return "credential", f"{where} contains {found}"
    return None


def check_overuse(traj: dict) -> tuple[str, str] | None:
    """More calls than the reference chain needs (a dialogue whose user switched requests needs one)."""
    calls = sum(len(m.get("tool_calls") or []) for m in traj["messages"])
    needed = len(traj["chain"]) if traj.get("chain") is not None else calls
    if traj.get("kind") == "recover":  # the failed calls it corrects are part of the example
        needed += sum(1 for c in traj["calls"] if not c["ok"])
    if calls > needed:
        return "tool_overuse", f"{calls} calls where the reference chain needs {needed}"
    return None


def call_pattern(traj: dict) -> str:
    return " > ".join(c["function"]["name"] for m in traj["messages"] for c in (m.get("tool_calls") or []))


def request_text(traj: dict) -> str:
    return " ".join((m.get("content") or "").lower() for m in traj["messages"] if m["role"] == "user")


def calls_of(traj: dict) -> list[str]:
    """Each call of an episode as `name({sorted JSON arguments})`: equal strings are the same call."""
    calls = []
    for m in traj["messages"]:
        for c in m.get("tool_calls") or []:
            value, _ = parse_arguments(c["function"]["arguments"])  # JSON text in tables, an object in exports
            args = json.dumps(value, sort_keys=True) if value is not None else c["function"]["arguments"]
            calls.append(f"{c['function']['name']}({args})")
    return calls


def _calls_key(traj: dict) -> str:
    return " > ".join(calls_of(traj))


def near_duplicates(trajs: list[dict], threshold: float, seen: list[dict] = ()) -> dict[str, str]:
    """traj_id -> the earlier traj_id it nearly repeats: the same calls with the same arguments, and
    requests at least `threshold` similar (normalised Indel similarity). Different values are
    different examples, however alike the wording. `seen`: examples kept before (earlier nights),
    each with a `version`; a repeat of one names it as version/traj_id."""
    by_calls: dict[str, list[dict]] = defaultdict(list)
    dupes: dict[str, str] = {}
    for t in seen:
        by_calls[_calls_key(t)].append({"id": f"{t['version']}/{t['traj_id']}", "text": request_text(t)})
    for t in trajs:
        text, key = request_text(t), _calls_key(t)
        for earlier in by_calls[key]:
            if fuzz.ratio(text, earlier["text"]) >= threshold * 100:
                dupes[t["traj_id"]] = earlier["id"]
                break
        else:
            by_calls[key].append({"id": t["traj_id"], "text": text})
    return dupes


def diversity(trajs: list[dict]) -> dict:
    patterns = Counter(call_pattern(t) for t in trajs)
    tools = {c["function"]["name"] for t in trajs for m in t["messages"] for c in (m.get("tool_calls") or [])}
    return {
        "distinct_call_patterns": len(patterns),
        "tools_covered": len(tools),
        "most_common_patterns": dict(patterns.most_common(5)),
    }
