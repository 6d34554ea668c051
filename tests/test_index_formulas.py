"""Every operator's index formula ∂out_ij/∂arg_kl, from the registry alone:
at every concrete i, j, k, l it equals sympy's derivative of the operator's
element-wise form (arguments of equal shape, as the formulas are written)."""

import itertools

import pytest
import sympy as sp

from derivgen.ops import OPS, ShapeMismatch, inverse_of
from derivgen.shapes import Shape

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
            for axis in axes:
                yield pytest.param(name, arg, axis, id=f"{name}-arg{arg}-axis{axis}")


def accepted_shapes(op, axis):
    for make in SHAPES:
        try:
            op.shape(make(op.arity), axis)
            return make(op.arity)
        except ShapeMismatch:
            continue
    raise AssertionError(f"{op.name}: no candidate shape accepted")


def is_zero(expr) -> bool:
    expr = expr.replace(sp.DiracDelta, lambda *a: 0).replace(sp.Heaviside, lambda x, *h: sp.Heaviside(x))
    return expr == 0 or sp.cancel(sp.together(expr)) == 0 or sp.simplify(expr) == 0


@pytest.mark.parametrize("name, arg, axis", list(cases()))
def test_index_formula_matches_the_derivative(name, arg, axis):
    op = OPS[name]
    shapes = accepted_shapes(op, axis)
    positive = op.domain[arg] == "positive" if op.domain else False
    args = [sp.Matrix(*s.size(SIZES), lambda i, j, t=t: sp.Symbol(f"x{t}_{i}{j}", positive=True)
                      if positive else sp.Symbol(f"x{t}_{i}{j}", real=True))
            for t, s in enumerate(shapes)]
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
            lambda e: isinstance(e, sp.Indexed), lambda e: values[e.base.label.name][e.indices])
        exact = out[ii, jj].diff(args[arg][kk, ll])
        assert is_zero(at - exact), f"∂o[{ii},{jj}]/∂a{arg}[{kk},{ll}]: {at} != {exact}"


def test_every_argument_has_an_index_formula_or_a_zero_rule():
    for name, op in OPS.items():
        assert len(op.index) == op.arity, name
        assert all((f is None) == (r is None) for f, r in zip(op.index, op.vjp)), name
