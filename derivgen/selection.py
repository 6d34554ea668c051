"""Operators that select (entries of :mod:`derivgen.ops`' registry): entries picked by
integer class labels, rows looked up by them, and the one-hot matrix of labels.

Labels count from 0, as in NumPy, while rows are numbered from 1 on paper: label c
names row c + 1. A labels input is constant: its rules are None.
"""

from __future__ import annotations

from .forms import (numpy_one_hot, numpy_take, numpy_take_along_axis, one_hot_shape,
                    sympy_one_hot, sympy_take, sympy_take_along_axis, take_along_axis_shape,
                    take_shape)
from .nodes import dim_node
from .op import Op, applied, delta
from .shapes import SCALAR, Shape

ONE_HOT = Op(
    "one_hot", 2, one_hot_shape, numpy_one_hot, sympy_one_hot, (None, None),
    "one column per label, 1 in the label's row and 0 elsewhere (one row per label, "
    "for a column of labels)",
    latex=r"\operatorname{onehot}", domain=(None, None), index=(None, None),
    facts=lambda node: frozenset({"one_hot_columns" if node.args[0].shape.rows == 1
                                  else "one_hot_rows"}),
    examples=((Shape(1, "c", "n"), SCALAR), (Shape("r", 1, "n"), SCALAR)),
    implicit=(lambda shapes: dim_node(shapes[0].labels),))     # the number of classes


def one_hot(y):
    """The one-hot matrix of the labels ``y``: one column (row) per label of a row (column)."""
    return applied(ONE_HOT, [y])


SELECTION = [
    # picking entries, rows or columns by label spreads the gradient back to where it
    # was picked, adding up where labels repeat
    Op("take_along_axis", 2, take_along_axis_shape, numpy_take_along_axis,
       sympy_take_along_axis, (lambda g, ans, x, y, axis: one_hot(y) * g, None),
       "the entry each label picks from its column (from its row, with axis=1); labels "
       "count from 0, as in NumPy: label c picks row c + 1",
       axis="required", latex=r"\operatorname{pick}", domain=(None, None),
       # y_j is y's only entry along the picked axis: y[j, j] reads it in a row or a column
       index=(lambda o, a, i, j, k, l, axis, n: (
           delta(k, a[1][j, j]) * delta(j, l) if axis == 0 else
           delta(i, k) * delta(l, a[1][i, i])), None),
       examples=((Shape("n", "c"), Shape(1, "c", "n")), (Shape("r", "n"), Shape("r", 1, "n")))),
    # W[x] for labels x: the rule writes the scatter-add as a product with one_hot(x)
    Op("take", 2, take_shape, numpy_take, sympy_take,
       (lambda g, ans, w, x, axis: (
           (one_hot(x) @ g if x.shape.rows == 1 else one_hot(x).T @ g) if axis == 0 else
           (g @ one_hot(x).T if x.shape.rows == 1 else g @ one_hot(x))), None),
       "the rows the labels list, in order, repeats included (the columns, with axis=1); "
       "label c is row c + 1", axis="required", domain=(None, None),
       index=(lambda o, a, i, j, k, l, axis, n: (
           delta(k, a[1][i, i]) * delta(j, l) if axis == 0 else
           delta(i, k) * delta(l, a[1][j, j])), None),
       examples=((Shape("n", "c"), Shape(1, "k", "n")), (Shape("n", "c"), Shape("k", 1, "n")),
                 (Shape("r", "n"), Shape(1, "k", "n")))),
    ONE_HOT,
]
