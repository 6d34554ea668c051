"""Every derivative rule of the operator registry, checked three ways.

The cases are generated from :data:`derivgen.ops.OPS` alone: for each operator,
argument and axis, the argument shapes are chosen from a small set of candidates
(square, rectangular, every broadcasting pattern, a matrix product) by asking
the operator's own shape rule which it accepts. A new operator therefore gets
these tests without any edit here, and :func:`test_every_operator_is_covered`
fails if it gets none.

1. symbolic: the rule, evaluated entry by entry with sympy, equals the exact
   contraction  C_kl = Σ_ij G_ij ∂out_ij/∂arg_kl  (where the rule is None, the
   derivative must be zero almost everywhere: DiracDelta terms only), and the
   forward rule the directional derivative  dout_ij = Σ_kl ∂out_ij/∂arg_kl D_kl;
2. numeric: the rule equals central finite differences of sum(G ⊙ op(args)), the
   forward rule those of op(args) along a random direction D;
3. shapes: the rule's node has the argument's shape, the forward rule's the output's,
   and the numeric and element-wise forms produce the shape the shape rule announces.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass

import numpy as np
import pytest
import sympy as sp

from derivgen.assumptions import draw
from derivgen.elementwise import almost_everywhere, label_values, partials, sympy_value
from derivgen.nodes import Ref, make
from derivgen.numeric import evaluate
from derivgen.forms import ShapeMismatch
from derivgen.numpy_code import NUMPY, TORCH, Backend, source
from derivgen.op import Op, applied, at_sizes, label_arguments
from derivgen.ops import OPS
from derivgen.prove import almost_everywhere_form
from derivgen.shapes import Shape, dim_size
from test_torch_modules import require_torch

# -- helpers: choosing shapes ------------------------------------------------------------

SIZES = {"n": 3, "r": 2, "c": 3, "k": 2}
SQUARE_ONLY_N = 2   # operators that only take square matrices (det, inv, ...) stay 2×2: fast

SQ, RC = Shape("n", "n"), Shape("r", "c")
CANDIDATES = {
    1: [(SQ,), (RC,)],
    2: [(SQ, SQ), (RC, RC),
        (RC, Shape(1, 1)), (Shape(1, 1), RC),
        (RC, Shape("r", 1)), (Shape("r", 1), RC),
        (RC, Shape(1, "c")), (Shape(1, "c"), RC),
        (Shape("r", "k"), Shape("k", "c"))],
}
AXES = {"none": [None], "optional": [None, 0, 1], "required": [0, 1]}
ARG_NAMES = "ABCDEF"
H = 1e-6
RTOL = 1e-6

# Rules (or forms) found wrong: (test, case id) -> reason, the test being "exact",
# "numeric", "zero" or "shapes"; such cases are xfail(strict=True).
KNOWN_WRONG: dict[tuple[str, str], str] = {}


def candidates(op: Op) -> list[tuple[Shape, ...]]:
    """The operator's own example shapes (labels, ...), else the generic candidates."""
    return list(op.examples) or CANDIDATES.get(op.arity, [(SQ,) * op.arity, (RC,) * op.arity])


def differentiable(op: Op) -> list[int]:
    """The arguments a derivative is taken by: not labels, not the unwritten ones, and
    not a condition with no rule (where's: as a function of numbers c a + (1 − c) b has
    a derivative by c, but a condition is 1 or 0, piecewise constant)."""
    return [i for i in range(op.written) if i not in label_arguments(op)
            and not (i in op.conditions and op.vjp[i] is None)]


def accepts(op: Op, shapes: tuple[Shape, ...], axis: int | None) -> bool:
    try:
        op.shape(shapes, param(op, shapes, axis))
    except ShapeMismatch:
        return False
    return True


def param(op: Op, shapes, axis):
    return op.span(shapes, axis) if op.span else axis


def fmt(shape: Shape) -> str:
    return f"{shape.rows}x{shape.cols}"


def domain(op: Op, i: int) -> str | None:
    return op.domain[i] if i < len(op.domain) else None


