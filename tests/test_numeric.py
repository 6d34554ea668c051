"""What the reports print of the numeric checks: the same on every machine."""

import pytest

from derivgen.numeric import ROUND_OFF, Comparison, fixed


@pytest.mark.parametrize("x, scale, text", [
    (0.124585, 0.27, "0.1246"), (-0.0222996, 0.27, "-0.0223"), (27.0, 27.0, "27.00"),
    (3.1e-12, 0.27, "0.0000"), (-3.1e-12, 0.27, "0.0000"), (-0.00004, 0.27, "0.0000"),
    (1234.56, 2700.0, "1235"), (0.000123456, 0.0002, "0.0001235"),
])
def test_sample_values_are_fixed_to_four_digits_of_the_largest(x, scale, text):
    assert fixed(x, scale) == text


@pytest.mark.parametrize("error, rtol, bound", [
    (1.6e-10, 1e-6, ROUND_OFF), (9.9e-11, 1e-6, ROUND_OFF), (0.0, 1e-6, ROUND_OFF),
    (3e-8, 1e-6, 1e-6), (2e-9, 1e-9, 1e-9), (1e-3, 1e-2, 1e-2),
])
def test_the_error_is_reported_as_a_bound(error, rtol, bound):
    assert Comparison("X", max_rel_error=error).bound(rtol) == bound


@pytest.mark.parametrize("rows, latex", [
    (((1.0, 0.0), (0.0, 1.0)), r"\begin{bmatrix} 1 & 0 \\ 0 & 1 \end{bmatrix}"),   # labels
    (((0.5,),), "0.5000"),
    (((1.5, -0.25),), r"\begin{bmatrix} 1.500 & -0.250 \end{bmatrix}"),
])
def test_a_sampled_matrix_in_latex(rows, latex):
    from derivgen.report import _numbers
    assert _numbers(rows) == latex


def test_the_printed_point_is_where_the_samples_were_taken():
    """The report's first point gives, through each gradient's formula, the formula
    column of its sample table."""
    import numpy as np

    from conftest import ROOT
    from derivgen.derivation import derive
    from derivgen.numeric import evaluate, forward
    from derivgen.problem import load

    d = derive(load(ROOT / "problems" / "logistic_regression.toml"))
    sizes = d.problem.check.sizes
    values = forward(d.problem, {n: np.array(rows) for n, rows in d.point.items()}, sizes)
    for g in d.gradients.values():
        at_point = evaluate(g.expr, values, sizes)
        for (k, l), formula, _ in g.numeric.samples:
            assert at_point[k, l] == pytest.approx(formula, rel=1e-12)
