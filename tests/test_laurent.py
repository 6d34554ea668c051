"""The fast zero test: a True is a proof, a False only says it found none."""

import sympy as sp

from derivgen.laurent import vanishes

a, b, x, y = sp.symbols("a b x y", real=True)


def test_products_and_sums_that_cancel():
    assert vanishes(sp.Integer(0))
    assert vanishes(sp.expand((x + y) ** 2) - (x + y) ** 2)
    assert vanishes((a - y) * x / 16 - (a / 16 - y / 16) * x)


def test_negative_powers_cancel_against_positive_ones():
    assert vanishes(x * (y / x + 1) - y - x)
    assert vanishes(a * (-y / (3 * a)) + y / 3)


def test_exponentials_with_integer_multiples_meet():
    # e^{2x} against e^x · e^x, which sympy keeps apart inside a sum
    assert vanishes(sp.exp(2 * x) - sp.exp(x) * (sp.exp(x) + 1) + sp.exp(x))
    assert vanishes(sp.exp(x - y) * sp.exp(y) * (1 + x) - sp.exp(x) - x * sp.exp(x))


def test_what_is_not_zero_is_never_called_zero():
    assert not vanishes(x - y)
    assert not vanishes(x / (x + y) - 1)
    assert not vanishes(sp.exp(2 * x) - sp.exp(x))


def test_identities_outside_the_algebra_are_not_found():
    assert not vanishes(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1)
    assert not vanishes(x * (sp.Float(0.5) + y) - x * y - x / 2)   # floats are left to sympy


def test_sums_under_a_fraction_bar_are_cleared_on_request():
    columns_sum_to_one = a / (a + b) + b / (a + b) - 1
    assert not vanishes(columns_sum_to_one)
    assert vanishes(columns_sum_to_one, clear_sums=True)
    softmax = sum(sp.exp(v) for v in (a, b, x))
    assert vanishes(sum(sp.exp(v) / softmax for v in (a, b, x)) - 1, clear_sums=True)


def test_nested_fractions_are_cleared():
    assert vanishes(1 / (1 + 1 / (a + b)) - (a + b) / (a + b + 1), clear_sums=True)
    assert not vanishes(1 / (1 + 1 / (a + b)) - (a + b) / (a + b + 2), clear_sums=True)
