"""The house rules that keep the code easy to live in: no import cycle inside toolloom/ (function-local
imports included), no private name imported across modules, no function over 60 lines and no Python file
over 400 lines (as `ruff format`, which .ci/run checks, lays them out)."""

import ast
import runpy
import sys
from pathlib import Path

import networkx as nx

from .conftest import PROJECT

PACKAGE = PROJECT / "toolloom"


def _module(path: Path) -> str:
    parts = list(path.relative_to(PROJECT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST):
    """Every import statement of a module, function-local ones included; `if TYPE_CHECKING:` blocks
    (annotations only, never executed) are left out."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _ancestors(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph() -> nx.DiGraph:
    """Module -> the toolloom modules loading it loads: what it imports anywhere (function-local imports
    too: a cycle hidden in a function is still a cycle), and the packages above those (importing
    `toolloom.llm.client` runs `toolloom/llm/__init__.py` first), except the module's own packages."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        own = set(_ancestors(name))
        for node in _imports(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
                # `from . import x` loads the submodule x; anything else loads `base` itself
                targets = subs if subs and len(subs) == len(node.names) else [base, *subs]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            targets += [a for t in targets for a in _ancestors(t) if a not in own]
            graph.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return graph


def test_no_import_cycle_inside_toolloom():
    graph = import_graph()
    assert graph.has_edge("toolloom.stages.tasks", "toolloom.text.synthesis")  # the walk sees imports (no vacuous pass)
    assert graph.has_edge("toolloom.ingest.toolalpaca", "toolloom.ingest.openapi")
    assert graph.has_edge("toolloom.spec", "toolloom.executors")  # a submodule's import loads its package
    cycles = sorted(nx.simple_cycles(graph), key=len)
    assert cycles == [], f"import cycles: {cycles[:5]}"


def test_the_walk_finds_a_cycle_hidden_in_a_function(tmp_path, monkeypatch):
    package = tmp_path / "toolloom"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from .b import B\n")
    (package / "sub" / "b.py").write_text("B = 1\n")
    (package / "a.py").write_text("def f():\n    from .sub.b import B\n")
    (package / "sub" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import a\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "PACKAGE", package)
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "PROJECT", tmp_path)
    assert list(nx.simple_cycles(import_graph())) == []
    (package / "sub" / "b.py").write_text("from ..a import f\nB = 1\n")
    cycles = {frozenset(c) for c in nx.simple_cycles(import_graph())}
    assert cycles == {
        frozenset({"toolloom.a", "toolloom.sub.b"}),
        frozenset({"toolloom.a", "toolloom.sub", "toolloom.sub.b"}),
    }


def test_no_private_name_is_imported_from_another_module():
    """A leading underscore says 'this module only'; a name another module needs is made public."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in _imports(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                found += [
                    f"{path.relative_to(PROJECT)}: {node.module} {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert found == []


def test_no_function_over_60_lines():
    """A function says one thing; complexity (at most 15) is ruff's C901, run by `ruff check .` in .ci/run."""
    long = [
        f"{p.relative_to(PROJECT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for p in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 60
    ]
    assert long == []


def test_no_python_file_over_400_lines():
    long = {
        str(p.relative_to(PROJECT)): n
        for p in [*PACKAGE.rglob("*.py"), *(PROJECT / "tests").glob("*.py")]
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}


def test_every_prompt_template_ships_inside_the_package():
    """pyproject's package-data globs (prompt_templates/*/*.j2, *.yaml) reach every template: an installed
    toolloom has them, and a project needs no prompts/ of its own."""
    from toolloom.prompts import DEFAULT_ROOT

    assert (PACKAGE / "prompt_templates").resolve() == DEFAULT_ROOT == PROJECT / "prompts"
    files = [p.relative_to(DEFAULT_ROOT) for p in DEFAULT_ROOT.rglob("*") if p.is_file()]
    assert files and all(len(f.parts) == 2 and f.suffix in (".j2", ".yaml") for f in files), files


def test_every_benchmark_script_still_imports():
    """A benchmark is run by hand, long after the code it imports last changed: loading each one (definitions
    only; `__main__` is not run) catches a name it imports that is gone (judge.py lost `check_view` so)."""
    bench = PROJECT / "benchmarks"
    sys.path.insert(0, str(bench))  # as when run: a script imports its neighbours (draft_docs: escalation)
    try:
        for script in sorted(bench.glob("*.py")):
            runpy.run_path(str(script), run_name="benchmark_import_check")
    finally:
        sys.path.remove(str(bench))
