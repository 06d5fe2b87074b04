"""Agent roles, built from the pipeline's model settings through one registry.

A provider name maps to a factory per role; plugins add providers with `register`, the same path
the built-ins take.
"""
from __future__ import annotations

from typing import Callable

from .base import AssistantAgent, AssistantTurn, ChainStep, Task, UserAgent
from ..executors.simulated import SchemaSimulator
from .llm import ModelAssistant, ModelEscalator, ModelSimulator, ModelUser
from .offline import RetrievalAssistant, TemplateEscalator, TemplateUser
from .refinement import FactAnalyzer, ModelAnalyzer, ModelExplorer, ModelRewriter, ProbeExplorer, TemplateRewriter

# (provider, role) -> factory(ctx) ; ctx offers .client_for(role) and .prompts_root
_FACTORIES: dict[tuple[str, str], Callable] = {}


def register(provider: str, role: str, factory: Callable) -> None:
    _FACTORIES[(provider, role)] = factory


def _model_backed(role: str, factory: Callable) -> None:
    """Model-backed agents serve every model provider: an endpoint (openai) or a managed server (vllm)."""
    for provider in ("openai", "vllm"):
        register(provider, role, factory)


def build(provider: str, role: str, ctx):
    try:
        factory = _FACTORIES[(provider, role)]
    except KeyError:
        known = sorted(p for p, r in _FACTORIES if r == role)
        raise ValueError(f"no {role} agent for provider {provider!r}; known: {known}") from None
    return factory(ctx)


register("offline", "user", lambda ctx: TemplateUser())
register("offline", "assistant", lambda ctx: RetrievalAssistant())
_model_backed("user", lambda ctx: ModelUser(ctx.client_for("user"), ctx.prompts_root))
_model_backed("assistant", lambda ctx: ModelAssistant(ctx.client_for("assistant")))
register("offline", "executor", lambda ctx: SchemaSimulator())
_model_backed("executor", lambda ctx: ModelSimulator(ctx.client_for("executor"), ctx.prompts_root))
register("offline", "frontier", lambda ctx: RetrievalAssistant())
_model_backed("frontier", lambda ctx: ModelAssistant(ctx.client_for("frontier"), stage="escalate", role="frontier"))
register("offline", "escalator", lambda ctx: TemplateEscalator())
_model_backed("escalator", lambda ctx: ModelEscalator(ctx.client_for("escalator"), ctx.prompts_root))
register("offline", "explorer", lambda ctx: ProbeExplorer())
_model_backed("explorer", lambda ctx: ModelExplorer(ctx.client_for("explorer"), ctx.prompts_root, "explorer"))
register("offline", "analyzer", lambda ctx: FactAnalyzer())
_model_backed("analyzer", lambda ctx: ModelAnalyzer(ctx.client_for("analyzer"), ctx.prompts_root, "analyzer"))
register("offline", "rewriter", lambda ctx: TemplateRewriter(ctx.prompts_root))
_model_backed("rewriter", lambda ctx: ModelRewriter(ctx.client_for("rewriter"), ctx.prompts_root, "rewriter"))

__all__ = ["AssistantAgent", "AssistantTurn", "ChainStep", "Task", "UserAgent", "build", "register"]
