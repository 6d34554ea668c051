"""Local proofs, composed: each rule and each simplification proven on its own.

The chain rule is what makes the proof compose (seed 000): if every link of a
gradient's chain is proven, the gradient is. So nothing ever expands the
whole composition; each statement is proven at the ``[dims]`` sizes with the
fewest symbols that state it:

- a **rule** (``Prover.rule``): the contribution it writes equals the overlay
  and sum Σ_ij G_ij ∂out_ij/∂in_kl, with G and the operator's arguments fresh
  entry symbols and the partials sympy's own derivatives. A rule is proven
  once per operator, argument and sizes, however often it is applied;
- its **index form** (``Prover.index``): the registry's ∂out_ij/∂in_kl, broadcast
  arguments included, equals sympy's derivative entry by entry (at the
  ``[dims]`` sizes, each capped at 3: an index formula does not change with
  the size, and 3 already holds every pattern of equal and distinct indices);
- a **statement** (``Prover.equal``): a simplified contribution equals the rule
  as written, a total equals the sum of its contributions. Inputs, steps and
  the gradients G_S are entry symbols; a step's symbols are replaced by its
  definition only where a proof needs it. Facts are substituted as entry
  values: in a matrix whose columns sum to 1 the last entry of each column is
  one minus the others, a symmetric matrix's lower triangle is its upper one.
  An input's facts are its assumptions; a step's are proven from its
  definition first.

Before any symbolic work a statement is evaluated at a random point, so a
wrong one is refuted at once, with a witness, and never expanded.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy as sp

from . import laurent
from .assumptions import REGISTRY, lower_powers, powers_of
from .backward import Backward
from .elementwise import (Elementwise, almost_everywhere, label_values, overlay, partials,
                          sympy_value)
from .nodes import Apply, Const, Node, Ref, names
from .numeric import evaluate, valid_point
from .op import at_sizes, partial_matrix
from .ops import OPS
from .problem import Problem
from .shapes import dim_size

INDEX_SIZE = 3       # the largest size at which index forms are checked entry by entry


class RuleError(Exception):
    """A registered rule or index form disagrees with sympy's derivative."""


class Undefined(Exception):
    """sympy's derivative is not a number (a log of 0, a division by 0) at every point."""


