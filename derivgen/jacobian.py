"""Derivatives that are not gradients: the Jacobian of a matrix function, the Hessian.

A Jacobian is found as a differential (seed 000's linear map): X moves by a direction
dX and the forward pass (:mod:`derivgen.forward`) carries it to dF, one proven rule
at a time. A Hessian is the same pass run on the gradient's expression: d(∇_w L) in
the direction dw. Each is then given

- written out: dF in the inputs, the steps and the direction alone (simplified where
  short, and that simplification proven);
- in index form, ∂F_ij/∂X_kl (:mod:`derivgen.tensor`), proven against the differential
  entry by entry at the [dims] sizes, with one slice ∂F/∂X_11 written out;
- as a matrix, where it is one: with the column-stacking convention,
  vec(dF) = J vec(dX), J = ∂vec(F)/∂vec(X)ᵀ, each step's differential read as a matrix
  (:mod:`derivgen.linearize`: diag(a) − a aᵀ, Bᵀ ⊗ A) in the Jacobians of the steps
  before it, proven step by step and composed, as the chain rule composes them.

The differential, the matrix and any claim are checked against central differences of
F (of the gradient, for a Hessian) along random directions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .forward import Differential, Forward, Pass
from .latex import LINE_LENGTH, LatexPrinter, bmatrix, subscripted
from .linearize import jacobian_matrix
from .nodes import Apply, Node, Ref, make, substitute, walk
from .numeric import Comparison, evaluate, forward, judge
from .problem import Problem
from .prove import Prover
from .shapes import Shape, vec_length
from .simplify import Simplifier, cost, tidy
from .targets import Claim
from .tensor import IndexForm, NoIndexForm
from .typeset import Entries, SympyLatex, indexed_entry, named_entries

WRITTEN_COST = 120      # a differential written out without the names dS is at most this long
SIMPLIFIED_COST = 60    # and simplified (a proof that expands it) when at most this long
INDEX_COST = 40         # the index form and a slice are shown for a differential at most
                        # this long: longer ones are unreadable, and their proof expands


@dataclass
class LinearMap:
    kind: str                       # "jacobian" or "hessian"
    variable: str
    label: str                      # the step differentiated, or the gradient's name (dw)
    shape: Shape                    # of the differential: the output's
    forward: Forward
    differential: Node              # in the inputs, the steps and the direction dX
    matrix: Node | None             # J, vec(dF) = J vec(dX), when one was proven
    composed: sp.Matrix             # the differential entry by entry (D the direction's symbols)
    direction: sp.Matrix            # those symbols
    numeric: Comparison
    matrix_numeric: Comparison | None
    index: str = ""                 # ∂F_ij/∂X_kl in index notation (LaTeX), proven
    slice: str = ""                 # ∂F/∂X_11 at the [dims] sizes (LaTeX), from the proof
    symmetric: bool | None = None   # for a Hessian matrix: proven symmetric
    claim: tuple | None = None      # (the [expect] claim, proven, its numeric Comparison)

    @property
    def entries(self) -> int:
        return len(self.composed)

    @property
    def matrix_shape(self) -> Shape:
        """J's shape: an entry of the output per row, one of the variable per column."""
        return Shape(vec_length(self.shape), vec_length(self.forward.direction.shape))


def vec(m: sp.Matrix) -> sp.Matrix:
    """The columns of ``m`` stacked, the first on top."""
    return sp.Matrix([m[i, j] for j in range(m.cols) for i in range(m.rows)])


@dataclass(frozen=True)
class Setting:
    """What every Jacobian and Hessian of a problem is derived with."""
    problem: Problem
    prover: Prover
    simplifier: Simplifier
    points: list                    # the numeric checks' points
    names: Mapping[str, Ref]        # each step's differential dS
    printer: LatexPrinter
    checked: Callable               # checked(step): a context turning a rule's failure there
                                    # into the error the user sees


