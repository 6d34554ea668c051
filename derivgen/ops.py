"""The operator registry: everything derivgen knows about each operator.

One :class:`Op` per operator of the expression language, in one place. The
parser looks operators up here (by function name or by operator symbol), and
every operator states its own shape rule. The derivation engine extends the
same entries with the numeric forward, the element-wise sympy form, the
derivative rule of each argument and the LaTeX; nothing about an operator
lives anywhere else.

A shape rule receives the argument shapes and the ``axis`` (None when not
given) and returns the result shape, or raises :class:`ShapeMismatch` with a
sentence saying what does not fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .shapes import SCALAR, Shape, broadcast


class ShapeMismatch(Exception):
    """Raised by a shape rule; the parser turns it into a located ShapeError."""


ShapeRule = Callable[[tuple[Shape, ...], "int | None"], Shape]


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    shape: ShapeRule
    doc: str
    symbol: str | None = None   # how an operator (not a function) is written: '+', '@', '.T', ...
    axis: Literal["none", "optional", "required"] = "none"

    @property
    def is_function(self) -> bool:
        return self.symbol is None


# -- shape rules -----------------------------------------------------------

def same(shapes, axis):
    return shapes[0]


def elementwise(shapes, axis):
    a, b = shapes
    out = broadcast(a, b)
    if out is None:
        raise ShapeMismatch(f"shapes do not broadcast ({{0}} is {a}, {{1}} is {b})")
    return out


def matmul(shapes, axis):
    a, b = shapes
    if a.cols != b.rows:
        raise ShapeMismatch(f"inner dimensions differ ({{0}} is {a}, {{1}} is {b})")
    return Shape(a.rows, b.cols)


def transpose(shapes, axis):
    return shapes[0].T


def reduce(shapes, axis):
    a = shapes[0]
    return {None: SCALAR, 0: Shape(1, a.cols), 1: Shape(a.rows, 1)}[axis]


def square_to_scalar(shapes, axis):
    square(shapes, axis)
    return SCALAR


def square(shapes, axis):
    a = shapes[0]
    if not a.is_square:
        raise ShapeMismatch(f"needs a square matrix, {{0}} is {a}")
    return a


# -- the registry ------------------------------------------------------------

_ELEMENTWISE_FUNCTIONS = {
    "exp": "e to the power of each entry",
    "log": "natural logarithm of each entry",
    "sqrt": "square root of each entry",
    "tanh": "hyperbolic tangent of each entry",
    "sigmoid": "logistic function 1 / (1 + e^-x) of each entry",
    "relu": "max(x, 0) of each entry",
    "abs": "absolute value of each entry",
    "sin": "sine of each entry",
    "cos": "cosine of each entry",
    "step": "1 where the entry is > 0, 0 elsewhere",
    "sign": "-1, 0 or 1: the sign of each entry",
}

_ALL = [
    Op("add", 2, elementwise, "element-wise sum, with broadcasting", symbol="+"),
    Op("sub", 2, elementwise, "element-wise difference, with broadcasting", symbol="-"),
    Op("mul", 2, elementwise, "element-wise (Hadamard) product, with broadcasting", symbol="*"),
    Op("div", 2, elementwise, "element-wise quotient, with broadcasting", symbol="/"),
    Op("pow", 2, elementwise, "element-wise power, with broadcasting", symbol="**"),
    Op("matmul", 2, matmul, "matrix product", symbol="@"),
    Op("neg", 1, same, "negation", symbol="-"),
    Op("transpose", 1, transpose, "transpose", symbol=".T"),
    *(Op(name, 1, same, doc) for name, doc in _ELEMENTWISE_FUNCTIONS.items()),
    Op("sum", 1, reduce, "sum of all entries, or of each column (axis=0) or row (axis=1)",
       axis="optional"),
    Op("mean", 1, reduce, "mean of all entries, or of each column (axis=0) or row (axis=1)",
       axis="optional"),
    Op("softmax", 1, same, "each column (axis=0) or row (axis=1) normalised: exp(a) / sum of exp",
       axis="required"),
    Op("logsumexp", 1, reduce, "log of the sum of exp over each column (axis=0) or row (axis=1)",
       axis="required"),
    Op("trace", 1, square_to_scalar, "sum of the diagonal of a square matrix"),
    Op("det", 1, square_to_scalar, "determinant of a square matrix"),
    Op("logdet", 1, square_to_scalar, "log of the determinant of a square matrix"),
    Op("inv", 1, square, "inverse of a square matrix"),
]

OPS: dict[str, Op] = {op.name: op for op in _ALL}
FUNCTIONS: dict[str, Op] = {op.name: op for op in _ALL if op.is_function}
