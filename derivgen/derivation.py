"""A problem's derivation: every gradient derived, proven and spot-checked.

:func:`derive` runs the pipeline — reverse pass, element-wise proof,
numeric spot-checks, ``[expect]`` verdicts — and returns a
:class:`Derivation`: plain data that the JSON writer and the report
templates read. It raises :class:`~derivgen.errors.VerificationError` when a
stated formula disagrees with finite differences or an ``[expect]`` claim is
refuted: derivgen does not state what it could not check.
"""

from __future__ import annotations

import dataclasses
import math
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from sympy.matrices.exceptions import NonInvertibleMatrixError

from .assumptions import Reason
from .backward import (Backward, Link, Total, WrongSimplification, backward, differential_names,
                       grad_names, moving_names)
from .errors import ProblemError, VerificationError
from .expr import to_source
from .jacobian import LinearMap, Setting, linear_map
from .latex import LatexPrinter, latex_name
from .nodes import Node, Ref, chain, substitute
from .numeric import Comparison, compare, evaluate, valid_point
from .numpy_code import numpy_source
from .problem import Claim, Problem
from .prove import Composed, Prover, RuleError, Undefined
from .shapes import Shape
from .simplify import Simplifier, cost, facts_of, steps_of
from .sources import display_name
from .typeset import Views, views


@dataclass
class GradientResult:
    name: str
    shape: Shape
    expr: Node                  # the proven matrix form (it may use the names dS of gradients)
    entries: int                # entries proven at the [dims] sizes
    numeric: Comparison
    reasons: tuple[Reason, ...]     # the facts its simplification used
    matrix_form: bool = True    # every operator has a proven rule, so there always is one


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
    views: Views                              # the element-wise statements, typeset
    gradients: dict[str, GradientResult]      # the names in derive.wrt, in that order
    claims: dict[str, ClaimResult]
    point: dict[str, tuple[tuple[float, ...], ...]]   # the inputs at the first numeric check
    jacobians: dict[str, LinearMap] = dataclasses.field(default_factory=dict)
    hessians: dict[str, LinearMap] = dataclasses.field(default_factory=dict)


@contextmanager
def _refusals(problem: Problem):
    """What the engine finds wrong, as the error the user sees."""
    where = display_name(problem.path)
    try:
        yield
    except NonInvertibleMatrixError:    # det and logdet differentiate to an inverse
        raise ProblemError("a derivative inverts a matrix that is singular whatever the inputs "
                           "(its determinant is identically 0), so it is not defined",
                           file=where, key="steps") from None
    except WrongSimplification as e:
        raise VerificationError(
            f"derivgen simplified {to_source(e.raw)} to {to_source(e.simplified)}, which a "
            "random point refutes (a bug in derivgen's simplifier; please report it)",
            file=where, key=_key(problem, e.step)) from None


@contextmanager
def _checked(problem: Problem, step: str):
    """A rule proven at ``step`` (a step, or the gradient a Hessian differentiates):
    one that sympy refutes, or whose derivative is undefined, is refused there."""
    where, key = display_name(problem.path), _key(problem, step)
    source = f"{problem.steps[step].source}: " if step in problem.steps else ""
    try:
        yield
    except RuleError as e:
        raise VerificationError(f"{source}{e}", file=where, key=key) from None
    except Undefined as e:
        line = problem.steps[step].line if step in problem.steps else None
        raise ProblemError(f"{source}{e}", file=where, key=key, line=line) from None


def _key(problem: Problem, step: str) -> str:
    return f"steps.{step}" if step in problem.steps else "derive.hessian"