def linear_map(setting: Setting, kind: str, variable: str, label: str, expr: Node,
               output: Callable, claim: Claim | None = None) -> LinearMap:
    """The derivative of ``expr`` (the step ``label``'s, or a gradient's) by ``variable``:
    the forward pass, every rule proven, written out, as a matrix where it is one, and
    checked along random directions against ``output`` (the value differentiated, at a
    point) by finite differences."""
    problem, prover, simplifier = setting.problem, setting.prover, setting.simplifier
    points, printer = setting.points, setting.printer
    run = Pass(problem, variable, setting.names, simplifier, prover.equal)
    result = run.of(expr, label)
    for item in run.result.order:
        if not isinstance(item, Differential):
            with setting.checked(item.step):
                prover.forward_rule(item.op, item.node, item.arg)
    composed = _composed(prover, run.result)[label]
    written = _written_out(run.result, result, simplifier, prover)
    direction = run.result.direction
    # a Hessian's matrix for a vector variable; for a matrix one, the differential only
    vector = 1 in (direction.shape.rows, direction.shape.cols)
    matrix = _matrix(setting, run.result, label) if kind == "jacobian" or vector else None
    numeric = _numeric(problem, points, variable, direction.name, output,
                       lambda values: _differential(run.result, written, values, problem))
    matrix_numeric = None if matrix is None else _numeric(
        problem, points, variable, direction.name, output,
        lambda values: _applied(matrix, values, direction.name, problem, written.shape))
    symmetric = None
    if kind == "hessian" and matrix is not None:
        value = prover.value(matrix)
        symmetric = prover.equal_values(value, value.T)
    symbols = prover.ew.symbols[direction.name]
    judged = None if claim is None else \
        _judged(setting, claim, composed, symbols, run.result, written.shape, output)
    index, named = _index(problem, prover, written, direction, composed, printer)
    return LinearMap(kind, variable, label, written.shape, run.result, written, matrix, composed,
                     symbols, numeric, matrix_numeric, index,
                     _slice(prover, composed, symbols[0, 0], Entries(prover.ew, printer.name),
                            named) if cost(written) <= INDEX_COST else "",
                     symmetric, judged)


def _judged(setting: Setting, claim: Claim, composed: sp.Matrix, symbols: sp.Matrix,
            fwd: Forward, shape: Shape, output: Callable) -> tuple:
    """(the claim, whether it is proven equal to the differential, its comparison with
    central differences): a differential as it is, a matrix applied to the direction."""
    problem, prover = setting.problem, setting.prover
    direction = fwd.direction.name
    differential = claim.form == "differential"
    value = prover.value(claim.expr)
    proven = prover.equal_values(value, composed) if differential else \
        prover.equal_values(value * vec(symbols), vec(composed))

    def formula(values: dict) -> np.ndarray:
        if differential:
            return evaluate(claim.expr, values, problem.check.sizes)
        return _applied(claim.expr, values, direction, problem, shape)
    return claim, proven, _numeric(problem, setting.points, fwd.variable, direction, output,
                                   formula)


def _slice(prover: Prover, composed: sp.Matrix, first: sp.Symbol, entries: Entries,
           named: Mapping[str, Node]) -> str:
    """∂F/∂X_11 entry by entry, when each row fits a line (else the index form says it),
    in the entries of the matrices the index form names where that is shorter and proven
    equal (p_1 (1 − p_1) for p = softmax(x), not e^{x_1}/Σ e^{x} ...)."""
    definitions = []
    for name, node in named.items():
        if isinstance(node, Ref):               # an input's or a step's entries are symbols
            continue
        value = prover.value(node)
        for r, c in np.ndindex(value.shape):
            entry = sp.Symbol(f"{name}[{r},{c}]")
            entries.names[entry] = name if node.shape.is_scalar else \
                subscripted(name, f"{r + 1},{c + 1}")
            definitions.append((value[r, c], entry, sp.fraction(value[r, c])[0].free_symbols))
    partials = composed.applyfunc(lambda e: named_entries(prover, definitions, e.diff(first)))
    rows = [[entries.latex(x) for x in partials.row(i)] for i in range(partials.rows)]
    if any(sum(map(len, row)) > 2 * LINE_LENGTH for row in rows):   # fractions set narrow
        return ""
    return bmatrix(partials.rows, partials.cols, lambda i, j: rows[i][j])


INDEX_CHECKS = 400      # entries of the tensor compared with the proven differential, at most


