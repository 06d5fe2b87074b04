"""Pre-flight: before a stage sends work, each model endpoint is reached and answers one tiny request.

A wrong base_url, an unknown model name, an unset key variable or a refused key stops the run in
seconds with one line naming the role, the URL, the variable and the server's answer, instead of
minutes of retries ending in a stack trace.
"""

from __future__ import annotations

import logging
import os

import openai

from .call_errors import ModelCallError, key_state, root_cause
from .client import ModelClient

log = logging.getLogger("toolloom")


class PreflightError(Exception):
    """A model endpoint that cannot do the run's work; str() is one line naming role, URL and cause."""


_WARNED: set[str] = set()  # a note is logged once a process, however many runtimes check the endpoint


def managed_preflight(spec, role: str) -> None:
    """A server toolloom would start itself can start: the GGUF file of a llamacpp model exists and the
    server can be found (before any stage runs, so a missing file costs nothing and writes nothing)."""
    if spec.provider != "llamacpp":
        return
    from .llamacpp_server import llamacpp_executable
    from .managed_server import ServerStartError

    if not os.path.isfile(spec.model):
        hint = (
            " (TOOLLOOM_GGUF names it, or ../shared/models/small_model.sh puts one there)"
            if ".cache/toolloom/models" in spec.model
            else ""
        )
        raise PreflightError(
            f"role {role}: provider 'llamacpp': model {spec.model!r} is not a file (the path of a GGUF model){hint}"
        )
    try:
        llamacpp_executable(spec.llamacpp.command if spec.llamacpp else None)
    except ServerStartError as e:
        raise PreflightError(f"role {role}: {e}") from None


def preflight(client: ModelClient, roles: list[str]) -> str | None:
    """Raise PreflightError unless the endpoint answers a one-token request for the model (a model
    missing from its list is named when that request fails); return a note worth a warning, if any.
    The request goes through the client (cache, retries): a rerun sends no completion for it. With
    several endpoints (base_urls) each is reached; one that is down is a warning (requests fail over
    to the others), all of them down is the error."""
    spec = client.spec
    who = f"model {spec.model!r} for role{'s' if len(roles) > 1 else ''} {', '.join(roles)}"
    var = spec.api_key_env
    if "api_key_env" in spec.model_fields_set and not os.environ.get(var):
        raise PreflightError(
            f"{who} at {', '.join(spec.endpoints)}: api_key_env names ${var}, which is not set "
            "(export it, or drop api_key_env for an endpoint without a key)"
        )
    listed, down = {}, []
    for url in spec.endpoints:
        try:
            listed[url] = _served(spec, url, f"{who} at {url}")
        except PreflightError as e:
            if len(spec.endpoints) == 1:
                raise
            down.append(str(e))
    if not listed:
        raise PreflightError("every endpoint failed: " + "; ".join(down))
    url, served = next(iter(listed.items()))
    where = f"{who} at {url}"
    unlisted = bool(served) and spec.model not in served
    try:
        client.ping(role=roles[0])
    except ModelCallError as e:
        if unlisted:
            shown = ", ".join(served[:8]) + (f" and {len(served) - 8} more" if len(served) > 8 else "")
            raise PreflightError(f"{where}: the server does not serve this model; it serves {shown} ({e})") from None
        raise PreflightError(f"{where}: a one-token request failed: {e}") from None  # a refused key names its variable
    notes = [f"endpoint skipped until it answers: {d}" for d in down]
    if unlisted:  # llama.cpp's server, for one, answers for any name: its answer decides, not the list
        notes.append(
            f"{where}: not in the server's model list ({', '.join(served[:8])}), but the server answered a "
            "request for it"
        )
    for note in notes:
        if note not in _WARNED:
            _WARNED.add(note)
            log.warning(note)
    return "; ".join(notes) or None


def _served(spec, url: str, where: str) -> list[str]:
    """The model names the endpoint lists ([] when it has no list); PreflightError when it cannot be reached
    or refuses the key."""
    var = spec.api_key_env
    timeout = min(spec.timeout_s, 15.0)
    lister = openai.OpenAI(base_url=url, api_key=os.environ.get(var) or "not-needed", max_retries=0, timeout=timeout)
    try:
        return [m.id for m in lister.models.list()]
    except openai.APITimeoutError:
        raise PreflightError(f"{where}: no answer from {url}/models within {timeout:.0f}s") from None
    except openai.APIConnectionError as e:
        raise PreflightError(
            f"{where}: cannot connect ({root_cause(e)}); is the server running, and is base_url right?"
        ) from None
    except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
        raise PreflightError(
            f"{where}: the server refused the key ({e.status_code}: {_message(e)}); {key_state(var)}"
        ) from None
    except openai.APIStatusError:  # no model list here (some proxies): the request below decides
        return []
    finally:
        lister.close()


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    inner = body.get("error") if isinstance(body.get("error"), dict) else body
    return str((inner or {}).get("message") or exc.message)[:200]
