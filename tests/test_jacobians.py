"""Jacobians and Hessians: the forward pass, its forms, and what the JSON states.

Exact forms are asserted for the textbook cases (d(X²) = dX X + X dX, the softmax's
diag(a) − a aᵀ, logistic regression's Xᵀ diag(p ⊙ (1 − p)) X / N); the JSON's
expressions are evaluated and compared with finite differences computed here,
independently of derivgen's own checks.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from derivgen import api
from derivgen.derivation import as_json
from derivgen.errors import ProblemError, VerificationError
from derivgen.expr import Binding, parse, to_source
from derivgen.linearize import jacobian_matrix
from derivgen.nodes import Ref
from derivgen.numeric import evaluate, forward
from derivgen.problem import load
from derivgen.shapes import Shape

PROBLEMS = Path(__file__).parent.parent / "problems"


def derive_text(tmp_path: Path, text: str):
    path = tmp_path / "p.toml"
    path.write_text(text)
    return api.derive_file(path)


SQUARE = """
title = "square"
[dims]
n = 2
[inputs]
X = { shape = ["n", "n"] }
[steps]
F = "X @ X"
[derive]
of = "F"
"""


def test_the_differential_of_the_square(tmp_path):
    d = derive_text(tmp_path, SQUARE)
    lm = d.jacobians["X"]
    assert to_source(lm.differential) == "dX @ X + X @ dX"
    assert lm.index == r"\delta_{i k} {X}_{l,j} + \delta_{j l} {X}_{i,k}"
    assert lm.slice == r"\begin{bmatrix} 2 X_{1,1} & X_{1,2} \\ X_{2,1} & 0 \end{bmatrix}"
    assert d.gradients == {}


def test_a_slice_writes_the_matrices_the_index_form_names_by_their_entries():
    """p_1 (1 − p_1) for p = softmax(x), not exponentials over their sum (each folded
    entry proven equal); the adjugate's slice, too wide in exponentials, fits so."""
    from test_gallery import derivation
    p = r"\left(\operatorname{softmax}_{\text{col}}\left(x\right)\right)"
    assert derivation("hessian_logsumexp").hessians["x"].slice == (
        rf"\begin{{bmatrix}} {p}_{{1,1}} \left(1 - {p}_{{1,1}}\right) \\ "
        rf"- {p}_{{1,1}} {p}_{{2,1}} \\ - {p}_{{1,1}} {p}_{{3,1}} \end{{bmatrix}}")
    adjugate = derivation("jacobian_matrix_inverse").jacobians["X"]
    assert adjugate.slice.startswith(r"\begin{bmatrix} F_{1,1} \left(X^{-1}\right)_{1,1} - "
                                     r"V_{1,1}^{2} \det\left(X\right) & ")


def test_a_wrong_differential_is_refuted(tmp_path):
    with pytest.raises(VerificationError) as e:
        derive_text(tmp_path, SQUARE + '[expect]\nX = "2 * X @ dX"\n')
    assert "claim '2 * X @ dX' is refuted: derivgen derives dX @ X + X @ dX" in str(e.value)
    assert e.value.key == "expect.X"


@pytest.mark.parametrize("name, kind, variable, differential, matrix", [
    ("jacobian_softmax", "jacobians", "s", "a * (ds - sum(a * ds, axis=0))",
     "diag(a) - a @ a.T"),
    ("hessian_logistic_regression", "hessians", "w", "X.T @ ((X @ dw) * p * (1 - p)) / N",
     "X.T @ diag(p * (1 - p)) @ X / N"),
    ("hessian_least_squares", "hessians", "w", "2 * (X.T @ X @ dw)", "2 * (X.T @ X)"),
    ("hessian_logsumexp", "hessians", "x",
     "softmax(x, axis=0) * (dx - sum(softmax(x, axis=0) * dx, axis=0))",
     "diag(softmax(x, axis=0)) - softmax(x, axis=0) @ softmax(x, axis=0).T"),
])
def test_the_gallery_reads_as_textbooks_write_it(name, kind, variable, differential, matrix):
    d = api.derive_file(PROBLEMS / f"{name}.toml")
    lm = getattr(d, kind)[variable]
    assert to_source(lm.differential) == differential
    assert to_source(lm.matrix) == matrix
    assert lm.symmetric is (True if kind == "hessians" else None)
    assert all(c.confirmed(d.problem.check.rtol) for c in d.claims.values())


