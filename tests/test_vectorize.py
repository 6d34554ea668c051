"""vec, unvec and kron (derivgen.vectorize): what they compute, their LaTeX, their
entries in index notation, parsing and printing back, and their shape errors. Their
derivative rules are tested from the registry, in tests/test_ops.py."""

import numpy as np
import pytest
import sympy as sp

from derivgen.errors import ShapeError
from derivgen.expr import Binding, parse, to_source
from derivgen.index import IndexPrinter
from derivgen.latex import LatexPrinter
from derivgen.nodes import Ref
from derivgen.numeric import evaluate
from derivgen.ops import OPS
from derivgen.shapes import SCALAR, Shape, dim_mul, dim_scale

SCOPE = {d: Binding("dim", SCALAR) for d in "mnpq"} | {
    "A": Binding("input", Shape("m", "n")), "B": Binding("input", Shape("p", "q")),
    "X": Binding("input", Shape("n", "p")), "C": Binding("input", Shape("m", "q")),
    "v": Binding("input", Shape("n", 1)), "w": Binding("input", Shape(dim_mul("n", "p"), 1)),
    "H4": Binding("input", Shape(dim_scale(4, "H"), "n")), "s": Binding("input", SCALAR),
}
SIZES = {"m": 2, "n": 3, "p": 4, "q": 2, "H": 1}


def test_what_they_compute():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert OPS["vec"].numpy([x], None).ravel().tolist() == [1, 3, 2, 4]     # column by column
    assert OPS["unvec"].numpy([np.array([[1.0], [3.0], [2.0], [4.0]]), x], None).tolist() == \
        x.tolist()
    assert OPS["kron"].numpy([np.array([[1.0, 2.0]]), x], None).tolist() == \
        [[1, 2, 2, 4], [3, 4, 6, 8]]
    # the sympy forms, entry by entry, are the numeric ones
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    for op, args in (("vec", [a]), ("unvec", [a.reshape(-1, 1), b]), ("kron", [a, b])):
        symbolic = OPS[op].sympy([sp.Matrix(m) for m in args], None)
        assert np.allclose(np.array(symbolic, dtype=float), OPS[op].numpy(args, None)), op


def test_vec_of_a_product_is_its_kronecker_form():
    """vec(A X B) = (Bᵀ ⊗ A) vec(X): the shapes agree by name, the values at random sizes."""
    left, right = parse("vec(A @ X @ B)", SCOPE), parse("kron(B.T, A) @ vec(X)", SCOPE)
    assert left.shape == right.shape == Shape(dim_mul("m", "q"), 1)
    rng = np.random.default_rng(1)
    values = {name: rng.standard_normal(b.shape.size(SIZES)) for name, b in SCOPE.items()
              if b.kind == "input"}
    assert np.allclose(evaluate(left, values, SIZES), evaluate(right, values, SIZES))
    back = parse("unvec(kron(B.T, A) @ vec(X), C)", SCOPE)
    assert np.allclose(evaluate(back, values, SIZES), values["A"] @ values["X"] @ values["B"])


@pytest.mark.parametrize("text, shape", [
    ("vec(A)", "(m*n)×1"),
    ("unvec(vec(A), A)", "m×n"),
    ("unvec(w, X)", "n×p"),
    ("kron(A, B)", "(m*p)×(n*q)"),
    ("kron(B.T, A) @ vec(X)", "(m*q)×1"),
    ("vec(A @ X @ B) - kron(B.T, A) @ vec(X)", "(m*q)×1"),
    ("kron(v, v.T)", "n×n"),
    ("kron(s, A) + A", "m×n"),
    ("vec(kron(A, B)).T", "1×(m*n*p*q)"),
    ("vec(H4)", "(4*H*n)×1"),
    ("vec(A)[0:m, :]", "m×1"),
])
def test_parse_and_print_back(text, shape):
    node = parse(text, SCOPE)
    assert str(node.shape) == shape
    assert to_source(node) == text
    assert parse(to_source(node), SCOPE) == node


@pytest.mark.parametrize("text, message", [
    ("unvec(v, X)", "unvec(v, X): v is n×1; folded into the shape of X (n×p) it must be (n*p)×1"),
    ("unvec(w.T, X)", "unvec(w.T, X): w.T is 1×(n*p); folded into the shape of X (n×p) it must "
                      "be (n*p)×1"),
    ("vec(A) + vec(X)", "vec(A) + vec(X): shapes do not broadcast (vec(A) is (m*n)×1, vec(X) "
                        "is (n*p)×1)"),
    ("kron(A, B) @ vec(A)", "kron(A, B) @ vec(A): inner dimensions differ (kron(A, B) is "
                            "(m*p)×(n*q), vec(A) is (m*n)×1)"),
])
def test_shape_errors(text, message):
    with pytest.raises(ShapeError) as info:
        parse(text, SCOPE)
    assert info.value.message == message