class Prover:
    def __init__(self, problem: Problem, facts: Mapping[str, frozenset[str]],
                 grads: Mapping[str, Ref]) -> None:
        self.problem = problem
        self.ew = Elementwise(problem, facts)
        sizes = problem.dims
        for grad in grads.values():
            self.ew.symbols[grad.name] = _matrix(grad.name, grad.shape.size(sizes))
        self.substitutions: dict[sp.Symbol, sp.Expr] = {}
        # the facts in use: an input's assumptions, a step's facts proven from its definition
        self.known = {name: frozenset(facts.get(name, ())) for name in problem.inputs}
        # labels of 0/1 or ±1 are declared inputs: their powers are known before any proof
        self.powers = powers_of({x: known for name, known in self.known.items()
                                 for x in self.ew.symbols[name]})
        self.known |= {name: frozenset(f for f in facts.get(name, ()) if self._holds(name, f))
                       for name in problem.steps}
        for name, known in self.known.items():
            self._substitute(name, known)
        self.point = self._point(grads)
        self._rules: dict[tuple, None] = {}
        self._indices: dict[tuple, None] = {}
        self._values: dict[Node, sp.Matrix] = {}

    def add_symbols(self, refs) -> None:
        """Matrices of fresh symbols for names met after the start (a Jacobian J_T that
        a later step's proof takes as given), with random values to refute by."""
        rng = np.random.default_rng([self.problem.check.seed, 8, len(self.ew.symbols)])
        for ref in refs:
            size = ref.shape.size(self.problem.dims)
            self.ew.symbols[ref.name] = _matrix(ref.name, size)
            if self.point is not None:
                self.point[ref.name] = rng.normal(size=size)

    # -- facts -------------------------------------------------------------------
    def _holds(self, step: str, fact: str) -> bool:
        """Whether a step's fact follows from its definition (softmax's columns sum to 1)."""
        assumption = REGISTRY[fact]
        if assumption.sums is None:
            return False
        return all(self.is_zero(sp.Add(*line) - assumption.sums[1])
                   for line in assumption.lines(self.ew.definitions[step]))

    def _substitute(self, name: str, known) -> None:
        for fact in known:
            self.substitutions |= REGISTRY[fact].substitutions(self.ew.symbols[name])

    def _point(self, grads: Mapping[str, Ref]) -> dict[str, np.ndarray] | None:
        """Values at the [dims] sizes for refuting a statement: the inputs sampled as
        the numeric checks sample them, the steps computed, each G_S random."""
        values = valid_point(self.problem, self.problem.check.seed, 0, self.problem.dims)
        if values is None:
            return None
        rng = np.random.default_rng([self.problem.check.seed, 7])
        for grad in grads.values():
            values[grad.name] = rng.normal(size=grad.shape.size(self.problem.dims))
        return values

    # -- rules ---------------------------------------------------------------------
    def rule(self, op_name: str, node: Apply, arg: int) -> None:
        """Prove the registry's rule for argument ``arg`` of ``node``'s operator, at the
        sizes the node has: with the upstream G a matrix of fresh symbols, it gives the
        overlay and sum Σ_ij G_ij ∂out_ij/∂arg_kl of sympy's derivatives."""
        op = OPS[op_name]

        def statement(ans: Apply, fresh: tuple, env: dict) -> tuple[sp.Matrix, sp.Matrix]:
            env["_G"] = _matrix("G", ans.shape.size(self.problem.dims))
            stated = op.vjp[arg](Ref("_G", "grad", ans.shape), ans, *fresh, axis=node.axis)
            wrt = env[f"_x{arg}"]
            out = sympy_value(ans, env, self.problem.dims)
            return stated, overlay(partials(out, wrt), env["_G"], wrt.shape)
        self._prove("rule", node, arg, statement)

    def forward_rule(self, op_name: str, node: Apply, arg: int) -> None:
        """Prove the registry's forward rule for argument ``arg`` of ``node``'s operator:
        with D a matrix of fresh symbols shaped like the argument, it gives
        Σ_kl ∂out_ij/∂arg_kl D_kl for every entry (i, j), sympy's derivatives."""
        op = OPS[op_name]

        def statement(ans: Apply, fresh: tuple, env: dict) -> tuple[sp.Matrix, sp.Matrix]:
            wrt = env[f"_x{arg}"]
            env["_D"] = _matrix("D", wrt.shape)
            stated = op.jvp[arg](Ref("_D", "input", fresh[arg].shape), ans, *fresh,
                                 axis=node.axis)
            out = sympy_value(ans, env, self.problem.dims)
            table = partials(out, wrt)
            return stated, sp.Matrix(out.rows, out.cols, lambda i, j: sp.Add(
                *(d * env["_D"][kl] for kl, d in table[(i, j)].items())))
        self._prove("forward rule", node, arg, statement)

    def _prove(self, what: str, node: Apply, arg: int, statement) -> None:
        """A rule proven entry by entry, once per operator, argument, sizes and kind of
        labels: ``statement(ans, fresh arguments, their environment)`` gives the rule's
        node and sympy's truth; RuleError names the first entry that differs, Undefined
        a truth that is no number."""
        op, sizes = OPS[node.op], self.problem.dims
        for fresh, env, key in _label_cases(node, sizes, op.domain):
            if (what,) + key + (arg,) in self._rules:
                continue
            ans = Apply(node.op, fresh, node.shape, node.axis)
            rule, truth = statement(ans, fresh, env)
            if truth.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
                raise Undefined(f"its derivative by argument {arg + 1} of {node.op} is not a "
                                "number whatever the inputs (a log of 0 or a division by 0)")
            stated = sympy_value(rule, env, sizes)
            for k, l in np.ndindex(*truth.shape):       # a 1×1 rule stands for every entry
                value = stated[k % stated.rows, l % stated.cols]
                if not _vanishes(almost_everywhere_form(value - truth[k, l])):
                    raise RuleError(f"the {what} for argument {arg + 1} of {node.op} gives "
                                    f"{value} at entry ({k + 1}, {l + 1}); sympy's derivative "
                                    f"gives {truth[k, l]}")
            self._rules[(what,) + key + (arg,)] = None

    def index(self, op_name: str, node: Apply, arg: int) -> None:
        """Prove the registry's index form ∂out_ij/∂arg_kl entry by entry."""
        op = OPS[op_name]
        if op.index[arg] is None:
            return
        sizes = {d: min(n, INDEX_SIZE) for d, n in self.problem.dims.items()}
        for fresh, env, key in _label_cases(node, sizes, op.domain):
            if key + (arg,) in self._indices:
                continue
            args = [sympy_value(a, env, sizes) for a in fresh]
            axis = at_sizes(node.axis, sizes)
            out = op.sympy(args, axis)
            truth = partials(out, args[arg])
            matrices = {"_out": out} | {f"_x{n}": m for n, m in enumerate(args)}
            if op_name in ("det", "logdet"):
                matrices["_x0^{-1}"] = args[0].inv(method="ADJ")
            for (c, d) in np.ndindex(*args[arg].shape):
                formula = partial_matrix(op, arg, axis, matrices, c, d)
                for (a, b) in np.ndindex(*out.shape):
                    value = formula[a, b]
                    if not _vanishes(almost_everywhere_form(value - truth[(a, b)].get((c, d), 0))):
                        raise RuleError(f"the index form of the rule for argument {arg + 1} of "
                                        f"{op_name} gives {value} for entry ({a + 1}, {b + 1}) "
                                        f"and ({c + 1}, {d + 1}); sympy's derivative gives "
                                        f"{truth[(a, b)].get((c, d), 0)}")
            self._indices[key + (arg,)] = None

    # -- statements ---------------------------------------------------------------------
    def equal(self, a: Node, b: Node) -> bool | None:
        """True when ``a == b`` is proven entry by entry; False when a random point
        refutes it; None when it holds there but could not be proven."""
        if a == b:
            return True
        if self.refuted(a, b):
            return False
        return True if self.equal_values(self.value(a), self.value(b)) else None

    def equal_values(self, a: sp.Matrix, b: sp.Matrix) -> bool:
        """Whether two matrices of entries are proven equal (a 1×1 one fills the other)."""
        if a.shape != b.shape:
            if (1, 1) not in (a.shape, b.shape):
                return False
            shape = max(a.shape, b.shape)
            a = a if a.shape == shape else sp.ones(*shape) * a[0, 0]
            b = b if b.shape == shape else sp.ones(*shape) * b[0, 0]
        return all(self.is_zero(x - y) for x, y in zip(a, b))

    def value(self, node: Node) -> sp.Matrix:
        """``node`` entry by entry; kept, as the report's worked entries ask again for
        the contributions the pass has proven."""
        if node not in self._values:
            self._values[node] = self.ew.evaluate(node)
        return self._values[node]

    def refuted(self, a: Node, b: Node) -> bool:
        """Whether ``a`` and ``b`` differ at the random point (NaN or inf: no verdict)."""
        if self.point is None:
            return False
        with np.errstate(all="ignore"):
            x, y = np.broadcast_arrays(*(evaluate(n, self.point, self.problem.dims)
                                         for n in (a, b)))
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            return False
        scale = max(1.0, float(np.max(np.abs(x))), float(np.max(np.abs(y))))
        return bool(np.max(np.abs(x - y)) > 1e-8 * scale)

    def sums_used(self, expr: sp.Expr) -> list[tuple[sp.Expr, int]]:
        """The known sum of a column or row (Σᵢ Y_{i,1} = 1) that the proof of ``expr`` = 0
        needs, as (sum of entries, value): the one line whose fact alone proves it, else
        every line whose entries ``expr`` holds; none when it is zero without facts."""
        if self.is_zero(expr, {}):
            return []
        found = [(line, REGISTRY[fact]) for name, known in self.known.items() for fact in known
                 for line in REGISTRY[fact].lines(self.ew.symbols[name])
                 if set(line) & expr.free_symbols]
        alone = next(((line, fact) for line, fact in found
                      if self.is_zero(expr, fact.substitutions(line))), None)
        return [(sp.Add(*line), fact.sums[1]) for line, fact in ([alone] if alone else found)]

    def is_zero(self, expr: sp.Expr, substitutions: dict | None = None) -> bool:
        """Whether ``expr`` is proven zero: with step entries as symbols, then, while it
        holds both the latest step's entries and what they are made of (A beside e^S, a
        definition the simplifier folded into a name), with that step's entries
        replaced by their definitions; the costly common-denominator proof last."""
        expr = almost_everywhere_form(expr)
        if laurent.vanishes(expr):              # zero whatever the facts: no need to use them
            return True
        known = self.substitutions if substitutions is None else substitutions
        expr = expr.xreplace(known)
        if self._vanishes_unfolded(expr, known):
            return True
        # labels' powers lowered (y² = 1) only where needed: it expands the statement
        lowered, bases = lower_powers(expr, self.powers)
        return bool(bases) and self._vanishes_unfolded(lowered, known)

    def _vanishes_unfolded(self, expr: sp.Expr, known: dict) -> bool:
        while self.ew.mixes_latest_step(expr):
            if laurent.vanishes(expr):          # sympy's slower tests wait for the last form
                return True
            expr = almost_everywhere_form(self.ew.unfold(expr)).xreplace(known)
        return _vanishes(expr)