def _values(problem, rng, sizes):
    values = {n: rng.uniform(0.5, 1.5, i.shape.size(sizes)) for n, i in problem.inputs.items()}
    if "y" in problem.inputs and "binary" in problem.inputs["y"].assume:
        values["y"] = rng.integers(0, 2, values["y"].shape).astype(float)
    return forward(problem, values, sizes)


@pytest.mark.parametrize("name", ["jacobian_softmax", "jacobian_matrix_square",
                                  "jacobian_matrix_inverse", "jacobian_axb",
                                  "hessian_logistic_regression", "hessian_logsumexp",
                                  "hessian_least_squares"])
def test_the_json_forms_agree_with_finite_differences(name):
    """Each JSON differential (and matrix), evaluated as written, equals central
    differences of F (of the JSON gradient, for a Hessian) along a random direction."""
    d = api.derive_file(PROBLEMS / f"{name}.toml")
    problem, out = d.problem, as_json(d)
    sizes = problem.check.sizes
    rng = np.random.default_rng(5)
    values = _values(problem, rng, sizes)
    scope = {n: Binding("dim", Shape(1, 1)) for n in problem.dims}
    scope |= {n: Binding("input", i.shape) for n, i in problem.inputs.items()}
    scope |= {n: Binding("step", s.expr.shape) for n, s in problem.steps.items()}
    for kind in ("jacobians", "hessians"):
        for variable, entry in out.get(kind, {}).items():
            direction = entry["direction"]
            here = scope | {direction: Binding("input", problem.inputs[variable].shape)}
            if kind == "jacobians":
                def output(v):
                    return v[problem.of]
            else:
                gradient = parse(out["gradients"][variable]["expr"], here)

                def output(v):
                    return evaluate(gradient, v, sizes)
            x = values[variable]
            dx = rng.standard_normal(x.shape)
            h = 1e-6
            ends = [output(forward(problem, values | {variable: x + s * h * dx}, sizes))
                    for s in (1, -1)]
            fd = (ends[0] - ends[1]) / (2 * h)
            at = values | {direction: dx}
            stated = evaluate(parse(entry["differential"], here), at, sizes)
            assert np.allclose(np.broadcast_to(stated, fd.shape), fd, rtol=1e-5, atol=1e-7)
            if entry["matrix_form"]:
                matrix = evaluate(parse(entry["matrix"], here), at, sizes)
                applied = (matrix @ dx.reshape(-1, 1, order="F")).reshape(fd.shape, order="F")
                assert np.allclose(applied, fd, rtol=1e-5, atol=1e-7)
            assert entry["checks"]["numeric"]["verdict"] == "passed"


def test_json_entries(tmp_path):
    out = as_json(api.derive_file(PROBLEMS / "jacobian_softmax.toml"))
    entry = out["jacobians"]["s"]
    assert {k: entry[k] for k in ("shape", "direction", "differential", "matrix",
                                  "matrix_form")} == {
        "shape": "n×n", "direction": "ds", "differential": "a * (ds - sum(a * ds, axis=0))",
        "matrix": "diag(a) - a @ a.T", "matrix_form": True}
    assert entry["matrix_latex"] == r"\operatorname{diag}\left(a\right) - a a^{\top}"
    assert entry["checks"]["numeric"]["max_rel_error_below"] == 1e-8
    assert out["gradients"] == {}
    assert "hessians" not in out
    json.dumps(out)


@pytest.mark.parametrize("name, matrix, index", [
    ("jacobian_axb", "kron(B.T, A)", r"{A}_{i,k} {B}_{l,j}"),
    ("jacobian_matrix_square", "kron(X.T, eye_like(X)) + kron(eye_like(X), X)",
     r"\delta_{i k} {X}_{l,j} + \delta_{j l} {X}_{i,k}"),
    ("jacobian_matrix_inverse", "vec(F) @ vec(inv(X).T).T - det(X) * kron(V.T, V)",
     r"- \det\left(X\right) {V}_{i,k} {V}_{l,j} + {F}_{i,j} "
     r"{\left(X^{-1}\right)}_{l,k}"),
])
def test_matrix_variables_get_the_kronecker_form(name, matrix, index):
    lm = api.derive_file(PROBLEMS / f"{name}.toml").jacobians["X"]
    assert to_source(lm.matrix) == matrix
    assert lm.index == index