def derive(problem: Problem) -> Derivation:
    facts = facts_of(problem)
    with _refusals(problem):
        # the gradients' names are known before the pass: one per input and step
        grads = {n: Ref(g, "grad", problem.shape_of(n)) for n, g in grad_names(problem).items()}
        moving = _moving(problem)
        prover = Prover(problem, facts, grads | moving)
        back = Backward([], {}) if problem.jacobian else \
            backward(problem, Simplifier(facts, steps_of(problem)), prover.equal)
        for link in back.order:
            if isinstance(link, Link):
                with _checked(problem, link.step):
                    prover.rule(link.op, link.node, link.arg)
                    prover.index(link.op, link.node, link.arg)
    _write_out(problem, back, prover, Simplifier(facts, steps_of(problem)))
    check = problem.check
    values_of = gradient_values(problem, back)
    formulas = {name: (lambda v, n=name: values_of(v, check.sizes)[grads[n].name])
                for name in problem.gradients}
    claimed = {name: c for name, c in problem.expect.items() if c.form == "gradient"}
    points = _points(problem)
    numeric = _numeric(problem, formulas, points, "")
    numeric |= _numeric(problem, {n: c.expr for n, c in claimed.items()}, points, "claim ")
    gradients = {name: GradientResult(name, problem.shape_of(name), back.totals[name].value,
                                      _entries(problem, name), numeric[name],
                                      _reasons(problem, back, name)) for name in problem.gradients}
    composed = Composed(prover, back)
    results = {name: ClaimResult(c, prover.equal_values(prover.value(c.expr), composed(name)),
                                 numeric["claim " + name]) for name, c in claimed.items()}
    printer = LatexPrinter(latex_names(problem))
    setting = Setting(problem, prover, Simplifier(facts, steps_of(problem)), points,
                      {s: moving[d] for s, d in differential_names(problem).items() if d in moving},
                      printer, lambda step: _checked(problem, step))
    with _refusals(problem):
        jacobians, hessians = _linear_maps(setting, back, formulas, results)
    point = {n: tuple(map(tuple, points[0][n].tolist())) for n in problem.inputs}
    derivation = Derivation(problem, back, views(problem, prover, back, printer, composed),
                            gradients, {n: results[n] for n in problem.expect}, point,
                            jacobians, hessians)
    _judge(derivation)
    return derivation


def _moving(problem: Problem) -> dict[str, Ref]:
    """The symbols of the forward passes: each direction dX, and each step's dS."""
    return {d: Ref(d, "input", problem.shape_of(n)) for n, d in moving_names(problem)}


def _linear_maps(setting: Setting, back: Backward, gradient_formulas: dict, results: dict):
    """The Jacobians of a matrix ``of`` and the Hessians asked for, each with its claim
    judged (into ``results``)."""
    problem = setting.problem
    claims = {(c.variable, c.hessian): c for c in problem.expect.values() if c.form != "gradient"}
    jacobians, hessians = {}, {}
    for variable in (problem.wrt if problem.jacobian else ()):
        jacobians[variable] = linear_map(
            setting, "jacobian", variable, problem.of, problem.steps[problem.of].expr,
            lambda values: values[problem.of], claims.get((variable, False)))
    values = {t.grad.name: t.value for t in back.totals.values()}
    for variable in problem.hessian:
        hessians[variable] = linear_map(
            setting, "hessian", variable, back.totals[variable].grad.name,
            substitute(back.totals[variable].value, values),
            lambda v, f=gradient_formulas[variable]: f(v), claims.get((variable, True)))
    for lm in [*jacobians.values(), *hessians.values()]:
        if lm.claim is not None:
            results[lm.claim[0].name] = ClaimResult(*lm.claim)
    return jacobians, hessians


RESULT_COST = 30     # a result written out without the names G_S is at most this long


def _write_out(problem: Problem, back: Backward, prover: Prover, simplifier: Simplifier) -> None:
    """Write each result without the names G_S where that reads short, as a small
    problem's textbook answer does ((A - Y) / N, not G_S): each G_S replaced by its
    proven value, the whole simplified, and the simplification proven."""
    values = {t.grad.name: t.value for t in back.totals.values()}
    for name in problem.gradients:
        total = back.totals[name]
        written = substitute(total.value, values)
        if written == total.value or cost(written) > 4 * RESULT_COST:
            continue
        like = Ref(name, "input" if name in problem.inputs else "step", problem.shape_of(name))
        simplified, reasons = simplifier.rewrite(written, like)
        again, more = simplifier.rewrite(simplified, like)     # a sum of quotients written out
        if cost(again) < cost(simplified):                     # may now share its denominator
            simplified, reasons = again, reasons + more
        if cost(simplified) <= RESULT_COST and prover.equal(simplified, written):
            back.totals[name] = dataclasses.replace(
                total, value=simplified, reasons=tuple(dict.fromkeys(total.reasons + reasons)))


def _entries(problem: Problem, name: str) -> int:
    rows, cols = problem.shape_of(name).size(problem.dims)
    return rows * cols


def gradient_values(problem: Problem, back: Backward):
    """A numeric function: every gradient G_S at a point, from the last step back."""
    def values(point: dict[str, np.ndarray], sizes) -> dict[str, np.ndarray]:
        env = dict(point)
        with np.errstate(all="ignore"):
            for name, total in back.totals.items():
                shape = problem.shape_of(name).size(sizes)
                env[total.grad.name] = np.broadcast_to(evaluate(total.value, env, sizes), shape)
        return env
    return values


