"""The house rules that keep the code easy to live in: no import cycle at module level inside
toolloom/, and no Python file over 400 lines."""
import ast
from pathlib import Path

import networkx as nx

from .conftest import PROJECT

PACKAGE = PROJECT / "toolloom"


def _module(path: Path) -> str:
    parts = list(path.relative_to(PROJECT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> nx.DiGraph:
    """Module -> the toolloom modules it imports when it is loaded (function-local imports excluded)."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.parse(path.read_text()).body:
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
            graph.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return graph


def test_no_import_cycle_inside_toolloom():
    graph = import_graph()
    assert graph.has_edge("toolloom.stages.tasks", "toolloom.synthesis")  # the walk sees imports (no vacuous pass)
    assert graph.has_edge("toolloom.ingest.toolalpaca", "toolloom.ingest.openapi")
    cycles = sorted(nx.simple_cycles(graph), key=len)
    assert cycles == [], f"import cycles: {cycles[:5]}"


def test_no_python_file_over_400_lines():
    long = {str(p.relative_to(PROJECT)): n for p in [*PACKAGE.rglob("*.py"), *(PROJECT / "tests").glob("*.py")]
            if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}
