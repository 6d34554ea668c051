"""The element-wise view: every matrix written out entry by entry with sympy.

At the problem's ``[dims]`` sizes each input is a matrix of symbols
(``W_{1,2}``) and each step gets fresh symbols for its own entries
(``S_{1,1}``) together with its *definition*: its entries in terms of the
entries it is computed from. Keeping step entries as symbols is the chain
structure of the seed articles: ∂L/∂W is not found by expanding L into the
inputs and differentiating (which takes minutes at 16×16), but step by step,

    ∂L/∂n_kl = Σ_ij (∂L/∂s_ij) · ∂s_ij/∂n_kl,

from the local partials ∂s_ij/∂n_kl of one step's definition, which sympy
differentiates directly. Indices are 1-based, as on paper.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.matrices.exceptions import NonInvertibleMatrixError

from .errors import ProblemError
from .nodes import Const, Node, Ref
from .op import at_sizes
from .ops import CONSTANTS, OPS
from .problem import Problem
from .shapes import dim_size
from .sources import display_name

Sparse = dict[tuple[int, int], sp.Expr]


def sympy_value(node: Node, env: Mapping[str, sp.Matrix], sizes: Mapping[str, int]) -> sp.Matrix:
    """``node`` entry by entry: names from ``env``, dims as their sizes."""
    if isinstance(node, Const):
        return sp.Matrix([[sp.Rational(repr(node.value))]])
    if isinstance(node, Ref):
        if node.kind == "constant":
            return sp.Matrix([[CONSTANTS[node.name].sympy()]])
        return sp.Matrix([[sp.Integer(sizes[node.name])]]) if node.kind == "dim" else env[node.name]
    return OPS[node.op].sympy([sympy_value(a, env, sizes) for a in node.args],
                              at_sizes(node.axis, sizes))


def almost_everywhere(derivative: sp.Expr) -> sp.Expr:
    """A derivative as it holds almost everywhere: that of step and sign, a DiracDelta
    (or, at an argument sympy cannot place on the real line, an unevaluated
    Derivative), is 0 off their jumps, where the numeric checks sample."""
    if not derivative.has(sp.DiracDelta, sp.Derivative):     # one walk, not two rebuilds
        return derivative
    derivative = derivative.replace(sp.DiracDelta, lambda *args: sp.Integer(0))
    return derivative.replace(
        lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, sp.sign | sp.Heaviside),
        lambda e: sp.Integer(0))


def partials(value: sp.Matrix, wrt: sp.Matrix) -> dict[tuple[int, int], Sparse]:
    """The partials ∂value_ij/∂wrt_kl that are not zero, by (i, j) then (k, l)."""
    index = {wrt[k, l]: (k, l) for k in range(wrt.rows) for l in range(wrt.cols)}
    table: dict[tuple[int, int], Sparse] = {}
    sums: dict[tuple[sp.Expr, sp.Symbol], sp.Expr] = {}
    for i in range(value.rows):
        for j in range(value.cols):
            # d/ds of a sum is the sum of d/ds of the terms that hold s: a loss
            # summing 256 entries is not differentiated 256 times whole
            holding: dict[sp.Symbol, list[sp.Expr]] = {}
            for term in sp.Add.make_args(value[i, j]):
                for s in term.free_symbols & index.keys():
                    holding.setdefault(s, []).append(term)
            row = {index[s]: almost_everywhere(sp.Add(*(_derivative(t, s, sums) for t in terms)))
                   for s, terms in holding.items()}
            table[(i, j)] = {kl: d for kl, d in row.items() if d != 0}
    return table


def _derivative(term: sp.Expr, s: sp.Symbol, sums: dict) -> sp.Expr:
    """sympy's ∂term/∂s, with two shortcuts for what sympy is slow at (a millisecond a
    call, most of it walking the whole expression): a product holding s as a plain
    factor (a matrix product's W_ik X_kj) is read off as the other factors, and a
    quotient by a sum holding s (softmax's e^{S_ij} / Σ_r e^{S_rj}) is differentiated
    by the product and chain rules, the sum's own derivative ∂Σ/∂s taken once for
    the whole column and kept in ``sums``."""
    if s not in term.free_symbols:
        return sp.Integer(0)
    if term.is_Mul:
        factors = [a for a in term.args if s in a.free_symbols]
        if factors == [s]:
            return sp.Mul(*(a for a in term.args if a != s))
        quotient = next((a for a in factors if a.is_Pow and a.exp.is_negative
                         and a.base.is_Add), None)
        if quotient is not None:      # t = r · Σⁿ: ∂t/∂s = ∂r/∂s · Σⁿ + r · n Σⁿ⁻¹ · ∂Σ/∂s
            base, n = quotient.base, quotient.exp
            rest = sp.Mul(*(a for a in term.args if a is not quotient))
            if (base, s) not in sums:
                sums[(base, s)] = base.diff(s)
            return (_derivative(rest, s, sums) * quotient
                    + rest * n * base ** (n - 1) * sums[(base, s)])
    return term.diff(s)


def overlay(table: dict[tuple[int, int], Sparse], upstream: sp.Matrix,
            size: tuple[int, int]) -> sp.Matrix:
    """Overlay and sum: Σ_ij upstream_ij · ∂value_ij/∂wrt_kl, for every k, l."""
    rows, cols = size
    out = [[[] for _ in range(cols)] for _ in range(rows)]
    for (i, j), row in table.items():
        g = upstream[i, j]
        if g == 0:
            continue
        for (k, l), d in row.items():
            out[k][l].append(g * d)
    return sp.Matrix(rows, cols, lambda k, l: sp.Add(*out[k][l]))


def label_values(size: tuple[int, int], classes: int, repeat: bool = False,
                 start: int = 0) -> sp.Matrix:
    """The labels the element-wise view is shown with: start, start + 1, ... in reading
    order, cycling through the classes (seed 001's y = [0, 1, 2]); with ``repeat``, each
    label twice in a row (0, 0, 1, 1, ...), for proofs that must meet repeated labels."""
    rows, cols = size
    return sp.Matrix(rows, cols, lambda i, j: sp.Integer(
        (start + (i * cols + j) // (2 if repeat else 1)) % classes))


class Elementwise:
    def __init__(self, problem: Problem, facts: Mapping[str, frozenset[str]]) -> None:
        self.problem = problem
        self.sizes = problem.dims
        self.symbols: dict[str, sp.Matrix] = {}
        self.definitions: dict[str, sp.Matrix] = {}
        start = 0       # labels inputs continue each other's count: c = 0, o = 1, k = [2, 3]
        for name, inp in problem.inputs.items():
            size = inp.shape.size(self.sizes)
            if inp.labels is None:
                self.symbols[name] = self._symbols(name, size, facts.get(name, ()))
                continue
            self.symbols[name] = label_values(size, dim_size(inp.labels, self.sizes), start=start)
            start += size[0] * size[1]
        for name, step in problem.steps.items():
            try:
                self.definitions[name] = self.evaluate(step.expr)
            except NonInvertibleMatrixError:
                raise ProblemError(f"{step.source}: inverts a matrix that is singular whatever "
                                   "the inputs (its determinant is identically 0)",
                                   file=display_name(problem.path), key=f"steps.{name}",
                                   line=step.line) from None
            self.symbols[name] = self._symbols(name, step.expr.shape.size(self.sizes),
                                               facts.get(name, ()))
        self.owner = {s: name for name, m in self.symbols.items() for s in m if s.is_Symbol}
        self._made_of: dict[str, set[sp.Symbol]] = {}

    @staticmethod
    def _symbols(name: str, size: tuple[int, int], facts) -> sp.Matrix:
        rows, cols = size
        positive = True if "positive" in facts else None
        return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(
            f"{name}_{{{i + 1},{j + 1}}}", real=True, positive=positive))

    def evaluate(self, node: Node) -> sp.Matrix:
        """``node`` entry by entry, with inputs and steps as their entry symbols."""
        return sympy_value(node, self.symbols, self.sizes)

    def partial_by_first_entry(self, step: str, name: str) -> sp.Matrix:
        """∂step/∂name_{1,1}, entry by entry: seed 000's one-entry matrix."""
        table = partials(self.definitions[step], self.symbols[name][:1, :1])
        rows, cols = self.symbols[step].shape
        return sp.Matrix(rows, cols, lambda i, j: table[(i, j)].get((0, 0), 0))

    def step_of(self, symbol: sp.Symbol) -> str | None:
        name = self.owner.get(symbol)
        return name if name in self.problem.steps else None

    def latest_step(self, expr: sp.Expr) -> str | None:
        """The last step (in file order) whose entries appear in ``expr``."""
        steps = {self.step_of(s) for s in expr.free_symbols} - {None}
        order = list(self.problem.steps)
        return max(steps, key=order.index) if steps else None

    def mixes_latest_step(self, expr: sp.Expr) -> bool:
        """Whether ``expr`` holds both the latest step's entries and symbols its
        definition is made of."""
        latest = self.latest_step(expr)
        if latest is None:
            return False
        if latest not in self._made_of:
            self._made_of[latest] = set().union(*(x.free_symbols for x in self.definitions[latest]))
        return bool(expr.free_symbols & self._made_of[latest])

    def unfold(self, expr: sp.Expr) -> sp.Expr | None:
        """Replace the entries of the latest step appearing in ``expr`` by their
        definition; None when no step entries are left."""
        latest = self.latest_step(expr)
        if latest is None:
            return None
        symbols, definition = self.symbols[latest], self.definitions[latest]
        return expr.xreplace({symbols[i]: definition[i] for i in range(len(symbols))})
