"""The package's imports point one way: no module imports, directly or through
others, a module that imports it (docs: shared/design, "Layers")."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "derivgen"


def imports() -> dict[str, set[str]]:
    graph = {}
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[path.stem] = {node.module.split(".")[0] for node in ast.walk(tree)
                            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module}
    return graph


def reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), list(graph[start])
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return seen


def test_no_module_is_part_of_an_import_cycle():
    graph = imports()
    assert [m for m in sorted(graph) if m in reaches(graph, m)] == []


def test_the_nodes_that_rules_build_do_not_import_the_registry():
    assert reaches(imports(), "nodes") == {"shapes"}
