"""The forms an operator is made of, for the registry in :mod:`derivgen.ops`: shape
rules, and the element-wise sympy and numeric forms that several operators share
(element-wise functions with broadcasting, reductions over all entries, each column
or each row, softmax, log-sum-exp)."""

from __future__ import annotations

from .lazy import np, sp
from .shapes import SCALAR, Shape, broadcast, dim_add, surely_below


class ShapeMismatch(Exception):
    """Raised by a shape rule; the parser turns it into a located ShapeError."""


# -- shape rules -----------------------------------------------------------------

def same(shapes, axis):
    return shapes[0]


def elementwise(shapes, axis):
    out = shapes[0]
    for shape in shapes[1:]:
        out = broadcast(out, shape)
        if out is None:
            given = ", ".join(f"{{{n}}} is {s}" for n, s in enumerate(shapes))
            raise ShapeMismatch(f"shapes do not broadcast ({given})")
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
    """The sympy form of an element-wise function of two (or more) matrices, with
    broadcasting."""
    def form(ms, axis):
        rows, cols = max(m.rows for m in ms), max(m.cols for m in ms)
        return sp.Matrix(rows, cols, lambda i, j: f(*(m[i % m.rows, j % m.cols] for m in ms)))
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


# -- integer labels: entries 0..C−1 picking a row or a column ----------------------------
# A labels input's entries are concrete integers in both forms: in the element-wise
# view the values it is shown with, in the numeric checks the values drawn.

def _vector_length(y: Shape):
    return y.cols if y.rows == 1 else y.rows


def _classes(y: Shape, needed, where: str) -> None:
    if y.labels != needed:
        raise ShapeMismatch(f"{{1}} holds labels of {y.labels} classes, {{0}} has {needed} {where}")


def take_along_axis_shape(shapes, axis):
    """Entry (y_j, j) of each column (axis 0, y a row), or (i, y_i) of each row (axis 1,
    y a column): one entry per label."""
    x, y = shapes
    if axis == 0:
        if y.rows != 1 or y.cols != x.cols:
            raise ShapeMismatch(f"with axis=0 the labels are a row, one per column of {{0}} "
                                f"({{0}} is {x}, {{1}} is {y})")
        _classes(y, x.rows, "rows")
        return Shape(1, x.cols)
    if y.cols != 1 or y.rows != x.rows:
        raise ShapeMismatch(f"with axis=1 the labels are a column, one per row of {{0}} "
                            f"({{0}} is {x}, {{1}} is {y})")
    _classes(y, x.cols, "columns")
    return Shape(x.rows, 1)


def take_shape(shapes, axis):
    """The rows (axis 0) or columns (axis 1) of a matrix listed in the labels, in order."""
    w, x = shapes
    _classes(x, w.rows if axis == 0 else w.cols, "rows" if axis == 0 else "columns")
    m = _vector_length(x)
    return Shape(m, w.cols) if axis == 0 else Shape(w.rows, m)


def one_hot_shape(shapes, axis):
    """C×N for labels 1×N (one column per label), N×C for N×1, C×1 for one label."""
    y = shapes[0]
    return Shape(y.labels, y.cols) if y.rows == 1 else Shape(y.rows, y.labels)


def _label(value) -> int:
    return int(value)       # a label's value is an integer: sympy's Integer, NumPy's float


def sympy_take_along_axis(ms, axis):
    x, y = ms
    if axis == 0:
        return sp.Matrix(1, x.cols, lambda _, j: x[_label(y[0, j]), j])
    return sp.Matrix(x.rows, 1, lambda i, _: x[i, _label(y[i, 0])])


def numpy_take_along_axis(vs, axis):
    return np.take_along_axis(vs[0], vs[1].astype(int), axis=axis)


def sympy_take(ms, axis):
    w, x = ms
    picked = [_label(v) for v in x]
    if axis == 0:
        return sp.Matrix(len(picked), w.cols, lambda m, j: w[picked[m], j])
    return sp.Matrix(w.rows, len(picked), lambda i, m: w[i, picked[m]])


def numpy_take(vs, axis):
    return np.take(vs[0], vs[1].astype(int).ravel(), axis=axis)


def sympy_one_hot(ms, axis):
    y, classes = ms
    c = _label(classes[0, 0])
    if y.rows == 1:
        return sp.Matrix(c, y.cols, lambda i, j: int(_label(y[0, j]) == i))
    return sp.Matrix(y.rows, c, lambda i, j: int(_label(y[i, 0]) == j))


def numpy_one_hot(vs, axis):
    y, classes = vs[0].astype(int), int(vs[1][0, 0])
    return (np.arange(classes)[:, None] == y).astype(float) if y.shape[0] == 1 else \
        (y == np.arange(classes)[None, :]).astype(float)


# -- slices and joins: a node's axis is a Span (derivgen.shapes), its bounds numbers here --

def slice_shape(shapes, span):
    """Rows (columns) start..stop−1: as many as stop − start, the other side kept."""
    x = shapes[0]
    end = x.rows if span.axis == 0 else x.cols
    if span.start == span.stop or surely_below(span.stop, span.start):
        raise ShapeMismatch(f"the slice {span.start}:{span.stop} of {{0}} is empty")
    if surely_below(end, span.stop):
        raise ShapeMismatch(f"{{0}} is {x}: the slice {span.start}:{span.stop} ends beyond its "
                            f"{end} {'rows' if span.axis == 0 else 'columns'}")
    return Shape(span.length, x.cols) if span.axis == 0 else Shape(x.rows, span.length)


def concat_shape(shapes, span):
    """A beside B (axis 1: the same rows) or above it (axis 0: the same columns)."""
    a, b = shapes
    keep = (a.cols, b.cols) if span.axis == 0 else (a.rows, b.rows)
    if keep[0] != keep[1]:
        side = "columns" if span.axis == 0 else "rows"
        raise ShapeMismatch(f"joined along axis {span.axis}, the parts need the same {side} "
                            f"({{0}} is {a}, {{1}} is {b})")
    return Shape(dim_add(a.rows, b.rows), a.cols) if span.axis == 0 else \
        Shape(a.rows, dim_add(a.cols, b.cols))


def sympy_slice(ms, span):
    m = ms[0]
    return m[span.start:span.stop, :] if span.axis == 0 else m[:, span.start:span.stop]


def numpy_slice(vs, span):
    v = vs[0]
    return v[span.start:span.stop, :] if span.axis == 0 else v[:, span.start:span.stop]


def sympy_concat(ms, span):
    return sp.Matrix.vstack(*ms) if span.axis == 0 else sp.Matrix.hstack(*ms)


def numpy_concat(vs, span):
    return np.concatenate(vs, axis=span.axis)
