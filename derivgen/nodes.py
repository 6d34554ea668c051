"""Expression trees: the nodes every part of derivgen builds and reads.

A small immutable tree of :class:`Const`, :class:`Ref` and :class:`Apply`
nodes, each carrying its symbolic :class:`~derivgen.shapes.Shape`. Arithmetic
on nodes builds nodes, so the derivative rules of :mod:`derivgen.ops` read as
maths (``g @ b.T``). This module does not import the operator registry; the
registry lends it each operator's shape rule (:data:`SHAPE_RULES`) as it is
defined, so rules can build nodes without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from .shapes import SCALAR, Dim, Shape, polynomial

SHAPE_RULES: dict[str, Callable] = {}     # operator name -> shape(shapes, axis), from ops.py


class _Operators:
    """Arithmetic on nodes builds nodes, so rules read as maths: ``g @ b.T``."""

    def __add__(self, other): return make("add", self, other)
    def __radd__(self, other): return make("add", other, self)
    def __sub__(self, other): return make("sub", self, other)
    def __rsub__(self, other): return make("sub", other, self)
    def __mul__(self, other): return make("mul", self, other)
    def __rmul__(self, other): return make("mul", other, self)
    def __truediv__(self, other): return make("div", self, other)
    def __rtruediv__(self, other): return make("div", other, self)
    def __pow__(self, other): return make("pow", self, other)
    def __matmul__(self, other): return make("matmul", self, other)
    def __neg__(self): return make("neg", self)

    @property
    def T(self): return make("transpose", self)


@dataclass(frozen=True)
class Const(_Operators):
    value: int | float
    shape: Shape = SCALAR


@dataclass(frozen=True)
class Ref(_Operators):
    name: str
    kind: str           # "dim", "input" or "step"
    shape: Shape


@dataclass(frozen=True)
class Apply(_Operators):
    op: str             # a key of derivgen.ops.OPS
    args: tuple["Node", ...]
    shape: Shape
    axis: int | None = None


Node = Const | Ref | Apply


def make(op: str, *args: "Node | int | float", axis: int | None = None) -> Node:
    """Build an operator node, numbers becoming constants; its shape follows the
    operator's rule (a ShapeMismatch here is a bug in the caller)."""
    nodes = tuple(a if isinstance(a, Const | Ref | Apply) else Const(a) for a in args)
    if op in _INTEGER_ARITHMETIC and all(isinstance(n, Const) for n in nodes):
        value = _INTEGER_ARITHMETIC[op](*(n.value for n in nodes))
        if value == int(value) >= 0:    # a rule's exponent b − 1 at b = 2 is 1, not 2 − 1
            return Const(int(value))
        if value == int(value):         # -2 as the language reads it: the negation of 2
            return Apply("neg", (Const(int(-value)),), SHAPE_RULES["neg"]((SCALAR,), None))
    if op == "mul" and len(nodes) == 2 and Const(1) in nodes:     # G 𝟏 at G = 1 is 𝟏
        return nodes[1] if nodes[0] == Const(1) else nodes[0]
    if op in ("add", "sub") and nodes[1] == Const(0) and nodes[0].shape == _shape(op, nodes):
        return nodes[0]                                             # a rule's a − b at b = 0
    if op == "sub" and nodes[0] == Const(0) and nodes[1].shape == _shape(op, nodes):
        return make("neg", nodes[1])                                # and at a = 0: −b
    return Apply(op, nodes, SHAPE_RULES[op](tuple(n.shape for n in nodes), axis), axis)


def _shape(op: str, nodes) -> Shape:
    return SHAPE_RULES[op](tuple(n.shape for n in nodes), None)


# numbers a rule combines, folded when the result is a whole number (nothing is rounded)
_INTEGER_ARITHMETIC: dict[str, Callable] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "neg": lambda a: -a}


def chain(op: str, nodes: list[Node]) -> Node:
    """``nodes`` combined left to right by a binary operator: a + b + c, A @ B @ C."""
    out = nodes[0]
    for node in nodes[1:]:
        out = make(op, out, node)
    return out


def dim_node(d: Dim) -> Node:
    """A dimension as a number in an expression: a dim's name, a literal size, or their
    sums and products (4 * H, T - 1, m * p)."""
    if isinstance(d, str | int):
        return Ref(d, "dim", SCALAR) if isinstance(d, str) else Const(d)
    terms, const = polynomial(d)
    # a number times its dims, left to right: 2 * m * n
    parts = [chain("mul", ([Const(abs(k))] if abs(k) != 1 else [])
                   + [Ref(n, "dim", SCALAR) for n in names]) for names, k in terms.items()]
    signs = [k > 0 for k in terms.values()]
    out = parts[0] if signs[0] else make("neg", parts[0])
    for part, positive in zip(parts[1:], signs[1:]):
        out = make("add" if positive else "sub", out, part)
    return out if not const else make("add" if const > 0 else "sub", out, Const(abs(const)))


def substitute(node: Node, values: Mapping[str, Node]) -> Node:
    """``node`` with each name in ``values`` replaced by its value, in turn (a value may
    use names of its own): a gradient G_S written out, dS put in for a differential."""
    if isinstance(node, Ref) and node.name in values:
        return substitute(values[node.name], values)
    if isinstance(node, Apply):
        return Apply(node.op, tuple(substitute(a, values) for a in node.args), node.shape,
                     node.axis)
    return node


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    yield node
    if isinstance(node, Apply):
        for arg in node.args:
            yield from walk(arg)


def names(node: Node) -> set[str]:
    """The names (dims, inputs, steps) an expression uses."""
    return {n.name for n in walk(node) if isinstance(n, Ref)}
