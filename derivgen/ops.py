"""The operator registry: everything derivgen knows about each operator, one
:class:`~derivgen.op.Op` entry each (what an entry holds: :mod:`derivgen.op`).

Here: arithmetic, element-wise functions, reductions, matrix functions and the
constants rules need; in :mod:`derivgen.selection`: what selects, compares and
joins (labels, piecewise choices). Adding an operator means adding one entry (its
shape rule and forms, when several operators share them, from :mod:`derivgen.forms`);
the parser, the engine and the registry-driven tests pick it up.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .forms import (diag_shape, elementwise, entrywise, entrywise2, matmul_shape, numpy_diag,
                    numpy_logdet, numpy_logsumexp, numpy_reduce, numpy_softmax, reduce_shape,
                    same, square, square_to_scalar, sympy_diag, sympy_logsumexp, sympy_reduce,
                    sympy_sigmoid, sympy_softmax)
from .lazy import np, sp
from .nodes import SHAPE_RULES, make
from .shapes import Shape
from .op import (Op, count, delta, diagonal, infix, inverse_of, reduction, spread, stretched,
                 template, torch_reduction, unbroadcast)
from .selection import SELECTION
from .vectorize import VECTORIZE


def _elementwise_fn(name, doc, latex, *, sympy, numpy, code, torch, rule, local, domain=None,
                    facts=frozenset(), algebra=False, reflection=None):
    # forward and backward both multiply by f'(x) entry by entry: one rule serves both
    return Op(name, 1, same, lambda vs, axis: numpy(vs[0]), entrywise(sympy), (rule,), doc,
              jvp=(rule,), code=template(code), torch_code=template(torch),
              index=(diagonal(local) if local else None,),
              latex=latex, domain=(domain,),
              facts=lambda node: facts, scalar=sympy, algebra=algebra, entrywise=True,
              reflection=reflection)


def _diag_code(library: str):
    """diag's source in ``library`` (np, torch), the same in both: a vector onto the
    diagonal, or a square matrix's diagonal as a column."""
    return lambda a, axis, shapes: f"{library}.diag({a[0]}.ravel())" \
        if 1 in (shapes[0].rows, shapes[0].cols) else f"{library}.diag({a[0]}).reshape(-1, 1)"


def _binary(name, symbol, precedence, numpy_f, sympy_f, rules, forward, doc, locals_,
            product=None, domain=(None, None)):
    return Op(name, 2, elementwise, lambda vs, axis: numpy_f(*vs), entrywise2(sympy_f), rules,
              doc, jvp=forward, code=infix(symbol), torch_code=infix(symbol), symbol=symbol,
              precedence=precedence,
              product=product,
              index=tuple(map(diagonal, locals_)), domain=domain, entrywise=True)


def _extremum(name, which, numpy_f, sympy_f, latex):
    """max(a, b) or min(a, b) entry by entry: d = da where a is the {which} entry, db
    elsewhere, ties included (a step and one minus it): where a and b agree on a whole
    region (PPO's min(r A, clip(r) A) inside the clip range) their derivatives agree
    too, and the gradient must go to one of them, not to neither."""
    wins = (lambda a, b: a - b) if which == "larger" else (lambda a, b: b - a)
    return Op(name, 2, elementwise, lambda vs, axis: numpy_f(*vs), entrywise2(sympy_f),
              (lambda g, ans, a, b, axis: unbroadcast(g * make("step", wins(a, b)), a),
               lambda g, ans, a, b, axis: unbroadcast(g * (1 - make("step", wins(a, b))), b)),
              f"the {which} of two entries, entry by entry, with broadcasting", latex=latex,
              code=template(f"np.{name}({{0}}, {{1}})"),
              torch_code=template(f"torch.{name}({{0}}, {{1}})"),
              jvp=(lambda d, ans, a, b, axis: d * make("step", wins(a, b)),
                   lambda d, ans, a, b, axis: d * (1 - make("step", wins(a, b)))),
              index=(diagonal(lambda o, a, b: sp.Heaviside(wins(a, b))),
                     diagonal(lambda o, a, b: 1 - sp.Heaviside(wins(a, b)))),
              domain=(None, None), entrywise=True)

