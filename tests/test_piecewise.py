"""Piecewise functions: conditions, where, clip and pi, as parsed, typeset, simplified
and proven."""

import sympy as sp

from derivgen.expr import Binding, parse, to_source
from derivgen.index import IndexPrinter
from derivgen.derivation import derive
from derivgen.latex import LatexPrinter
from derivgen.problem import load
from derivgen.prove import almost_everywhere_form
from derivgen.shapes import SCALAR, Shape
from derivgen.simplify import Simplifier

SCOPE = {"N": Binding("dim", SCALAR), "r": Binding("input", Shape("N", 1)),
         "d": Binding("input", SCALAR), "G": Binding("grad", Shape("N", 1)),
         "Y": Binding("input", Shape("C", "N"))}


def node(text):
    return parse(text, SCOPE)


def test_conditions_are_iverson_brackets():
    tree = node("where((r > -d) & (r < d) | (r == 0), r, 0)")
    assert to_source(tree) == "where((r > -d) & (r < d) | (r == 0), r, 0)"
    assert LatexPrinter().doprint(tree) == (
        r"\operatorname{where}\left(\left[r > -d \land r < d \lor r = 0\right], r, 0\right)")
    assert IndexPrinter().entry(node("where(abs(r) <= d, r, 0)"), "i", "j") == (
        r"\operatorname{where}\left(\left[\left|r_{i}\right| \leq d\right], r_{i}, 0\right)")


def test_pi_is_a_number_of_its_own():
    tree = node("sin(2 * pi * r)")
    assert to_source(tree) == "sin(2 * pi * r)"
    assert LatexPrinter().doprint(tree) == r"\sin\left(2 \pi r\right)"


def test_a_result_holding_a_condition_is_written_with_where():
    """c G r + (1 − c) G d sign(r), read back: where(c, r, d sign(r)) with G outside."""
    simplifier = Simplifier({})
    tree = node("where(abs(r) <= d, G * r, 0) + where(abs(r) <= d, 0, G * d * sign(r))")
    simplified, _ = simplifier.rewrite(tree, tree)
    assert to_source(simplified) == "G * where(abs(r) <= d, r, d * sign(r))"


def test_a_comparison_of_zeros_and_ones_is_the_matrix_itself():
    simplifier = Simplifier({"Y": frozenset({"binary"})})
    tree = node("where(Y == 1, 0, Y + 1)")
    simplified, reasons = simplifier.rewrite(tree, tree)
    assert to_source(simplified) == "1 - Y"
    assert [r.words(to_source) for r in reasons] == ["every entry of Y is 0 or 1"]


def test_each_piece_is_proven_in_its_region():
    """sympy's derivative of clip by x, step(hi − max(x, lo)) step(x − lo), is the
    registry's step(x − lo) step(hi − x): where x > lo, max(x, lo) is x."""
    x, lo, hi = sp.symbols("x lo hi", real=True)
    sympys = sp.Min(sp.Max(x, lo), hi).diff(x)
    registry = sp.Heaviside(x - lo) * sp.Heaviside(hi - x)
    assert sp.expand(almost_everywhere_form(sympys - registry)) == 0
    # and a step of a negated argument is one minus the step: [a ≥ b] = 1 − [a < b]
    assert sp.expand(almost_everywhere_form(sp.Heaviside(x - lo, 1) + sp.Heaviside(lo - x, 0) - 1)) == 0


PPO = """
title = "PPO"
[dims]
N = 4
[inputs]
logp = { shape = [1, "N"] }
old = { shape = [1, "N"], constant = true }
adv = { shape = [1, "N"], constant = true }
eps = { shape = [], constant = true, assume = ["positive"] }
[steps]
r = "exp(logp - old)"
L = "-mean(minimum(r * adv, clip(r, 1 - eps, 1 + eps) * adv))"
[derive]
of = "L"
wrt = ["logp"]
"""


def test_a_tie_on_a_whole_region_gives_the_gradient_to_one_side(problem_file):
    """Inside the clip range r A and clip(r) A are equal: minimum's derivative must go to
    one of them. It once went to neither, and the numeric check refused the result."""
    d = derive(load(problem_file(PPO)))
    assert d.gradients["logp"].numeric.passed(d.problem.check.rtol)
    assert d.gradients["logp"].numeric.entries > 0
