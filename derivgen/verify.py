"""Symbolic proof of every stated gradient, at the ``[dims]`` sizes.

A matrix form is stated only when it is *equal*, entry by entry, to sympy's
element-wise derivative: the difference, over a common denominator, expands
to zero (seed 001's ``expand(difference) = 0``). The element-wise derivative
is built with the chain structure of :mod:`derivgen.elementwise`, one step at
a time from the last, each step's upstream gradient being the one already
proven for it.

Assumptions are substituted after differentiation, as the entries' values:
in a matrix whose columns sum to 1 the last entry of each column is one minus
the others; a symmetric matrix's lower triangle is its upper one. Step
entries stay symbols while that suffices, and are replaced by their
definitions (latest step first) when it does not. The derivative of a
piecewise-constant function (step, sign) is taken as zero, as everywhere but
on its jumps; the numeric checks sample away from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .derive import Backward, on_path
from .elementwise import Elementwise, almost_everywhere
from .expr import Node, names
from .problem import Problem
from .simplify import facts_of


@dataclass
class Proof:
    """What the symbolic check found for ∂of/∂name."""
    name: str
    expr: Node | None           # the matrix form proven equal, None if none was
    form: str                   # "simplified", "composed" or "none"
    elementwise: sp.Matrix      # sympy's element-wise derivative (chain-structured)
    entries: int                # entries compared
    value: sp.Matrix            # the proven form entry by entry (else the derivative itself)


class Prover:
    def __init__(self, problem: Problem, ew: Elementwise) -> None:
        self.ew = ew
        self.substitutions = _assumption_substitutions(problem, ew)

    def equal(self, a: sp.Matrix, b: sp.Matrix) -> bool:
        return a.shape == b.shape and all(self.is_zero(x - y) for x, y in zip(a, b))

    def is_zero(self, expr: sp.Expr) -> bool:
        """Whether ``expr`` is proven zero: with step entries as symbols where that
        suffices, else with the latest step's entries replaced by their definitions,
        and so on; the costly common-denominator proof only when nothing is left to
        unfold."""
        expr = self.prepare(expr)
        while True:
            # an expression holding both a step's entries and what they are made of
            # (A beside e^S) needs that step unfolded: no use trying before
            if not self.ew.mixes_latest_step(expr) and _vanishes_quickly(expr):
                return True
            unfolded = self.ew.unfold(expr)
            if unfolded is None:
                return _vanishes(expr)
            expr = self.prepare(unfolded)

    def prepare(self, expr: sp.Expr) -> sp.Expr:
        expr = almost_everywhere(expr)
        expr = expr.replace(sp.Heaviside, lambda x, *h0: sp.Heaviside(x))
        return expr.xreplace(self.substitutions)


def _vanishes_quickly(expr: sp.Expr) -> bool:
    """A cheap proof that ``expr`` is zero: it expands to 0 with every sum under a
    fraction bar taken as one opaque symbol. Sound: what is zero for any value of
    that symbol is zero for its true value."""
    if expr == 0:
        return True
    sums = {p.base: sp.Dummy() for p in expr.atoms(sp.Pow)
            if p.exp.is_negative and isinstance(p.base, sp.Add)}
    return sp.expand(expr.xreplace(sums)) == 0


def _vanishes(expr: sp.Expr) -> bool:
    """The complete proof for a rational function of its atoms: its numerator over
    a common denominator expands to 0."""
    numerator, _ = sp.fraction(sp.together(expr))
    return sp.expand(numerator) == 0


def _assumption_substitutions(problem: Problem, ew: Elementwise) -> dict[sp.Symbol, sp.Expr]:
    subs: dict[sp.Symbol, sp.Expr] = {}
    facts = facts_of(problem)
    for name in problem.inputs:
        m, known = ew.symbols[name], facts[name]
        if "probability_columns" in known:
            for j in range(m.cols):
                subs[m[m.rows - 1, j]] = 1 - sp.Add(*(m[i, j] for i in range(m.rows - 1)))
        if "probability_rows" in known:
            for i in range(m.rows):
                subs[m[i, m.cols - 1]] = 1 - sp.Add(*(m[i, j] for j in range(m.cols - 1)))
        if "symmetric" in known:
            for i in range(m.rows):
                for j in range(i):
                    subs[m[i, j]] = m[j, i]
    return subs


def prove(problem: Problem, backward: Backward, prover: Prover) -> dict[str, Proof]:
    """Prove each gradient of the backward pass, from ``of`` back to the inputs."""
    ew = prover.ew
    path = on_path(problem)
    contributions: dict[str, list[sp.Matrix]] = {}
    proofs: dict[str, Proof] = {}
    for name, grad in backward.gradients.items():
        rows, cols = ew.symbols[name].shape
        parts = contributions.get(name) or [sp.zeros(rows, cols)]
        truth = sp.ones(1, 1) if name == problem.of else sum(parts[1:], parts[0])
        proof = Proof(name, None, "none", truth, rows * cols, truth)
        for form, candidate in (("simplified", grad.simplified), ("composed", grad.composed)):
            value = ew.evaluate(candidate)
            if value.shape == (1, 1) != (rows, cols):       # a scalar form (0) fills the matrix
                value = sp.ones(rows, cols) * value[0, 0]
            if prover.equal(value, truth):
                proof = Proof(name, candidate, form, truth, rows * cols, value)
                break
        proofs[name] = proof
        if name in problem.steps:
            # the proven form is usually far shorter than the contraction: carry it on
            for used in names(problem.steps[name].expr) & path:
                contributions.setdefault(used, []).append(ew.contract(name, used, proof.value))
    return proofs