def _index(problem: Problem, prover: Prover, written: Node, direction: Ref,
           composed: sp.Matrix, printer: LatexPrinter) -> tuple[str, dict[str, Node]]:
    """∂F_ij/∂X_kl in LaTeX, proven entry by entry (up to INDEX_CHECKS of them) against
    the differential's coefficients at the [dims] sizes, and the matrices it names, by
    their LaTeX; ("", {}) where there is none."""
    if cost(written) > INDEX_COST:      # unreadable, and its proof expands the whole chain
        return "", {}
    dims = {sp.Symbol(printer.name(d), integer=True, positive=True): n
            for d, n in problem.dims.items()}
    form = IndexForm(direction, printer,
                     lambda d: sp.Symbol(printer.name(d), integer=True, positive=True),
                     {printer.name(n) for n in (*problem.dims, *problem.inputs, *problem.steps)})
    try:
        tensor = form.tensor(written)
    except NoIndexForm:
        return "", {}
    symbols = prover.ew.symbols[direction.name]
    i, j = sp.symbols("i j", integer=True, positive=True)
    cases = [(a, b, c, e) for a in range(composed.rows) for b in range(composed.cols)
             for c in range(symbols.rows) for e in range(symbols.cols)][:INDEX_CHECKS]
    values = {name: prover.value(node) for name, node in form.nodes.items()}

    def entry(x: sp.Indexed) -> sp.Expr:
        m = values[x.base.label.name]
        r, c = (int(v) - 1 for v in x.indices)
        return m[r % m.rows, c % m.cols]
    for a, b, c, e in cases:
        value = tensor.xreplace({i: a + 1, j: b + 1, form.k: c + 1, form.l: e + 1} | dims)
        value = _written_sums(value).replace(lambda x: isinstance(x, sp.Indexed), entry)
        if not prover.is_zero(value - composed[a, b].diff(symbols[c, e])):
            return "", {}
    latex = tensor.replace(lambda x: isinstance(x, sp.Indexed),
                           lambda x: indexed_entry(x, form.nodes[x.base.label.name]))
    written_names = {x: x.name for x in latex.free_symbols if x.name in form.nodes}
    return SympyLatex({"symbol_names": written_names}).doprint(latex), form.nodes


def _composed(prover: Prover, fwd: Forward) -> dict[str, sp.Matrix]:
    """Each differential entry by entry, the names dS it uses replaced by their own."""
    by_symbol = {d.symbol.name: d for d in fwd.differentials.values()}
    done: dict[str, sp.Matrix] = {}
    for d in fwd.differentials.values():           # in the order of the pass
        value = prover.value(d.value)
        rows, cols = d.value.shape.size(prover.problem.dims)
        if value.shape != (rows, cols):
            value = sp.ones(rows, cols) * value[0, 0]
        inner = {}
        for ref in {n for n in walk(d.value) if isinstance(n, Ref) and n.name in by_symbol}:
            inner |= dict(zip(prover.ew.symbols[ref.name], done[by_symbol[ref.name].name]))
        done[d.name] = value.xreplace(inner)
    return done


def _written_out(fwd: Forward, result: Differential, simplifier: Simplifier,
                 prover: Prover) -> Node:
    """dF without the names dS of the steps' differentials (the named form where that is
    too long), simplified where it is short enough for the proof to stay small."""
    values = {d.symbol.name: d.value for d in fwd.differentials.values()}
    written = substitute(result.value, values)
    if written == result.value:
        return written
    if cost(written) > WRITTEN_COST:
        return result.value
    if cost(written) <= SIMPLIFIED_COST:
        simplified, _ = simplifier.rewrite(written, written)
        if cost(simplified) < cost(written) and prover.equal(simplified, written):
            return simplified
    return written


# -- the matrix ---------------------------------------------------------------------------

