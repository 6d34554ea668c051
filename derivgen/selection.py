"""Operators that select (entries of :mod:`derivgen.ops`' registry): entries picked by
integer class labels, rows looked up by them, the one-hot matrix of labels;
piecewise choices: comparisons, where and clip; slices and joins.

Labels count from 0, as in NumPy, while rows are numbered from 1 on paper: label c
names row c + 1. A labels input is constant: its rules are None.

A comparison's value is a truth value, 1 where it holds and 0 elsewhere (an Iverson
bracket [a > b]); it is piecewise constant, so its derivative is 0 almost
everywhere. Truth values appear only as conditions: where's first argument, and
the operands of & and |. A piecewise function's derivative holds off the
boundaries between its pieces, where the numeric checks' random points fall.
"""

from __future__ import annotations

import functools

from .forms import (concat_shape, elementwise, entrywise2, numpy_concat, numpy_one_hot,
                    numpy_reduce, numpy_slice, numpy_take, numpy_take_along_axis, one_hot_shape,
                    reduce_shape, slice_shape, sympy_concat, sympy_one_hot, sympy_reduce,
                    sympy_slice, sympy_take, sympy_take_along_axis, take_along_axis_shape,
                    take_shape)
from .lazy import np, sp
from .nodes import dim_node, make
from .op import (Op, applied, delta, diagonal, infix, reduction, stretched, template,
                 torch_reduction, unbroadcast)
from .shapes import SCALAR, Shape, Span, dim_add

ONE_HOT = Op(
    "one_hot", 2, one_hot_shape, numpy_one_hot, sympy_one_hot, (None, None),
    "one column per label, 1 in the label's row and 0 elsewhere (one row per label, "
    "for a column of labels)", jvp=(None, None),
    # a row of labels gives one column each; a column of labels one row each
    code=lambda a, axis, shapes: (
        f"(np.arange({a[1]})[:, None] == {a[0]}).astype(float)" if shapes[0].rows == 1 else
        f"({a[0]} == np.arange({a[1]})[None, :]).astype(float)"),
    torch_code=lambda a, axis, shapes: (
        f"(torch.arange({a[1]}, device={a[0]}.device)[:, None] == {a[0]}).double()"
        if shapes[0].rows == 1 else
        f"({a[0]} == torch.arange({a[1]}, device={a[0]}.device)[None, :]).double()"),
    latex=r"\operatorname{onehot}", domain=(None, None), index=(None, None),
    facts=lambda node: frozenset({"one_hot_columns" if node.args[0].shape.rows == 1
                                  else "one_hot_rows"}),
    examples=((Shape(1, "c", "n"), SCALAR), (Shape("r", 1, "n"), SCALAR)),
    implicit=(lambda shapes: dim_node(shapes[0].labels),))     # the number of classes


def one_hot(y):
    """The one-hot matrix of the labels ``y``: one column (row) per label of a row (column)."""
    return applied(ONE_HOT, [y])


def sliced(x, axis: int, start, stop):
    """x[start:stop, :] (axis 0) or x[:, start:stop] (axis 1)."""
    return make("slice", x, axis=Span(axis, start, stop))


def concat(parts, axis: int):
    """The parts side by side (axis 1) or stacked (axis 0): a chain of joins of two."""
    out = parts[0]
    for part in parts[1:]:
        out = make("concat", out, part, axis=_join_span((out.shape, part.shape), axis))
    return out


def joined(node, axis: int) -> list:
    """The parts of a chain of joins along ``axis``, in order; a node that is no such
    join is its one part."""
    if getattr(node, "op", None) == "concat" and node.axis.axis == axis:
        return joined(node.args[0], axis) + [node.args[1]]
    return [node]


def _join_span(shapes, axis):
    """Where the second part of a join lies: after the first's rows (columns)."""
    first = shapes[0].rows if axis == 0 else shapes[0].cols
    second = shapes[1].rows if axis == 0 else shapes[1].cols
    return Span(axis, first, dim_add(first, second))


def _padded(g, x, span: Span):
    """g placed in rows (columns) start..stop−1 of a matrix of zeros shaped like x: the
    adjoint of slicing, written as a join with zero blocks (none where g reaches an end)."""
    n = x.shape.rows if span.axis == 0 else x.shape.cols
    blocks = [make("zeros_like", sliced(x, span.axis, 0, span.start))] if span.start != 0 else []
    blocks += [g]
    if span.stop != n:
        blocks.append(make("zeros_like", sliced(x, span.axis, span.stop, n)))
    return concat(blocks, span.axis)


def _sliced_source(a, span, shapes):
    """x[1:3, :] or x[:, H:2*H]: the bounds as the language writes dims, which Python reads."""
    bounds = f"{span.start}:{span.stop}"
    return f"{a[0]}[{bounds}, :]" if span.axis == 0 else f"{a[0]}[:, {bounds}]"