def _reasons(problem: Problem, back: Backward, name: str) -> tuple[Reason, ...]:
    """Every assumption used on the way from ``of`` back to ``name``: in the rules
    of the steps computed from it, and in adding up its own gradient."""
    downstream = {name, *problem.computed_from(name)}
    seen: list[Reason] = []
    for item in back.order:
        if (isinstance(item, Link) and item.step in downstream) or (
                isinstance(item, Total) and item.name in downstream):
            seen += [r for r in item.reasons if r not in seen]
    return tuple(seen)


def _points(problem: Problem) -> list[dict[str, np.ndarray]]:
    """The point of each numeric trial at the [check] sizes, where every step is finite."""
    check, points = problem.check, []
    for trial in range(check.trials):
        values = valid_point(problem, check.seed, trial, check.sizes)
        if values is None:
            raise VerificationError(
                "no random point found where every step is finite: the numeric checks cannot "
                "run (is a log or sqrt applied to something that can be negative?)",
                file=display_name(problem.path), key="check")
        points.append(values)
    return points


def _numeric(problem: Problem, formulas: dict, points: list[dict[str, np.ndarray]],
             prefix: str) -> dict[str, Comparison]:
    results, sizes = {prefix + name: Comparison(name) for name in formulas}, problem.check.sizes
    for trial, values in enumerate(points):
        rng = np.random.default_rng([problem.check.seed, trial, 1000])
        for name, formula in formulas.items():
            if formula is None:
                continue
            fn = formula if callable(formula) else (
                lambda v, f=formula: evaluate(f, v, sizes))
            compare(problem, name, values, sizes, fn, rng, results[prefix + name])
    return results


def _judge(d: Derivation) -> None:
    """Refuse a derivation with a stated formula or a claim that did not check out."""
    problem, rtol = d.problem, d.problem.check.rtol
    stated = [(f"∂{problem.of}/∂{name}", g.expr, g.numeric, "derive.wrt")
              for name, g in d.gradients.items()]
    for key, maps in (("wrt", d.jacobians), ("hessian", d.hessians)):
        for name, lm in maps.items():
            what = f"d{problem.of}" if lm.kind == "jacobian" else f"the Hessian by {name}"
            stated.append((what, lm.differential, lm.numeric, f"derive.{key}"))
            if lm.matrix is not None:
                stated.append((f"{what} as a matrix", lm.matrix, lm.matrix_numeric,
                               f"derive.{key}"))
    for what, expr, numeric, key in stated:
        if not numeric.passed(rtol):
            kl, formula, fd = _worst(numeric)
            why = (f"max relative error {numeric.max_rel_error:.2g} > rtol {rtol:g}"
                   if math.isfinite(numeric.max_rel_error) else
                   "a value that is NaN or infinite is never a pass")
            raise VerificationError(
                f"{what}: the proven form {to_source(expr)} disagrees with finite differences "
                f"({why}; entry {kl}: formula {formula:.6g}, finite difference {fd:.6g})",
                file=display_name(problem.path), key=key)
    for name, c in d.claims.items():
        if c.confirmed(rtol):
            continue
        derived = to_source(_derived(d, c.claim))
        kl, claimed, fd = _worst(c.numeric)
        # a Jacobian's claim is compared along a direction: the entry is of dF
        along = "" if c.claim.form == "gradient" else \
            f"moving {c.claim.variable} along a random direction, "
        witness = (f"{along}at entry {kl}{' of the differential' if along else ''} the claim "
                   f"gives {claimed:.6g}, finite differences {fd:.6g}"
                   if not c.numeric.passed(rtol) else
                   "it agrees numerically but could not be proven equal symbolically")
        raise VerificationError(
            f"claim {c.claim.source!r} is refuted: derivgen derives {derived}; {witness}",
            file=display_name(problem.path), key=f"expect.{name}", line=c.claim.line)


def _derived(d: Derivation, claim: Claim) -> Node:
    """What derivgen derives for what ``claim`` states, in the claim's form."""
    if claim.form == "gradient":
        return d.gradients[claim.variable].expr
    lm = (d.hessians if claim.hessian else d.jacobians)[claim.variable]
    return lm.matrix if claim.form == "matrix" and lm.matrix is not None else lm.differential


def _worst(c: Comparison) -> tuple[tuple[int, int], float, float]:
    """The worst entry, 1-based as in the report."""
    (k, l), a, d = c.worst or ((0, 0), float("nan"), float("nan"))
    return (k + 1, l + 1), a, d


