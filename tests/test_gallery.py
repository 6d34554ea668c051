"""The gallery in problems/: every file derives, every claim holds, every
gradient has a matrix form that reads back, and the gallery as a whole uses
every operator of the language."""

from functools import cache
from pathlib import Path

import pytest

from derivgen.backward import grad_names

from derivgen.api import derive_file
from derivgen.expr import Binding, parse, to_source
from derivgen.nodes import Apply, walk
from derivgen.ops import OPS
from derivgen.shapes import SCALAR

ROOT = Path(__file__).resolve().parent.parent
GALLERY = sorted((ROOT / "problems").glob("*.toml"))


@cache
def derivation(name: str):
    return derive_file(ROOT / "problems" / f"{name}.toml")


def scope_of(problem) -> dict[str, Binding]:
    """The names a gradient's expression may use, as derivgen/problem.py binds them."""
    scope = {d: Binding("dim", SCALAR) for d in problem.dims}
    scope |= {i.name: Binding("input", i.shape) for i in problem.inputs.values()}
    scope |= {s.name: Binding("step", s.expr.shape) for s in problem.steps.values()}
    # and the gradients of the backward pass, dS for ∂of/∂S
    return scope | {g: Binding("grad", problem.shape_of(n)) for n, g in grad_names(problem).items()}


@pytest.mark.parametrize("name", [p.stem for p in GALLERY])
def test_claims_are_confirmed_and_every_gradient_has_a_matrix_form(name):
    d = derivation(name)
    assert d.claims, "a gallery problem states its textbook answer in [expect]"
    rtol = d.problem.check.rtol
    assert {n: c.confirmed(rtol) for n, c in d.claims.items()} == {n: True for n in d.claims}
    assert {n: g.matrix_form for n, g in d.gradients.items()} == {n: True for n in d.gradients}


@pytest.mark.parametrize("name", [p.stem for p in GALLERY])
def test_every_gradient_expr_reads_back_as_the_same_tree(name):
    d = derivation(name)
    scope = scope_of(d.problem)
    for g in d.gradients.values():
        text = to_source(g.expr)
        assert parse(text, scope) == g.expr, text


def test_the_gallery_uses_every_operator():
    used = set()
    for path in GALLERY:
        problem = derivation(path.stem).problem
        for tree in [s.expr for s in problem.steps.values()] + [c.expr for c in problem.expect.values()]:
            used |= {n.op for n in walk(tree) if isinstance(n, Apply)}
            used |= {(n.op, n.axis) for n in walk(tree) if isinstance(n, Apply) and OPS[n.op].axis != "none"}
    # comparisons, & and | come from one registry helper each and their rules are tested
    # from the registry: the gallery need only use conditions, of each kind
    conditions = {name for name, op in OPS.items() if op.boolean}
    assert set(OPS) - conditions - used == set()
    assert {"logical_and", "logical_or", "less_equal", "greater"} <= used
    for op in ("sum", "mean"):
        assert {(op, None), (op, 0), (op, 1)} <= used
    assert {("softmax", 0), ("softmax", 1)} <= used


# The textbook answer, exactly as derivgen proves and prints it today, for
# gallery problems whose forms tests/test_engine.py does not already pin.
TEXTBOOK = [
    ("logistic_regression", "w", "X.T @ (p - y) / N"),
    ("logistic_regression", "b", "sum(p - y) / N"),
    ("linear_regression", "b", "2 * mean(P - Y, axis=1)"),
    ("two_layer_tanh", "W2", "Hd.T @ (A - Y) / N"),
    ("two_layer_tanh", "b2", "mean(A - Y, axis=0)"),
    ("two_layer_tanh", "W1", "X.T @ (((A - Y) @ W2.T) * (1 - Hd ** 2)) / N"),
    ("relu_network", "W1", "((W2.T @ (P - Y)) * step(Z)) @ X.T"),
    ("dropout", "W", "(R * Mk * (1 - T ** 2)) @ X.T"),
    ("cookbook_logdet", "X", "inv(X)"),              # X is symmetric: inv(X).T == inv(X)
    ("cookbook_trace_identity", "X", "eye_like(X)"),
    ("logsumexp", "S", "softmax(S, axis=1)"),
    ("attention", "V", "A.T @ R"),
    ("attention", "S", "A * (R @ V.T - sum(A * (R @ V.T), axis=1))"),
    ("attention", "K", "Q @ (A * (R @ V.T - sum(A * (R @ V.T), axis=1))) / sqrt(d)"),
    ("attention", "Q", "K @ (A * (R @ V.T - sum(A * (R @ V.T), axis=1))).T / sqrt(d)"),
    ("layer_norm", "gamma", "sum(R * Xh, axis=0)"),
    # rows of Xc, and so of Xh = Xc / sd, sum to 0; Xc / sd is written as the step Xh
    ("layer_norm", "X", "(R * gamma - Xh * mean(R * gamma * Xh, axis=1) - mean(R * gamma, axis=1)) / sd"),
    ("batch_norm", "X", "(R - Xh * mean(R * Xh, axis=0) - mean(R, axis=0)) / sqrt(var + eps)"),
    ("perceptron", "w", "X.T @ (sign(z) - y) / 2"),
    ("fourier_features", "beta", "Phi @ (P - y).T"),
    ("robust_trig", "c", "exp(a) * sum(sign(P - y) * cos(th))"),
    # labels of ±1: y * y is 1
    ("least_squares_classifier", "w", "2 * (X.T @ (z - y)) / N"),
    # the hinge: 1 where the margin is short of 1, almost everywhere
    ("svm_hinge", "w", "lam * w - X.T @ (y * step(1 - y * z)) / N"),
    # diag(w) is symmetric: X.T @ diag(w) @ r, not X.T @ (diag(w) + diag(w).T) @ r
    ("weighted_least_squares", "b", "2 * (X.T @ diag(w) @ r)"),
    ("weight_norm", "g", "sum((X.T @ (X @ w - y)) * v) / norm(v)"),
]


@pytest.mark.parametrize("name, wrt, expected", TEXTBOOK)
def test_textbook_forms(name, wrt, expected):
    assert to_source(derivation(name).gradients[wrt].expr) == expected
