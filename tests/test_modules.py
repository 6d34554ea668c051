"""--format py: every gallery problem's generated module runs with NumPy alone and its
check() agrees with central differences; the module's formulas are the proven ones."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT
from derivgen import api
from derivgen.errors import ProblemError
from test_gallery import GALLERY, derivation

# each module run with the modules named first unimportable: sympy and derivgen, so that
# NumPy is all it may need
RUNNER = """
import importlib.util, json, sys
blocked, *paths = sys.argv[1:]
sys.modules.update(dict.fromkeys(blocked.split(",")))
errors = {}
for path in paths:
    spec = importlib.util.spec_from_file_location("generated", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    errors[path] = module.check()
print(json.dumps(errors))
"""


def run_checks(paths, blocked: str = "sympy,derivgen") -> dict[str, float]:
    """Each module's check(), by path, run in a process where ``blocked`` (comma-separated
    module names) cannot be imported."""
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", RUNNER, blocked,
                           *map(str, paths)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_gallery_module_passes_its_own_check_with_numpy_alone(tmp_path):
    paths = []
    for path in GALLERY:
        target = tmp_path / f"{path.stem}.py"
        target.write_text(api.render_outputs(derivation(path.stem), formats=("py",))["py"])
        paths.append(target)
    errors = run_checks(paths)
    assert len(errors) == len(GALLERY)
    assert {p: e for p, e in errors.items() if not e < 1e-6} == {}


def test_the_softmax_module_holds_the_proven_formulas():
    source = api.render_outputs(derivation("softmax"), formats=("py",))["py"]
    assert source.startswith("# Softmax regression: gradient of the cross-entropy\n")
    assert ('def gradients(W, X, Y):\n'
            '    """∂L/∂ each of S, W, X, by name."""\n'
            '    N = X.shape[1]\n'
            '    _steps = forward(W=W, X=X, Y=Y)\n'
            '    S = _steps["S"]\n    A = _steps["A"]\n    L = _steps["L"]\n'
            '    dS = (A - Y) / N\n    dW = dS @ X.T\n    dX = W.T @ dS\n'
            '    return {"S": dS, "W": dW, "X": dX}\n') in source
    assert "    A = np.exp(S - np.max(S, axis=0, keepdims=True)) / np.sum(" in source


def test_a_jacobian_module_returns_its_matrix(tmp_path):
    source = api.render_outputs(derivation("jacobian_softmax"), formats=("py",))["py"]
    assert '    return {"s": np.diag(a.ravel()) - (a @ a.T)}\n' in source


def test_user_text_stays_in_comments_and_a_clashing_name_is_refused(tmp_path):
    text = (ROOT / "problems" / "softmax.toml").read_text()
    path = tmp_path / "p.toml"
    path.write_text(text.replace('title = "Softmax regression: gradient of the cross-entropy"',
                                 'title = "x\\"\\"\\" ; import os \\\\ end"'))
    source = api.render_outputs(api.derive_file(path), formats=("py",))["py"]
    assert source.startswith('# x""" ; import os \\ end\n')
    compile(source, "p.py", "exec")
    path.write_text(text.replace("W @ X", "np @ X").replace('W = {', 'np = {')
                    .replace('wrt = ["S", "W", "X"]', 'wrt = ["S", "np", "X"]'))
    with pytest.raises(ProblemError) as e:
        api.render_outputs(api.derive_file(path), formats=("py",))
    assert str(e.value).endswith("the name np would hide the generated module's own np: "
                                 "rename it to write --format py")


def test_a_wrong_matrix_fails_the_modules_own_check(tmp_path):
    """check() is not vacuous where there are no gradients: a Jacobian's matrix is
    applied to a random direction and compared with central differences."""
    source = api.render_outputs(derivation("jacobian_softmax"), formats=("py",))["py"]
    wrong = source.replace("np.diag(a.ravel()) - (a @ a.T)", "np.diag(a.ravel())")
    assert wrong != source
    for text, bad in ((source, False), (wrong, True)):
        path = tmp_path / "module.py"
        path.write_text(text)
        assert (run_checks([path])[str(path)] > 1e-3) is bad
