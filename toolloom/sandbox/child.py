"""What runs in a call's child process: the collection's modules served from the worker's compiled
code, the audit hook (the second line: it names the refused act), bounded output, and the call itself.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import inspect
import json
import os
import sys
import traceback
import types
from pathlib import Path

PACKAGE = "_toolloom_sandbox"
_BLOCKED_EVENTS = {
    "os.fork": "creating processes",
    "os.forkpty": "creating processes",
    "os.posix_spawn": "creating processes",
    "os.spawn": "creating processes",
    "os.exec": "creating processes",
    "os.system": "creating processes",
    "subprocess.Popen": "creating processes",
    "pty.spawn": "creating processes",
    "socket.connect": "network access",
    "socket.bind": "network access",
    "socket.sendto": "network access",
    "socket.getaddrinfo": "network access",
    "socket.gethostbyname": "network access",
    "ctypes.dlopen": "loading native code",
    "ctypes.dlsym": "loading native code",
    "ctypes.cdata": "loading native code",
    "os.kill": "sending signals",
    "os.killpg": "sending signals",
    "signal.pthread_kill": "sending signals",
}
_PATH_EVENTS = {
    "os.remove",
    "os.rename",
    "os.rmdir",
    "os.mkdir",
    "os.chmod",
    "os.chown",
    "os.link",
    "os.symlink",
    "os.truncate",
    "shutil.rmtree",
}


class Precompiled(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the collection's modules (`_toolloom_sandbox.<collection>[.<module>]`) from code the
    worker compiled."""

    def __init__(self, folder: Path, collection: str):
        self.folder, self.package = folder, f"{PACKAGE}.{collection}"
        self.code: dict[str, tuple[str, types.CodeType]] = {}
        for path in sorted(folder.glob("*.py")):
            name = self.package if path.stem == "__init__" else f"{self.package}.{path.stem}"
            self.code[name] = (str(path), compile(path.read_bytes(), str(path), "exec", dont_inherit=True))

    def modules(self) -> list[str]:
        return [n for n in self.code if n != self.package and not n.rsplit(".", 1)[1].startswith("_")]

    def find_spec(self, fullname, path=None, target=None):
        if fullname == PACKAGE:
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        if fullname in self.code:
            return importlib.util.spec_from_loader(
                fullname, self, origin=self.code[fullname][0], is_package=fullname == self.package
            )
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        if module.__name__ == PACKAGE:
            module.__path__ = []
            return
        path, code = self.code[module.__name__]
        module.__file__ = path
        if module.__name__ == self.package:
            module.__path__ = [str(self.folder)]
        exec(code, module.__dict__)


def install_audit_hook(readable: list[str], writable: str) -> None:
    readable = [os.path.realpath(p) for p in readable]
    writable = os.path.realpath(writable)

    def inside(path, roots) -> bool:
        real = os.path.realpath(os.fsdecode(path)) if isinstance(path, (str, bytes, os.PathLike)) else ""
        return any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots)

    def hook(event: str, args) -> None:
        if event in _BLOCKED_EVENTS:
            raise PermissionError(f"sandbox: {_BLOCKED_EVENTS[event]} is not allowed ({event})")
        if event == "open":
            path, mode, flags = (list(args) + [None, None, None])[:3]
            if isinstance(path, int):
                return
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            )
            if writing and not inside(path, [writable]):
                raise PermissionError(f"sandbox: writing outside the private directory is not allowed ({path})")
            if not writing and not inside(path, readable + [writable]):
                raise PermissionError(f"sandbox: reading {path} is not allowed")
        elif event in _PATH_EVENTS:
            if args and not inside(args[0], [writable]):
                raise PermissionError(f"sandbox: changing {args[0]} is not allowed ({event})")

    sys.addaudithook(hook)


class BoundedOutput:
    """Stands in for stdout/stderr: tool output is discarded, and a flood becomes an error."""

    def __init__(self, limit: int):
        self.limit, self.written = limit, 0

    def write(self, text) -> int:
        self.written += len(text)
        if self.written > self.limit:
            raise OSError(f"the tool wrote more than {self.limit} bytes of output")
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def run_tool(fn, request: dict) -> dict:
    from .registry import ToolError

    args = dict(request.get("arguments") or {})
    accepted = set(inspect.signature(fn).parameters) - {"state"}
    unknown = sorted(set(args) - accepted)
    if unknown:
        return {"ok": False, "status": 400, "message": f"unknown argument(s): {', '.join(unknown)}"}
    state = request.get("state") or {}
    try:
        result = fn(**args, state=state) if getattr(fn, "__toolloom_stateful__", False) else fn(**args)
        json.dumps(result)
        return {"ok": True, "result": result, "state": state}
    except ToolError as e:
        return {"ok": False, "status": e.status, "message": e.message, "state": state}
    except MemoryError:
        return {"ok": False, "status": 507, "message": "the tool ran out of memory (sandbox limit)"}
    except PermissionError as e:
        return {"ok": False, "status": 403, "message": str(e)}
    except OSError as e:
        return {"ok": False, "status": 500, "message": f"internal error: {type(e).__name__}: {e}"}
    except Exception as e:  # a tool bug is an observation, never a dead pipeline
        frame = traceback.extract_tb(e.__traceback__)[-1]
        return {"ok": False, "status": 500, "message": f"internal error: {type(e).__name__}: {e} (line {frame.lineno})"}
