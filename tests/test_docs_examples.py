"""docs/problem-format.md documents each operator with an example: its table
"Operators by example" has one row per operator of the registry, in registry order,
and each example parses, with the shapes that section lists, and uses its operator."""

import re

import pytest

from conftest import ROOT
from derivgen.expr import Binding, parse
from derivgen.nodes import Apply, walk
from derivgen.ops import OPS
from derivgen.shapes import SCALAR, Shape, dim_scale

DOC = (ROOT / "docs" / "problem-format.md").read_text(encoding="utf-8")


def documented() -> list[tuple[str, str]]:
    """(operator, example) for each row `| `op` | `example` | ... |` of the section."""
    section = DOC.partition("\n### Operators by example\n")[2].partition("\n#")[0]
    rows = re.findall(r"^\| `(.+?)` \| `(.+?)` \| .+ \|$", section, re.MULTILINE)
    return [(op.replace("\\|", "|"), example.replace("\\|", "|")) for op, example in rows]


# a binary operator is written as its symbol (`+`), any other by its name (`neg`)
NAMES = {op.symbol if op.symbol and op.arity == 2 else name: name for name, op in OPS.items()}
ROWS = documented()


def matrix(rows, cols, labels=None):
    return Binding("input", Shape(rows, cols, labels))


SCOPE = {dim: Binding("dim", SCALAR) for dim in ("C", "D", "H", "K", "N", "V")}
SCOPE |= {
    "X": matrix("D", "N"), "Xc": matrix("D", "N"), "W": matrix("C", "D"), "b": matrix("C", 1),
    "S": matrix("C", "N"), "P": matrix("C", "N"), "Y": matrix("C", "N"),
    "y": matrix(1, "N", "C"),
    "W1": matrix("H", "D"), "Om": matrix("H", "D"), "b1": matrix("H", 1), "phi": matrix("H", 1),
    "W2": matrix("C", "H"), "Z": matrix("H", "N"),
    "z": matrix(1, "N"), "t": matrix(1, "N"), "p": matrix(1, "N"),
    "r": matrix("N", 1), "s": matrix("N", 1), "Sigma": matrix("N", "N"),
    "v": matrix("D", 1), "w": matrix("D", 1),
    "E": matrix("V", "D"), "x": matrix(1, "K", "V"),
    "R": matrix("N", "D"), "U": matrix("N", "H"), "M": matrix("D", "H"),
    "Z4": matrix("N", dim_scale(4, "H")), "W3": matrix(dim_scale(3, "D"), "H"),
    **{name: matrix("N", "D") for name in ("E1", "E2", "E3")},
    **{name: matrix(1, 1) for name in ("g", "c", "delta", "eps", "tau", "lam", "alpha")},
}


def test_every_operator_has_an_example_in_registry_order():
    operators = [op for op, _ in ROWS]
    missing = [op for op in NAMES if op not in operators]
    assert not missing, f"operators without an example in docs/problem-format.md: {missing}"
    assert operators == list(NAMES)


@pytest.mark.parametrize("operator, example", ROWS)
def test_each_example_parses_and_uses_its_operator(operator, example):
    tree = parse(example, SCOPE)
    assert any(isinstance(node, Apply) and node.op == NAMES.get(operator) for node in walk(tree))
