"""The command line: what a user sees when things go right."""

import subprocess
import sys

import derivgen
from conftest import ROOT, SOFTMAX


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout == f"derivgen, version {derivgen.__version__}\n"


def test_help_of_every_command(cli):
    assert "build" in cli("--help").stdout
    result = cli("build", "--help")
    assert result.exit_code == 0 and "-o, --output DIRECTORY" in result.stdout


def test_build_derives_softmax_and_writes_its_reports(cli, tmp_path):
    result = cli("build", ROOT / "problems" / "softmax.toml", "-o", "out")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (f"{ROOT / 'problems' / 'softmax.toml'}: 3 of 3 gradients in matrix "
                             "form, all verified, 1 [expect] claim confirmed -> out/softmax.md, "
                             "out/softmax.tex, out/softmax.json\n")
    assert result.stderr == ""
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".derivgen.json", "softmax.json", "softmax.md", "softmax.tex"]      # and the manifest


def test_a_refuted_claim_exits_1_with_a_witness_and_writes_nothing(cli, tmp_path, problem_file):
    problem_file(SOFTMAX.replace('S = "(A - Y) / N"', 'S = "A - Y"'))
    result = cli("build", "p.toml", "-o", "out")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: p.toml:24: expect.S: claim 'A - Y' is refuted: derivgen derives (A - Y) / N; at "
        "entry (3, 2) the claim gives -0.859541, finite differences -0.286514\n")
    assert not (tmp_path / "out").exists()


def test_a_folder_builds_its_toml_files_in_order(cli, problem_file):
    problem_file(SOFTMAX, "b.toml")
    problem_file(SOFTMAX, "a.toml")
    problem_file("not a problem", "notes.txt")
    result = cli("build", ".")
    assert result.exit_code == 0
    *lines, summary = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["a.toml", "b.toml"]
    assert summary == "built 2, unchanged 0, failed 0"


def test_python_dash_m_runs_the_same_command():
    result = subprocess.run([sys.executable, "-m", "derivgen", "--version"], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.strip() == f"derivgen, version {derivgen.__version__}"


def test_an_internal_error_is_one_line_and_exit_3(cli, monkeypatch, problem_file):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")
    monkeypatch.setattr("derivgen.api.load", broken)
    problem_file(SOFTMAX)
    result = cli("build", "p.toml")
    assert result.exit_code == 3
    assert result.stderr == ("error: p.toml: internal error: ZeroDivisionError: division by zero "
                             "(run with --debug for the traceback, and please report it)\n")


def test_new_writes_a_starter_that_builds_and_is_never_overwritten(cli, tmp_path):
    result = cli("new", "my_model")
    assert (result.exit_code, result.stdout) == (
        0, "my_model.toml: written; edit it, then run: derivgen build my_model.toml\n")
    built = cli("build", "my_model.toml", "-o", "out", "-f", "json")
    assert built.exit_code == 0 and "1 [expect] claim confirmed" in built.stdout
    again = cli("new", "my_model.toml")
    assert (again.exit_code, again.stderr) == (
        2, "error: my_model.toml: already exists; choose another name\n")


def test_ops_lists_every_operator_with_its_rules(cli):
    from derivgen.ops import OPS
    text = cli("ops").stdout
    assert all(f"\n{name}: " in text for name in OPS)
    assert ("  A @ B                        A r×k, B k×c -> r×c\n    ∂/∂A: G @ B.T\n"
            "    dA -> dA @ B\n    ∂/∂B: A.T @ G\n    dB -> A @ dB\n") in text
    assert "  inv(A)                       A n×n -> n×n\n    ∂/∂A: -(ans.T @ G @ ans.T)\n" \
           "    dA -> -(ans @ dA @ ans)\n" in text


def test_the_command_line_does_not_import_sympy_for_help():
    result = subprocess.run([sys.executable, "-c", "import sys, derivgen.cli; "
                             "print('sympy' in sys.modules, 'numpy' in sys.modules)"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.stdout == "False False\n"


def test_handout_writes_the_sheet_and_its_solutions(cli, tmp_path):
    problems = [ROOT / "problems" / f"{n}.toml" for n in ("logsumexp", "cookbook_trace")]
    result = cli("handout", *problems, "-o", "out/week1", "--title", "Week 1", "--exercises")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("written: out/week1.md, out/week1.tex, out/week1-solutions.md, "
                             "out/week1-solutions.tex\n")
    assert cli("handout", *problems, "-o", "x", "--title", "t", "-f", "json").exit_code == 2
