"""derivgen.notebook: a derivation for Jupyter."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT
from derivgen.errors import ProblemError
from derivgen.notebook import DerivationView, derive_file


@pytest.fixture(scope="module")
def view() -> DerivationView:
    old = os.getcwd()
    os.chdir(ROOT)                  # the brief's relative path, as a notebook beside problems/ has it
    try:
        return derive_file("problems/softmax.toml")
    finally:
        os.chdir(old)


def test_gradients_in_the_expression_language(view):
    assert view.gradients == {"S": "(A - Y) / N", "W": "(A - Y) @ X.T / N",
                              "X": "W.T @ (A - Y) / N"}
    assert view.problem.name == "softmax"


def test_renderings(view):
    assert view.to_markdown().startswith("# Softmax regression")
    assert r"\documentclass" in view.to_latex()
    data = json.loads(view.to_json())
    assert view.to_dict() == data
    assert set(data["gradients"]) == {"S", "W", "X"}
    assert data["gradients"]["W"]["expr"] == "(A - Y) @ X.T / N"


def test_the_renderings_are_those_of_derivgen_build(view):
    assert view.to_json() == (ROOT / "output" / "softmax.json").read_text(encoding="utf-8")
    assert view.to_markdown() == (ROOT / "output" / "softmax.md").read_text(encoding="utf-8")


def test_jupyter_hooks(view):
    # the results typeset, as the README promises; the whole derivation is report()
    assert view._repr_markdown_() == (
        "**Softmax regression: gradient of the cross\\-entropy**\n\n$$\n"
        + view.latex_results() + "\n$$\n")
    assert view.report() == view.to_markdown()
    tex = view._repr_latex_()
    assert tex.startswith("$$") and tex.endswith("$$")
    assert r"\documentclass" not in tex
    assert r"\begin{aligned}" in tex
    assert r"\frac{\partial L}{\partial S}" in tex
    assert tex.count("&=") == 3


def test_repr_latex_renders_with_katex(view):
    node = shutil.which("node")
    katex = Path(os.environ.get("KATEX_PATH") or ROOT / ".ci" / "node" / "node_modules" / "katex")
    if not node or not (katex / "package.json").is_file():
        pytest.skip("needs node and KaTeX (.ci/run installs KaTeX; or set KATEX_PATH)")
    fragment = {"source": "repr:1", "tex": view._repr_latex_().strip("$").strip(), "display": True}
    done = subprocess.run([node, str(ROOT / "tests" / "katex_check.mjs")],
                          input=json.dumps([fragment]), capture_output=True, text=True,
                          timeout=120, env=os.environ | {"KATEX_PATH": str(katex)})
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_jacobian_problem_displays_its_differential_and_matrix():
    view = derive_file(ROOT / "problems" / "jacobian_softmax.toml")
    assert view.differentials == {"s": "a * (ds - sum(a * ds, axis=0))"}
    assert view._repr_latex_() == (
        "$$\n\\begin{aligned}\n"
        "\\mathrm{d}a &= a \\odot \\left(\\mathrm{d}s - \\mathbf{1}^{\\top} \\left(a \\odot "
        "\\mathrm{d}s\\right)\\right) \\\\\n"
        "\\frac{\\partial a}{\\partial s} &= \\operatorname{diag}\\left(a\\right) - a a^{\\top}\n"
        "\\end{aligned}\n$$")
    assert repr(view) == ("<DerivationView jacobian_softmax: "
                          "da = a * (ds - sum(a * ds, axis=0))>")


def test_a_problem_given_as_text_or_as_a_dict():
    import tomllib

    import derivgen
    text = (ROOT / "problems" / "softmax.toml").read_text()
    assert derivgen.derive(text, name="softmax").gradients == {
        "S": "(A - Y) / N", "W": "(A - Y) @ X.T / N", "X": "W.T @ (A - Y) / N"}
    assert derivgen.derive(tomllib.loads(text)).gradients["S"] == "(A - Y) / N"
    with pytest.raises(ProblemError) as e:
        derivgen.derive({"title": "x"})
    assert str(e.value) == "problem.toml: dims: missing required key"
    with pytest.raises(ProblemError) as e:
        derivgen.derive('title = "x"\n[dims\n', name="mine")
    assert str(e.value) == ("mine.toml:2:6: invalid TOML: Expected ']' at the end of a table "
                            "declaration")
    with pytest.raises(TypeError):
        derivgen.derive(ROOT / "problems" / "softmax.toml")


def test_the_package_lists_its_api():
    import derivgen
    assert derivgen.__all__ == ["DerivationView", "__version__", "derive", "derive_file"]
    assert {"DerivationView", "derive", "derive_file"} <= set(dir(derivgen))
    assert callable(derivgen.derive) and derivgen.DerivationView.__name__ == "DerivationView"


def test_a_gradient_carries_its_other_forms(view):
    import numpy as np
    g = view.gradients["W"]
    assert g == "(A - Y) @ X.T / N"
    assert g.latex == r"\frac{\left(A - Y\right) X^{\top}}{N}"
    assert g.numpy == "((A - Y) @ X.T) / N"
    assert str(view.gradients["S"].sympy[0, 0]) == "A_{1,1}/3 - Y_{1,1}/3"
    # the callable at other sizes than the [dims] ones, against central differences
    rng = np.random.default_rng(0)
    W, X = rng.normal(size=(3, 2)), rng.normal(size=(2, 5))
    Y = np.eye(3)[:, rng.integers(0, 3, 5)]

    def loss(w):
        e = np.exp(w @ X)
        return -np.sum(Y * np.log(e / e.sum(axis=0))) / 5
    numeric = np.zeros_like(W)
    for k, l in np.ndindex(*W.shape):
        step = np.zeros_like(W)
        step[k, l] = 1e-6
        numeric[k, l] = (loss(W + step) - loss(W - step)) / 2e-6
    assert np.allclose(g.function(W=W, X=X, Y=Y), numeric, atol=1e-8)