def where(c, a, b):
    return make("where", c, a, b)


_TRUTH = frozenset({"binary"})       # a truth value's square is itself
_TRUTHS = ("binary", "binary")       # the arguments of & and |


def _comparison(name, symbol, tex, numpy_f, sympy_f):
    return Op(name, 2, elementwise, lambda vs, axis: numpy_f(*vs).astype(float),
              entrywise2(sympy_f), (None, None),
              f"1 where A {symbol} B, else 0, entry by entry", jvp=(None, None),
              code=infix(symbol), torch_code=infix(symbol), symbol=symbol,
              precedence=-3,
              latex=tex, domain=(None, None), index=(None, None), entrywise=True,
              boolean=True, facts=lambda node: _TRUTH)


def _is(x):
    """Piecewise 1 where the relation x holds, else 0 (sympy's form of a comparison that
    may be an equality, whose boundary is all of it)."""
    return sp.Piecewise((1, x), (0, True))


def _equal(a, b):
    """[a = b], as sympy's EqualTo (defined on first use: the command line loads no sympy)."""
    return _equal_to()(a, b)


@functools.cache
def _equal_to():
    class EqualTo(sp.Function):
        """[a = b], 1 or 0. Where b is the largest (smallest) of a and others it is
        [a ≥ max of the others], written as sympy's derivative of Max writes it,
        step(a − max(others)): they differ only where a ties with another, which random
        points miss. Piecewise constant: its derivative is 0."""

        @classmethod
        def eval(cls, a, b):
            for x, m in ((a, b), (b, a)):
                if isinstance(m, sp.Max | sp.Min) and x in m.args:
                    rest = type(m)(*(y for y in m.args if y != x))
                    return sp.Heaviside(x - rest if isinstance(m, sp.Max) else rest - x)
            if a == b:
                return sp.Integer(1)
            if (a - b).is_nonzero:
                return sp.Integer(0)
            return None

        def fdiff(self, argindex=1):
            return sp.Integer(0)
    return EqualTo


def _extreme(name, which, numpy_f, sympy_f):
    """The largest (smallest) entry of all, of each column or of each row, NumPy's max
    with keepdims: its gradient goes to where it is, [X = max(X)] ⊙ G (almost everywhere:
    ties, which random points miss, would share it out)."""
    return Op(name, 1, reduce_shape, numpy_reduce(numpy_f), sympy_reduce(lambda xs: sympy_f(*xs)),
              (lambda g, ans, x, axis: where(make("equal", x, ans), g, 0),),
              f"the {which} entry of all, of each column or of each row", axis="optional",
              code=reduction(f"np.{name}"), torch_code=torch_reduction(f"torch.a{name}"),
              jvp=(lambda d, ans, x, axis: make("sum", where(make("equal", x, ans), d, 0),
                                                axis=axis),),
              latex=rf"\{name}",
              index=(lambda o, a, i, j, k, l, axis, n: _equal(a[0][k, l], o[i, j]) *
                     {None: 1, 0: delta(j, l), 1: delta(i, k)}[axis],))


SELECTION = [
    # comparisons: Heaviside(a − b, 0) is 1 where a > b, Heaviside(a − b, 1) where a ≥ b
    _comparison("greater", ">", ">", lambda a, b: a > b, lambda a, b: sp.Heaviside(a - b, 0)),
    _comparison("greater_equal", ">=", r"\geq", lambda a, b: a >= b,
                lambda a, b: sp.Heaviside(a - b, 1)),
    _comparison("less", "<", "<", lambda a, b: a < b, lambda a, b: sp.Heaviside(b - a, 0)),
    _comparison("less_equal", "<=", r"\leq", lambda a, b: a <= b,
                lambda a, b: sp.Heaviside(b - a, 1)),
    _comparison("equal", "==", "=", lambda a, b: a == b, _equal),
    _comparison("not_equal", "!=", r"\neq", lambda a, b: a != b, lambda a, b: _is(sp.Ne(a, b))),
    # both conditions, either condition: d(a b) = b da + a db, d(a + b − a b) = (1 − b) da + ...
    Op("logical_and", 2, elementwise, lambda vs, axis: vs[0] * vs[1], entrywise2(lambda a, b: a * b),
       (lambda g, ans, a, b, axis: unbroadcast(where(b, g, 0), a),
        lambda g, ans, a, b, axis: unbroadcast(where(a, g, 0), b)),
       "both conditions hold", code=infix("&"), torch_code=infix("&"),
       jvp=(lambda d, ans, a, b, axis: where(b, d, 0),
                                    lambda d, ans, a, b, axis: where(a, d, 0)), symbol="&", precedence=-1, latex=r"\land", domain=_TRUTHS,
       index=(diagonal(lambda o, a, b: b), diagonal(lambda o, a, b: a)), entrywise=True,
       boolean=True, conditions=frozenset({0, 1}), facts=lambda node: _TRUTH),
    Op("logical_or", 2, elementwise, lambda vs, axis: vs[0] + vs[1] - vs[0] * vs[1],
       entrywise2(lambda a, b: a + b - a * b),
       (lambda g, ans, a, b, axis: unbroadcast(where(b, 0, g), a),
        lambda g, ans, a, b, axis: unbroadcast(where(a, 0, g), b)),
       "either condition holds", code=infix("|"), torch_code=infix("|"),
       jvp=(lambda d, ans, a, b, axis: where(b, 0, d),
                                      lambda d, ans, a, b, axis: where(a, 0, d)), symbol="|", precedence=-2, latex=r"\lor", domain=_TRUTHS,
       index=(diagonal(lambda o, a, b: 1 - b), diagonal(lambda o, a, b: 1 - a)), entrywise=True,
       boolean=True, conditions=frozenset({0, 1}), facts=lambda node: _TRUTH),
    # where(c, a, b) = c a + (1 − c) b: the gradient goes to a where c holds, to b elsewhere
    Op("where", 3, elementwise, lambda vs, axis: np.where(vs[0] > 0.5, vs[1], vs[2]),
       entrywise2(lambda c, a, b: c * a + (1 - c) * b),
       (None, lambda g, ans, c, a, b, axis: unbroadcast(where(c, g, 0), a),
        lambda g, ans, c, a, b, axis: unbroadcast(where(c, 0, g), b)),
       "a choice between two values, entry by entry: the first where the condition holds, "
       "the second elsewhere", code=template("np.where({0}, {1}, {2})"),
       torch_code=template("torch.where({0}, {1}, {2})"),
       jvp=(None,
                                    lambda d, ans, c, a, b, axis: stretched(where(c, d, 0), ans),
                                    lambda d, ans, c, a, b, axis: stretched(where(c, 0, d), ans)),
       latex=r"\operatorname{where}", domain=("binary", None, None), entrywise=True,
       conditions=frozenset({0}),
       index=(None, diagonal(lambda o, c, a, b: c), diagonal(lambda o, c, a, b: 1 - c))),
    # clip(x, lo, hi) = min(max(x, lo), hi), as NumPy has it (hi wins where lo > hi): x
    # passes where lo < x < hi, lo where x < lo < hi, hi where max(x, lo) > hi
    Op("clip", 3, elementwise, lambda vs, axis: np.minimum(np.maximum(vs[0], vs[1]), vs[2]),
       entrywise2(lambda x, lo, hi: sp.Min(sp.Max(x, lo), hi)),
       (lambda g, ans, x, lo, hi, axis: g * make("step", x - lo) * make("step", hi - x),
        lambda g, ans, x, lo, hi, axis: unbroadcast(
            g * make("step", lo - x) * make("step", hi - lo), lo),
        lambda g, ans, x, lo, hi, axis: unbroadcast(
            g * make("step", make("maximum", x, lo) - hi), hi)),
       "each entry held between a lower and an upper bound (the upper one where they cross)",
       code=template("np.minimum(np.maximum({0}, {1}), {2})"),
       torch_code=template("torch.clamp({0}, {1}, {2})"),
       jvp=(lambda d, ans, x, lo, hi, axis: d * make("step", x - lo) * make("step", hi - x),
            lambda d, ans, x, lo, hi, axis: d * make("step", lo - x) * make("step", hi - lo),
            lambda d, ans, x, lo, hi, axis: d * make("step", make("maximum", x, lo) - hi)),
       latex=r"\operatorname{clip}", domain=(None, None, None), entrywise=True,
       index=(diagonal(lambda o, x, lo, hi: sp.Heaviside(x - lo) * sp.Heaviside(hi - x)),
              diagonal(lambda o, x, lo, hi: sp.Heaviside(lo - x) * sp.Heaviside(hi - lo)),
              diagonal(lambda o, x, lo, hi: sp.Heaviside(sp.Max(x, lo) - hi)))),


    # picking entries, rows or columns by label spreads the gradient back to where it
    # was picked, adding up where labels repeat
    Op("take_along_axis", 2, take_along_axis_shape, numpy_take_along_axis,
       sympy_take_along_axis,
       # one_hot of one label is a column: along the rows (axis=1) it lies as a row
       (lambda g, ans, x, y, axis: (one_hot(y).T if axis == 1 and y.shape.rows == 1
                                    else one_hot(y)) * g, None),
       "the entry each label picks from its column (from its row, with axis=1); labels "
       "count from 0, as in NumPy: label c picks row c + 1",
       code=template("np.take_along_axis({0}, {1}.astype(int), axis={axis})"),
       torch_code=template("torch.take_along_dim({0}, {1}.long(), dim={axis})"),
       jvp=(lambda d, ans, x, y, axis: make("take_along_axis", d, y, axis=axis), None),
       axis="required", latex=r"\operatorname{pick}", domain=(None, None),
       # y_j is y's only entry along the picked axis: y[j, j] reads it in a row or a column
       index=(lambda o, a, i, j, k, l, axis, n: (
           delta(k, a[1][j, j]) * delta(j, l) if axis == 0 else
           delta(i, k) * delta(l, a[1][i, i])), None),
       examples=((Shape("n", "c"), Shape(1, "c", "n")), (Shape("r", "n"), Shape("r", 1, "n")),
                 (Shape(1, "n"), Shape(1, 1, "n")))),
    # W[x] for labels x: the rule writes the scatter-add as a product with one_hot(x)
    Op("take", 2, take_shape, numpy_take, sympy_take,
       (lambda g, ans, w, x, axis: (
           (one_hot(x) @ g if x.shape.rows == 1 else one_hot(x).T @ g) if axis == 0 else
           (g @ one_hot(x).T if x.shape.rows == 1 else g @ one_hot(x))), None),
       "the rows the labels list, in order, repeats included (the columns, with axis=1); "
       "label c is row c + 1", axis="required", domain=(None, None),
       code=template("np.take({0}, {1}.astype(int).ravel(), axis={axis})"),
       torch_code=template("torch.index_select({0}, {axis}, {1}.long().ravel())"),
       jvp=(lambda d, ans, w, x, axis: make("take", d, x, axis=axis), None),
       index=(lambda o, a, i, j, k, l, axis, n: (
           delta(k, a[1][i, i]) * delta(j, l) if axis == 0 else
           delta(i, k) * delta(l, a[1][j, j])), None),
       examples=((Shape("n", "c"), Shape(1, "k", "n")), (Shape("n", "c"), Shape("k", 1, "n")),
                 (Shape("r", "n"), Shape(1, "k", "n")))),
    ONE_HOT,

    _extreme("max", "largest", lambda v, **kw: np.max(v, **kw), lambda *xs: sp.Max(*xs)),
    _extreme("min", "smallest", lambda v, **kw: np.min(v, **kw), lambda *xs: sp.Min(*xs)),

    # slices and joins: the gradient of a slice is G in its place among zeros; of a join,
    # the slices of G each part's rows (columns) take
    Op("slice", 1, slice_shape, numpy_slice, sympy_slice,
       (lambda g, ans, x, axis: _padded(g, x, axis),),
       "a slice: a run of rows or of columns (counted from 1 here, from 0 in NumPy's "
       "A[a:b, :])", axis="required", symbol="[:]", precedence=5,
       code=_sliced_source, torch_code=_sliced_source,
       jvp=(lambda d, ans, x, axis: make("slice", d, axis=axis),),
       index=(lambda o, a, i, j, k, l, span, n: (
           delta(k, i + span.start) * delta(j, l) if span.axis == 0 else
           delta(i, k) * delta(l, j + span.start)),),
       # an example: all but the first row (column)
       span=lambda shapes, axis: Span(axis, 1, shapes[0].rows if axis == 0 else shapes[0].cols),
       examples=((Shape("r", "c"),),)),
    Op("concat", 2, concat_shape, numpy_concat, sympy_concat,
       (lambda g, ans, a, b, axis: sliced(g, axis.axis, 0, axis.start),
        lambda g, ans, a, b, axis: sliced(g, axis.axis, axis.start, axis.stop)),
       "a join: matrices one above another or side by side (NumPy's concatenate)",
       code=lambda a, span, shapes: f"np.concatenate([{a[0]}, {a[1]}], axis={span.axis})",
       torch_code=lambda a, span, shapes: f"torch.cat([{a[0]}, {a[1]}], dim={span.axis})",
       jvp=(lambda d, ans, a, b, axis: make("concat", d, make("zeros_like", b), axis=axis),
            lambda d, ans, a, b, axis: make("concat", make("zeros_like", a), d, axis=axis)),
       axis="required", domain=(None, None), listed=True,
       index=(lambda o, a, i, j, k, l, span, n: delta(i, k) * delta(j, l),
              lambda o, a, i, j, k, l, span, n: (
                  delta(i, k + span.start) * delta(j, l) if span.axis == 0 else
                  delta(i, k) * delta(j, l + span.start))),
       span=_join_span),
]
