"""Slices and joins: dimensions written as arithmetic of dims, how slices and joins
are parsed, printed, typeset and simplified block by block."""

import pytest

from derivgen.blocks import added, sliced_simply
from derivgen.expr import Binding, parse, to_source
from derivgen.index import IndexPrinter
from derivgen.latex import LatexPrinter, shape_latex
from derivgen.nodes import Ref, make
from derivgen.ops import OPS
from derivgen.selection import concat, sliced
from derivgen.shapes import (SCALAR, DimSum, NotADim, Shape, Span, dim_add, dim_scale, dim_size, parse_dim,
                             surely_below)

H4 = dim_scale(4, "H")
SCOPE = {"H": Binding("dim", SCALAR), "N": Binding("dim", SCALAR), "T": Binding("dim", SCALAR),
         "Z": Binding("input", Shape("N", H4)), "X": Binding("input", Shape("T", "N")),
         "A": Binding("input", Shape("N", "H")), "B": Binding("input", Shape("N", "H"))}


def node(text):
    return parse(text, SCOPE)


def test_dimensions_add_up_in_one_normal_form():
    assert dim_add("H", "H") == dim_scale(2, "H") == DimSum(((("H",), 2),))
    assert dim_add(H4, dim_scale(3, "H"), -1) == "H"        # a sum that is one dim is its name
    assert dim_add("T", 1, -1) == DimSum(((("T",), 1),), -1)
    assert str(dim_add("T", 1, -1)) == "T - 1" and str(H4) == "4*H"
    assert dim_size(dim_add(H4, 1), {"H": 3}) == 13
    assert surely_below("H", H4) and not surely_below("H", "N") and not surely_below("N", "H")
    assert parse_dim("2 * (H + 1)", {"H"}) == DimSum(((("H",), 2),), 2)
    with pytest.raises(NotADim, match="'E' is not a dim"):
        parse_dim("H * E", {"H"})


def test_slices_read_as_numpy_writes_them():
    assert str(node("Z[:, H:2*H]").shape) == "N×H"
    assert str(node("Z[:, 3*H:]").shape) == "N×H"
    assert str(node("X[0:T-1, :]").shape) == "(T - 1)×N"
    assert str(node("Z[:, 0]").shape) == "N×1"                  # a single index keeps 2-D
    assert to_source(node("Z[:, 3*H:]")) == "Z[:, 3*H:4*H]"     # the end written out
    assert to_source(node("(A + B)[0:1, :]")) == "(A + B)[0:1, :]"
    assert to_source(node("concat([A, B, A], axis=1)")) == "concat([A, B, A], axis=1)"
    assert str(node("concat([A, B], axis=0)").shape) == "(2*N)×H"


def test_slices_and_joins_are_typeset_counting_from_one():
    latex = LatexPrinter()
    assert latex.doprint(node("Z[:, H:2*H]")) == r"Z_{:,\,H + 1:2H}"
    assert latex.doprint(node("X[0:T-1, :]")) == r"X_{1:T - 1,\,:}"
    assert latex.doprint(node("Z[:, 2]")) == r"Z_{:,\,3}"
    assert latex.doprint(node("concat([A, B], axis=1)")) == r"\begin{bmatrix} A & B \end{bmatrix}"
    assert latex.doprint(node("concat([A, B], axis=0)")) == r"\begin{bmatrix} A \\ B \end{bmatrix}"
    assert shape_latex(Shape("N", H4)) == r"N \times \left(4H\right)"
    index = IndexPrinter()
    assert index.entry(node("Z[:, H:2*H]"), "i", "j") == r"Z_{i,\, j + H}"
    assert index.entry(node("X[1:T, :] - X[0:T-1, :]"), "i", "j") == r"X_{i + 1,\, j} - X_{ij}"


def test_the_gradient_of_a_slice_is_g_among_zeros():
    z = Ref("Z", "input", Shape("N", H4))
    g = Ref("G", "grad", Shape("N", "H"))
    padded = OPS["slice"].vjp[0](g, None, z, axis=node("Z[:, H:2*H]").axis)
    assert to_source(padded) == ("concat([zeros_like(Z[:, 0:H]), G, zeros_like(Z[:, 2*H:4*H])], "
                                 "axis=1)")
    assert LatexPrinter().doprint(padded) == (
        r"\begin{bmatrix} \mathbf{0} & G & \mathbf{0} \end{bmatrix}")


def test_joins_of_one_layout_add_up_block_by_block():
    """An LSTM's four gates: [dI 0 0 0] + [0 dF 0 0] + ... = [dI dF dO dG]."""
    z = Ref("Z", "input", Shape("N", H4))
    grads = [Ref(f"d{k}", "grad", Shape("N", "H")) for k in "IFOG"]
    bounds = [0, "H", dim_scale(2, "H"), dim_scale(3, "H"), H4]
    joins = [make("slice", z, axis=Span(1, a, b)) for a, b in zip(bounds, bounds[1:])]
    padded = [OPS["slice"].vjp[0](g, None, z, axis=j.axis) for g, j in zip(grads, joins)]
    assert to_source(added(padded, 1)) == "concat([dI, dF, dO, dG], axis=1)"
    # a part that would have to be cut is left alone
    wide = Ref("W", "grad", Shape("N", dim_scale(2, "H")))
    whole = concat([wide, make("zeros_like", sliced(z, 1, dim_scale(2, "H"), H4))], 1)
    assert added([whole, padded[1]], 1) is None


def test_a_slice_of_a_join_is_its_part():
    a, b = Ref("A", "input", Shape("N", "H")), Ref("B", "input", Shape("N", "H"))
    joined = concat([a, b], 1)
    assert sliced_simply(joined, Span(1, "H", dim_scale(2, "H"))) == b
    assert sliced_simply(joined, Span(1, 0, 1)) is None
    z = Ref("Z", "input", Shape("N", H4))
    twice = sliced_simply(sliced(z, 1, "H", H4), Span(1, 0, "H"))
    assert to_source(twice) == "Z[:, H:2*H]"