@pytest.mark.parametrize("source, expected", [
    ("W @ dx", "W"),
    ("a * dx", "diag(a)"),
    ("a * (dx - sum(a * dx, axis=0))", "diag(a) - a @ a.T"),
    ("W.T @ (c * (W @ dx)) / 2", "W.T @ diag(c) @ W / 2"),
    ("dx", "eye_like(x)"),
    ("dx.T @ W.T", "W"),              # a row output: its vec is its transpose
    ("sum(dx)", "ones_like(x).T"),
    ("W @ dh + W @ dx", "W @ Jh + W"),    # the chain rule: dh moves as Jh dx
    ("W @ dx @ dx.T", None),          # not linear
    ("dx * dx", None),
])
def test_the_matrix_a_differential_applies(source, expected):
    shapes = {"x": Shape("n", 1), "a": Shape("n", 1), "c": Shape("m", 1),
              "W": Shape("m", "n"), "dx": Shape("n", 1), "dh": Shape("n", 1),
              "Jh": Shape("n", "n")}
    scope = {n: Binding("input", s) for n, s in shapes.items()}
    variable = Ref("x", "input", shapes["x"])
    matrix = jacobian_matrix(parse(source, scope), {"dx": None, "dh": scope_ref("Jh", shapes)},
                             variable,
                             [Ref(n, "input", s) for n, s in shapes.items()])
    assert (to_source(matrix) if matrix is not None else None) == expected


def scope_ref(name, shapes):
    return Ref(name, "input", shapes[name])


