"""Integer class labels: how they are declared, shown, sampled, typeset and differentiated."""

import numpy as np
import sympy as sp

from derivgen.elementwise import Elementwise
from derivgen.expr import Binding, parse, to_source
from derivgen.index import IndexPrinter
from derivgen.latex import LatexPrinter
from derivgen.nodes import Ref
from derivgen.numeric import evaluate, sample
from derivgen.ops import OPS
from derivgen.problem import load
from derivgen.shapes import SCALAR, Shape
from derivgen.simplify import Simplifier

SCOPE = {"C": Binding("dim", SCALAR), "N": Binding("dim", SCALAR), "M": Binding("dim", SCALAR),
         "S": Binding("input", Shape("C", "N")), "T": Binding("input", Shape("N", "C")),
         "W": Binding("input", Shape("C", "D")),
         "y": Binding("input", Shape(1, "N", "C")), "z": Binding("input", Shape("N", 1, "C")),
         "x": Binding("input", Shape(1, "M", "C")), "c": Binding("input", Shape(1, 1, "C"))}

WORD2VEC = """
title = "t"
[dims]
V = 5
d = 2
K = 3
[inputs]
U = { shape = ["V", "d"] }
c = { shape = [], labels = "V" }
s = { shape = [1, "K"], labels = "V" }
[steps]
u = "take(U, c, axis=0)"
Us = "take(U, s, axis=0)"
J = "sum(Us @ u.T)"
[derive]
of = "J"
wrt = ["U"]
"""


def node(text):
    return parse(text, SCOPE)


def test_shapes_follow_numpy():
    assert str(node("take_along_axis(S, y, axis=0)").shape) == "1×N"
    assert str(node("take_along_axis(T, z, axis=1)").shape) == "N×1"
    assert str(node("take(W, x, axis=0)").shape) == "M×D"
    assert str(node("take(W, c, axis=0)").shape) == "1×D"
    assert str(node("one_hot(y)").shape) == "C×N"
    assert str(node("one_hot(z)").shape) == "N×C"
    assert str(node("one_hot(c)").shape) == "C×1"


def test_one_hot_prints_as_written_and_typesets():
    tree = node("(S - one_hot(y)) * take_along_axis(S, y, axis=0)")
    assert to_source(tree) == "(S - one_hot(y)) * take_along_axis(S, y, axis=0)"
    assert LatexPrinter().doprint(tree) == (
        r"\left(S - \operatorname{onehot}\left(y\right)\right) \odot "
        r"\operatorname{pick}_{\text{col}}\left(S, y\right)")
    assert LatexPrinter().doprint(node("take(W, x, axis=0)")) == r"W_{x,\,:}"


def test_index_notation_counts_labels_from_zero():
    index = IndexPrinter()
    assert index.entry(node("take_along_axis(S, y, axis=0)"), "i", "j") == r"S_{y_{j} + 1,\, j}"
    assert index.entry(node("take(W, x, axis=0)"), "i", "j") == r"W_{x_{i} + 1,\, j}"
    assert index.entry(node("one_hot(y)"), "i", "j") == r"\delta_{i,\, y_{j} + 1}"
    assert index.entry(node("one_hot(z)"), "i", "j") == r"\delta_{j,\, z_{i} + 1}"


def test_forms_pick_what_numpy_picks():
    rng = np.random.default_rng(0)
    s, w = rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    y, x = np.array([[2.0, 0.0, 0.0, 1.0]]), np.array([[1.0, 1.0]])
    sizes = {"C": 3, "N": 4, "M": 2, "D": 2}
    values = {"S": s, "y": y, "W": w, "x": x}
    assert np.array_equal(evaluate(node("take_along_axis(S, y, axis=0)"), values, sizes),
                          s[[2, 0, 0, 1], [0, 1, 2, 3]][None, :])
    assert np.array_equal(evaluate(node("take(W, x, axis=0)"), values, sizes), w[[1, 1]])
    assert np.array_equal(evaluate(node("one_hot(y)"), values, sizes),
                          np.eye(3)[:, [2, 0, 0, 1]])


def test_repeated_labels_add_up_in_the_gradient():
    """take's rule one_hot(x) @ G sends both copies of row 1 back to row 1."""
    w = np.arange(6.0).reshape(3, 2)
    g = np.array([[1.0, 2.0], [10.0, 20.0]])
    x = np.array([[1.0, 1.0]])
    rule = OPS["take"].vjp[0](Ref("G", "grad", Shape("M", "D")), None, node("W"),
                              Ref("x", "input", SCOPE["x"].shape), axis=0)
    assert to_source(rule) == "one_hot(x) @ G"
    got = evaluate(rule, {"G": g, "x": x, "W": w}, {"C": 3, "M": 2, "D": 2})
    assert got.tolist() == [[0, 0], [11, 22], [0, 0]]


def test_the_element_wise_view_shows_labels_counting_on(problem_file):
    problem = load(problem_file(WORD2VEC))
    ew = Elementwise(problem, {})
    assert ew.symbols["c"] == sp.Matrix([[0]])
    assert ew.symbols["s"] == sp.Matrix([[1, 2, 3]])
    assert ew.definitions["Us"][0, 0] == ew.symbols["U"][1, 0]     # label 1 is row 2


def test_sampled_labels_are_integer_classes(problem_file):
    problem = load(problem_file(WORD2VEC))
    values = sample(problem, np.random.default_rng(1), {"V": 5, "d": 2, "K": 200})
    s = values["s"]
    assert s.shape == (1, 200) and set(np.unique(s)) == {0.0, 1.0, 2.0, 3.0, 4.0}


def test_one_hot_picks_what_it_multiplies():
    """onehot(y) ⊙ S ⊘ pick(S, y) is onehot(y): each column keeps only the picked entry."""
    simplifier = Simplifier({})
    tree = node("one_hot(y) * S / take_along_axis(S, y, axis=0)")
    simplified, reasons = simplifier.rewrite(tree, tree)
    assert to_source(simplified) == "one_hot(y)"
    assert [r.words(to_source) for r in reasons] == ["each column of one_hot(y) is one-hot"]
    summed, _ = simplifier.rewrite(node("sum(one_hot(y) * S, axis=0)"),
                                   node("take_along_axis(S, y, axis=0)"))
    assert to_source(summed) == "take_along_axis(S, y, axis=0)"
