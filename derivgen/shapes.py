"""Symbolic matrix shapes.

Every value in derivgen is a matrix. A shape is a pair of dimensions, each
either a dim *name* from the problem's ``[dims]`` table, a literal positive
integer, or arithmetic of them (:class:`DimSum`: ``4*H``, ``T - 1``, what slices
and joins make). Shapes are compared by name, never by size: with ``W`` C×D and
``X`` E×N, ``W @ X`` is an error even when D and E happen to have the same size,
because the problem author said they are different things; ``2*H`` is ``H + H``.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class DimSum:
    """A dimension as a sum of dims times whole numbers plus a number: 4*H, T - 1.
    Always in its one normal form (see :func:`dim`), so equal sums compare equal."""
    terms: tuple[tuple[str, int], ...]      # (dim name, coefficient ≠ 0), by name
    const: int = 0

    def __str__(self) -> str:
        """In the language's own syntax: 4*H, 2*H + 1, T - 1."""
        return self.written("*")

    def written(self, times: str) -> str:
        """The sum with ``times`` between a number and its dim: 4*H, or 4H in LaTeX."""
        text = ""
        for name, k in self.terms:
            word = name if abs(k) == 1 else f"{abs(k)}{times}{name}"
            text += (f" {'-' if k < 0 else '+'} " if text else "-" if k < 0 else "") + word
        return text + (f" {'-' if self.const < 0 else '+'} {abs(self.const)}" if self.const else "")


Dim = str | int | DimSum


def linear(d: Dim) -> tuple[dict[str, int], int]:
    """A dimension as (coefficient of each dim, number)."""
    if isinstance(d, DimSum):
        return dict(d.terms), d.const
    return ({d: 1}, 0) if isinstance(d, str) else ({}, d)


def dim(terms: Mapping[str, int], const: int) -> Dim:
    """The normal form: a number, a dim's name, or a DimSum."""
    terms = {name: k for name, k in sorted(terms.items()) if k}
    if not terms:
        return const
    if const == 0 and list(terms.values()) == [1]:
        return next(iter(terms))
    return DimSum(tuple(terms.items()), const)


def dim_add(a: Dim, b: Dim, sign: int = 1) -> Dim:
    """a + b (a − b with sign −1)."""
    (ta, ca), (tb, cb) = linear(a), linear(b)
    return dim({n: ta.get(n, 0) + sign * tb.get(n, 0) for n in ta.keys() | tb.keys()},
               ca + sign * cb)


def surely_below(a: Dim, b: Dim) -> bool:
    """Whether a < b whatever the sizes of the dims (each at least 1)."""
    terms, const = linear(dim_add(b, a, -1))
    return all(k >= 0 for k in terms.values()) and sum(terms.values()) + const > 0


def dim_scale(k: int, a: Dim) -> Dim:
    terms, const = linear(a)
    return dim({n: k * c for n, c in terms.items()}, k * const)


@dataclass(frozen=True)
class Shape:
    rows: Dim
    cols: Dim
    labels: Dim | None = None   # for integer class labels: how many classes (entries 0..C−1)

    def __str__(self) -> str:
        def one(d: Dim) -> str:
            return f"({d})" if isinstance(d, DimSum) else str(d)
        return f"{one(self.rows)}×{one(self.cols)}"

    @property
    def is_scalar(self) -> bool:
        return self.rows == 1 and self.cols == 1

    @property
    def is_square(self) -> bool:
        return self.rows == self.cols

    @property
    def T(self) -> "Shape":
        return Shape(self.cols, self.rows)

    def size(self, dims: Mapping[str, int]) -> tuple[int, int]:
        """The concrete (rows, cols) of this shape at the given dim sizes."""
        return dim_size(self.rows, dims), dim_size(self.cols, dims)


def dim_size(d: Dim, dims: Mapping):
    """A dimension's size: a number, the size of the dim it names, or its sum (with
    ``dims`` mapping names to sympy symbols, a symbolic size: 4 H)."""
    terms, const = linear(d)
    return sum((k * dims[name] for name, k in terms.items()), const)


SCALAR = Shape(1, 1)


def broadcast(a: Shape, b: Shape) -> Shape | None:
    """The shape of an element-wise operation on ``a`` and ``b``, or None.

    NumPy's rule, dimension by dimension: equal dimensions stay, and a dimension of
    1 stretches to the other's. So a 1×1 operand combines with any shape, an r×1
    column goes across the columns of an r×c matrix, a 1×c row down its rows, and
    an r×1 column with a 1×c row makes the r×c grid of their sums (or products),
    in either order.
    """
    def one(x: Dim, y: Dim) -> Dim | None:
        return x if x == y or y == 1 else y if x == 1 else None
    rows, cols = one(a.rows, b.rows), one(a.cols, b.cols)
    return None if rows is None or cols is None else Shape(rows, cols)


@dataclass(frozen=True)
class Span:
    """Where a slice or a join acts: rows (axis 0) or columns (axis 1) ``start`` up to,
    not including, ``stop``, counted from 0 as NumPy does (X[:, start:stop]). A slice
    keeps them; a join of A and B says where B lies: A's rows (columns) are 0..start−1."""
    axis: int
    start: Dim
    stop: Dim

    @property
    def length(self) -> Dim:
        return dim_add(self.stop, self.start, -1)

    def at(self, dims: Mapping) -> "Span":
        """The span at given sizes: its bounds as numbers (or sympy expressions)."""
        return Span(self.axis, dim_size(self.start, dims), dim_size(self.stop, dims))


# -- dimensions written as text: "4*H" in a shape, 2*H in a slice bound ----------------

class NotADim(Exception):
    """Text that is not a dimension, with the syntax node at fault (if any) and why."""

    def __init__(self, node: ast.AST, why: str) -> None:
        super().__init__(why)
        self.node, self.why = node, why


def dim_expression(node: ast.AST, is_dim) -> Dim:
    """A dimension written in the language: a whole number ≥ 0, a dim (``is_dim(name)``),
    or a sum of them, each term perhaps times a number: 4*H, T - 1, 2*(H + 1)."""
    match node:
        case ast.Constant(value=value) if type(value) is int and value >= 0:
            return value
        case ast.Name(id=name) if is_dim(name):
            return name
        case ast.BinOp(op=ast.Add() | ast.Sub() as op, left=left, right=right):
            return dim_add(dim_expression(left, is_dim), dim_expression(right, is_dim),
                           1 if isinstance(op, ast.Add) else -1)
        case ast.BinOp(op=ast.Mult(), left=left, right=right):
            a, b = dim_expression(left, is_dim), dim_expression(right, is_dim)
            if not isinstance(a, int) and not isinstance(b, int):
                raise NotADim(node, "a dimension is a sum of dims times whole numbers")
            return dim_scale(a, b) if isinstance(a, int) else dim_scale(b, a)
        case ast.Name(id=name):
            raise NotADim(node, f"'{name}' is not a dim")
        case ast.UnaryOp(op=ast.USub()):
            raise NotADim(node, "rows and columns count from 0: no negative bounds")
    raise NotADim(node, "a dimension is a whole number, a dim, or a sum of them "
                         "(0, H, 2*H, T - 1)")


def parse_dim(text: str, dims: Collection[str]) -> Dim:
    """A dimension written as text (``"4*H"`` in a shape); NotADim where it is not one."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise NotADim(None, "cannot parse this dimension") from None
    return dim_expression(tree.body, lambda name: name in dims)
