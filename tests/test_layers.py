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


def test_a_derivation_holds_plain_data_only():
    """What the report layer receives: nodes, strings and numbers, no sympy object or
    engine cache (so a template can never call back into the engine)."""
    import dataclasses


    from derivgen.derivation import derive
    from derivgen.problem import load

    from collections.abc import Mapping
    from pathlib import PurePath

    leaves = (str, int, float, bool, type(None), PurePath)
    seen = []

    def visit(value, path):
        seen.append(path)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                visit(getattr(value, f.name), f"{path}.{f.name}")
        elif isinstance(value, Mapping):
            for k, v in value.items():
                visit(k, path)
                visit(v, f"{path}[{k!r}]")
        elif isinstance(value, list | tuple | frozenset | set):
            for i, v in enumerate(value):
                visit(v, f"{path}[{i}]")
        else:
            assert isinstance(value, leaves), f"{path}: {type(value).__module__}.{type(value).__name__}"

    visit(derive(load(PACKAGE.parent / "problems" / "layer_norm.toml")), "d")
    assert any(".views.links" in p for p in seen) and any(".backward.order" in p for p in seen)
