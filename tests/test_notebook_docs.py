"""The example notebook, docs/notebook.ipynb (issue 15, item 3).

It is committed without outputs, so that its diffs are only its cells; and it is run
headless as CI runs it (``jupyter nbconvert --execute``, the ``python3`` kernel that
ipykernel installs), its outputs checked against what derivgen gives in this process.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import derivgen
from conftest import ROOT

NOTEBOOK = ROOT / "docs" / "notebook.ipynb"
SOFTMAX_W = r"\frac{\left(A - Y\right) X^{\top}}{N}"      # ∂L/∂W = (A - Y) @ X.T / N


def test_the_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert len(code) >= 8
    for cell in code:
        assert cell.outputs == [], f"cell {cell.id} has outputs: clear them before committing"
        assert cell.execution_count is None, f"cell {cell.id} has an execution count"
        assert "execution" not in cell.metadata, f"cell {cell.id} has execution timings"
    assert nb.metadata.kernelspec.name == "python3"


def test_the_math_of_the_explanations_renders_with_katex():
    node = shutil.which("node")
    katex = Path(os.environ.get("KATEX_PATH") or ROOT / ".ci" / "node" / "node_modules" / "katex")
    if not node or not (katex / "package.json").is_file():
        pytest.skip("needs node and KaTeX (.ci/run installs KaTeX; or set KATEX_PATH)")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    fragments = [{"source": cell.id, "tex": tex, "display": False}
                 for cell in nb.cells if cell.cell_type == "markdown"
                 for tex in re.findall(r"\$([^$]+)\$", cell.source)]
    assert len(fragments) >= 10
    done = subprocess.run([node, str(ROOT / "tests" / "katex_check.mjs")],
                          input=json.dumps(fragments), capture_output=True, text=True,
                          timeout=120, env=os.environ | {"KATEX_PATH": str(katex)})
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict:
    """The executed notebook's code cells by id. Jupyter's and IPython's user folders
    are fresh ones, so a kernel the user installed elsewhere cannot stand in for this
    environment's; the kernel is the python3 one of sys.prefix (ipykernel's)."""
    tmp = tmp_path_factory.mktemp("notebook")
    out = tmp / "executed.ipynb"
    env = os.environ | {"JUPYTER_DATA_DIR": str(tmp / "data"),
                        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
                        "IPYTHONDIR": str(tmp / "ipython")}
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=300", "--output", str(out), str(NOTEBOOK)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - start
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"docs/notebook.ipynb executed in {elapsed:.1f} s")
    nb = nbformat.read(out, as_version=4)
    return {cell.id: cell for cell in nb.cells if cell.cell_type == "code"}


@pytest.fixture(scope="module")
def softmax():
    return derivgen.derive_file(ROOT / "problems" / "softmax.toml")


def result(cell) -> dict:
    """The data of a cell's one displayed result (its execute_result)."""
    results = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert len(results) == 1, cell.outputs
    return results[0].data


def stdout(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream"
                   and o.name == "stdout")


def test_every_cell_ran_without_an_error_or_a_warning(executed):
    assert len(executed) >= 8
    for cell in executed.values():
        assert cell.execution_count is not None, cell.id
        for output in cell.outputs:
            assert output.output_type != "error", (cell.id, output.get("traceback"))
            assert output.get("name") != "stderr", (cell.id, output.text)


def test_the_api_is_listed(executed):
    listed = ast.literal_eval(result(executed["api"])["text/plain"])
    assert {"derive", "derive_file", "DerivationView"} <= set(listed)
    assert {n for n in derivgen.__all__ if not n.startswith("_")} <= set(listed)


def test_the_softmax_derivation_shows_its_results_typeset(executed, softmax):
    data = result(executed["softmax-derive"])
    assert data["text/markdown"] == softmax._repr_markdown_()
    assert data["text/latex"] == softmax._repr_latex_()
    assert softmax.latex_results() in data["text/markdown"]
    assert rf"\frac{{\partial L}}{{\partial W}} &= {SOFTMAX_W}" in data["text/markdown"]
    assert r"\frac{\partial L}{\partial S} &= \frac{A - Y}{N}" in data["text/latex"]
    assert "∂L/∂W = (A - Y) @ X.T / N" in data["text/plain"]


def test_a_gradient_shows_its_forms(executed, softmax):
    g = softmax.gradients["W"]
    assert stdout(executed["gradient-forms"]).splitlines() == [
        "(A - Y) @ X.T / N", SOFTMAX_W, "((A - Y) @ X.T) / N"]
    assert [g, g.latex, g.numpy] == stdout(executed["gradient-forms"]).splitlines()
    entry = result(executed["gradient-sympy"])
    assert entry["text/plain"] == str(g.sympy[0, 0])
    assert entry["text/plain"].startswith("X_{1,1}*(A_{1,1} - Y_{1,1})/3")


def test_the_gradient_function_agrees_with_central_differences(executed):
    found = re.fullmatch(r"largest difference: (\S+)\n", stdout(executed["numeric-check"]))
    assert found, stdout(executed["numeric-check"])
    error = float(found[1])
    # central differences never agree to the last bit: 0 would mean nothing was compared
    assert 0 < error < 1e-7


def test_a_problem_from_toml_text_and_its_report(executed):
    data = result(executed["logistic"])
    assert "∂L/∂w = X.T @ (p - y) / N" in data["text/plain"]
    assert (r"\frac{\partial L}{\partial w} &= \frac{X^{\top} \left(p - y\right)}{N}"
            in data["text/markdown"])
    # the report cell shows the whole derivation of the TOML text the notebook wrote
    text = re.search(r"derivgen\.derive\('''(.*?)'''", executed["logistic"].source, re.S)[1]
    report = result(executed["report"])["text/markdown"]
    assert report == derivgen.derive(text, name="logistic").report()
    assert report.startswith("# Logistic regression\n")
    assert (r"\boxed{\frac{\partial L}{\partial w} = \frac{X^{\top} \left(p - y\right)}{N}}"
            in report)
    assert "| $w$ | 2 | 6 | $< 10^{-8}$ | passed |" in report


def test_a_problem_from_a_dict_and_a_refuted_claim(executed):
    data = result(executed["ridge"])
    assert "∂L/∂w = lam * w + X.T @ r" in data["text/plain"]
    assert r"\frac{\partial L}{\partial w} &= \lambda w + X^{\top} r" in data["text/markdown"]
    assert stdout(executed["ridge-refuted"]).startswith(
        "ridge.toml: expect.w: claim 'X.T @ r + w' is refuted: derivgen derives "
        "lam * w + X.T @ r;")