@dataclass(frozen=True)
class Case:
    op: str
    arg: int | None                  # the argument differentiated (None: only the forms)
    shapes: tuple[Shape, ...]
    axis: int | None
    n: int                           # size of the square dim "n"

    @property
    def sizes(self) -> dict[str, int]:
        return {**SIZES, "n": self.n}

    @property
    def id(self) -> str:
        axis = "" if OPS[self.op].axis == "none" else f"-axis{self.axis}"
        arg = "" if self.arg is None else f"-arg{self.arg}"
        return f"{self.op}{arg}-{','.join(map(fmt, self.shapes))}{axis}"

    def refs(self) -> list[Ref]:
        return [Ref(ARG_NAMES[i], "input", s) for i, s in enumerate(self.shapes)]

    def rule_node(self):
        """The rule applied to symbolic arguments, upstream G and output ans."""
        op, args = OPS[self.op], self.refs()
        out_shape = op.shape(self.shapes, self.param)
        g, ans = Ref("G", "grad", out_shape), Ref("ans", "step", out_shape)
        return op.vjp[self.arg](g, ans, *args, axis=self.param)

    def forward_node(self):
        """The forward rule applied to symbolic arguments, a direction D and output ans."""
        op, args = OPS[self.op], self.refs()
        out_shape = op.shape(self.shapes, self.param)
        d, ans = Ref("D", "input", self.shapes[self.arg]), Ref("ans", "step", out_shape)
        return op.jvp[self.arg](d, ans, *args, axis=self.param)

    @property
    def param(self):
        """What the node carries: its axis, or the span an operator on a span takes."""
        return param(OPS[self.op], self.shapes, self.axis)

    @property
    def at(self):
        """The axis as the forms take it: a span's bounds as numbers."""
        return at_sizes(self.param, self.sizes)


def combinations(op: Op) -> list[tuple[tuple[Shape, ...], int | None]]:
    return [(shapes, axis) for axis in AXES[op.axis] for shapes in candidates(op)
            if accepts(op, shapes, axis)]


def square_only(op: Op) -> bool:
    return all(s.is_square for shapes, _ in combinations(op) for s in shapes)


def build_cases() -> tuple[list[Case], list[Case], list[Case]]:
    """(cases of arguments with a rule, cases of arguments whose rule is None, one case
    per operator form with no argument differentiated)."""
    with_rule, without, forms = [], [], []
    for name, op in OPS.items():
        n = SQUARE_ONLY_N if square_only(op) else SIZES["n"]
        for shapes, axis in combinations(op):
            forms.append(Case(name, None, shapes, axis, n))
            for i in differentiable(op):
                (without if op.vjp[i] is None else with_rule).append(Case(name, i, shapes, axis, n))
    return with_rule, without, forms


RULE_CASES, ZERO_CASES, FORM_CASES = build_cases()


def params(test: str, cases: list[Case]):
    def marks(c: Case):
        reason = KNOWN_WRONG.get((test, c.id))
        return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return [pytest.param(c, id=c.id, marks=marks(c)) for c in cases]


# -- helpers: symbolic -----------------------------------------------------------------------

def symbols(name: str, rows: int, cols: int, positive: bool = False) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True,
                                                        positive=positive or None))


def symbolic_args(case: Case) -> list[sp.Matrix]:
    """Symbols for each argument; labels 0, 1, 2, ... and unwritten arguments as they are."""
    op = OPS[case.op]
    return [unwritten(case, i, lambda node: sympy_value(node, {}, case.sizes))
            if i >= op.written else
            label_values(s.size(case.sizes), dim_size(s.labels, case.sizes)) if s.labels else
            symbols(ARG_NAMES[i], *s.size(case.sizes), positive=domain(op, i) == "positive")
            for i, s in enumerate(case.shapes)]


def unwritten(case: Case, i: int, value):
    op = OPS[case.op]
    return value(op.implicit[i - op.written](case.shapes[:op.written]))


def normalise(expr: sp.Expr) -> sp.Expr:
    """Derivatives almost everywhere, as the prover reads them (DiracDelta dropped, a
    step's value at 0 forgotten, clip's pieces each in its region)."""
    return almost_everywhere_form(expr)


def is_zero(expr: sp.Expr) -> bool:
    expr = normalise(sp.sympify(expr))
    for reduce in (lambda e: e, sp.expand, lambda e: sp.cancel(sp.together(e)), sp.simplify):
        expr = reduce(expr)
        if expr == 0:
            return True
    return False


def contraction(out: sp.Matrix, g: sp.Matrix, wrt: sp.Matrix) -> sp.Matrix:
    """C_kl = Σ_ij G_ij ∂out_ij/∂wrt_kl, differentiated exactly."""
    return sp.Matrix(wrt.rows, wrt.cols, lambda k, l: sp.Add(*(
        g[i, j] * out[i, j].diff(wrt[k, l]) for i in range(out.rows) for j in range(out.cols))))


# -- helpers: numeric --------------------------------------------------------------------------

def rng_for(case: Case) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(case.id.encode()))


def numeric_args(case: Case, rng: np.random.Generator) -> list[np.ndarray]:
    """Random arguments in each one's domain; labels any classes, repeats and all."""
    op = OPS[case.op]
    return [unwritten(case, i, lambda node: evaluate(node, {}, case.sizes)) if i >= op.written
            else rng.integers(dim_size(s.labels, case.sizes), size=s.size(case.sizes)).astype(float)
            if s.labels else draw(rng, *s.size(case.sizes), [domain(op, i)] if domain(op, i) else [])
            for i, s in enumerate(case.shapes)]


