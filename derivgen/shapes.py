"""Symbolic matrix shapes.

Every value in derivgen is a matrix. A shape is a pair of dimensions, each
either a dim *name* from the problem's ``[dims]`` table or a literal positive
integer. Shapes are compared by name, never by size: with ``W`` C×D and ``X``
E×N, ``W @ X`` is an error even when D and E happen to have the same size,
because the problem author said they are different things.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Dim = str | int


@dataclass(frozen=True)
class Shape:
    rows: Dim
    cols: Dim
    labels: Dim | None = None   # for integer class labels: how many classes (entries 0..C−1)

    def __str__(self) -> str:
        return f"{self.rows}×{self.cols}"

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


def dim_size(d: Dim, dims: Mapping[str, int]) -> int:
    """A dimension's size: a number, or the size of the dim it names."""
    return d if isinstance(d, int) else dims[d]


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