def test_a_direction_named_like_an_input_is_refused(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(SQUARE.replace('X = { shape = ["n", "n"] }\n',
                                   'X = { shape = ["n", "n"] }\ndX = { shape = ["n", "n"] }\n')
                    .replace('F = "X @ X"', 'F = "X @ X + dX"'))
    with pytest.raises(ProblemError) as e:
        load(path)
    assert str(e.value).endswith("p.toml:11: derive.of: the direction X moves in is written dX, "
                            "which names an input already: rename it")


GRAM = """
title = "Gram"
[dims]
n = 2
m = 3
[inputs]
X = { shape = ["m", "n"] }
[steps]
F = "X.T @ X"
[derive]
of = "F"
"""


def test_a_differential_holding_a_transposed_direction_has_no_matrix(tmp_path):
    d = derive_text(tmp_path, GRAM)
    lm = d.jacobians["X"]
    assert to_source(lm.differential) == "dX.T @ X + X.T @ dX"
    assert lm.matrix is None
    assert lm.index == r"\delta_{i l} {X}_{k,j} + \delta_{j l} {X}_{k,i}"
    report = api.render_outputs(d, formats=("md",))["md"]
    assert "No matrix form was found (one that holds $\\mathrm{d}X^{\\top}$ would need the\n" \
           "commutation matrix)" in report
    assert "matrix" not in as_json(d)["jacobians"]["X"]


STEP_AND_INPUT = """
title = "by a step"
[dims]
n = 3
[inputs]
W = { shape = ["n", "n"] }
x = { shape = ["n", 1] }
[steps]
s = "W @ x"
a = "softmax(s, axis=0)"
[derive]
of = "a"
wrt = ["s", "x"]
"""


def test_a_jacobian_by_a_step_and_by_an_input_compose(tmp_path):
    d = derive_text(tmp_path, STEP_AND_INPUT)
    assert to_source(d.jacobians["s"].matrix) == "diag(a) - a @ a.T"
    assert to_source(d.jacobians["x"].matrix) == "(diag(a) - a @ a.T) @ W"


def test_the_hessian_of_a_matrix_variable_is_its_differential(tmp_path):
    d = derive_text(tmp_path, """
title = "trace"
[dims]
n = 2
[inputs]
A = { shape = ["n", "n"], constant = true }
X = { shape = ["n", "n"] }
[steps]
L = "trace(X.T @ A @ X)"
[derive]
of = "L"
hessian = ["X"]
[expect]
"hessian(X)" = "A.T @ dX + A @ dX"
""")
    lm = d.hessians["X"]
    assert to_source(lm.differential) == "(A + A.T) @ dX"
    assert lm.matrix is None and lm.symmetric is None
    entry = as_json(d)["hessians"]["X"]
    assert ("matrix" in entry, entry["matrix_form"], entry["symmetric"]) == (False, False, None)
    assert d.claims["hessian(X)"].confirmed(1e-6)


def test_a_wrong_forward_rule_fails_the_build(tmp_path, monkeypatch):
    from derivgen import ops
    wrong = dataclasses.replace(ops.OPS["matmul"], jvp=(lambda d, ans, a, b, axis: a @ d,
                                                         ops.OPS["matmul"].jvp[1]))
    monkeypatch.setitem(ops.OPS, "matmul", wrong)
    with pytest.raises(VerificationError) as e:
        derive_text(tmp_path, SQUARE)
    assert str(e.value).startswith(f"{tmp_path / 'p.toml'}: steps.F: X @ X: the forward rule for "
                                   "argument 1 of matmul gives")


@pytest.mark.parametrize("claim, message", [
    ('X = "kron(X, X) @ vec(X)"', "expect.X: the claim is (n*n)×1; its matrix is (n*n)×(n*n)"),
    ('X = "dX"', None),
    ('"hessian(X)" = "dX"', "expect.hessian(X): 'hessian(X)' is not in derive.wrt; a claim "
                            "is about one of: X"),
])
def test_claims_about_a_jacobian(tmp_path, claim, message):
    path = tmp_path / "p.toml"
    path.write_text(SQUARE + "[expect]\n" + claim + "\n")
    if message is None:
        with pytest.raises(VerificationError):       # a shape that fits, a wrong value
            api.derive_file(path)
        return
    with pytest.raises(ProblemError) as e:
        load(path)
    assert str(e.value).endswith(message)


def test_a_chain_of_layers_composes_one_proven_matrix_per_step(tmp_path):
    """diag(1 − h₃²) W₃ diag(1 − h₂²) W₂ diag(1 − h₁²) W₁, each step's factor proven on
    its own (the composed matrix is never expanded)."""
    d = derive_text(tmp_path, """
title = "three layers"
[dims]
n = 3
[inputs]
x = { shape = ["n", 1] }
W1 = { shape = ["n", "n"], constant = true }
W2 = { shape = ["n", "n"], constant = true }
W3 = { shape = ["n", "n"], constant = true }
[steps]
h1 = "tanh(W1 @ x)"
h2 = "tanh(W2 @ h1)"
h3 = "tanh(W3 @ h2)"
[derive]
of = "h3"
[expect]
x = "diag(1 - h3 ** 2) @ W3 @ diag(1 - h2 ** 2) @ W2 @ diag(1 - h1 ** 2) @ W1"
""")
    assert to_source(d.jacobians["x"].matrix) == \
        "diag(1 - h3 ** 2) @ W3 @ diag(1 - h2 ** 2) @ W2 @ diag(1 - h1 ** 2) @ W1"
    assert d.claims["x"].confirmed(1e-6)


def test_what_a_build_would_write_out_too_large_is_refused(tmp_path):
    """A claim with a part far larger than what it states (n⁶ entries at n = 16) is
    refused before anything is written out; so is a Jacobian's matrix too large for the
    numeric checks at the [check] sizes (40² × 40² entries)."""
    path = tmp_path / "p.toml"
    path.write_text(SQUARE.replace("n = 2", "n = 16") + "[expect]\n"
                    'X = "kron(X.T, eye_like(X)) + 0 * sum(kron(kron(X, X), X))"\n')
    with pytest.raises(ProblemError) as e:
        load(path)
    assert str(e.value).endswith(
        "p.toml:12: expect.X: a part of the claim, kron(kron(X, X), X), is (n*n*n)×(n*n*n) = "
        "16777216 entries at the [dims] sizes; the claim itself is (n*n)×(n*n)")
    path.write_text(SQUARE + "[check]\nsizes = { n = 40 }\n")
    with pytest.raises(ProblemError) as e:
        load(path)
    assert str(e.value).endswith(
        "p.toml:12: check.sizes: the matrix of the derivative by X (derive.wrt) is "
        "(n*n)×(n*n) = 2560000 entries at the [check] sizes; the limit is 250000: give "
        "smaller sizes")


def test_a_step_that_is_a_variable_keeps_its_directions_name(tmp_path):
    """wrt a step s: its direction ds is typeset d s, as every direction is (its own
    differential's name, d_s, must not take the direction's place)."""
    from derivgen.derivation import latex_names
    path = tmp_path / "p.toml"
    path.write_text(STEP_AND_INPUT)
    names = latex_names(load(path))
    assert (names["ds"], names["dx"], names["da"]) == (
        r"\mathrm{d}s", r"\mathrm{d}x", r"\mathrm{d}a")
