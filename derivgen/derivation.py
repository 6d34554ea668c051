"""A problem's derivation: every gradient derived, proven and spot-checked.

:func:`derive` runs the pipeline — reverse pass, element-wise proof,
numeric spot-checks, ``[expect]`` verdicts — and returns a
:class:`Derivation`: plain data that the JSON writer and the report
templates read. It raises :class:`~derivgen.errors.VerificationError` when a
stated formula disagrees with finite differences or an ``[expect]`` claim is
refuted: derivgen does not state what it could not check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy.matrices.exceptions import NonInvertibleMatrixError

from .derive import Backward, backward
from .elementwise import Elementwise
from .errors import ProblemError, VerificationError
from .expr import Node, names, to_source
from .latex import LatexPrinter
from .numeric import Comparison, compare, evaluate, valid_point
from .problem import Claim, Problem
from .shapes import Shape
from .simplify import Simplifier, facts_of, steps_of
from .sources import display_name
from .verify import Proof, Prover, prove


@dataclass
class GradientResult:
    name: str
    shape: Shape
    proof: Proof
    numeric: Comparison
    reasons: tuple[str, ...]

    @property
    def expr(self) -> Node | None:
        return self.proof.expr

    @property
    def matrix_form(self) -> bool:
        return self.proof.expr is not None


@dataclass
class ClaimResult:
    claim: Claim
    symbolic: bool
    numeric: Comparison

    def confirmed(self, rtol: float) -> bool:
        return self.symbolic and self.numeric.passed(rtol)


@dataclass
class Derivation:
    problem: Problem
    backward: Backward
    elementwise: Elementwise
    gradients: dict[str, GradientResult]      # the names in derive.wrt, in that order
    claims: dict[str, ClaimResult]


def derive(problem: Problem) -> Derivation:
    facts = facts_of(problem)
    back = backward(problem, Simplifier(facts, steps_of(problem)))
    ew = Elementwise(problem, facts)
    prover = Prover(problem, ew)
    try:
        proofs = prove(problem, back, prover)
    except NonInvertibleMatrixError:    # det and logdet differentiate to an inverse
        raise ProblemError("a derivative inverts a matrix that is singular whatever the inputs "
                           "(its determinant is identically 0), so it is not defined",
                           file=display_name(problem.path), key="steps") from None
    check = problem.check
    formulas = {name: proofs[name].expr for name in problem.wrt}
    claims = {name: c.expr for name, c in problem.expect.items()}
    numeric = _numeric(problem, formulas, check.sizes, "")
    numeric |= _numeric(problem, claims, check.sizes, "claim ")
    without_form = [name for name, f in formulas.items() if f is None]
    if without_form:    # the element-wise result is checked where it lives: at the [dims] sizes
        numeric |= _numeric(problem, {n: _elementwise_formula(ew, proofs[n]) for n in without_form},
                            problem.dims, "")
    gradients = {name: GradientResult(name, problem.shape_of(name), proofs[name], numeric[name],
                                      _reasons(problem, back, name)) for name in problem.wrt}
    # a claim equal to the proven form is equal to sympy's derivative, and far more
    # cheaply shown so than against the derivative itself
    results = {name: ClaimResult(c, prover.equal(ew.evaluate(c.expr), proofs[name].value),
                                 numeric["claim " + name]) for name, c in problem.expect.items()}
    derivation = Derivation(problem, back, ew, gradients, results)
    _judge(derivation)
    return derivation


def _reasons(problem: Problem, back: Backward, name: str) -> tuple[str, ...]:
    """Every assumption used on the way from ``of`` back to ``name``: in the rules
    of the steps computed from it, and in adding up its own gradient."""
    downstream = {name}
    for step in problem.steps.values():
        if names(step.expr) & downstream:
            downstream.add(step.name)
    seen: list[str] = []
    for reasons in [r.reasons for r in back.rules if r.step in downstream] + [
            back.gradients[name].reasons]:
        seen += [r for r in reasons if r not in seen]
    return tuple(seen)


def _numeric(problem: Problem, formulas: dict, sizes, prefix: str) -> dict[str, Comparison]:
    results = {prefix + name: Comparison(name) for name in formulas}
    for trial in range(problem.check.trials):
        values = valid_point(problem, problem.check.seed, trial, sizes)
        if values is None:
            raise VerificationError(
                "no random point found where every step is finite: the numeric checks cannot "
                "run (is a log or sqrt applied to something that can be negative?)",
                file=display_name(problem.path), key="check")
        rng = np.random.default_rng([problem.check.seed, trial, 1000])
        for name, formula in formulas.items():
            if formula is None:
                continue
            fn = formula if callable(formula) else (
                lambda v, f=formula: evaluate(f, v, sizes))
            compare(problem, name, values, sizes, fn, rng, results[prefix + name])
    return results


def _elementwise_formula(ew: Elementwise, proof: Proof):
    """The element-wise result as a numeric function of the inputs and steps."""
    symbols = [s for m in ew.symbols.values() for s in m]
    fn = sp.lambdify(symbols, proof.elementwise, modules="numpy")
    names = list(ew.symbols)
    return lambda values: np.array(fn(*[x for n in names for x in values[n].flat]), dtype=float)


def _judge(d: Derivation) -> None:
    """Refuse a derivation with a stated formula or a claim that did not check out."""
    problem, rtol = d.problem, d.problem.check.rtol
    for name, g in d.gradients.items():
        if not g.numeric.passed(rtol):
            kl, formula, fd = _worst(g.numeric)
            why = (f"max relative error {g.numeric.max_rel_error:.2g} > rtol {rtol:g}"
                   if math.isfinite(g.numeric.max_rel_error) else
                   "a value that is NaN or infinite is never a pass")
            stated = (f"the proven form {to_source(g.expr)}" if g.expr is not None else
                      "the element-wise result")
            raise VerificationError(
                f"∂{problem.of}/∂{name}: {stated} disagrees with finite differences ({why}; "
                f"entry {kl}: formula {formula:.6g}, finite difference {fd:.6g})",
                file=display_name(problem.path), key="derive.wrt")
    for name, c in d.claims.items():
        if c.confirmed(rtol):
            continue
        derived = _stated(d.gradients[name])
        kl, claimed, fd = _worst(c.numeric)
        witness = (f"at entry {kl} the claim gives {claimed:.6g}, finite differences "
                   f"{fd:.6g}" if not c.numeric.passed(rtol) else
                   "it agrees numerically but could not be proven equal symbolically")
        raise VerificationError(
            f"claim {c.claim.source!r} is refuted: derivgen derives {derived}; {witness}",
            file=display_name(problem.path), key=f"expect.{name}", line=c.claim.line)


def _stated(g: GradientResult) -> str:
    return to_source(g.expr) if g.expr is not None else "no matrix form (element-wise result only)"


def _worst(c: Comparison) -> tuple[tuple[int, int], float, float]:
    """The worst entry, 1-based as in the report."""
    (k, l), a, d = c.worst or ((0, 0), float("nan"), float("nan"))
    return (k + 1, l + 1), a, d


def as_json(d: Derivation) -> dict:
    """The machine-readable result (docs/problem-format.md, "Results")."""
    problem, rtol = d.problem, d.problem.check.rtol
    printer = LatexPrinter({n: i.latex for n, i in problem.inputs.items() if i.latex} |
                           {n: s.latex for n, s in problem.steps.items() if s.latex})
    gradients = {}
    for name, g in d.gradients.items():
        entry = {
            "shape": str(g.shape),
            "expr": to_source(g.expr) if g.expr is not None else None,
            "latex": printer.doprint(g.expr) if g.expr is not None else None,
            "matrix_form": g.matrix_form,
            "assumptions_used": list(g.reasons),
            "checks": {
                "symbolic": "passed",
                "entries_compared": g.proof.entries,
                "numeric": "passed" if g.numeric.passed(rtol) else "failed",
                "max_rel_error_below": g.numeric.bound(rtol),
                "entries_checked": g.numeric.entries,
            },
        }
        if g.expr is None:
            entry["checks"]["symbolic"] = "no matrix form proven"
            entry["elementwise"] = [[str(x) for x in row] for row in g.proof.elementwise.tolist()]
        gradients[name] = entry
    return {
        "problem": problem.name,
        "title": problem.title,
        "of": problem.of,
        "gradients": gradients,
        "expect": {name: "confirmed" if c.confirmed(rtol) else "refuted"
                   for name, c in d.claims.items()},
        "check": {"sizes": dict(problem.check.sizes), "seed": problem.check.seed,
                  "trials": problem.check.trials, "rtol": rtol},
    }

