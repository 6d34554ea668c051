"""The derivation engine on small problems: the forms it proves, and how it
refuses when it cannot prove one."""

import dataclasses
import json

import pytest

from derivgen import api
from derivgen.derivation import derive
from derivgen.errors import VerificationError
from derivgen.expr import to_source
from derivgen.op import diagonal
from derivgen.ops import OPS
from derivgen.problem import load

HEADER = '''
title = "t"
[dims]
n = 3
m = 2
'''


def forms(problem_file, body: str) -> dict[str, str]:
    """Derive the problem HEADER + body; every gradient's proven matrix form."""
    d = derive(load(problem_file(HEADER + body)))
    return {name: to_source(g.expr) for name, g in d.gradients.items()}


@pytest.mark.parametrize("body, expected", [
    # softmax backward without any assumption on the upstream: A ⊙ (G − 1ᵀ(A ⊙ G))
    ('''[inputs]
S = { shape = ["n", "m"] }
Q = { shape = ["n", "m"], constant = true }
[steps]
A = "softmax(S, axis=0)"
L = "sum(Q * A)"
[derive]
of = "L"
wrt = ["S"]
''', {"S": "A * (Q - sum(A * Q, axis=0))"}),
    # σ, tanh and relu layers, each with its textbook local derivative
    ('''[inputs]
Z = { shape = ["n", "m"] }
Q = { shape = ["n", "m"], constant = true }
[steps]
H = "sigmoid(Z)"
L = "sum(Q * H)"
[derive]
of = "L"
wrt = ["Z"]
''', {"Z": "Q * H * (1 - H)"}),
    ('''[inputs]
Z = { shape = ["n", "m"] }
Q = { shape = ["n", "m"], constant = true }
[steps]
H = "tanh(Z)"
L = "sum(Q * H)"
[derive]
of = "L"
wrt = ["Z"]
''', {"Z": "Q * (1 - H ** 2)"}),
    ('''[inputs]
Z = { shape = ["n", "m"] }
Q = { shape = ["n", "m"], constant = true }
[steps]
L = "sum(Q * relu(Z))"
[derive]
of = "L"
wrt = ["Z"]
''', {"Z": "Q * step(Z)"}),
    # a bias broadcast across the columns collects the row sums of its gradient
    ('''[inputs]
W = { shape = ["n", "m"] }
X = { shape = ["m", "m"], constant = true }
b = { shape = ["n"] }
Q = { shape = ["n", "m"], constant = true }
[steps]
Z = "W @ X + b"
L = "sum(Q * Z)"
[derive]
of = "L"
wrt = ["b", "W"]
''', {"b": "sum(Q, axis=1)", "W": "Q @ X.T"}),
    # a column and a row broadcast to their grid: each collects its gradient's sums
    ('''[inputs]
b = { shape = ["n", 1] }
r = { shape = [1, "m"] }
Q = { shape = ["n", "m"], constant = true }
[steps]
L = "sum(Q * (r + b))"
[derive]
of = "L"
wrt = ["b", "r"]
''', {"b": "sum(Q, axis=1)", "r": "sum(Q, axis=0)"}),
    # the logistic loss of labels ±1 as a softplus: its derivative is the sigmoid
    ('''[inputs]
z = { shape = ["n", 1] }
y = { shape = ["n", 1], constant = true, assume = ["signs"] }
[steps]
L = "sum(softplus(-y * z)) + sum(log1p(z * z))"
[derive]
of = "L"
wrt = ["z"]
''', {"z": "2 * z / (z ** 2 + 1) - y * sigmoid(-y * z)"}),
    # log-sum-exp differentiates to softmax
    ('''[inputs]
S = { shape = ["n", "m"] }
[steps]
L = "sum(logsumexp(S, axis=0))"
[derive]
of = "L"
wrt = ["S"]
''', {"S": "softmax(S, axis=0)"}),
    # a variable used twice accumulates both contributions
    ('''[inputs]
W = { shape = ["n", "m"] }
[steps]
L = "sum(W * W)"
[derive]
of = "L"
wrt = ["W"]
''', {"W": "2 * W"}),
    # Matrix Cookbook identities
    ('''[inputs]
A = { shape = ["n", "n"], constant = true }
X = { shape = ["n", "n"] }
[steps]
L = "trace(A @ X)"
[derive]
of = "L"
wrt = ["X"]
''', {"X": "A.T"}),
    ('''[inputs]
A = { shape = ["n", "n"], constant = true }
x = { shape = ["n"] }
[steps]
L = "x.T @ A @ x"
[derive]
of = "L"
wrt = ["x"]
''', {"x": "(A + A.T) @ x"}),
    ('''[inputs]
A = { shape = ["n", "n"], constant = true, assume = ["symmetric"] }
x = { shape = ["n"] }
[steps]
L = "x.T @ A @ x"
[derive]
of = "L"
wrt = ["x"]
''', {"x": "2 * (A @ x)"}),
    ('''[inputs]
X = { shape = ["n", "n"] }
[steps]
L = "logdet(X)"
[derive]
of = "L"
wrt = ["X"]
''', {"X": "inv(X).T"}),
    ('''[inputs]
X = { shape = ["n", "n"] }
[steps]
L = "det(X)"
[derive]
of = "L"
wrt = ["X"]
''', {"X": "L * inv(X).T"}),    # L = det(X): written through the output
    ('''[inputs]
A = { shape = ["n", "n"], constant = true }
X = { shape = ["n", "n"] }
[steps]
L = "trace(inv(X) @ A)"
[derive]
of = "L"
wrt = ["X"]
''', {"X": "-(inv(X) @ A @ inv(X)).T"}),
    ('''[inputs]
X = { shape = ["n", "m"], constant = true }
W = { shape = ["m", "m"] }
Y = { shape = ["n", "m"], constant = true }
[steps]
L = "sum((X @ W - Y) ** 2)"
[derive]
of = "L"
wrt = ["W"]
''', {"W": "2 * (X.T @ (X @ W - Y))"}),
], ids=["softmax-general", "sigmoid", "tanh", "relu", "bias", "grid", "softplus", "logsumexp",
        "used-twice", "tr(AX)", "xAx", "xAx-symmetric", "logdet", "det", "tr(inv(X)A)",
        "least-squares"])
