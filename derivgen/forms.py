"""The forms an operator is made of, for the registry in :mod:`derivgen.ops`: shape
rules, and the element-wise sympy and numeric forms that several operators share
(element-wise functions with broadcasting, reductions over all entries, each column
or each row, softmax, log-sum-exp)."""

from __future__ import annotations

from .lazy import np, sp
from .shapes import SCALAR, Shape, broadcast


class ShapeMismatch(Exception):
    """Raised by a shape rule; the parser turns it into a located ShapeError."""


# -- shape rules -----------------------------------------------------------------

def same(shapes, axis):
    return shapes[0]


def elementwise(shapes, axis):
    a, b = shapes
    out = broadcast(a, b)
    if out is None:
        raise ShapeMismatch(f"shapes do not broadcast ({{0}} is {a}, {{1}} is {b})")
    return out


def matmul_shape(shapes, axis):
    a, b = shapes
    if a.cols != b.rows:
        raise ShapeMismatch(f"inner dimensions differ ({{0}} is {a}, {{1}} is {b})")
    return Shape(a.rows, b.cols)


def reduce_shape(shapes, axis):
    a = shapes[0]
    return {None: SCALAR, 0: Shape(1, a.cols), 1: Shape(a.rows, 1)}[axis]


def diag_shape(shapes, axis):
    """diag of a vector is a square matrix; of a square matrix, its diagonal as a column."""
    a = shapes[0]
    if a.cols == 1 or a.rows == 1:
        n = a.rows if a.cols == 1 else a.cols
        return Shape(n, n)
    if a.is_square:
        return Shape(a.rows, 1)
    raise ShapeMismatch(f"needs a vector or a square matrix, {{0}} is {a}")


def sympy_diag(ms, axis):
    m = ms[0]
    if m.cols == 1 or m.rows == 1:
        return sp.diag(*list(m))
    return sp.Matrix([[m[i, i]] for i in range(m.rows)])


def numpy_diag(vs, axis):
    v = vs[0]
    return np.diag(v.ravel()) if 1 in v.shape else np.diag(v).reshape(-1, 1)


def square(shapes, axis):
    a = shapes[0]
    if not a.is_square:
        raise ShapeMismatch(f"needs a square matrix, {{0}} is {a}")
    return a


def square_to_scalar(shapes, axis):
    square(shapes, axis)
    return SCALAR


# -- helpers for element-wise sympy forms ------------------------------------------

def entrywise(f):
    """The sympy form of an element-wise function of one matrix."""
    return lambda ms, axis: ms[0].applyfunc(f)


def entrywise2(f):
    """The sympy form of an element-wise function of two matrices, with broadcasting."""
    def form(ms, axis):
        a, b = ms
        rows, cols = max(a.rows, b.rows), max(a.cols, b.cols)
        return sp.Matrix(rows, cols, lambda i, j: f(a[i % a.rows, j % a.cols],
                                                    b[i % b.rows, j % b.cols]))
    return form


def sympy_reduce(f):
    """The sympy form of a reduction: f(list of entries) over all, each column or each row."""
    def form(ms, axis):
        m = ms[0]
        if axis is None:
            return sp.Matrix([[f(list(m))]])
        if axis == 0:
            return sp.Matrix([[f(list(m[:, j])) for j in range(m.cols)]])
        return sp.Matrix([[f(list(m[i, :]))] for i in range(m.rows)])
    return form


def sympy_softmax(ms, axis):
    m = ms[0]
    e = m.applyfunc(sp.exp)
    sums = sympy_reduce(lambda xs: sp.Add.fromiter(xs))([e], axis)
    return sp.Matrix(m.rows, m.cols, lambda i, j: e[i, j] / sums[0 if axis == 0 else i,
                                                                0 if axis == 1 else j])


def sympy_sigmoid(x):
    return 1 / (1 + sp.exp(-x))


def sympy_logsumexp(entries):
    return sp.log(sp.Add.fromiter(sp.exp(x) for x in entries))


# -- helpers for numeric forms -----------------------------------------------------

def numpy_reduce(f):
    return lambda vs, axis: (np.asarray(f(vs[0])).reshape(1, 1) if axis is None
                             else f(vs[0], axis=axis, keepdims=True))


def numpy_softmax(vs, axis):
    e = np.exp(vs[0] - vs[0].max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def numpy_logsumexp(vs, axis):
    m = vs[0].max(axis=axis, keepdims=True)
    return m + np.log(np.exp(vs[0] - m).sum(axis=axis, keepdims=True))


def numpy_logdet(vs, axis):
    sign, logabs = np.linalg.slogdet(vs[0])
    return np.array([[logabs if sign > 0 else np.nan]])
