"""A plug-in executor for the tests, named in YAML by import path: it answers every call by echoing it."""

from toolloom.executors import ExecutorConfig, ExecutorPlugin
from toolloom.sandbox import Observation


class EchoConfig(ExecutorConfig):
    kind: str = "tests.cases.plugins.echo_executor:plugin"
    greeting: str = "hello"


class EchoExecutor:
    kind = "echo"

    def __init__(self, config: EchoConfig):
        self.config = config

    def runs(self, tool_name: str) -> bool:
        return tool_name != "polygon_area"  # one tool it cannot run: simulated instead

    async def call(self, tool, arguments, episode) -> Observation:
        return Observation(True, {"greeting": self.config.greeting, "tool": tool["name"], "arguments": arguments})

    def close(self) -> None:
        pass


plugin = ExecutorPlugin(EchoConfig, lambda config, collection, ctx: EchoExecutor(config))