class Composed:
    """A gradient entry by entry in the inputs' and steps' entries: its proven form with
    every gradient G_S it uses replaced, in turn, by its own: what an [expect] claim,
    written without the names G_S, is compared with, and the end-to-end check of one
    entry differentiates against."""

    def __init__(self, prover: Prover, back: Backward) -> None:
        self.prover, self.back = prover, back
        self.by_grad = {t.grad.name: name for name, t in back.totals.items()}
        self.done: dict[str, sp.Matrix] = {}

    def __call__(self, name: str) -> sp.Matrix:
        if name not in self.done:
            total = self.back.totals[name]
            value = self.prover.value(total.value)
            rows, cols = self.prover.ew.symbols[total.grad.name].shape
            if value.shape != (rows, cols):
                value = sp.ones(rows, cols) * value[0, 0]
            inner = {}
            for grad in names(total.value) & self.by_grad.keys():
                m = self(self.by_grad[grad])
                inner |= dict(zip(self.prover.ew.symbols[grad], m))
            self.done[name] = value.xreplace(inner)
        return self.done[name]


def _matrix(name: str, size: tuple[int, int], positive: bool | None = None) -> sp.Matrix:
    rows, cols = size
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{{{i + 1},{j + 1}}}", real=True,
                                                        positive=positive))


