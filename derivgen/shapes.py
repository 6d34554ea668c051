"""Symbolic matrix shapes.

Every value in derivgen is a matrix. A shape is a pair of dimensions, each
either a dim *name* from the problem's ``[dims]`` table, a literal positive
integer, or arithmetic of them (:class:`DimSum`: ``4*H``, ``T - 1``, what slices
and joins make; ``m*n``, the rows of vec of an m×n matrix). Shapes are compared by
name, never by size: with ``W`` C×D and ``X`` E×N, ``W @ X`` is an error even when
D and E happen to have the same size, because the problem author said they are
different things; ``2*H`` is ``H + H`` and ``m*n`` is ``n*m``.
"""

from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

Monomial = tuple[str, ...]      # dim names multiplied, sorted, repeated for powers: ("n", "n")
# the terms of a product of dimensions, and the dims multiplied in one: a product of
# sums, or a Kronecker product of Kronecker products, grows fast, and files may come
# from strangers (twenty steps of S = kron(S, S) would multiply a million dims)
MAX_PRODUCT = 64


@dataclass(frozen=True)
class DimSum:
    """A dimension as a polynomial in the dims with whole coefficients: 4*H, T - 1, m*p,
    n*n + 1. Always in its one normal form (see :func:`dim`), so equal ones compare equal."""
    terms: tuple[tuple[Monomial, int], ...]    # (monomial, coefficient ≠ 0), see _order
    const: int = 0

    def __str__(self) -> str:
        """In the language's own syntax: 4*H, 2*H + 1, T - 1, m*p."""
        return self.written("*".join, "*")

    def written(self, monomial: Callable[[Monomial], str], times: str) -> str:
        """The sum with each monomial as ``monomial`` writes it and ``times`` between a
        number and its monomial: 4*H and m*p, or 4H and mp in LaTeX."""
        # a positive term first (T - H, 3 - H: the language has no unary minus in a dim)
        terms = list(self.terms)
        positive = next((i for i, (_, k) in enumerate(terms) if k > 0), 0)
        terms[:positive + 1] = terms[positive:positive + 1] + terms[:positive]
        number_first = self.const > 0 and not (terms and terms[0][1] > 0)
        text = str(self.const) if number_first else ""
        for names, k in terms:
            word = monomial(names) if abs(k) == 1 else f"{abs(k)}{times}{monomial(names)}"
            text += (f" {'-' if k < 0 else '+'} " if text else "-" if k < 0 else "") + word
        if self.const and not number_first:
            text += f" {'-' if self.const < 0 else '+'} {abs(self.const)}"
        return text


Dim = str | int | DimSum


def polynomial(d: Dim) -> tuple[dict[Monomial, int], int]:
    """A dimension as (coefficient of each monomial, number)."""
    if isinstance(d, DimSum):
        return dict(d.terms), d.const
    return ({(d,): 1}, 0) if isinstance(d, str) else ({}, d)


def _order(term: tuple[Monomial, int]):
    """Terms of higher degree first (m*n + m + 1), then by their dims' names."""
    return -len(term[0]), term[0]


def dim(terms: Mapping[Monomial, int], const: int) -> Dim:
    """The normal form: a number, a dim's name, or a DimSum."""
    terms = {names: k for names, k in sorted(terms.items(), key=_order) if k}
    if not terms:
        return const
    if const == 0 and list(terms.values()) == [1] and len(names := next(iter(terms))) == 1:
        return names[0]
    return DimSum(tuple(terms.items()), const)


def dim_add(a: Dim, b: Dim, sign: int = 1) -> Dim:
    """a + b (a − b with sign −1)."""
    (ta, ca), (tb, cb) = polynomial(a), polynomial(b)
    return dim({n: ta.get(n, 0) + sign * tb.get(n, 0) for n in ta.keys() | tb.keys()},
               ca + sign * cb)


def dim_mul(a: Dim, b: Dim) -> Dim:
    """a · b: the rows of vec of an a×b matrix, of a Kronecker product's factors."""
    (ta, ca), (tb, cb) = polynomial(a), polynomial(b)
    product: dict[Monomial, int] = {}
    # the number is the coefficient of the monomial of no dims, ()
    for (ma, ka), (mb, kb) in itertools.product([*ta.items(), ((), ca)], [*tb.items(), ((), cb)]):
        names = tuple(sorted(ma + mb))
        product[names] = product.get(names, 0) + ka * kb
    out = dim(product, product.pop((), 0))
    terms = polynomial(out)[0]
    if ta and tb and (len(terms) > MAX_PRODUCT or max(map(len, terms)) > MAX_PRODUCT):
        raise NotADim(None, f"too large a dimension: a product of more than {MAX_PRODUCT} "
                            f"terms, or of more than {MAX_PRODUCT} dims")
    return out


def dim_scale(k: int, a: Dim) -> Dim:
    """k · a for a whole number k: 4*H."""
    return dim_mul(k, a)


def surely_below(a: Dim, b: Dim) -> bool:
    """Whether a < b whatever the sizes of the dims (each at least 1, so that a monomial
    is at least 1 and a term with a positive coefficient at least that coefficient)."""
    terms, const = polynomial(dim_add(b, a, -1))
    return all(k >= 0 for k in terms.values()) and sum(terms.values()) + const > 0


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


class Named(dict):
    """Sizes for :func:`dim_size` made on first use by ``size(name)``: each dim as the
    symbol a formula writes it with (δ_jl / N, not / 3)."""

    def __init__(self, size) -> None:
        super().__init__()
        self.size = size

    def __missing__(self, name: str):
        return self.size(name)


def dim_size(d: Dim, dims: Mapping):
    """A dimension's size: a number, the size of the dim it names, or its polynomial's
    value (with ``dims`` mapping names to sympy symbols, a symbolic size: 4 H, m p)."""
    terms, const = polynomial(d)
    return sum((k * math.prod(dims[name] for name in names) for names, k in terms.items()),
               const)


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
    or sums and products of them: 4*H, T - 1, 2*(H + 1), m*n."""
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
            try:
                return dim_mul(a, b)
            except NotADim as e:
                raise NotADim(node, e.why) from None
        case ast.Name(id=name):
            raise NotADim(node, f"'{name}' is not a dim")
        case ast.UnaryOp(op=ast.USub()):
            raise NotADim(node, "rows and columns count from 0: no negative bounds")
    raise NotADim(node, "a dimension is a whole number, a dim, or sums and products of "
                         "them (0, H, 2*H, T - 1, m*n)")


def parse_dim(text: str, dims: Collection[str]) -> Dim:
    """A dimension written as text (``"4*H"`` in a shape); NotADim where it is not one."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise NotADim(None, "cannot parse this dimension") from None
    return dim_expression(tree.body, lambda name: name in dims)


def vec_length(shape: Shape) -> Dim:
    """How many entries vec of a matrix of ``shape`` has: rows times columns."""
    return dim_mul(shape.rows, shape.cols)
