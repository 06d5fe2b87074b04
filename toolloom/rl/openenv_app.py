"""The environment behind OpenEnv's server (PyPI `openenv-core`): `reset()`, `step()` and `state` over WebSocket
sessions, one episode per session, many sessions at once. Its MCP-shaped `call_tool` action is accepted as it is.

    toolloom env serve demo                    # ws://127.0.0.1:8000/ws ; openenv's GenericEnvClient speaks to it
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from openenv.core.env_server.http_server import create_app
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import Action, EnvironmentMetadata, Observation, State
from pydantic import Field

from .environment import EnvSession, ToolEnvironment


class ToolloomAction(Action):
    """One assistant turn: tool calls (OpenAI's, or MCP's `call_tool`), or a message (the answer, or a question)."""

    type: Literal["call_tool", "tool_calls", "message"] = "message"
    tool_name: Optional[str] = None
    arguments: dict[str, Any] = Field(default_factory=dict)
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    message: Optional[str] = None


class ToolloomObservation(Observation):
    task_id: str = ""
    episode_id: str = ""
    kind: str = ""
    messages: list[dict[str, Any]] = Field(default_factory=list)  # after reset: the prompt; after a step: what it added
    tools: list[dict[str, Any]] = Field(default_factory=list)  # the offered tools (after reset)
    breakdown: dict[str, Any] = Field(default_factory=dict)  # the reward's parts, when the episode is done


class ToolloomState(State):
    task_id: str = ""
    done: bool = False
    messages: list[dict[str, Any]] = Field(default_factory=list)


class ToolloomOpenEnv(Environment):
    """One session's environment; sessions share the tasks and executors, never an episode."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self, env: ToolEnvironment):
        super().__init__()
        self.env = env
        self.session: EnvSession | None = None

    def reset(
        self, seed: Optional[int] = None, episode_id: Optional[str] = None, task_id: Optional[str] = None, **kwargs: Any
    ) -> ToolloomObservation:
        if self.session is not None:
            self.session.close()
        self.session = self.env.reset(seed=seed, task_id=task_id)
        if episode_id:
            self.session.episode_id = episode_id
        return ToolloomObservation(**self.session.observation())

    def step(self, action: ToolloomAction, timeout_s: Optional[float] = None, **kwargs: Any) -> ToolloomObservation:
        if self.session is None:
            raise RuntimeError("call reset() before step()")
        out = self.session.step(action.model_dump(exclude={"metadata", "type"}, exclude_none=True))
        s = self.session
        return ToolloomObservation(
            task_id=s.task.task_id,
            episode_id=s.episode_id,
            kind=s.task.kind,
            messages=out["messages"],
            done=out["done"],
            reward=out["reward"],
            breakdown=out["breakdown"],
        )

    @property
    def state(self) -> ToolloomState:
        if self.session is None:
            return ToolloomState()
        st = self.session.state()
        return ToolloomState(
            episode_id=st["episode_id"],
            step_count=st["step_count"],
            task_id=st["task_id"],
            done=st["done"],
            messages=st["messages"],
        )

    def get_metadata(self) -> EnvironmentMetadata:
        return EnvironmentMetadata(
            name="toolloom",
            description=f"{len(self.env.tasks)} tool-use tasks with verified reference calls; rewards from execution",
        )

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


def app_for(env: ToolEnvironment, max_concurrent: int = 64):
    """The FastAPI app OpenEnv's clients speak to (`/ws` sessions; `/reset`, `/step` stateless, `/schema`)."""
    return create_app(
        lambda: ToolloomOpenEnv(env),
        ToolloomAction,
        ToolloomObservation,
        env_name="toolloom",
        max_concurrent_envs=max_concurrent,
    )