def _label_cases(node: Apply, sizes: Mapping[str, int], domain) -> list[tuple]:
    """The node's arguments made fresh (see _fresh_arguments): once, or, where some are
    labels, at the labels shown (0, 1, 2, ...) and at repeated ones (0, 0, 1, ...)."""
    labelled = any(a.shape.labels is not None for a in node.args)
    return [_fresh_arguments(node, sizes, domain, repeat) for repeat in (False, True)[:1 + labelled]]


def _fresh_arguments(node: Apply, sizes: Mapping[str, int], domain, repeat: bool = False) -> tuple:
    """The node's arguments as fresh symbol matrices (numbers and unwritten arguments
    stay as they are, labels take values), their environment, and a key saying what the rule's proof
    depends on."""
    fresh, env, key = [], {}, [node.op, node.axis]
    for n, a in enumerate(node.args):
        if isinstance(a, Const) or n >= OPS[node.op].written:     # a number, a class count
            fresh.append(a)
            key.append(a)
            continue
        size = a.shape.size(sizes)
        fresh.append(Ref(f"_x{n}", "input", a.shape))
        if a.shape.labels is not None:
            env[f"_x{n}"] = label_values(size, dim_size(a.shape.labels, sizes), repeat)
            key.append((size, "labels", repeat))
            continue
        positive = True if n < len(domain) and domain[n] == "positive" else None
        env[f"_x{n}"] = _matrix(f"x{n}", size, positive)
        key.append(size)
    return tuple(fresh), env, tuple(key)


