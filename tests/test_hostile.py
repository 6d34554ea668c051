"""Valid-looking problems that used to crash or to pass when they should not: each
class with several variants, through the command line (exit status, one line,
nothing written on a refusal)."""

import json

import pytest

SQUARE = '''title = "t"
[dims]
n = 2
[inputs]
X = {{ shape = ["n", "n"] }}
[steps]
{steps}
[derive]
of = "L"
wrt = {wrt}
'''


def problem(tmp_path, steps: str, wrt: str = '["X"]'):
    (tmp_path / "p.toml").write_text(SQUARE.format(steps=steps, wrt=wrt), encoding="utf-8")


def refused(result, code: int, *parts: str):
    assert result.exit_code == code, result.output
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""
    for part in parts:
        assert part in result.stderr


@pytest.mark.parametrize("steps, wrt, zero", [
    ('L = "sum(step(X))"', '["X"]', ["X"]),
    ('L = "sum(sign(X) + ones_like(X))"', '["X"]', ["X"]),
    ('L = "trace(eye_like(X))"', '["X"]', ["X"]),
    ('S = "step(X)"\nL = "sum(S * S)"', '["S", "X"]', ["X"]),
    ('S = "sign(X)"\nT = "ones_like(S)"\nL = "sum(T)"', '["S", "T", "X"]', ["S", "X"]),
])
def test_a_gradient_that_is_zero_is_a_result(cli, tmp_path, steps, wrt, zero):
    problem(tmp_path, steps, wrt)
    result = cli("build", "p.toml", "-o", "out", "-f", "md,json")
    assert result.exit_code == 0, result.output
    gradients = json.loads((tmp_path / "out" / "p.json").read_text())["gradients"]
    for name in zero:
        assert gradients[name]["expr"] == "0" and gradients[name]["checks"]["numeric"] == "passed"
    md = (tmp_path / "out" / "p.md").read_text()
    assert f"No gradient reaches ${zero[-1]}$" in md


@pytest.mark.parametrize("steps", [
    'L = "sum(inv(ones_like(X)))"',
    'L = "sum(inv(X - X))"',
    'L = "det(inv(eye_like(X) - eye_like(X)))"',
])
def test_a_matrix_singular_whatever_the_inputs_is_a_clear_error(cli, tmp_path, steps):
    problem(tmp_path, steps)
    refused(cli("build", "p.toml", "-o", "out"), 2, "error: p.toml:7: steps.L: ",
            "inverts a matrix that is singular whatever the inputs")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("steps", [
    'L = "det(ones_like(X) + X - X)"',
    'L = "logdet(ones_like(X) * 2 + X - X)"',
])
def test_a_derivative_through_a_singular_matrix_is_a_clear_error(cli, tmp_path, steps):
    problem(tmp_path, steps)
    refused(cli("build", "p.toml", "-o", "out"), 2,
            "a derivative inverts a matrix that is singular whatever the inputs")


@pytest.mark.parametrize("steps", [
    'L = "sum(0 ** X)"',                       # 0^x log 0: NaN where the derivative is 0
    'L = "sum(X * log(X * 0))"',                # log 0: -inf at every point
    'L = "sum(log(exp(X) - exp(X) + 1) / (X - X))"',
])
def test_nan_or_inf_is_never_a_pass(cli, tmp_path, steps):
    problem(tmp_path, steps)
    result = cli("build", "p.toml", "-o", "out", "-f", "json")
    assert result.exit_code in (1, 2), result.output
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.json"))


def test_a_singular_matrix_at_every_sample_point_says_so(cli, tmp_path):
    problem(tmp_path, 'A = "X @ ones_like(X)"\nL = "sum(inv(A + X - X))"')
    result = cli("build", "p.toml", "-o", "out")
    assert result.exit_code in (1, 2) and len(result.stderr.splitlines()) == 1, result.output


# --- files that are not what they seem, outputs that cannot be written ------------------

