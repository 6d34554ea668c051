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