@pytest.mark.parametrize("text, latex", [
    ("kron(B.T, A)", r"B^{\top} \otimes A"),
    ("kron(B.T, A) @ vec(X)", r"\left(B^{\top} \otimes A\right) \operatorname{vec}\left(X\right)"),
    ("unvec(w, X)", r"\operatorname{unvec}\left(w, X\right)"),
    ("kron(A @ X, B)", r"\left(A X\right) \otimes B"),
    ("kron(A ** 2, -B)", r"A^{\circ 2} \otimes \left(-B\right)"),
    ("kron(A, B).T", r"\left(A \otimes B\right)^{\top}"),
    ("-kron(A, B)", r"-\left(A \otimes B\right)"),
    ("2 * kron(A, B)", r"2 \left(A \otimes B\right)"),
    ("kron(A, B) - kron(A, B) * kron(A, B)",
     r"A \otimes B - \left(A \otimes B\right) \odot \left(A \otimes B\right)"),
    ("kron(kron(A, B), B)", r"\left(A \otimes B\right) \otimes B"),
    ("sum(kron(A, B))", r"\mathbf{1}^{\top} \left(A \otimes B\right) \mathbf{1}"),
])
def test_latex(text, latex):
    assert LatexPrinter().doprint(parse(text, SCOPE)) == latex


def test_the_gradients_read_as_courses_write_them():
    """vec's is unvec; kron's sum each block of G times B, and the blocks of G times the
    entries of A: (I ⊗ 1ᵀ)(G ⊙ (1 ⊗ B))(I ⊗ 1) and (1ᵀ ⊗ I)(G ⊙ (A ⊗ 1))(1 ⊗ I)."""
    kron, a, b = parse("kron(A, B)", SCOPE), parse("A", SCOPE), parse("B", SCOPE)
    g = Ref("G", "grad", kron.shape)
    printed = [LatexPrinter().doprint(rule(g, kron, a, b, axis=None)) for rule in OPS["kron"].vjp]
    assert printed == [
        r"\left(I \otimes \mathbf{1}^{\top}\right) \left(G \odot \left(\mathbf{1} \otimes B\right)"
        r"\right) \left(I \otimes \mathbf{1}\right)",
        r"\left(\mathbf{1}^{\top} \otimes I\right) \left(G \odot \left(A \otimes \mathbf{1}\right)"
        r"\right) \left(\mathbf{1} \otimes I\right)"]
    vec = parse("vec(A)", SCOPE)
    assert to_source(OPS["vec"].vjp[0](Ref("G", "grad", vec.shape), vec, a, axis=None)) == \
        "unvec(G, A)"


@pytest.mark.parametrize("text, index", [
    ("vec(A)", r"Z_{i} = A_{\left(i - 1\right) \bmod m + 1,\, \left\lceil i / m \right\rceil}"),
    ("vec(v)", r"Z_{i} = v_{i}"),
    ("vec(v.T)", r"Z_{i} = v_{i}"),
    ("vec(H4)", r"Z_{i} = \left(H_{4}\right)_{\left(i - 1\right) \bmod \left(4H\right) + 1,\, "
                r"\left\lceil i / \left(4H\right) \right\rceil}"),
    ("unvec(w, X)", r"Z_{ij} = w_{i + n \left(j - 1\right)}"),
    ("unvec(v, v.T)", r"Z_{j} = v_{j}"),
    ("kron(A, B)", r"Z_{ij} = A_{\left\lceil i / p \right\rceil,\, \left\lceil j / q \right\rceil} "
                   r"B_{\left(i - 1\right) \bmod p + 1,\, \left(j - 1\right) \bmod q + 1}"),
    ("kron(v, v.T)", r"Z_{ij} = v_{i} v_{j}"),
    ("kron(s, A)", r"Z_{ij} = s A_{ij}"),
])
def test_index_notation_counts_from_one(text, index):
    """Entry (i, j), rows and columns counted from 1 as the reports count them."""
    assert IndexPrinter().equation("Z", parse(text, SCOPE)) == index