def _matrix(setting: Setting, fwd: Forward, label: str) -> Node | None:
    """J with vec(dF) = J vec(dX) (:mod:`derivgen.linearize`), by the chain rule: each
    step's differential read as a matrix in the matrices J_T of the differentials dT it
    uses, proven on its own (J_S vec(dX) = vec(dS) where vec(dT) = J_T vec(dX), the J_T
    matrices of symbols), then composed by putting in each J_T; None where a step's
    differential is no such matrix."""
    problem, prover, simplifier = setting.problem, setting.prover, setting.simplifier
    direction = fwd.direction
    variable = Ref(fwd.variable, "input", direction.shape)
    available = [variable] + [Ref(n, "input", i.shape) for n, i in problem.inputs.items()] + \
        [Ref(n, "step", s.expr.shape) for n, s in problem.steps.items()]
    moved = make("vec", direction)
    symbols: dict[str, Ref] = {}        # dT -> J_T as symbols, for the local proofs
    moves: dict[str, Node] = {}         # dT -> unvec(J_T vec(dX)), what dT is in them
    composed: dict[str, Node] = {}      # dT -> J_T in the problem's names
    for d in fwd.differentials.values():
        raw = jacobian_matrix(d.value, {direction.name: None} | symbols, variable, available)
        if raw is None:
            return None
        raw = _diagonals(raw, simplifier)
        matrix, _ = simplifier.rewrite(raw, raw)
        if cost(matrix) >= cost(raw) or prover.equal(matrix, raw) is not True:
            matrix = raw        # diag(s) − s sᵀ as read, not with sᵀ moved inside the softmax
        if prover.equal(matrix @ moved, make("vec", substitute(d.value, moves))) is not True:
            return None
        name = d.symbol.name
        symbols[name] = Ref(f"_J_{name}", "input", Shape(vec_length(d.value.shape),
                                                        vec_length(direction.shape)))
        prover.add_symbols([symbols[name]])
        like = Ref(d.name, "step", d.value.shape) if d.name in problem.steps else d.value
        moves[name] = make("unvec", symbols[name] @ moved, like)
        composed[name] = substitute(matrix, {symbols[n].name: m for n, m in composed.items()})
    # products chained left to right: diag(a) W₂ diag(b) W₁, not diag(a) W₂ (diag(b) W₁)
    return tidy(composed[fwd.differentials[label].symbol.name])


def _diagonals(node: Node, simplifier: Simplifier) -> Node:
    """Each diag(v) with v simplified: diag(p ⊙ (1 − p)), however the factors met."""
    if not isinstance(node, Apply):
        return node
    if node.op == "diag":
        return make("diag", simplifier.rewrite(node.args[0], node.args[0])[0])
    return make(node.op, *(_diagonals(a, simplifier) for a in node.args), axis=node.axis)


def _written_sums(expr: sp.Expr) -> sp.Expr:
    """Each sum over a range of numbers written out term by term."""
    if isinstance(expr, sp.Sum):
        body = _written_sums(expr.function)
        for index, low, high in expr.limits:
            body = sp.Add(*(body.xreplace({index: v}) for v in range(int(low), int(high) + 1)))
        return body
    if expr.args and not isinstance(expr, sp.Indexed):
        return expr.func(*(_written_sums(a) for a in expr.args))
    return expr


# -- numbers ------------------------------------------------------------------------------

_H = np.finfo(float).eps ** (1 / 3)


def _differential(fwd: Forward, written: Node, values: dict, problem: Problem) -> np.ndarray:
    """The differential at a point (the direction among ``values``), any names dS it
    still holds computed in the order of the pass."""
    env = dict(values)
    sizes = problem.check.sizes
    with np.errstate(all="ignore"):
        for d in fwd.differentials.values():
            env[d.symbol.name] = np.broadcast_to(evaluate(d.value, env, sizes),
                                                 d.value.shape.size(sizes))
        return evaluate(written, env, sizes)


def _applied(matrix: Node, values: dict, direction: str, problem: Problem,
             shape: Shape) -> np.ndarray:
    """J vec(D), folded back into the output's shape."""
    sizes = problem.check.sizes
    with np.errstate(all="ignore"):
        product = evaluate(matrix, values, sizes) @ values[direction].reshape(-1, 1, order="F")
    return product.reshape(shape.size(sizes), order="F")


def _numeric(problem: Problem, points: list, variable: str, direction: str,
             output: Callable, formula: Callable) -> Comparison:
    """``formula`` (the differential at a point and direction) against central differences
    of ``output`` along random directions, one per trial."""
    result, sizes = Comparison(variable), problem.check.sizes
    after = variable if variable in problem.steps else None
    for trial, values in enumerate(points):
        rng = np.random.default_rng([problem.check.seed, trial, 2000])
        x = values[variable]
        d = rng.standard_normal(x.shape)
        h = _H * max(1.0, float(np.max(np.abs(x))))
        ends = [output(forward(problem, values | {variable: x + s * h * d}, sizes, after))
                for s in (1, -1)]
        difference = (ends[0] - ends[1]) / (2 * h)
        claimed = np.broadcast_to(formula(values | {direction: d}), difference.shape)
        judge(result, claimed, difference, float(np.max(np.abs(ends[0]))))
    return result
