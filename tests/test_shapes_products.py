"""Dimensions that are products of dims (vec of an m×n matrix has m*n rows, kron of m×n
and p×q is (m*p)×(n*q)): one normal form however they are written, their text and
LaTeX, their sizes, and sums of dims still as they were."""

import itertools

import pytest
import sympy as sp

from derivgen.expr import to_source
from derivgen.latex import dim_latex, shape_latex
from derivgen.nodes import Ref, dim_node, make
from derivgen.shapes import (MAX_PRODUCT, SCALAR, DimSum, NotADim, Shape, dim_add, dim_mul,
                             dim_scale, dim_size, parse_dim, surely_below)

DIMS = {"m", "n", "p", "H", "T", "Tx"}


def dim(text: str):
    return parse_dim(text, DIMS)


def test_a_product_has_one_normal_form():
    assert dim("m*p") == dim("p*m") == dim_mul("p", "m") == DimSum(((("m", "p"), 1),))
    assert dim("n*n") == dim_mul("n", "n") == DimSum(((("n", "n"), 1),))
    assert dim("(n + 1)*(n - 1)") == dim("n*n - 1") == DimSum(((("n", "n"), 1),), -1)
    assert dim("2*m*p") == dim_scale(2, dim("m*p")) == dim("m*p + p*m")
    assert dim("(m + p)*n - n*p") == dim("m*n")
    assert dim("n*n - n*n + H") == "H"                  # what is one dim is its name
    assert dim("m*(p - p)") == 0 and dim("1*m") == "m" and dim("2*3") == 6
    assert dim_mul(dim("m*n"), dim("n*p")) == dim("m*n*n*p") == dim("n*(m*p)*n")


def test_sums_of_dims_are_as_they_were():
    assert dim("2 * (H + 1)") == DimSum(((("H",), 2),), 2)
    assert dim_add("H", "H") == dim_scale(2, "H") == DimSum(((("H",), 2),))
    assert dim("T - 1") == DimSum(((("T",), 1),), -1)
    written = ["4*H", "T - 1", "2*H + 1", "H - T", "T - H", "3 - H", "2 - H - T", "m*n - H + 1"]
    assert [str(dim(t)) for t in written] == written    # a positive term first: it reads back
    assert str(dim("1 - H + T - H")) == "T - 2*H + 1"
    assert [dim_latex(dim(t)) for t in ("4*H", "T - 1", "4*Tx", "H - 2*T + 3")] == \
        ["4H", "T - 1", "4Tx", "H - 2T + 3"]


@pytest.mark.parametrize("text, written, latex", [
    ("m*p", "m*p", "mp"),
    ("p*m", "m*p", "mp"),
    ("n*n", "n*n", "n^{2}"),
    ("3*m*p - 1", "3*m*p - 1", "3mp - 1"),
    ("2*(m + 1)*(n - 1)", "2*m*n - 2*m + 2*n - 2", "2mn - 2m + 2n - 2"),
    ("n*n*m + 2*n + 1", "m*n*n + 2*n + 1", "mn^{2} + 2n + 1"),
    ("H + n*p", "n*p + H", "np + H"),
    ("Tx*H*H", "H*H*Tx", r"H^{2}\,Tx"),
])
def test_a_product_is_written_in_the_language_and_in_latex(text, written, latex):
    d = dim(text)
    assert (str(d), dim_latex(d)) == (written, latex)
    assert dim(written) == d                            # and it reads back


def test_shapes_with_products():
    shape = Shape(dim("m*p"), dim("n*n"))
    assert str(shape) == "(m*p)×(n*n)"
    assert shape_latex(shape) == r"\left(mp\right) \times \left(n^{2}\right)"
    assert shape == Shape(dim("p*m"), dim_mul("n", "n"))


def test_sizes_multiply():
    sizes = {"m": 3, "n": 4, "p": 5, "H": 2, "T": 7, "Tx": 2}
    assert [dim_size(dim(t), sizes) for t in ("m*p", "n*n", "2*(m + 1)*(n - 1)", "Tx*H*H")] == \
        [15, 16, 2 * 4 * 3, 8]
    assert Shape(dim("m*p"), 1).size(sizes) == (15, 1)
    m, p = sp.symbols("m p")
    assert dim_size(dim("m*p + 1"), {"m": m, "p": p}) == m * p + 1


def test_a_product_in_an_expression():
    assert dim_node(dim("m*p")) == make("mul", Ref("m", "dim", SCALAR), Ref("p", "dim", SCALAR))
    assert to_source(dim_node(dim("2*m*n - n + 1"))) == "2 * m * n - n + 1"
    assert to_source(dim_node(dim("4*H"))) == "4 * H"
    assert to_source(dim_node(dim("T - 1"))) == "T - 1"


def test_surely_below_holds_at_every_size():
    """Whatever it claims holds with each dim anywhere from 1 to 3 (it may claim less)."""
    dims = [dim(t) for t in ("m", "n", "m*n", "n*n", "m*n + 1", "n*n - n + 1", "2*m", "m + n",
                             "m*n + n", "1", "2")]
    claimed = 0
    for a, b in itertools.product(dims, dims):
        if surely_below(a, b):
            claimed += 1
            for m, n in itertools.product((1, 2, 3), repeat=2):
                assert dim_size(a, {"m": m, "n": n}) < dim_size(b, {"m": m, "n": n}), (a, b)
    assert claimed > 10
    assert surely_below("n", dim("m*n + n")) and surely_below(dim("m*n"), dim("m*n + m"))
    assert not surely_below("n", dim("n*n"))            # n = 1


def test_parse_refuses_what_is_no_dimension():
    with pytest.raises(NotADim, match="'E' is not a dim"):
        dim("n*E")
    with pytest.raises(NotADim, match="a dimension is a whole number, a dim, or sums and products"):
        dim("n / 2")
    with pytest.raises(NotADim, match="too large a dimension") as info:
        dim("*".join(["n"] * (MAX_PRODUCT + 1)))
    assert info.value.node is not None                  # located, for the loader's message
    assert dim("*".join(["n"] * MAX_PRODUCT)) == DimSum(((("n",) * MAX_PRODUCT, 1),))
