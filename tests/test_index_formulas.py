"""Every operator's index formula ∂out_ij/∂arg_kl, from the registry alone:
at every concrete i, j, k, l it equals sympy's derivative of the operator's
element-wise form: for arguments of equal shape, as the formulas are written, and
through local_partial for a broadcast argument (a bias added to every row)."""

import itertools

import pytest
import sympy as sp

from derivgen.forms import ShapeMismatch
from derivgen.op import at_sizes, inverse_of, label_arguments, local_partial
from derivgen.ops import OPS
from derivgen.prove import almost_everywhere_form
from derivgen.elementwise import label_values
from derivgen.shapes import Shape, dim_size

SIZES = {"r": 2, "c": 3, "k": 3, "n": 2}
SHAPES = [lambda arity: (Shape("r", "c"),) * arity,       # element-wise, reductions
          lambda arity: (Shape("n", "n"),) * arity,       # square matrices
          lambda arity: (Shape("r", "k"), Shape("k", "c"))[:arity]]   # a matrix product


def cases():
    for name, op in OPS.items():
        axes = {"none": [None], "optional": [None, 0, 1], "required": [0, 1]}[op.axis]
        for arg, formula in enumerate(op.index):
            if formula is None:
                continue
            labels = label_arguments(op)
            for axis in axes:       # labels both distinct and repeated
                for repeat in (False, True)[:1 + bool(labels)]:
                    yield pytest.param(name, arg, axis, repeat, id=f"{name}-arg{arg}-axis{axis}"
                                       + ("-repeated" * repeat))


def accepted_shapes(op, axis):
    for shapes in [*op.examples, *(make(op.arity) for make in SHAPES)]:   # labels, say, first
        try:
            op.shape(shapes, param(op, shapes, axis))
            return shapes
        except ShapeMismatch:
            continue
    raise AssertionError(f"{op.name}: no candidate shape accepted")


def param(op, shapes, axis):
    """What the node carries: its axis, or the span an operator on a span takes."""
    return op.span(shapes, axis) if op.span else axis


def is_zero(expr) -> bool:
    expr = almost_everywhere_form(sp.sympify(expr))     # as the prover reads it
    return expr == 0 or sp.cancel(sp.together(expr)) == 0 or sp.simplify(expr) == 0


@pytest.mark.parametrize("name, arg, axis, repeat", list(cases()))
def test_index_formula_matches_the_derivative(name, arg, axis, repeat):
    op = OPS[name]
    shapes = accepted_shapes(op, axis)
    positive = op.domain[arg] == "positive" if op.domain else False
    args = [label_values(s.size(SIZES), dim_size(s.labels, SIZES), repeat) if s.labels else
            sp.Matrix(*s.size(SIZES), lambda i, j, t=t: sp.Symbol(f"x{t}_{i}{j}", positive=True)
                      if positive else sp.Symbol(f"x{t}_{i}{j}", real=True))
            for t, s in enumerate(shapes)]
    axis = at_sizes(param(op, shapes, axis), SIZES)     # a span's bounds as numbers
    out = op.sympy(args, axis)
    o, bases = sp.IndexedBase("o"), [sp.IndexedBase(f"a{t}") for t in range(op.arity)]
    values = {"o": out, **{b.label.name: m for b, m in zip(bases, args)}}
    if shapes[0].is_square:
        values[inverse_of(bases[0]).label.name] = args[0].inv()
    i, j, k, l = sp.symbols("i j k l", integer=True)
    formula = op.index[arg](o, bases, i, j, k, l, axis, sp.Matrix(args[arg].shape))
    for (ii, jj), (kk, ll) in itertools.product(itertools.product(*map(range, out.shape)),
                                                itertools.product(*map(range, args[arg].shape))):
        at = sp.sympify(formula).subs({i: ii, j: jj, k: kk, l: ll}).replace(
            lambda e: isinstance(e, sp.Indexed), lambda e: entry(values, e))
        exact = out[ii, jj].diff(args[arg][kk, ll])
        assert is_zero(at - exact), f"∂o[{ii},{jj}]/∂a{arg}[{kk},{ll}]: {at} != {exact}"


def entry(values, e):
    """An entry of a matrix; a vector's along its length (labels y[j, j] are y_j)."""
    m = values[e.base.label.name]
    return m[e.indices[0] % m.rows, e.indices[1] % m.cols]


# Operators that move entries have none: entry i of vec(X) is X_kl where i = k + l m
# counting from 0, as the proofs read index forms, but i = k + (l - 1) m counting from 1,
# as the reports print them (derivgen.vectorize)
MOVED = {"vec", "unvec", "kron"}


def test_every_argument_has_an_index_formula_or_a_zero_rule():
    for name, op in OPS.items():
        assert len(op.index) == op.arity, name
        if name in MOVED:
            assert op.index == (None,) * op.arity, name
            continue
        assert all((f is None) == (r is None) for f, r in zip(op.index, op.vjp)), name


def broadcast_cases():
    """Every binary element-wise operator with one argument broadcast: a row, a
    column or a single entry, on either side."""
    full, narrow = Shape("r", "c"), [Shape(1, "c"), Shape("r", 1), Shape(1, 1)]
    for name, op in OPS.items():
        if op.arity != 2 or op.axis != "none" or op.symbol == "@":
            continue
        for small in narrow:
            for shapes in ((full, small), (small, full)):
                for arg, formula in enumerate(op.index):
                    if formula is not None:
                        yield pytest.param(name, arg, shapes,
                                           id=f"{name}-arg{arg}-{shapes[0]}-{shapes[1]}")


@pytest.mark.parametrize("name, arg, shapes", list(broadcast_cases()))
def test_local_partial_of_a_broadcast_argument_matches_the_derivative(name, arg, shapes):
    """What the report shows for a bias added to every row: δ_jl, not δ_ik δ_jl."""
    op = OPS[name]
    positive = op.domain[arg] == "positive"
    args = [sp.Matrix(*s.size(SIZES), lambda i, j, t=t: sp.Symbol(f"x{t}_{i}{j}", positive=True)
                      if positive else sp.Symbol(f"x{t}_{i}{j}", real=True))
            for t, s in enumerate(shapes)]
    out = op.sympy(args, None)
    o, bases = sp.IndexedBase("o"), [sp.IndexedBase(f"a{t}") for t in range(2)]
    values = {"o": out, **{b.label.name: m for b, m in zip(bases, args)}}

    def entry(e):                    # a broadcast matrix has the same entry along its 1-dims
        m = values[e.base.label.name]
        return m[min(e.indices[0], m.rows - 1), min(e.indices[1], m.cols - 1)]
    i, j, k, l = sp.symbols("i j k l", integer=True)
    partial = local_partial(op, arg, o, bases, i, j, k, l, None, args[arg].shape)
    for (ii, jj), (kk, ll) in itertools.product(itertools.product(*map(range, out.shape)),
                                                itertools.product(*map(range, args[arg].shape))):
        at = partial.subs({i: ii, j: jj, k: kk, l: ll}).replace(
            lambda e: isinstance(e, sp.Indexed), entry)
        exact = out[ii, jj].diff(args[arg][kk, ll])
        assert is_zero(at - exact), f"∂o[{ii},{jj}]/∂a{arg}[{kk},{ll}]: {at} != {exact}"