def test_a_folder_of_every_kind_of_trouble_ends_with_one_line_each(tmp_path):
    """The issue's acceptance: a batch over a folder holding all of these finishes in
    bounded time, with one clear line per bad file and every good problem built."""
    import os
    import subprocess
    import sys
    import time
    from conftest import ROOT
    from test_budget import SLOW
    folder = tmp_path / "problems"
    folder.mkdir()
    good = ["logsumexp", "least_squares"]
    for name in good:
        (folder / f"{name}.toml").write_text((ROOT / "problems" / f"{name}.toml").read_text())
    (folder / "zero.toml").write_text(SQUARE.format(steps='L = "sum(step(X))"', wrt='["X"]'))
    bad = {
        "fifo": None, "folder": None,
        "huge": "# " + "x" * 1_100_000,
        "latex": SQUARE.format(steps='L = "sum(X)"', wrt='["X"]').replace(
            'X = {', 'X = { latex = "\\\\pdffiledump{/etc/passwd}",'),
        "nan": SQUARE.format(steps='L = "sum(0 ** X)"', wrt='["X"]'),
        "singular": SQUARE.format(steps='L = "sum(inv(ones_like(X)))"', wrt='["X"]'),
        "slow": SLOW,
        "tower": SQUARE.format(steps='L = "sum(X ** 10 ** 10)"', wrt='["X"]'),
        "unused": SQUARE.format(steps='U = "inv(X)"\nL = "sum(X)"', wrt='["X"]'),
        ".hidden": SQUARE.format(steps='L = "sum(X)"', wrt='["X"]'),
    }
    for name, text in bad.items():
        if name == "fifo":
            os.mkfifo(folder / "fifo.toml")
        elif name == "folder":
            (folder / "folder.toml").mkdir()
        else:
            (folder / f"{name}.toml").write_text(text)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "derivgen", "build", "problems", "-o", "out",
                           "-f", "md,json", "--time-limit", "20"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert time.monotonic() - started < 120
    assert done.returncode in (1, 2)
    lines = done.stderr.splitlines()
    assert len(lines) == len(bad), done.stderr
    for name in bad:
        assert sum(f"problems/{name}.toml" in line for line in lines) == 1, (name, done.stderr)
    assert all(line.startswith("error: problems/") for line in lines)
    built = sorted(p.stem for p in (tmp_path / "out").glob("*.json") if not p.name.startswith("."))
    assert built == sorted(good + ["zero"])
    assert done.stdout.splitlines()[-1] == f"built 3, unchanged 0, failed {len(bad)}"


def test_a_template_folder_holding_a_folder_named_like_a_template(cli, tmp_path):
    problem(tmp_path, 'L = "sum(X)"')
    (tmp_path / "mine" / "report.md.j2").mkdir(parents=True)
    result = cli("build", "p.toml", "-o", "out", "-f", "md", "--templates", "mine")
    assert result.exit_code in (0, 2), result.output
    assert len(result.stderr.splitlines()) <= 1 and "internal error" not in result.stderr


@pytest.mark.parametrize("manifest", ["[1, 2]", "null", '"x"', '{"p": 3}', "{not json"])
def test_a_manifest_that_is_not_derivgens_is_ignored(cli, tmp_path, manifest):
    problem(tmp_path, 'L = "sum(X)"')
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".derivgen.json").write_text(manifest)
    result = cli("build", "p.toml", "-o", "out", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out" / ".derivgen.json").read_text())["p"]["inputs"]


@pytest.mark.parametrize("blocker", ["out-is-a-file", "output-is-a-folder"])
def test_an_output_that_cannot_be_written_is_one_clear_line(cli, tmp_path, blocker):
    problem(tmp_path, 'L = "sum(X)"')
    if blocker == "out-is-a-file":
        (tmp_path / "out").write_text("a file")
        expected = ("error: Invalid value for '-o' / '--output': Directory 'out' is a file. "
                    "(see: derivgen build --help)\n")
    else:
        (tmp_path / "out" / "p.json").mkdir(parents=True)
        expected = "error: p.toml: cannot write out/p.json: Is a directory\n"
    result = cli("build", "p.toml", "-o", "out", "-f", "json")
    assert result.exit_code == 2, result.output
    assert result.stderr == expected


@pytest.mark.parametrize("steps", [
    'L = "sum(log(X / 1000))"',            # small values: the step must scale with them
    'L = "sum(log(X * 1000))"',
    'L = "sum(exp(X / 1000) * 1000)"',
])
def test_correct_formulas_on_badly_scaled_values_pass(cli, tmp_path, steps):
    problem(tmp_path, steps)
    result = cli("build", "p.toml", "-o", "out", "-f", "json")
    assert result.exit_code == 0, result.output


# --- what the fuzz suite found (tests/test_fuzz.py), kept as fixed examples ------------

FOUND = {
    "all-entries-fixed-by-an-assumption": ('''title = "t"
[dims]
m = 1
[inputs]
P = { shape = ["m"], assume = ["probability_columns"] }
[steps]
L = "sum(softmax(P, axis=0))"
[derive]
of = "L"
wrt = ["P"]
[expect]
P = "P"
''', 1),
    "derivative-of-sign-of-sqrt": (SQUARE.format(steps='L = "sum(sign(sqrt(X)))"', wrt='["X"]'), 0),
    "power-with-a-step-exponent": (SQUARE.format(steps='L = "sum(X ** step(X))"', wrt='["X"]'), 0),
    "transposed-ones": ('''title = "t"
[dims]
m = 3
n = 2
[inputs]
P = { shape = [] }
Q = { shape = ["m", "n"], constant = true }
[steps]
S2 = "ones_like(Q).T"
L = "sum(S2.T ** sin(Q / ones_like(P)))"
[derive]
of = "L"
wrt = ["P"]
''', 0),
    "nan-without-warnings": (SQUARE.format(steps='S = "X - X"\nL = "sum(S ** X)"', wrt='["X"]'), 1),
}


@pytest.mark.parametrize("text, code", list(FOUND.values()), ids=list(FOUND))
def test_what_the_fuzzer_found_ends_cleanly(cli, tmp_path, text, code):
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    result = cli("build", "p.toml", "-o", "out", "-f", "md,json")
    assert result.exit_code == code, result.output
    assert len(result.stderr.splitlines()) == (code != 0)
