"""Loading valid problem files: what the loader makes of every key."""

from derivgen.expr import to_source
from derivgen.problem import load
from derivgen.shapes import SCALAR, Shape
from conftest import ROOT, SOFTMAX


def test_softmax_example_loads_as_the_spec_describes():
    p = load(ROOT / "problems" / "softmax.toml")
    assert p.name == "softmax"
    assert p.title == "Softmax regression: gradient of the cross-entropy"
    assert dict(p.dims) == {"C": 3, "D": 2, "N": 3}
    assert [(i.name, str(i.shape), i.constant, i.assume) for i in p.inputs.values()] == [
        ("W", "C×D", False, ()), ("X", "D×N", False, ()),
        ("Y", "C×N", True, ("one_hot_columns",))]
    assert p.inputs["W"].description == "weights"
    assert [(s.name, to_source(s.expr), str(s.expr.shape), s.line) for s in p.steps.values()] == [
        ("S", "W @ X", "C×N", 15), ("A", "softmax(S, axis=0)", "C×N", 16),
        ("L", "-sum(Y * log(A)) / N", "1×1", 17)]
    assert (p.of, p.wrt) == ("L", ("S", "W", "X"))
    assert to_source(p.expect["S"].expr) == "(A - Y) / N" and p.expect["S"].line == 24
    assert (dict(p.check.sizes), p.check.seed, p.check.trials, p.check.rtol) == (
        {"C": 3, "D": 2, "N": 3}, 0, 3, 1e-6)


def test_every_optional_form(problem_file):
    p = load(problem_file('''
        title = "All the forms"
        summary = "*Markdown* summary."
        [dims]
        n = 4
        [inputs]
        x = { shape = ["n"] }
        t = { shape = [], latex = "\\\\tau", description = "a temperature" }
        P = { shape = ["n", "n"], assume = ["positive_definite"] }
        k = { shape = [2, "n"], constant = true }
        [steps]
        q = { expr = "x.T @ P @ x / t", latex = "\\\\hat{q}", description = "a quadratic form" }
        f = "q + sum(k @ x)"
        [derive]
        of = "f"
        wrt = ["x", "t", "P", "q"]
        [expect]
        t = "-q / t"
        [check]
        sizes = { n = 7 }
        seed = 42
        trials = 5
        rtol = 1e-8
    '''))
    assert p.summary == "*Markdown* summary."
    assert p.inputs["x"].shape == Shape("n", 1)
    assert p.inputs["t"].shape == SCALAR and p.inputs["t"].latex == "\\tau"
    assert p.inputs["k"].shape == Shape(2, "n") and p.inputs["k"].constant
    assert p.steps["q"].latex == "\\hat{q}" and p.steps["q"].description == "a quadratic form"
    assert p.shape_of("q") == SCALAR and p.shape_of("P") == Shape("n", "n")
    assert (dict(p.check.sizes), p.check.seed, p.check.trials, p.check.rtol) == ({"n": 7}, 42, 5, 1e-8)


def test_empty_dims_and_steps_as_subtables(problem_file):
    p = load(problem_file('''
        title = "Scalars"
        [dims]
        [inputs.a]
        shape = []
        [steps.b]
        expr = "a ** 2"
        [steps.c]
        expr = "b * 3"
        [derive]
        of = "c"
        wrt = ["a"]
    '''))
    assert list(p.steps) == ["b", "c"] and p.dims == {}


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SOFTMAX.encode())
    assert load(path).title == "Softmax regression: gradient of the cross-entropy"
