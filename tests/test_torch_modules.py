"""--format torch: every gallery problem's PyTorch module runs with torch alone, and its
check() agrees with torch.autograd and with central differences; derivgen itself never
needs torch, and says so in one line when asked for the format without it.

The tests that run torch skip where it is not installed, and fail where
DERIVGEN_REQUIRE_TOOLS is set (as .ci/run sets it, having installed it)."""

import ast
import json
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from conftest import ROOT
from derivgen import api
from derivgen.errors import ProblemError
from derivgen.ops import OPS
from test_gallery import GALLERY, derivation
from test_modules import run_checks
from test_reports import missing_tool

def require_torch():
    """torch, or a skip (a failure where DERIVGEN_REQUIRE_TOOLS is set)."""
    try:
        import torch
    except ImportError:
        missing_tool("PyTorch is not installed (pip install torch==2.13.0, as .ci/run does)")
    return torch


def torch_module(name: str) -> str:
    return api.render_outputs(derivation(name), formats=("torch",))["torch"]


def checks(paths) -> dict[str, float]:
    """Each module's check(), by path, run where derivgen and NumPy cannot be imported:
    torch is all it may need (sympy stays: torch.autograd imports it, a dependency of
    torch's own)."""
    return run_checks(paths, blocked="derivgen,numpy")


def test_every_gallery_module_passes_its_own_check_with_torch_alone(tmp_path):
    require_torch()
    paths = []
    for path in GALLERY:
        source = torch_module(path.stem)
        imported = {alias.name for node in ast.walk(ast.parse(source))
                    if isinstance(node, ast.Import | ast.ImportFrom)
                    for alias in getattr(node, "names", [])}
        assert imported == {"torch"}, path.stem
        target = tmp_path / f"{path.stem}_torch.py"
        target.write_text(source)
        paths.append(target)
    start = time.perf_counter()
    errors = checks(paths)
    print(f"{len(paths)} torch modules checked in {time.perf_counter() - start:.1f} s")
    assert len(errors) == len(GALLERY)
    assert {p: e for p, e in errors.items() if not e < 1e-6} == {}


def test_the_softmax_module_holds_the_proven_formulas_named_as_in_the_numpy_module():
    source = torch_module("softmax")
    assert source.startswith("# Softmax regression: gradient of the cross-entropy\n")
    assert "\nimport torch\n" in source and "numpy" not in source
    assert ("    A = torch.softmax(S, dim=0)\n"
            "    L = (-torch.sum((Y * torch.log(A)), dim=(0, 1), keepdim=True)) / N\n") in source
    gradients = source[source.index("def gradients"):source.index("POINT")]
    numpy = api.render_outputs(derivation("softmax"), formats=("py",))["py"]
    assert gradients == numpy[numpy.index("def gradients"):numpy.index("POINT")]
    assert "torch.autograd.functional.vjp(" in source


def test_a_number_reaches_a_torch_function_as_a_float64_tensor():
    """torch.sqrt(d) fails for the int d a shape gives: a plain number is made a tensor."""
    assert "    S = (Q.T @ K) / torch.sqrt(torch.tensor(d, dtype=torch.float64))\n" in \
        torch_module("attention")


def test_a_wrong_matrix_or_gradient_fails_the_modules_own_check(tmp_path):
    """check() is not vacuous: a Jacobian's matrix and a gradient are compared with
    torch.autograd and central differences."""
    require_torch()
    cases = {"jacobian_softmax": ("torch.diag(a.ravel()) - (a @ a.T)", "torch.diag(a.ravel())"),
             "softmax": ("dS = (A - Y) / N", "dS = (A - Y) / (2 * N)")}
    paths = []
    for name, (right, wrong) in cases.items():
        source = torch_module(name)
        assert right in source
        for text, label in ((source, "right"), (source.replace(right, wrong), "wrong")):
            paths.append(tmp_path / f"{name}_{label}.py")
            paths[-1].write_text(text)
    errors = checks(paths)
    assert {p.stem: errors[str(p)] > 1e-3 for p in paths} == {
        "jacobian_softmax_right": False, "jacobian_softmax_wrong": True,
        "softmax_right": False, "softmax_wrong": True}


def test_an_operator_with_no_torch_spelling_is_refused_naming_it(monkeypatch):
    monkeypatch.setitem(OPS, "softmax", replace(OPS["softmax"], torch_code=None))
    with pytest.raises(ProblemError) as e:
        torch_module("softmax")
    assert str(e.value).endswith("the operator softmax has no spelling in torch: "
                                 "--format torch cannot write it")
    api.render_outputs(derivation("softmax"), formats=("py",))     # NumPy's is there


def test_a_name_hiding_torch_is_refused(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text((ROOT / "problems" / "softmax.toml").read_text()
                    .replace("W @ X", "torch @ X").replace('W = {', 'torch = {')
                    .replace('wrt = ["S", "W", "X"]', 'wrt = ["S", "torch", "X"]'))
    d = api.derive_file(path)
    api.render_outputs(d, formats=("py",))
    with pytest.raises(ProblemError) as e:
        api.render_outputs(d, formats=("torch",))
    assert str(e.value).endswith("the name torch would hide the generated module's own "
                                 "torch: rename it to write --format torch")


def test_build_writes_softmax_torch_py_beside_softmax_py_and_check_reads_both(cli, tmp_path):
    require_torch()
    problem = ROOT / "problems" / "softmax.toml"
    result = cli("build", problem, "-o", "out", "-f", "py,torch")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith(" -> out/softmax.py, out/softmax_torch.py\n")
    manifest = json.loads((tmp_path / "out" / ".derivgen.json").read_text())
    assert sorted(manifest["softmax"]["outputs"]) == ["softmax.py", "softmax_torch.py"]
    assert cli("build", problem, "-o", "out", "-f", "py,torch").stdout.endswith(": unchanged\n")
    assert cli("check", problem, "-o", "out", "-f", "py,torch").exit_code == 0
    (tmp_path / "out" / "softmax_torch.py").write_text("# edited\n")
    assert cli("check", problem, "-o", "out", "-f", "py,torch").exit_code != 0
    cli("build", problem, "-o", "out", "-f", "torch")
    done = subprocess.run([sys.executable, "-W", "ignore", "out/softmax_torch.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("largest relative error against torch.autograd and central "
                                  "differences: ")
    assert float(done.stdout.split(": ")[1]) < 1e-6


def test_without_torch_the_format_is_a_one_line_usage_error_and_nothing_is_written(tmp_path):
    script = ('import sys; sys.modules["torch"] = None\n'
              'from derivgen.cli import main\n'
              'main(sys.argv[1:])\n')
    done = subprocess.run([sys.executable, "-c", script, "build",
                           str(ROOT / "problems" / "softmax.toml"), "-o", "out", "-f", "md,torch"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == ("error: --format torch needs PyTorch: pip install torch "
                           "(see: derivgen build --help)\n")
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []
