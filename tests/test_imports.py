"""The import graph of oco2explore, built from the sources, has no cycle (issue #13)."""

from __future__ import annotations

import ast
from pathlib import Path

import oco2explore

PACKAGE = Path(oco2explore.__file__).parent


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """``module -> oco2explore modules it imports`` (any import, lazy ones included)."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_finder_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_graph_knows_the_package():
    graph = import_graph()
    assert "oco2explore.lite" in graph["oco2explore.readers"]
    assert "oco2explore.config" in graph["oco2explore.app.state"]


def test_no_import_cycle_among_oco2explore_modules():
    # The package __init__ files re-export their modules; a module importing its own
    # package's __init__ is not a cycle of concepts, so they are left out.
    graph = import_graph()
    inits = {m for m in graph if (PACKAGE.parent / m.replace(".", "/") / "__init__.py").exists()}
    graph = {m: edges - inits for m, edges in graph.items() if m not in inits}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_no_module_of_the_app_imports_the_command_line():
    graph = import_graph()
    app = [m for m in graph if m.startswith("oco2explore.app")]
    assert [m for m in app if "oco2explore.cli" in graph[m]] == []
