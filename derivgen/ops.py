"""The operator registry: everything derivgen knows about each operator.

One :class:`Op` per operator of the expression language, in one place, each
with its forward rule next to its derivative (as in HIPS/autograd and
micrograd):

``shape(shapes, axis)``
    the result shape, or :class:`ShapeMismatch` with a sentence saying what
    does not fit (``{0}``, ``{1}`` stand for the arguments' source text);
``numpy(values, axis)``
    the numeric forward on 2-D arrays;
``sympy(matrices, axis)``
    the element-wise forward on sympy matrices, entry by entry;
``vjp``
    one rule per argument: ``rule(g, ans, *args, axis)`` is the gradient
    contribution to that argument, as a matrix expression built from nodes,
    where ``g`` is the upstream gradient (shaped like ``ans``) and ``ans`` the
    operator's output. ``None`` means the derivative is zero almost everywhere;
``index``
    per argument, the local partial ∂out_ij/∂arg_kl in index notation, as a
    sympy expression ``index(o, a, i, j, k, l, axis, n)`` over the indexed
    output ``o`` and arguments ``a`` (Kronecker deltas, entries such as
    ``o[i, j]``; ``n`` is the argument's (rows, cols)); written for arguments
    of equal shape, broadcasting aside;
``symbol``, ``precedence``, ``product``
    how an operator (not a function) is written in the language (``@``), how
    tightly it binds (1 sums, 2 products, 3 negation, 4 powers; functions and
    ``.T`` are 5, names and numbers 6), and which kind of product it is
    (matrix or element-wise), so that printers bracket (A @ B) * C;
``latex``
    how a function's name is typeset (``\\operatorname{softmax}``); the printer
    (:mod:`derivgen.latex`) writes it before its bracketed argument, unless it
    has a layout of its own for the operator (fractions, ``X^{-1}``, ``|x|``, ...);
``scalar``, ``algebra``
    for an element-wise function, its sympy form on one entry, and whether the
    simplifier may use sympy's algebra of it (exp(log x) = x, √x² = x for
    x > 0); without, it treats the function as an unknown f(x);
``domain``
    per argument, where the numeric checks sample an input used there directly;
``facts(node)``
    properties every output of the operator's ``node`` has, which the simplifier may use;
``condition``
    what a formula holding the operator assumes of its argument, as the end of a
    sentence ("is invertible" for ``inv``): a result holding it states it;
``entrywise``
    each output entry depends on the same entry of each argument alone (broadcasting
    aside), so its rule multiplies G entry by entry by one local derivative;
``symmetric``
    its square values are symmetric whatever the argument (diag of a vector), so the
    simplifier drops their transpose;
``shape_only``
    for a constant such as a matrix of ones: its value depends on its argument's
    shape alone, so a rule holding it still only rescales or spreads G;
``examples``
    argument shapes to show and test the operator with, where the generic ones (equal
    shapes, broadcast pairs, a matrix product) do not fit it: labels, for instance;
``implicit``
    one function per argument the language leaves unwritten (the last ones), each
    building it from the written arguments' shapes: ``one_hot(y)`` is
    ``one_hot(y, C)``, C being the number of classes y declares;
``max_size``
    for a matrix function whose entries sympy writes out whole (a determinant
    has n! terms), the largest n×n argument it may have at the ``[dims]``
    sizes: beyond it the element-wise derivation takes minutes.

Adding an operator means adding one entry here (its shape rule and forms, when
several operators share them, from :mod:`derivgen.forms`); the parser, the engine
and the registry-driven tests pick it up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .forms import (ShapeMismatch, diag_shape, elementwise, entrywise, entrywise2, matmul_shape, numpy_diag,
                    numpy_logdet, numpy_logsumexp, numpy_one_hot, numpy_reduce, numpy_softmax,
                    numpy_take, numpy_take_along_axis, one_hot_shape, reduce_shape, same,
                    square, square_to_scalar, sympy_diag, sympy_logsumexp, sympy_one_hot,
                    sympy_reduce, sympy_sigmoid, sympy_softmax, sympy_take,
                    sympy_take_along_axis, take_along_axis_shape, take_shape)
from .lazy import np, sp
from .nodes import SHAPE_RULES, Ref, dim_node, make
from .shapes import SCALAR, Shape


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    shape: Callable
    numpy: Callable
    sympy: Callable
    vjp: tuple[Callable | None, ...]
    doc: str
    symbol: str | None = None   # how an operator (not a function) is written: '+', '@', '.T', ...
    precedence: int = 5
    product: Literal["matrix", "elementwise"] | None = None
    axis: Literal["none", "optional", "required"] = "none"
    index: tuple[Callable | None, ...] = ()
    latex: str | None = None
    scalar: Callable | None = None
    algebra: bool = False
    domain: tuple[str | None, ...] = ()
    facts: Callable[[object], frozenset[str]] = lambda node: frozenset()
    max_size: int | None = None
    entrywise: bool = False     # out_ij depends on the arguments' entries ij alone
    shape_only: bool = False    # its value depends on its argument's shape alone (ones, I)
    condition: str | None = None    # what a formula holding it assumes of its argument
    symmetric: bool = False     # a square value of it is symmetric whatever its argument
    examples: tuple[tuple[Shape, ...], ...] = ()    # argument shapes that fit it, to show it
    implicit: tuple[Callable, ...] = ()    # the last arguments, from the written ones' shapes

    @property
    def written(self) -> int:
        """How many arguments the language writes."""
        return self.arity - len(self.implicit)

    @property
    def is_function(self) -> bool:
        return self.symbol is None


def label_arguments(op: Op) -> set[int]:
    """Which arguments of ``op`` are class labels (as its example shapes show)."""
    return {n for shapes in op.examples for n, s in enumerate(shapes) if s.labels is not None}


# -- helpers for derivative rules ----------------------------------------------------

def unbroadcast(g, like):
    """Sum ``g`` over the axes along which ``like`` was stretched to g's shape:
    the adjoint of broadcasting."""
    if g.shape == like.shape:
        return g
    if like.shape.is_scalar:
        return make("sum", g)
    return make("sum", g, axis=1 if like.shape.cols == 1 else 0)


def spread(g, like):
    """``g`` (a reduction's gradient) stretched back to the shape of ``like``."""
    return g * make("ones_like", like)


def applied(op: Op, args, axis=None):
    """``op`` applied to the arguments the language writes, the unwritten ones built."""
    shapes = tuple(a.shape for a in args)
    return make(op.name, *args, *(build(shapes) for build in op.implicit), axis=axis)


def example(op: Op, names, axis=None):
    """``op`` applied to matrices with the given ``names``, of the first of its example
    shapes (else n×n) that it takes at ``axis``; None if it takes none."""
    for shapes in op.examples or ((Shape("n", "n"),) * op.arity,):
        try:
            return applied(op, [Ref(n, "input", s) for n, s in zip(names, shapes[:op.written])],
                           axis)
        except ShapeMismatch:
            continue
    return None


def one_hot(y):
    """The one-hot matrix of the labels ``y``: one column (row) per label of a row (column)."""
    return applied(OPS["one_hot"], [y])


def count(x, axis):
    """How many entries a reduction over ``axis`` adds up, as an expression."""
    rows, cols = dim_node(x.shape.rows), dim_node(x.shape.cols)
    if axis is None:                # a vector's entries are its rows (or its columns)
        return rows * cols if x.shape.rows != 1 and x.shape.cols != 1 else (
            cols if x.shape.rows == 1 else rows)
    return rows if axis == 0 else cols


# -- helpers for index formulas: ∂out_ij/∂arg_kl -------------------------------------------

def delta(a, b):
    return sp.KroneckerDelta(a, b)


def diagonal(local):
    """An element-wise operator's partial: δ_ik δ_jl times ``local(o_ij, a_ij, b_ij)``."""
    def index(o, a, i, j, k, l, axis, n):
        entries = [x[i, j] for x in a]
        return delta(i, k) * delta(j, l) * local(o[i, j], *entries)
    return index


def inverse_of(base):
    """The entries of a matrix's inverse, as an indexed name: (X^{-1})_{lk}."""
    return sp.IndexedBase(f"{base.label}^{{-1}}")


def local_partial(op: Op, arg: int, out, bases, i, j, k, l, axis, size: tuple[int, int]):
    """∂out_ij/∂arg_kl in index notation, for an argument of ``size`` (rows, cols).

    The registry's formulas are written for arguments shaped like the output. An
    argument with one row (column) is broadcast down the rows (across the columns):
    its only row k reaches every output row i, so δ_ik (δ_jl) is 1."""
    rows, cols = size
    partial = sp.sympify(op.index[arg](out, bases, i, j, k, l, axis, size))
    broadcast = [delta for delta, one in ((sp.KroneckerDelta(i, k), rows == 1),
                                          (sp.KroneckerDelta(j, l), cols == 1)) if one]
    return partial.subs({delta: 1 for delta in broadcast})


def partial_matrix(op: Op, arg: int, axis, matrices: dict, k: int, l: int):
    """∂out/∂arg_kl entry by entry, from the registry's index form: ``matrices`` holds
    the output (``_out``) and the arguments (``_x0``, ``_x1``, ...) as sympy matrices,
    a broadcast argument with its one row or column. Raises KeyError for an entry of a
    matrix not given (the inverse in det's partial)."""
    i, j, k_, l_ = sp.symbols("i j k l", integer=True)
    out, target = matrices["_out"], matrices[f"_x{arg}"]
    bases = [sp.IndexedBase(f"_x{n}") for n in range(op.arity)]
    formula = local_partial(op, arg, sp.IndexedBase("_out"), bases, i, j, k_, l_, axis,
                            target.shape).subs({k_: k, l_: l})

    def entry(e):
        m = matrices[e.base.label.name]
        r, c = (int(x) for x in e.indices)
        return m[r % m.rows, c % m.cols]
    return sp.Matrix(out.rows, out.cols, lambda a, b: formula.subs({i: a, j: b}).replace(
        lambda e: isinstance(e, sp.Indexed), entry))


def _elementwise_fn(name, doc, latex, *, sympy, numpy, rule, local, domain=None,
                    facts=frozenset(), algebra=False):
    return Op(name, 1, same, lambda vs, axis: numpy(vs[0]), entrywise(sympy), (rule,), doc,
              index=(diagonal(local) if local else None,), latex=latex, domain=(domain,),
              facts=lambda node: facts, scalar=sympy, algebra=algebra, entrywise=True)


def _binary(name, symbol, precedence, numpy_f, sympy_f, rules, doc, locals_, product=None,
            domain=(None, None)):
    return Op(name, 2, elementwise, lambda vs, axis: numpy_f(*vs), entrywise2(sympy_f), rules,
              doc, symbol=symbol, precedence=precedence, product=product,
              index=tuple(map(diagonal, locals_)), domain=domain, entrywise=True)


def _extremum(name, which, numpy_f, sympy_f, latex):
    """max(a, b) or min(a, b) entry by entry: d = da where a is the {which} entry, db
    where b is (a step each); almost everywhere, not where a = b, which the numeric
    checks' random points miss."""
    wins = (lambda a, b: a - b) if which == "larger" else (lambda a, b: b - a)
    return Op(name, 2, elementwise, lambda vs, axis: numpy_f(*vs), entrywise2(sympy_f),
              (lambda g, ans, a, b, axis: unbroadcast(g * make("step", wins(a, b)), a),
               lambda g, ans, a, b, axis: unbroadcast(g * make("step", wins(b, a)), b)),
              f"the {which} of two entries, entry by entry, with broadcasting", latex=latex,
              index=(diagonal(lambda o, a, b: sp.Heaviside(wins(a, b))),
                     diagonal(lambda o, a, b: sp.Heaviside(wins(b, a)))),
              domain=(None, None), entrywise=True)


# -- the registry ----------------------------------------------------------------------

_ALL = [
    # d(a+b) = da + db; a broadcast operand collects the sum of its copies' gradients.
    _binary("add", "+", 1, lambda a, b: a + b, lambda a, b: a + b,
            (lambda g, ans, a, b, axis: unbroadcast(g, a),
             lambda g, ans, a, b, axis: unbroadcast(g, b)),
            "element-wise sum, with broadcasting", (lambda o, a, b: 1, lambda o, a, b: 1)),
    _binary("sub", "-", 1, lambda a, b: a - b, lambda a, b: a - b,
            (lambda g, ans, a, b, axis: unbroadcast(g, a),
             lambda g, ans, a, b, axis: unbroadcast(-g, b)),
            "element-wise difference, with broadcasting", (lambda o, a, b: 1, lambda o, a, b: -1)),
    # d(a⊙b) = da⊙b + a⊙db
    _binary("mul", "*", 2, lambda a, b: a * b, lambda a, b: a * b,
            (lambda g, ans, a, b, axis: unbroadcast(g * b, a),
             lambda g, ans, a, b, axis: unbroadcast(g * a, b)),
            "element-wise (Hadamard) product, with broadcasting",
            (lambda o, a, b: b, lambda o, a, b: a), product="elementwise"),
    # d(a⊘b) = da⊘b − a⊙db⊘b²
    _binary("div", "/", 2, lambda a, b: a / b, lambda a, b: a / b,
            (lambda g, ans, a, b, axis: unbroadcast(g / b, a),
             lambda g, ans, a, b, axis: unbroadcast(-(g * a) / b ** 2, b)),
            "element-wise quotient, with broadcasting",
            (lambda o, a, b: 1 / b, lambda o, a, b: -a / b ** 2), product="elementwise"),
    # d(a^b) = b⊙a^(b−1)⊙da + log(a)⊙a^b⊙db
    _binary("pow", "**", 4, lambda a, b: a ** b, lambda a, b: a ** b,
            (lambda g, ans, a, b, axis: unbroadcast(g * b * a ** (b - 1), a),
             lambda g, ans, a, b, axis: unbroadcast(g * make("log", a) * ans, b)),
            "element-wise power, with broadcasting",
            (lambda o, a, b: b * a ** (b - 1), lambda o, a, b: sp.log(a) * o),
            domain=("positive", None)),
    _extremum("maximum", "larger", lambda a, b: np.maximum(a, b), lambda a, b: sp.Max(a, b),
              r"\max"),
    _extremum("minimum", "smaller", lambda a, b: np.minimum(a, b), lambda a, b: sp.Min(a, b),
              r"\min"),
    # C = AB: dL/dA = G Bᵀ, dL/dB = Aᵀ G
    Op("matmul", 2, matmul_shape, lambda vs, axis: vs[0] @ vs[1], lambda ms, axis: ms[0] * ms[1],
       (lambda g, ans, a, b, axis: g @ b.T, lambda g, ans, a, b, axis: a.T @ g),
       "matrix product", symbol="@", precedence=2, product="matrix",
       index=(lambda o, a, i, j, k, l, axis, n: delta(i, k) * a[1][l, j],
              lambda o, a, i, j, k, l, axis, n: a[0][i, k] * delta(j, l))),
    Op("neg", 1, same, lambda vs, axis: -vs[0], lambda ms, axis: -ms[0],
       (lambda g, ans, x, axis: -g,), "negation", symbol="-", precedence=3,
       index=(diagonal(lambda o, a: -1),), entrywise=True),
    Op("transpose", 1, lambda shapes, axis: shapes[0].T, lambda vs, axis: vs[0].T,
       lambda ms, axis: ms[0].T, (lambda g, ans, x, axis: g.T,), "transpose", symbol=".T",
       index=(lambda o, a, i, j, k, l, axis, n: delta(i, l) * delta(j, k),)),

    # element-wise functions: dL/dx = G ⊙ f'(x), with f' written through the output where
    # that is the textbook form (e^x, σ(1−σ), 1−tanh²)
    _elementwise_fn("exp", "e to the power of each entry", r"\exp",
                    sympy=lambda x: sp.exp(x), numpy=lambda v: np.exp(v),
                    rule=lambda g, ans, x, axis: g * ans, local=lambda o, x: o,
                    facts=frozenset({"positive"}), algebra=True),
    _elementwise_fn("log", "natural logarithm of each entry", r"\log",
                    sympy=lambda x: sp.log(x), numpy=lambda v: np.log(v),
                    rule=lambda g, ans, x, axis: g / x, local=lambda o, x: 1 / x,
                    domain="positive", algebra=True),
    _elementwise_fn("sqrt", "square root of each entry", None,       # the printer draws √
                    sympy=lambda x: sp.sqrt(x), numpy=lambda v: np.sqrt(v),
                    rule=lambda g, ans, x, axis: g / (2 * ans), local=lambda o, x: 1 / (2 * o),
                    domain="positive", algebra=True),
    _elementwise_fn("log1p", "natural logarithm of one plus each entry", None,   # log(1 + x)
                    sympy=lambda x: sp.log(1 + x), numpy=lambda v: np.log1p(v),
                    rule=lambda g, ans, x, axis: g / (1 + x), local=lambda o, x: 1 / (1 + x),
                    domain="positive", algebra=True),
    # softplus(x) = log(1 + e^x), a smooth relu; its derivative is the sigmoid
    _elementwise_fn("softplus", "log of one plus e to the power of each entry",
                    r"\operatorname{softplus}",
                    sympy=lambda x: sp.log(1 + sp.exp(x)), numpy=lambda v: np.logaddexp(0, v),
                    rule=lambda g, ans, x, axis: g * make("sigmoid", x),
                    local=lambda o, x: 1 / (1 + sp.exp(-x)), facts=frozenset({"positive"})),
    _elementwise_fn("tanh", "hyperbolic tangent of each entry", r"\tanh",
                    sympy=lambda x: sp.tanh(x), numpy=lambda v: np.tanh(v),
                    rule=lambda g, ans, x, axis: g * (1 - ans ** 2), local=lambda o, x: 1 - o ** 2),
    _elementwise_fn("sigmoid", "the logistic (sigmoid) function of each entry", r"\sigma",
                    sympy=sympy_sigmoid, numpy=lambda v: 1 / (1 + np.exp(-v)),
                    rule=lambda g, ans, x, axis: g * ans * (1 - ans),
                    local=lambda o, x: o * (1 - o), facts=frozenset({"positive"})),
    _elementwise_fn("relu", "each entry, or 0 where it is negative", r"\operatorname{relu}",
                    sympy=lambda x: sp.Max(x, 0), numpy=lambda v: np.maximum(v, 0),
                    rule=lambda g, ans, x, axis: g * make("step", x),
                    local=lambda o, x: sp.Heaviside(x)),
    _elementwise_fn("abs", "absolute value of each entry", None,     # the printer draws |x|
                    sympy=lambda x: sp.Abs(x), numpy=lambda v: np.abs(v),
                    rule=lambda g, ans, x, axis: g * make("sign", x), local=lambda o, x: sp.sign(x)),
    _elementwise_fn("sin", "sine of each entry", r"\sin",
                    sympy=lambda x: sp.sin(x), numpy=lambda v: np.sin(v),
                    rule=lambda g, ans, x, axis: g * make("cos", x), local=lambda o, x: sp.cos(x)),
    _elementwise_fn("cos", "cosine of each entry", r"\cos",
                    sympy=lambda x: sp.cos(x), numpy=lambda v: np.cos(v),
                    rule=lambda g, ans, x, axis: -(g * make("sin", x)),
                    local=lambda o, x: -sp.sin(x)),
    # piecewise constant: the derivative is 0 wherever it exists
    _elementwise_fn("step", "1 where the entry is > 0, 0 elsewhere", r"\operatorname{step}",
                    sympy=lambda x: sp.Heaviside(x, 0), numpy=lambda v: (v > 0).astype(float),
                    rule=None, local=None),
    _elementwise_fn("sign", "-1, 0 or 1: the sign of each entry", r"\operatorname{sign}",
                    sympy=lambda x: sp.sign(x), numpy=lambda v: np.sign(v), rule=None, local=None),

    # reductions: every entry summed receives the gradient of its sum
    Op("sum", 1, reduce_shape, numpy_reduce(lambda v, **kw: np.sum(v, **kw)),
       sympy_reduce(lambda xs: sp.Add.fromiter(xs)), (lambda g, ans, x, axis: spread(g, x),),
       "sum of all entries, of each column or of each row", axis="optional",
       index=(lambda o, a, i, j, k, l, axis, n: {None: 1, 0: delta(j, l), 1: delta(i, k)}[axis],)),
    Op("mean", 1, reduce_shape, numpy_reduce(lambda v, **kw: np.mean(v, **kw)),
       sympy_reduce(lambda xs: sp.Add.fromiter(xs) / len(xs)),
       (lambda g, ans, x, axis: spread(g, x) / count(x, axis),),
       "mean of all entries, of each column or of each row", axis="optional",
       latex=r"\operatorname{mean}",
       index=(lambda o, a, i, j, k, l, axis, n: {None: sp.Integer(1) / (n[0] * n[1]),
                                                 0: delta(j, l) / n[0],
                                                 1: delta(i, k) / n[1]}[axis],)),
    # A = softmax(S): dL/dS = A ⊙ (G − 1ᵀ(A ⊙ G)) over each column (axis=0) or row (axis=1)
    Op("softmax", 1, same, numpy_softmax, sympy_softmax,
       (lambda g, ans, x, axis: ans * (g - make("sum", ans * g, axis=axis)),),
       "each column (or row) exponentiated and divided by its sum", axis="required",
       latex=r"\operatorname{softmax}",
       index=(lambda o, a, i, j, k, l, axis, n: (
           delta(j, l) * o[i, j] * (delta(i, k) - o[k, j]) if axis == 0 else
           delta(i, k) * o[i, j] * (delta(j, l) - o[i, l])),),
       facts=lambda node: frozenset({"positive",
                                     ("probability_columns", "probability_rows")[node.axis]})),
    # l = log Σ exp(s): dl/ds = softmax(s)
    Op("logsumexp", 1, reduce_shape, numpy_logsumexp, sympy_reduce(sympy_logsumexp),
       (lambda g, ans, x, axis: g * make("softmax", x, axis=axis),),
       "log of the sum of the exponentials of each column (or row)", axis="required",
       latex=r"\operatorname{logsumexp}",
       index=(lambda o, a, i, j, k, l, axis, n: (delta(j, l) if axis == 0 else delta(i, k)) *
              sp.exp(a[0][k, l] - o[i, j]),)),

    # ‖X‖ = √(Σ X²) over all entries, each column or each row: d‖X‖ = Σ X ⊙ dX / ‖X‖
    Op("norm", 1, reduce_shape, numpy_reduce(lambda v, **kw: np.sqrt(np.sum(v * v, **kw))),
       sympy_reduce(lambda xs: sp.sqrt(sp.Add.fromiter(x ** 2 for x in xs))),
       (lambda g, ans, x, axis: g * x / ans,),
       "the Euclidean (Frobenius) norm of all entries, of each column or of each row",
       axis="optional", condition="is not zero",
       index=(lambda o, a, i, j, k, l, axis, n: a[0][k, l] / o[i, j] *
              {None: 1, 0: delta(j, l), 1: delta(i, k)}[axis],)),
    # diag(v) puts a vector on the diagonal; diag(M) reads a square matrix's diagonal:
    # each rule is the other (a row vector's gradient is a row)
    Op("diag", 1, diag_shape, numpy_diag, sympy_diag,
       (lambda g, ans, x, axis: make("diag", g) if x.shape.cols == 1 or x.shape.is_square
        else make("diag", g).T,),
       "a vector on the diagonal of a square matrix, or the diagonal of a square matrix "
       "as a column", latex=r"\operatorname{diag}", symmetric=True,
       index=(lambda o, a, i, j, k, l, axis, n: (
           delta(i, j) * delta(i, k) if n[1] == 1 else delta(i, j) * delta(j, l)
           if n[0] == 1 else delta(i, k) * delta(i, l)),)),
    # square matrices: d tr(X) = tr(dX); d det(X) = det(X) tr(X⁻¹dX); d X⁻¹ = −X⁻¹ dX X⁻¹
    Op("trace", 1, square_to_scalar, lambda vs, axis: np.trace(vs[0]).reshape(1, 1),
       lambda ms, axis: sp.Matrix([[ms[0].trace()]]),
       (lambda g, ans, x, axis: g * make("eye_like", x),), "sum of the diagonal of a square matrix",
       latex=r"\operatorname{tr}",
       index=(lambda o, a, i, j, k, l, axis, n: delta(k, l),)),
    Op("det", 1, square_to_scalar, lambda vs, axis: np.linalg.det(vs[0]).reshape(1, 1),
       lambda ms, axis: sp.Matrix([[ms[0].det(method="berkowitz")]]),
       (lambda g, ans, x, axis: g * ans * make("inv", x).T,), "determinant of a square matrix",
       latex=r"\det",
       index=(lambda o, a, i, j, k, l, axis, n: o[i, j] * inverse_of(a[0])[l, k],),
       domain=("well_conditioned",), max_size=4),
    Op("logdet", 1, square_to_scalar, numpy_logdet,
       lambda ms, axis: sp.Matrix([[sp.log(ms[0].det(method="berkowitz"))]]),
       (lambda g, ans, x, axis: g * make("inv", x).T,),
       "log of the determinant of a square matrix", latex=r"\log\det",
       index=(lambda o, a, i, j, k, l, axis, n: inverse_of(a[0])[l, k],),
       domain=("positive_definite",), max_size=4),
    Op("inv", 1, square, lambda vs, axis: np.linalg.inv(vs[0]),
       lambda ms, axis: ms[0].inv(method="ADJ"),
       (lambda g, ans, x, axis: -(ans.T @ g @ ans.T),), "inverse of a square matrix",
       index=(lambda o, a, i, j, k, l, axis, n: -o[i, k] * o[l, j],),
       domain=("well_conditioned",), max_size=3, condition="is invertible"),

    # integer labels (entries 0..C−1, as in NumPy): picking entries, rows or columns by
    # label spreads the gradient back to where it was picked, adding where labels repeat
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
    Op("one_hot", 2, one_hot_shape, numpy_one_hot, sympy_one_hot, (None, None),
       "one column per label, 1 in the label's row and 0 elsewhere (one row per label, "
       "for a column of labels)",
       latex=r"\operatorname{onehot}", domain=(None, None), index=(None, None),
       facts=lambda node: frozenset({"one_hot_columns" if node.args[0].shape.rows == 1
                                     else "one_hot_rows"}),
       examples=((Shape(1, "c", "n"), SCALAR), (Shape("r", 1, "n"), SCALAR)),
       implicit=(lambda shapes: dim_node(shapes[0].labels),)),

    # constants shaped like their argument: what reductions and traces differentiate to
    Op("ones_like", 1, same, lambda vs, axis: np.ones_like(vs[0]),
       lambda ms, axis: sp.ones(ms[0].rows, ms[0].cols), (None,),
       "a matrix of ones, of the shape its place needs", index=(None,), shape_only=True),
    Op("eye_like", 1, square, lambda vs, axis: np.eye(vs[0].shape[0]),
       lambda ms, axis: sp.eye(ms[0].rows), (None,),
       "the identity matrix, of the size its place needs", index=(None,), shape_only=True),
]

OPS: dict[str, Op] = {op.name: op for op in _ALL}
SHAPE_RULES.update((op.name, op.shape) for op in _ALL)
FUNCTIONS: dict[str, Op] = {op.name: op for op in _ALL if op.is_function}
