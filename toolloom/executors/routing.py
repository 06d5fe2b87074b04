"""The tool executor agent (DESIGN 3.2, 8): each call goes to its collection's executor (python,
mcp, http or a plug-in), or to the simulator for tools no executor really runs.

An `Episode` carries what one conversation needs: the state of stateful tools (fresh per episode),
per-episode resources such as an MCP server (released by `close()`), and the history of calls, from
which a simulator answers consistently (a call repeated straight away gets the same observation).
"""

from __future__ import annotations

import dataclasses
import weakref
from typing import Callable, Protocol

from ..checks.arguments import argument_errors
from ..domain import Tool, tool_of
from .python import PythonExecutor
from .catalogue import documented_records
from .simulated import SchemaSimulator, without_defaults, documented_about, documented_entities, documented_response
from ..llm import run_async
from ..sandbox import Observation, Sandbox, error_observation
from ..secrets import find_credential
from ..text.values import ValueFactory


class Simulator(Protocol):
    name: str

    async def respond(self, tool: Tool, arguments: dict, history: list[dict]) -> Observation: ...


def execution_of(tool: Tool) -> str:
    """How a tool row's calls are answered (`execution`); tables written before it existed say `executable`."""
    return tool.get("execution") or ("python" if tool.get("executable") else "simulated")


class ToolExecutor:
    def __init__(
        self,
        sandbox: Sandbox | None,
        tools: list[Tool],
        simulator: Simulator | None = None,
        executors: dict | None = None,
    ):
        """`tools`: rows of the tools table; `executors`: collection -> Executor (default: the python sandbox)."""
        self.sandbox = sandbox
        self.simulator = simulator or SchemaSimulator(ValueFactory())
        self.executors = dict(executors or {})
        self.by_name = {t["name"]: {**tool_of(t), "execution": execution_of(t)} for t in tools}
        self._documented: dict | None = None
        self._records: dict | None = None

    @property
    def documented(self) -> dict:
        """(entity, id) -> what the collection's documented example responses show about it."""
        if self._documented is None:
            self._documented = documented_entities(self.by_name.values())
        return self._documented

    def records_for(self, tool: Tool) -> list[dict]:
        """The records the documented example responses of the tool's collection show (executors/catalogue.py)."""
        if self._records is None:
            self._records = documented_records(self.by_name.values())
        return self._records.get(tool.get("collection") or "", [])

    def executor_for(self, tool: Tool):
        coll = tool["collection"]
        if coll not in self.executors:
            self.executors[coll] = PythonExecutor(self.sandbox, coll)
        return self.executors[coll]

    def episode(self) -> "Episode":
        return Episode(self)

    def execute(self, name: str, arguments: dict) -> Observation:
        """One call in a fresh episode (for reference chains of one step and for tests)."""

        async def once():
            episode = self.episode()
            try:
                return await episode.call(name, arguments)
            finally:
                episode.close()

        return run_async(once())


def _run_closers(closers: list) -> None:
    while closers:
        closers.pop()()


class Episode:
    def __init__(self, executor: ToolExecutor):
        self.executor = executor
        self.state: dict[str, dict] = {}  # collection -> state of its stateful tools
        self.resources: dict = {}  # executor-owned per-episode objects (an MCP server)
        self.history: list[dict] = []
        self._closers: list[Callable[[], None]] = []
        # an episode dropped without close() (an early return) still releases its resources
        self._finalizer = weakref.finalize(self, _run_closers, self._closers)

    def on_close(self, fn: Callable[[], None]) -> None:
        self._closers.append(fn)

    def close(self) -> None:
        """Release what the episode's executors hold for it (idempotent)."""
        self._finalizer()

    async def call(self, name: str, arguments: dict, validate: bool = True) -> Observation:
        """`validate=False` lets a really executed tool see arguments its schema forbids (exploration
        asks what the tool really does); a simulated tool only knows its schema, so it always checks."""
        tool = self.executor.by_name.get(name)
        if tool is None:
            return error_observation(404, f"unknown tool '{name}'")
        simulated = tool["execution"] == "simulated"
        problems = argument_errors(tool["parameters"], arguments) if validate or simulated else []
        if problems:
            obs = dataclasses.replace(
                error_observation(400, "invalid arguments: " + "; ".join(problems)), answered_by="none"
            )
        elif not simulated:
            runner = self.executor.executor_for(tool)
            obs = dataclasses.replace(
                await runner.call(tool, arguments, self), answered_by=getattr(runner, "answers", "real")
            )
        else:
            # the same call again straight away gets the same answer; after other calls the simulator
            # answers from the history, so a change an earlier call made shows
            asked = without_defaults(tool["parameters"], arguments)
            last = self.history[-1] if self.history else None
            repeat = last is not None and last["name"] == name and last["asked"] == asked
            if repeat:
                obs = last["observation"]
            elif (documented := documented_response(tool, asked)) is not None:
                obs = Observation(True, documented)  # the call its documented example answers
            else:  # what the documentation shows about the ids asked for comes first, as if seen earlier
                known = documented_about(self.executor.documented, asked)
                shown = {**tool, "documented_records": self.executor.records_for(tool)}
                seen = [{**h, "arguments": h["asked"]} for h in self.history]  # as the service saw them
                obs = await self.executor.simulator.respond(shown, asked, known + seen)
            obs = dataclasses.replace(obs, answered_by="simulated")
        found = find_credential(obs.to_json())
        if found:  # withheld here, so it reaches no table, log or export
            obs = dataclasses.replace(
                error_observation(502, f"the answer of {name} was withheld: it contained {found}", obs.state),
                answered_by=obs.answered_by,
            )
        entry = {"name": name, "arguments": arguments, "response": obs.content, "observation": obs}
        self.history.append({**entry, "asked": without_defaults(tool["parameters"], arguments)})
        return obs
