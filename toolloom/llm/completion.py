"""A chat request's answer: the Completion read from the endpoint's body, and the checks on an answer cut
off at the token limit (is it a loop, how often it is asked again with more room)."""

from __future__ import annotations

from dataclasses import dataclass

from .call_errors import MalformedResponse


@dataclass
class Completion:
    message: dict  # {"role": "assistant", "content": str|None, "tool_calls": [...]|None}
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cache_hit: bool
    cached_prompt_tokens: int = 0  # of prompt_tokens, those the server's prompt cache served


def parse_completion(raw: dict) -> Completion:
    try:
        choice = raw["choices"][0]
        msg = choice["message"]
        usage = raw.get("usage") or {}
        calls = msg.get("tool_calls") or None
        if calls is not None:
            calls = [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["function"]["name"], "arguments": c["function"].get("arguments") or ""},
                }
                for c in calls
            ]
        message = {"role": "assistant", "content": msg.get("content"), "tool_calls": calls}
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
        if cached is None:  # llama.cpp's own timings: cache_n tokens reused, prompt_n evaluated
            cached = (raw.get("timings") or {}).get("cache_n")
        return Completion(
            message,
            choice.get("finish_reason") or "stop",
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0),
            False,
            int(cached or 0),
        )
    except (KeyError, IndexError, TypeError) as e:
        raise MalformedResponse(f"completion lacks {e}") from None


# a completion cut off at max_tokens (finish_reason "length") is asked again with twice the limit, up
# to this many times (each a request of its own in the cache), before the caller sees it
TRUNCATION_RETRIES = 2
LOOP_WINDOW = 400  # characters at the end of a cut answer in which a repeat means a loop
LOOP_MIN_SPAN = 60


def looping(text: str) -> bool:
    """Whether a cut answer ends by repeating itself (the same sentence, item or whitespace over and
    over), as a small model stuck in a loop does: at least LOOP_MIN_SPAN characters, 3 times or more."""
    tail = text[-LOOP_WINDOW:]
    for period in range(1, len(tail) // 3 + 1):
        reps = max(3, -(-LOOP_MIN_SPAN // period))
        if reps * period <= len(tail) and tail[-reps * period :] == tail[-period:] * reps:
            return True
    return False


def answer_text(message: dict) -> str:
    calls = message.get("tool_calls") or []
    return (message.get("content") or "") + "".join(
        str((c.get("function") or {}).get("arguments") or "") for c in calls
    )


TRUNCATED_RETRY_TOKENS = 4096  # the first retry's limit when the spec sets none
