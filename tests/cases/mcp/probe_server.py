"""A real MCP server (official SDK, stdio) for the executor tests: a little state, and the
misbehaviours an executor must survive (crash, hang), plus probes of its confinement."""

import os
import socket
import sys
import time

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("probe")
NOTES: dict[str, str] = {}


@server.tool()
def remember(key: str, value: str) -> dict:
    """Store a note under a key (lives as long as this server process)."""
    NOTES[key] = value
    return {"key": key, "stored": True, "count": len(NOTES)}


@server.tool()
def recall(key: str) -> dict:
    """Read the note stored under a key."""
    if key not in NOTES:
        raise ToolError(f"no note called {key}")
    return {"key": key, "value": NOTES[key]}


@server.tool()
def where(repo_path: str = "") -> dict:
    """The server's working folder and the files in it; repo_path is echoed."""
    return {"cwd": os.getcwd(), "files": sorted(os.listdir(".")), "repo_path": repo_path}


@server.tool()
def environment() -> dict:
    """Names of the environment variables the server process sees."""
    return {"names": sorted(os.environ)}


@server.tool()
def connect(port: int) -> dict:
    """Try a TCP connection to 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return {"connected": True}
    except OSError as e:
        return {"connected": False, "error": str(e)}


@server.tool()
def hang(seconds: float) -> dict:
    """Sleep (a tool that does not answer in time)."""
    time.sleep(seconds)
    return {"slept": seconds}


@server.tool()
def crash() -> dict:
    """Exit the server process at once."""
    os._exit(3)


if __name__ == "__main__":
    print("probe server starting", file=sys.stderr)
    server.run("stdio")