def almost_everywhere_form(expr: sp.Expr) -> sp.Expr:
    """``expr`` as it holds almost everywhere, in one form: no DiracDelta, a step's value
    at 0 and the side of a sign written one way, each piece read in its region."""
    expr = almost_everywhere(expr)
    if expr.has(sp.sign):       # sign is odd: sign(y − P) is −sign(P − y), written one way
        expr = expr.replace(
            lambda e: isinstance(e, sp.sign) and e.args[0].could_extract_minus_sign(),
            lambda e: -sp.sign(-e.args[0]))
    if not expr.has(sp.Heaviside):
        return expr
    # a step's value at 0 does not matter (almost everywhere); each piece is read within
    # its region; and step(−x) is 1 − step(x) off 0, written one way
    expr = _within_regions(expr.replace(sp.Heaviside, lambda x, *h0: sp.Heaviside(x)))
    return expr.replace(
        lambda e: isinstance(e, sp.Heaviside) and e.args[0].could_extract_minus_sign(),
        lambda e: 1 - sp.Heaviside(-e.args[0]))


def _within_regions(expr: sp.Expr) -> sp.Expr:
    """Each term of ``expr`` read in the region its steps select: a factor step(a − b)
    says a > b there (elsewhere the term is 0), so max(a, b) is a and min(a, b) is b in
    the rest of the term. Piecewise functions (clip, maximum) are proven region by region."""
    if not expr.has(sp.Max, sp.Min):
        return expr

    def term(t: sp.Expr) -> sp.Expr:
        larger = {}
        for factor in sp.Mul.make_args(t):
            base = factor.base if factor.is_Pow else factor
            if isinstance(base, sp.Heaviside):
                larger[sp.expand(base.args[0])] = True
        picked = {}
        for m in t.atoms(sp.Max, sp.Min):
            if len(m.args) != 2:
                continue
            a, b = m.args
            big = a if sp.expand(a - b) in larger else b if sp.expand(b - a) in larger else None
            if big is not None:
                picked[m] = big if isinstance(m, sp.Max) else (b if big is a else a)
        return t.xreplace(picked) if picked else t
    return sp.Add(*(term(t) for t in sp.Add.make_args(sp.expand(expr))))


def _vanishes(expr: sp.Expr) -> bool:
    """The complete proof for a rational function of its atoms, cheapest first: the
    Laurent expansion over a common denominator (laurent.py); sympy's expansion with
    every sum under a fraction bar taken as one opaque symbol (sound: what is zero
    for any value of that symbol is zero for its true value), which also knows
    sympy's identities of exp and log; sympy's numerator over a common denominator."""
    if expr == 0 or laurent.vanishes(expr, clear_sums=True):
        return True
    sums = {p.base: sp.Dummy() for p in expr.atoms(sp.Pow)
            if p.exp.is_negative and isinstance(p.base, sp.Add)}
    if sp.expand(expr.xreplace(sums)) == 0:
        return True
    numerator, _ = sp.fraction(sp.together(expr))
    return sp.expand(numerator) == 0