# -- the registry ----------------------------------------------------------------------

_ALL = [
    # d(a+b) = da + db; a broadcast operand collects the sum of its copies' gradients.
    _binary("add", "+", 1, lambda a, b: a + b, lambda a, b: a + b,
            (lambda g, ans, a, b, axis: unbroadcast(g, a),
             lambda g, ans, a, b, axis: unbroadcast(g, b)),
            (lambda d, ans, a, b, axis: stretched(d, ans), lambda d, ans, a, b, axis: stretched(d, ans)),
            "element-wise sum, with broadcasting", (lambda o, a, b: 1, lambda o, a, b: 1)),
    _binary("sub", "-", 1, lambda a, b: a - b, lambda a, b: a - b,
            (lambda g, ans, a, b, axis: unbroadcast(g, a),
             lambda g, ans, a, b, axis: unbroadcast(-g, b)),
            (lambda d, ans, a, b, axis: stretched(d, ans), lambda d, ans, a, b, axis: -stretched(d, ans)),
            "element-wise difference, with broadcasting", (lambda o, a, b: 1, lambda o, a, b: -1)),
    # d(a⊙b) = da⊙b + a⊙db
    _binary("mul", "*", 2, lambda a, b: a * b, lambda a, b: a * b,
            (lambda g, ans, a, b, axis: unbroadcast(g * b, a),
             lambda g, ans, a, b, axis: unbroadcast(g * a, b)),
            (lambda d, ans, a, b, axis: d * b, lambda d, ans, a, b, axis: a * d),
            "element-wise (Hadamard) product, with broadcasting",
            (lambda o, a, b: b, lambda o, a, b: a), product="elementwise"),
    # d(a⊘b) = da⊘b − a⊙db⊘b²
    _binary("div", "/", 2, lambda a, b: a / b, lambda a, b: a / b,
            (lambda g, ans, a, b, axis: unbroadcast(g / b, a),
             lambda g, ans, a, b, axis: unbroadcast(-(g * a) / b ** 2, b)),
            (lambda d, ans, a, b, axis: d / b, lambda d, ans, a, b, axis: -(a * d) / b ** 2),
            "element-wise quotient, with broadcasting",
            (lambda o, a, b: 1 / b, lambda o, a, b: -a / b ** 2), product="elementwise"),
    # d(a^b) = b⊙a^(b−1)⊙da + log(a)⊙a^b⊙db
    _binary("pow", "**", 4, lambda a, b: a ** b, lambda a, b: a ** b,
            (lambda g, ans, a, b, axis: unbroadcast(g * b * a ** (b - 1), a),
             lambda g, ans, a, b, axis: unbroadcast(g * make("log", a) * ans, b)),
            (lambda d, ans, a, b, axis: b * a ** (b - 1) * d,
             lambda d, ans, a, b, axis: make("log", a) * ans * d),
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
       "matrix product", code=infix("@"), torch_code=infix("@"),
       jvp=(lambda d, ans, a, b, axis: d @ b, lambda d, ans, a, b, axis: a @ d),
       symbol="@", precedence=2, product="matrix",
       index=(lambda o, a, i, j, k, l, axis, n: delta(i, k) * a[1][l, j],
              lambda o, a, i, j, k, l, axis, n: a[0][i, k] * delta(j, l))),
    Op("neg", 1, same, lambda vs, axis: -vs[0], lambda ms, axis: -ms[0],
       (lambda g, ans, x, axis: -g,), "negation", code=template("(-{0})"),
       torch_code=template("(-{0})"),
       jvp=(lambda d, ans, x, axis: -d,), symbol="-", precedence=3,
       index=(diagonal(lambda o, a: -1),), entrywise=True),
    Op("transpose", 1, lambda shapes, axis: shapes[0].T, lambda vs, axis: vs[0].T,
       lambda ms, axis: ms[0].T, (lambda g, ans, x, axis: g.T,), "transpose",
       code=template("{0}.T"), torch_code=template("{0}.T"),
       jvp=(lambda d, ans, x, axis: d.T,), symbol=".T",
       index=(lambda o, a, i, j, k, l, axis, n: delta(i, l) * delta(j, k),)),

    # element-wise functions: dL/dx = G ⊙ f'(x), with f' written through the output where
    # that is the textbook form (e^x, σ(1−σ), 1−tanh²)
    _elementwise_fn("exp", "e to the power of each entry", r"\exp",
                    sympy=lambda x: sp.exp(x), numpy=lambda v: np.exp(v),
                    code="np.exp({0})", torch="torch.exp({0})",
                    rule=lambda g, ans, x, axis: g * ans, local=lambda o, x: o,
                    facts=frozenset({"positive"}), algebra=True),
    _elementwise_fn("log", "natural logarithm of each entry", r"\log",
                    sympy=lambda x: sp.log(x), numpy=lambda v: np.log(v),
                    code="np.log({0})", torch="torch.log({0})",
                    rule=lambda g, ans, x, axis: g / x, local=lambda o, x: 1 / x,
                    domain="positive", algebra=True),
    _elementwise_fn("sqrt", "square root of each entry", None,       # the printer draws √
                    sympy=lambda x: sp.sqrt(x), numpy=lambda v: np.sqrt(v),
                    code="np.sqrt({0})", torch="torch.sqrt({0})",
                    rule=lambda g, ans, x, axis: g / (2 * ans), local=lambda o, x: 1 / (2 * o),
                    domain="positive", algebra=True),
    _elementwise_fn("log1p", "natural logarithm of one plus each entry", None,   # log(1 + x)
                    sympy=lambda x: sp.log(1 + x), numpy=lambda v: np.log1p(v),
                    code="np.log1p({0})", torch="torch.log1p({0})",
                    rule=lambda g, ans, x, axis: g / (1 + x), local=lambda o, x: 1 / (1 + x),
                    domain="positive", algebra=True),
    # softplus(x) = log(1 + e^x), a smooth relu; its derivative is the sigmoid
    _elementwise_fn("softplus", "log of one plus e to the power of each entry",
                    r"\operatorname{softplus}",
                    sympy=lambda x: sp.log(1 + sp.exp(x)), numpy=lambda v: np.logaddexp(0, v),
                    code="np.logaddexp(0, {0})",
                    torch="torch.logaddexp(torch.zeros_like({0}), {0})",
                    rule=lambda g, ans, x, axis: g * make("sigmoid", x),
                    local=lambda o, x: 1 / (1 + sp.exp(-x)), facts=frozenset({"positive"})),
    _elementwise_fn("tanh", "hyperbolic tangent of each entry", r"\tanh",
                    sympy=lambda x: sp.tanh(x), numpy=lambda v: np.tanh(v),
                    code="np.tanh({0})", torch="torch.tanh({0})",
                    rule=lambda g, ans, x, axis: g * (1 - ans ** 2), local=lambda o, x: 1 - o ** 2,
                    reflection=(0, -1)),
    _elementwise_fn("sigmoid", "the logistic (sigmoid) function of each entry", r"\sigma",
                    sympy=sympy_sigmoid, numpy=lambda v: 1 / (1 + np.exp(-v)),
                    code="(1 / (1 + np.exp(-{0})))", torch="torch.sigmoid({0})",
                    rule=lambda g, ans, x, axis: g * ans * (1 - ans),
                    local=lambda o, x: o * (1 - o), facts=frozenset({"positive"}),
                    reflection=(1, -1)),
    _elementwise_fn("relu", "each entry, or 0 where it is negative", r"\operatorname{relu}",
                    sympy=lambda x: sp.Max(x, 0), numpy=lambda v: np.maximum(v, 0),
                    code="np.maximum({0}, 0)", torch="torch.relu({0})",
                    rule=lambda g, ans, x, axis: g * make("step", x),
                    local=lambda o, x: sp.Heaviside(x)),
    _elementwise_fn("abs", "absolute value of each entry", None,     # the printer draws |x|
                    sympy=lambda x: sp.Abs(x), numpy=lambda v: np.abs(v),
                    code="np.abs({0})", torch="torch.abs({0})",
                    rule=lambda g, ans, x, axis: g * make("sign", x), local=lambda o, x: sp.sign(x),
                    reflection=(0, 1)),
    _elementwise_fn("sin", "sine of each entry", r"\sin",
                    sympy=lambda x: sp.sin(x), numpy=lambda v: np.sin(v),
                    code="np.sin({0})", torch="torch.sin({0})",
                    rule=lambda g, ans, x, axis: g * make("cos", x), local=lambda o, x: sp.cos(x),
                    reflection=(0, -1)),
    _elementwise_fn("cos", "cosine of each entry", r"\cos",
                    sympy=lambda x: sp.cos(x), numpy=lambda v: np.cos(v),
                    code="np.cos({0})", torch="torch.cos({0})",
                    rule=lambda g, ans, x, axis: -(g * make("sin", x)),
                    local=lambda o, x: -sp.sin(x), reflection=(0, 1)),
    # piecewise constant: the derivative is 0 wherever it exists
    _elementwise_fn("step", "1 where the entry is > 0, 0 elsewhere", r"\operatorname{step}",
                    sympy=lambda x: sp.Heaviside(x, 0), numpy=lambda v: (v > 0).astype(float),
                    code="np.heaviside({0}, 0)", torch="({0} > 0).double()",
                    rule=None, local=None, reflection=(1, -1)),
    _elementwise_fn("sign", "-1, 0 or 1: the sign of each entry", r"\operatorname{sign}",
                    sympy=lambda x: sp.sign(x), numpy=lambda v: np.sign(v), code="np.sign({0})",
                    torch="torch.sign({0})",
                    rule=None, local=None,
                    reflection=(0, -1)),

    # reductions: every entry summed receives the gradient of its sum
    Op("sum", 1, reduce_shape, numpy_reduce(lambda v, **kw: np.sum(v, **kw)),
       sympy_reduce(lambda xs: sp.Add.fromiter(xs)), (lambda g, ans, x, axis: spread(g, x),),
       "sum of all entries, of each column or of each row", axis="optional",
       code=reduction("np.sum"), torch_code=torch_reduction("torch.sum"),
       jvp=(lambda d, ans, x, axis: make("sum", d, axis=axis),),
       index=(lambda o, a, i, j, k, l, axis, n: {None: 1, 0: delta(j, l), 1: delta(i, k)}[axis],)),
    Op("mean", 1, reduce_shape, numpy_reduce(lambda v, **kw: np.mean(v, **kw)),
       sympy_reduce(lambda xs: sp.Add.fromiter(xs) / len(xs)),
       (lambda g, ans, x, axis: spread(g, x) / count(x, axis),),
       "mean of all entries, of each column or of each row", axis="optional",
       code=reduction("np.mean"), torch_code=torch_reduction("torch.mean"),
       jvp=(lambda d, ans, x, axis: make("mean", d, axis=axis),),
       latex=r"\operatorname{mean}",
       index=(lambda o, a, i, j, k, l, axis, n: {None: sp.Integer(1) / (n[0] * n[1]),
                                                 0: delta(j, l) / n[0],
                                                 1: delta(i, k) / n[1]}[axis],)),
    # A = softmax(S): dL/dS = A ⊙ (G − 1ᵀ(A ⊙ G)) over each column (axis=0) or row (axis=1)
    Op("softmax", 1, same, numpy_softmax, sympy_softmax,
       (lambda g, ans, x, axis: ans * (g - make("sum", ans * g, axis=axis)),),
       "each column (or row) exponentiated and divided by its sum", axis="required",
       code=template("(np.exp({0} - np.max({0}, axis={axis}, keepdims=True)) / np.sum(np.exp("
            "{0} - np.max({0}, axis={axis}, keepdims=True)), axis={axis}, keepdims=True))"),
       torch_code=template("torch.softmax({0}, dim={axis})"),
       jvp=(lambda d, ans, x, axis: ans * (d - make("sum", ans * d, axis=axis)),),
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
       code=template("np.log(np.sum(np.exp({0}), axis={axis}, keepdims=True))"),
       torch_code=template("torch.logsumexp({0}, dim={axis}, keepdim=True)"),
       jvp=(lambda d, ans, x, axis: make("sum", make("softmax", x, axis=axis) * d, axis=axis),),
       latex=r"\operatorname{logsumexp}",
       index=(lambda o, a, i, j, k, l, axis, n: (delta(j, l) if axis == 0 else delta(i, k)) *
              sp.exp(a[0][k, l] - o[i, j]),)),

    # ‖X‖ = √(Σ X²) over all entries, each column or each row: d‖X‖ = Σ X ⊙ dX / ‖X‖
    Op("norm", 1, reduce_shape, numpy_reduce(lambda v, **kw: np.sqrt(np.sum(v * v, **kw))),
       sympy_reduce(lambda xs: sp.sqrt(sp.Add.fromiter(x ** 2 for x in xs))),
       (lambda g, ans, x, axis: g * x / ans,),
       "the Euclidean (Frobenius) norm of all entries, of each column or of each row",
       axis="optional", code=lambda a, axis, shapes: reduction("np.sum")([f"{a[0]} ** 2"], axis, shapes).join(("np.sqrt(", ")")),
       torch_code=torch_reduction("torch.linalg.vector_norm"),
       jvp=(lambda d, ans, x, axis: make("sum", x * d, axis=axis) / ans,), condition="is not zero",
       index=(lambda o, a, i, j, k, l, axis, n: a[0][k, l] / o[i, j] *
              {None: 1, 0: delta(j, l), 1: delta(i, k)}[axis],)),
    # diag(v) puts a vector on the diagonal; diag(M) reads a square matrix's diagonal:
    # each rule is the other (a row vector's gradient is a row)
    Op("diag", 1, diag_shape, numpy_diag, sympy_diag,
       (lambda g, ans, x, axis: make("diag", g) if x.shape.cols == 1 or x.shape.is_square
        else make("diag", g).T,),
       "a vector on the diagonal of a square matrix, or the diagonal of a square matrix "
       "as a column", latex=r"\operatorname{diag}", symmetric=True,
       code=_diag_code("np"), torch_code=_diag_code("torch"),
       jvp=(lambda d, ans, x, axis: make("diag", d),),
       index=(lambda o, a, i, j, k, l, axis, n: (
           delta(i, j) * delta(i, k) if n[1] == 1 else delta(i, j) * delta(j, l)
           if n[0] == 1 else delta(i, k) * delta(i, l)),)),
    # square matrices: d tr(X) = tr(dX); d det(X) = det(X) tr(X⁻¹dX); d X⁻¹ = −X⁻¹ dX X⁻¹
    Op("trace", 1, square_to_scalar, lambda vs, axis: np.trace(vs[0]).reshape(1, 1),
       lambda ms, axis: sp.Matrix([[ms[0].trace()]]),
       (lambda g, ans, x, axis: g * make("eye_like", x),), "sum of the diagonal of a square matrix",
       code=template("np.trace({0}).reshape(1, 1)"),
       torch_code=template("torch.trace({0}).reshape(1, 1)"),
       jvp=(lambda d, ans, x, axis: make("trace", d),),
       latex=r"\operatorname{tr}",
       index=(lambda o, a, i, j, k, l, axis, n: delta(k, l),)),
    Op("det", 1, square_to_scalar, lambda vs, axis: np.linalg.det(vs[0]).reshape(1, 1),
       lambda ms, axis: sp.Matrix([[ms[0].det(method="berkowitz")]]),
       (lambda g, ans, x, axis: g * ans * make("inv", x).T,), "determinant of a square matrix",
       code=template("np.linalg.det({0}).reshape(1, 1)"),
       torch_code=template("torch.linalg.det({0}).reshape(1, 1)"),
       jvp=(lambda d, ans, x, axis: ans * make("trace", make("inv", x) @ d),),
       latex=r"\det",
       index=(lambda o, a, i, j, k, l, axis, n: o[i, j] * inverse_of(a[0])[l, k],),
       domain=("well_conditioned",), max_size=4),
    Op("logdet", 1, square_to_scalar, numpy_logdet,
       lambda ms, axis: sp.Matrix([[sp.log(ms[0].det(method="berkowitz"))]]),
       (lambda g, ans, x, axis: g * make("inv", x).T,),
       "log of the determinant of a square matrix", latex=r"\log\det",
       code=template("np.linalg.slogdet({0})[1].reshape(1, 1)"),
       torch_code=template("torch.linalg.slogdet({0})[1].reshape(1, 1)"),
       jvp=(lambda d, ans, x, axis: make("trace", make("inv", x) @ d),),
       index=(lambda o, a, i, j, k, l, axis, n: inverse_of(a[0])[l, k],),
       domain=("positive_definite",), max_size=4),
    Op("inv", 1, square, lambda vs, axis: np.linalg.inv(vs[0]),
       lambda ms, axis: ms[0].inv(method="ADJ"),
       (lambda g, ans, x, axis: -(ans.T @ g @ ans.T),), "inverse of a square matrix",
       code=template("np.linalg.inv({0})"), torch_code=template("torch.linalg.inv({0})"),
       jvp=(lambda d, ans, x, axis: -(ans @ d @ ans),),
       index=(lambda o, a, i, j, k, l, axis, n: -o[i, k] * o[l, j],),
       domain=("well_conditioned",), max_size=3, condition="is invertible"),
    *SELECTION,
    *VECTORIZE,

    # constants shaped like their argument: what reductions and traces differentiate to
    Op("ones_like", 1, same, lambda vs, axis: np.ones_like(vs[0]),
       lambda ms, axis: sp.ones(ms[0].rows, ms[0].cols), (None,),
       "a matrix of ones, of the shape its place needs", index=(None,), shape_only=True, code=template("np.ones_like({0})"),
       torch_code=template("torch.ones_like({0})"),
       jvp=(None,)),
    Op("zeros_like", 1, same, lambda vs, axis: np.zeros_like(vs[0]),
       lambda ms, axis: sp.zeros(ms[0].rows, ms[0].cols), (None,),
       "a matrix of zeros, of the shape of its argument", index=(None,), shape_only=True, code=template("np.zeros_like({0})"),
       torch_code=template("torch.zeros_like({0})"),
       jvp=(None,)),
    # as many rows as its argument: I beside a column x is the identity J of x ↦ x
    Op("eye_like", 1, lambda shapes, axis: Shape(shapes[0].rows, shapes[0].rows),
       lambda vs, axis: np.eye(vs[0].shape[0]), lambda ms, axis: sp.eye(ms[0].rows), (None,),
       "the identity matrix, of the size its place needs", index=(None,), shape_only=True, code=template("np.eye({0}.shape[0])"),
       torch_code=template("torch.eye({0}.shape[0], dtype=torch.float64, device={0}.device)"),
       jvp=(None,)),
]

OPS: dict[str, Op] = {op.name: op for op in _ALL}
SHAPE_RULES.update((op.name, op.shape) for op in _ALL)
FUNCTIONS: dict[str, Op] = {op.name: op for op in _ALL if op.is_function}


@dataclass(frozen=True)
class Constant:
    """A number the language names: its value in sympy and NumPy, its LaTeX and its
    NumPy and PyTorch source."""
    name: str
    sympy: Callable
    numpy: float
    latex: str
    code: str
    torch_code: str


CONSTANTS: dict[str, Constant] = {c.name: c for c in (
    Constant("pi", lambda: sp.pi, math.pi, r"\pi", "np.pi", "torch.pi"),
)}