def latex_names(problem: Problem) -> dict[str, str]:
    """How each name is typeset: the problem's ``latex`` keys, and G_S for the gradient dS."""
    out = {n: i.latex for n, i in problem.inputs.items() if i.latex}
    out |= {n: s.latex for n, s in problem.steps.items() if s.latex}
    # a direction and a differential: dX, dS (a dict of the two by name would lose the
    # direction of a step that is a variable: its differential takes the same key)
    out |= {d: f"\\mathrm{{d}}{out.get(n) or latex_name(n)}" for n, d in moving_names(problem)}
    return out | {g: f"G_{{{out.get(n) or latex_name(n)}}}" for n, g in grad_names(problem).items()}


def step_records(d: Derivation) -> list[dict]:
    """For every step and every name it uses on the way to ``of``: ∂of/∂step, what the
    step contributes to ∂of/∂name, and whether that is the whole of it."""
    totals, records = d.backward.totals, []
    for item in d.backward.order:
        if not (isinstance(item, Link) and isinstance(item.target, Ref)):
            continue
        name = item.target.name
        record = next((r for r in records if (r["output"], r["input"]) == (item.step, name)), None)
        if record is None:
            record = {"output": item.step, "input": name,
                      "upstream": to_source(totals[item.step].value), "parts": [],
                      "complete": set(totals[name].sources) == {item.step}, "proof": "passed"}
            records.append(record)
        record["parts"].append(item.result)
    for record in records:
        record["contribution"] = to_source(chain("add", record.pop("parts")))
    return [{k: r[k] for k in ("output", "input", "upstream", "contribution", "complete", "proof")}
            for r in records]


def _linear_json(lm: LinearMap, problem: Problem, printer: LatexPrinter, rtol: float) -> dict:
    """A Jacobian or a Hessian: its differential, and its matrix where there is one."""
    out = {
        "shape": str(lm.matrix_shape),
        "direction": lm.forward.direction.name,
        # the forward pass: each step's differential, named as later ones use it
        "steps": [{"output": d.name, "name": d.symbol.name, "differential": to_source(d.value)}
                  for d in lm.forward.differentials.values() if d.name in problem.steps],
        "differential": to_source(lm.differential),
        "differential_numpy": numpy_source(lm.differential),
        "differential_latex": printer.doprint(lm.differential),
        "matrix_form": lm.matrix is not None,
    }
    if lm.matrix is not None:           # present when a closed matrix form was proven
        out |= {"matrix": to_source(lm.matrix), "matrix_numpy": numpy_source(lm.matrix),
                "matrix_latex": printer.doprint(lm.matrix)}
    if lm.kind == "hessian":
        out["symmetric"] = lm.symmetric
    checks = {"symbolic": "passed", "entries_compared": lm.entries}
    for key, numeric in (("numeric", lm.numeric), ("matrix_numeric", lm.matrix_numeric)):
        if numeric is not None:
            checks[key] = {"verdict": "passed" if numeric.passed(rtol) else "failed",
                           "max_rel_error_below": numeric.bound(rtol),
                           "entries_checked": numeric.entries}
    return out | {"checks": checks}


def as_json(d: Derivation) -> dict:
    """The machine-readable result (docs/problem-format.md, "Results")."""
    problem, rtol = d.problem, d.problem.check.rtol
    printer = LatexPrinter(latex_names(problem))
    gradients = {}
    for name, g in d.gradients.items():
        gradients[name] = {
            "shape": str(g.shape),
            "expr": to_source(g.expr),
            "numpy": numpy_source(g.expr),
            "latex": printer.doprint(g.expr),
            "matrix_form": g.matrix_form,
            "assumptions_used": [r.words(to_source) for r in g.reasons],
            "checks": {
                "symbolic": "passed",
                "entries_compared": g.entries,
                "numeric": "passed" if g.numeric.passed(rtol) else "failed",
                "max_rel_error_below": g.numeric.bound(rtol),
                "entries_checked": g.numeric.entries,
            },
        }
    linear = {key: {name: _linear_json(lm, problem, printer, rtol) for name, lm in maps.items()}
              for key, maps in (("jacobians", d.jacobians), ("hessians", d.hessians)) if maps}
    return {
        "problem": problem.name,
        "title": problem.title,
        "of": problem.of,
        "gradients": gradients,
        **linear,
        "steps": step_records(d),
        "expect": {name: "confirmed" if c.confirmed(rtol) else "refuted"
                   for name, c in d.claims.items()},
        "check": {"sizes": dict(problem.check.sizes), "seed": problem.check.seed,
                  "trials": problem.check.trials, "rtol": rtol},
    }