# -- the tests -------------------------------------------------------------------------------------

def test_every_operator_is_covered():
    covered = {c.op for c in FORM_CASES}
    missing = set(OPS) - covered
    assert not missing, f"operators with no accepted candidate shapes, so no tests: {sorted(missing)}"
    for name, op in OPS.items():
        assert len(op.vjp) == op.arity, f"{name}: {len(op.vjp)} rules for {op.arity} arguments"
        assert [r is None for r in op.jvp] == [r is None for r in op.vjp], (
            f"{name}: a forward rule for each argument with a backward one, and only those")
        assert len(op.domain) in (0, op.arity), f"{name}: domain does not match the arity"
        for i in differentiable(op):
            cases = ZERO_CASES if op.vjp[i] is None else RULE_CASES
            assert any(c.op == name and c.arg == i for c in cases), (name, i)
        for axis in AXES[op.axis]:
            assert any(c.op == name and c.axis == axis for c in FORM_CASES), (name, axis)


@pytest.mark.parametrize("case", params("exact", RULE_CASES))
def test_rule_matches_exact_derivative(case: Case):
    op = OPS[case.op]
    args = symbolic_args(case)
    out = op.sympy(args, case.at)
    g = symbols("G", out.rows, out.cols)
    env = {ARG_NAMES[i]: m for i, m in enumerate(args)} | {"G": g, "ans": out}
    claimed = sympy_value(case.rule_node(), env, case.sizes)
    exact = contraction(out, g, args[case.arg])
    assert claimed.shape == exact.shape
    for k in range(exact.rows):
        for l in range(exact.cols):
            assert is_zero(claimed[k, l] - exact[k, l]), (
                f"entry ({k + 1},{l + 1}): rule gives {claimed[k, l]}, exact is {exact[k, l]}")


@pytest.mark.parametrize("case", params("forward exact", RULE_CASES))
def test_forward_rule_is_the_directional_derivative(case: Case):
    op = OPS[case.op]
    args = symbolic_args(case)
    out = op.sympy(args, case.at)
    wrt = args[case.arg]
    d = symbols("D", wrt.rows, wrt.cols)
    env = {ARG_NAMES[i]: m for i, m in enumerate(args)} | {"D": d, "ans": out}
    claimed = sympy_value(case.forward_node(), env, case.sizes)
    assert claimed.shape == out.shape
    for i, j in np.ndindex(*out.shape):
        exact = sum((out[i, j].diff(x) * dx for x, dx in zip(wrt, d)), sp.Integer(0))
        assert is_zero(claimed[i, j] - exact), (
            f"entry ({i + 1},{j + 1}): forward rule gives {claimed[i, j]}, exact is {exact}")


@pytest.mark.parametrize("case", params("forward numeric", RULE_CASES))
def test_forward_rule_matches_finite_differences(case: Case):
    op = OPS[case.op]
    rng = rng_for(case)
    args = numeric_args(case, rng)
    out = op.numpy(args, case.at)
    x = args[case.arg]
    d = rng.standard_normal(x.shape)
    values = {ARG_NAMES[i]: a for i, a in enumerate(args)} | {"D": d, "ans": out}
    claimed = evaluate(case.forward_node(), values, case.sizes)
    assert claimed.shape == out.shape

    def f(t: float) -> np.ndarray:
        return op.numpy([x + t * d if i == case.arg else a for i, a in enumerate(args)], case.at)

    differences = (f(H) - f(-H)) / (2 * H)
    scale = max(np.abs(claimed).max(), np.abs(differences).max(), 1e-3)
    error = np.abs(claimed - differences) / scale
    i, j = np.unravel_index(np.argmax(error), error.shape)
    assert error[i, j] < RTOL, (f"entry ({i + 1},{j + 1}): forward rule {claimed[i, j]}, "
                                f"finite difference {differences[i, j]}")


@pytest.mark.parametrize("case", params("partials", RULE_CASES))
def test_the_provers_partials_are_sympys_derivatives(case: Case):
    """derivgen.elementwise.partials (with its shortcuts for products and quotients)
    gives exactly what sympy's diff gives, entry by entry."""
    args = symbolic_args(case)
    out, wrt = OPS[case.op].sympy(args, case.at), args[case.arg]
    table = partials(out, wrt)
    for (i, j), k, l in itertools.product(table, range(wrt.rows), range(wrt.cols)):
        exact = almost_everywhere(out[i, j].diff(wrt[k, l]))
        assert is_zero(table[(i, j)].get((k, l), 0) - exact), ((i, j), (k, l))


