"""Agent roles, built from the pipeline's model settings through one registry.

A provider name maps to a factory per role; plug-ins add providers with `register` (from a
`toolloom.plugins` entry point), the same path the built-ins take. Besides the model roles of the
pipeline, a provider serves the judge (`judge`), the dialogue realisers (`realiser.user`,
`realiser.assistant`) and escalation's verifier (`verifier`, a factory of `structural -> verifier`),
so no stage asks which provider it has.
"""

from __future__ import annotations

from typing import Callable

from ..executors.simulated import SchemaSimulator
from ..registry import PROVIDERS
from .base import AssistantAgent, AssistantTurn, UserAgent
from .judges import ModelJudge, ReferenceJudge
from .llm import ModelAssistant, ModelEscalator, ModelUser, ModelVerifier
from .simulator import ModelSimulator
from .realisers import ModelRealiser, PhraseRealiser
from .offline import RetrievalAssistant, TemplateEscalator, TemplateUser
from .refinement import FactAnalyzer, ModelAnalyzer, ModelExplorer, ModelRewriter, ProbeExplorer, TemplateRewriter


def _budget(ctx) -> int:
    """Characters a refined description may use (refine.max_description_chars)."""
    refine = getattr(getattr(getattr(ctx, "pipeline", None), "stages", None), "refine", None)
    return refine.max_description_chars if refine is not None else 1200


# provider -> {role: factory(ctx)}; ctx offers .client_for(role) and .prompts_root


def register(provider: str, role: str, factory: Callable) -> None:
    PROVIDERS.setdefault(provider, {})[role] = factory


def _model_backed(role: str, factory: Callable) -> None:
    """Model-backed agents serve every model provider: an endpoint (openai) or a managed server (vllm, llamacpp)."""
    for provider in ("openai", "vllm", "llamacpp"):
        register(provider, role, factory)


def build(provider: str, role: str, ctx):
    factory = PROVIDERS.get(provider).get(role)
    if factory is None:
        known = sorted(p for p, roles in PROVIDERS.items().items() if role in roles)
        raise ValueError(f"no {role} agent for provider {provider!r}; known: {known}")
    return factory(ctx)


register("offline", "user", lambda ctx: TemplateUser())
register("offline", "assistant", lambda ctx: RetrievalAssistant())
_model_backed("user", lambda ctx: ModelUser(ctx.client_for("user"), ctx.prompts_root))
_model_backed("assistant", lambda ctx: ModelAssistant(ctx.client_for("assistant"), prompts_root=ctx.prompts_root))
register("offline", "executor", lambda ctx: SchemaSimulator())
_model_backed("executor", lambda ctx: ModelSimulator(ctx.client_for("executor"), ctx.prompts_root))
register("offline", "frontier", lambda ctx: RetrievalAssistant())
_model_backed(
    "frontier",
    lambda ctx: ModelAssistant(
        ctx.client_for("frontier"), stage="escalate", role="frontier", prompts_root=ctx.prompts_root
    ),
)
register("offline", "escalator", lambda ctx: TemplateEscalator())
_model_backed("escalator", lambda ctx: ModelEscalator(ctx.client_for("escalator"), ctx.prompts_root))
register("offline", "explorer", lambda ctx: ProbeExplorer())
_model_backed("explorer", lambda ctx: ModelExplorer(ctx.client_for("explorer"), ctx.prompts_root, "explorer"))
register("offline", "analyzer", lambda ctx: FactAnalyzer())
_model_backed("analyzer", lambda ctx: ModelAnalyzer(ctx.client_for("analyzer"), ctx.prompts_root, "analyzer"))
register("offline", "rewriter", lambda ctx: TemplateRewriter(ctx.prompts_root, _budget(ctx)))
_model_backed(
    "rewriter", lambda ctx: ModelRewriter(ctx.client_for("rewriter"), ctx.prompts_root, "rewriter", _budget(ctx))
)


def _judge(offline: bool):
    def make(ctx):
        return ReferenceJudge() if offline else ModelJudge(ctx.client_for("judge"), ctx.prompts_root)

    return make


def _realiser(offline: bool, role: str):
    def make(ctx):
        return PhraseRealiser() if offline else ModelRealiser(ctx.client_for(role), ctx.prompts_root, role)

    return make


register("offline", "judge", _judge(True))
_model_backed("judge", _judge(False))
for _role in ("user", "assistant"):
    register("offline", f"realiser.{_role}", _realiser(True, _role))
    _model_backed(f"realiser.{_role}", _realiser(False, _role))
_model_backed("validator", lambda ctx: ctx.client_for("validator"))  # the API graph's edge check (no offline one)
register("offline", "verifier", lambda ctx: lambda structural: structural)
_model_backed(
    "verifier", lambda ctx: lambda structural: ModelVerifier(ctx.client_for("frontier"), ctx.prompts_root, structural)
)

__all__ = ["AssistantAgent", "AssistantTurn", "UserAgent", "PROVIDERS", "build", "register"]