def test_textbook_forms(problem_file, body, expected):
    assert forms(problem_file, body) == expected


SOFTMAX_NO_ASSUMPTION = '''[inputs]
S = { shape = ["n", "m"] }
Y = { shape = ["n", "m"], constant = true }
[steps]
A = "softmax(S, axis=0)"
L = "-sum(Y * log(A))"
[derive]
of = "L"
wrt = ["S"]
'''


def test_an_assumption_is_used_only_when_declared(problem_file):
    assert forms(problem_file, SOFTMAX_NO_ASSUMPTION) == {"S": "A * sum(Y, axis=0) - Y"}
    declared = SOFTMAX_NO_ASSUMPTION.replace("constant = true }",
                                             'constant = true, assume = ["probability_columns"] }')
    d = derive(load(problem_file(HEADER + declared)))
    assert to_source(d.gradients["S"].expr) == "A - Y"
    assert [r.words(to_source) for r in d.gradients["S"].reasons] == ["each column of Y sums to 1"]


def sum_of(function: str) -> str:
    """A problem L = sum(function(x)) for a column vector x."""
    return HEADER + f'''[inputs]
x = {{ shape = ["m"] }}
[steps]
L = "sum({function}(x))"
[derive]
of = "L"
wrt = ["x"]
'''


def test_a_wrong_rule_fails_the_build_naming_its_step(problem_file, monkeypatch):
    # a wrong rule for exp: its local proof fails, with the entry where it differs
    wrong = dataclasses.replace(OPS["exp"], vjp=(lambda g, ans, x, axis: g * x,))
    monkeypatch.setitem(OPS, "exp", wrong)
    with pytest.raises(VerificationError) as e:
        derive(load(problem_file(sum_of("exp"))))
    assert e.value.key == "steps.L"
    assert str(e.value).endswith(
        "sum(exp(x)): the rule for argument 1 of exp gives G_{1,1}*x0_{1,1} at entry (1, 1); "
        "sympy's derivative gives G_{1,1}*exp(x0_{1,1})")


TRACE = HEADER + '''[inputs]
A = { shape = ["n", "n"], constant = true }
X = { shape = ["n", "n"] }
[steps]
L = "3 * trace(A @ X)"
[derive]
of = "L"
wrt = ["X"]
'''


def test_a_wrong_simplification_fails_the_build_naming_its_step(problem_file, monkeypatch):
    # the planted bug: a product with the identity loses its scale factor, so
    # A.T @ (3 * I) would be stated as A.T
    from derivgen.nodes import Apply
    from derivgen.simplify import Simplifier

    def planted(self, a, b, transpose_both):
        _, b_rest = self.split_scalar(b)
        if not transpose_both and isinstance(b_rest, Apply) and b_rest.op == "eye_like":
            return self.to_sympy(a)
        return right(self, a, b, transpose_both)

    right = Simplifier.matmul
    assert to_source(derive(load(problem_file(TRACE))).gradients["X"].expr) == "3 * A.T"
    monkeypatch.setattr(Simplifier, "matmul", planted)
    with pytest.raises(VerificationError) as e:
        derive(load(problem_file(TRACE)))
    assert e.value.key == "steps.L"
    assert "simplified A.T @ (3 * eye_like(A @ X)) to A.T, which a random point refutes" in str(e.value)


def test_a_wrong_index_form_fails_the_build(problem_file, monkeypatch):
    wrong = dataclasses.replace(OPS["tanh"], index=(diagonal(lambda o, x: 1 - o),))
    monkeypatch.setitem(OPS, "tanh", wrong)
    with pytest.raises(VerificationError) as e:
        derive(load(problem_file(sum_of("tanh"))))
    assert e.value.key == "steps.L"
    assert "the index form of the rule for argument 1 of tanh gives" in str(e.value)


def test_json_has_the_spec_fields_and_is_the_same_every_time(tmp_path):
    from conftest import ROOT
    first = api.build([ROOT / "problems" / "softmax.toml"], out_dir=tmp_path / "a", formats=["json"])
    api.build([ROOT / "problems" / "softmax.toml"], out_dir=tmp_path / "b", formats=["json"])
    a, b = (tmp_path / d / "softmax.json" for d in "ab")
    assert a.read_bytes() == b.read_bytes()
    assert first[0].written == (a,)
    data = json.loads(a.read_text())
    assert (data["problem"], data["of"], data["expect"]) == ("softmax", "L", {"S": "confirmed"})
    s = data["gradients"]["S"]
    assert (s["expr"], s["latex"], s["matrix_form"], s["shape"]) == (
        "(A - Y) / N", r"\frac{A - Y}{N}", True, "C×N")
    assert s["checks"]["symbolic"] == "passed" and s["checks"]["numeric"] == "passed"
    assert s["checks"]["max_rel_error_below"] == 1e-8
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [".derivgen.json", "softmax.json"]