@pytest.mark.parametrize("case", params("zero", ZERO_CASES))
def test_zero_rule_means_zero_derivative_almost_everywhere(case: Case):
    op = OPS[case.op]
    args = symbolic_args(case)
    out = op.sympy(args, case.at)
    for x in args[case.arg]:
        for entry in out:
            d = entry.diff(x)
            assert is_zero(d), f"∂({entry})/∂{x} = {d} is not zero almost everywhere"


@pytest.mark.parametrize("case", params("numeric", RULE_CASES))
def test_rule_matches_finite_differences(case: Case):
    op = OPS[case.op]
    rng = rng_for(case)
    args = numeric_args(case, rng)
    out = op.numpy(args, case.at)
    g = rng.standard_normal(out.shape)
    values = {ARG_NAMES[i]: a for i, a in enumerate(args)} | {"G": g, "ans": out}
    claimed = evaluate(case.rule_node(), values, case.sizes)
    x = args[case.arg]
    assert claimed.shape == x.shape

    def f(moved: np.ndarray) -> float:
        return float(np.sum(g * op.numpy([moved if i == case.arg else a
                                          for i, a in enumerate(args)], case.at)))

    differences = np.zeros_like(x)
    for k, l in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[k, l] += H
        minus[k, l] -= H
        differences[k, l] = (f(plus) - f(minus)) / (2 * H)
    # floored: a gradient that is 0 everywhere (a or b where b holds) meets round-off of 1e-10
    scale = max(np.abs(claimed).max(), np.abs(differences).max(), 1e-3)
    error = np.abs(claimed - differences) / scale
    k, l = np.unravel_index(np.argmax(error), error.shape)
    assert error[k, l] < RTOL, (f"entry ({k + 1},{l + 1}): rule {claimed[k, l]}, "
                                f"finite difference {differences[k, l]}")


@pytest.mark.parametrize("case", params("shapes", RULE_CASES + ZERO_CASES + FORM_CASES))
def test_shapes(case: Case):
    op = OPS[case.op]
    if case.arg is not None and op.vjp[case.arg] is not None:
        assert case.rule_node().shape == case.shapes[case.arg]
        assert case.forward_node().shape == op.shape(case.shapes, case.param)
    expected = op.shape(case.shapes, case.param).size(case.sizes)
    args = numeric_args(case, rng_for(case))
    assert op.numpy(args, case.at).shape == expected
    assert op.sympy(symbolic_args(case), case.at).shape == expected


@pytest.mark.parametrize("name", [n for n, op in OPS.items() if op.reflection])
def test_reflection_is_the_functions_own(name):
    """f(−x) = a + b f(x), as the registry states it for the simplifier (almost
    everywhere: a step's value at 0 aside)."""
    op, x = OPS[name], sp.Symbol("x", real=True)
    a, b = op.reflection
    assert sp.simplify(almost_everywhere_form(op.scalar(-x) - a - b * op.scalar(x))) == 0


def spelled(case: Case, backend: Backend):
    """The case's operator spelled for ``backend`` (a condition written as one: A > 0, its
    0/1 entries as truth values), its random arguments by name, and its numeric form."""
    op = OPS[case.op]
    args = numeric_args(case, rng_for(case))
    refs = case.refs()[:op.written]
    node = applied(op, [make("greater", r, 0) if i in op.conditions else r
                        for i, r in enumerate(refs)], case.param)
    return source(node, backend), {r.name: a for r, a in zip(refs, args)}, op.numpy(args, case.at)


@pytest.mark.parametrize("case", params("code", FORM_CASES))
def test_numpy_source_computes_the_numeric_form(case: Case):
    """The registry's NumPy spelling (generated code, the JSON's numpy fields), evaluated
    by NumPy itself, equals the operator's numeric form."""
    text, values, expected = spelled(case, NUMPY)
    computed = eval(text, {"np": np, **case.sizes, **values})   # derivgen's own source
    assert computed.shape == expected.shape
    assert np.allclose(computed, expected, equal_nan=True)


@pytest.mark.parametrize("case", params("torch_code", FORM_CASES))
def test_torch_source_computes_the_numeric_form(case: Case):
    """The registry's PyTorch spelling (--format torch), evaluated by PyTorch on float64
    tensors (dims as the ints a shape gives), equals the operator's numeric form."""
    torch = require_torch()
    text, values, expected = spelled(case, TORCH)
    computed = eval(text, {"torch": torch, **case.sizes} |
                    {n: torch.tensor(a, dtype=torch.float64) for n, a in values.items()})
    assert tuple(computed.shape) == expected.shape
    assert np.allclose(computed.double().numpy(), expected, equal_nan=True)
