"""The LaTeX printer: exact strings for small expressions."""

import pytest

from derivgen.expr import Binding, parse
from derivgen.latex import LatexPrinter, latex_name, scientific, subscripted, unsafe_tex
from derivgen.nodes import Ref
from derivgen.shapes import SCALAR, Shape

SCOPE = {
    "N": Binding("dim", SCALAR),
    "A": Binding("step", Shape("C", "N")), "Y": Binding("input", Shape("C", "N")),
    "W": Binding("input", Shape("C", "D")), "X": Binding("input", Shape("D", "N")),
    "Q": Binding("input", Shape("D", "D")), "s": Binding("input", SCALAR),
    "b": Binding("input", Shape("C", 1)), "W1": Binding("input", Shape("C", "D")),
    "x_in": Binding("input", Shape("D", 1)), "lam": Binding("input", SCALAR),
}


@pytest.mark.parametrize("text, latex", [
    ("(A - Y) / N", r"\frac{A - Y}{N}"),
    ("(A - Y) @ X.T / N", r"\frac{\left(A - Y\right) X^{\top}}{N}"),
    ("W.T @ (A - Y)", r"W^{\top} \left(A - Y\right)"),
    ("A * Y", r"A \odot Y"),
    ("A / Y", r"A \oslash Y"),
    ("2 * W", r"2 W"),
    ("s * W", r"s W"),
    ("A ** 2", r"A^{\circ 2}"),
    ("s ** 2", r"s^{2}"),
    ("-A", r"-A"),
    ("-(A - Y)", r"-\left(A - Y\right)"),
    ("A - (Y - A)", r"A - \left(Y - A\right)"),
    ("(W @ X) * A", r"\left(W X\right) \odot A"),
    ("(W @ X).T", r"\left(W X\right)^{\top}"),
    ("inv(Q)", r"Q^{-1}"),
    ("inv(Q).T", r"Q^{-\top}"),
    ("sum(A)", r"\mathbf{1}^{\top} A \mathbf{1}"),
    ("sum(A, axis=0)", r"\mathbf{1}^{\top} A"),
    ("sum(A, axis=1)", r"A \mathbf{1}"),
    ("A * (Y - sum(A * Y, axis=0))", r"A \odot \left(Y - \mathbf{1}^{\top} \left(A \odot Y\right)\right)"),
    ("softmax(W @ X, axis=0)", r"\operatorname{softmax}_{\text{col}}\left(W X\right)"),
    ("logsumexp(A, axis=1)", r"\operatorname{logsumexp}_{\text{row}}\left(A\right)"),
    ("exp(A) + log(A)", r"\exp\left(A\right) + \log\left(A\right)"),
    ("sigmoid(A) * tanh(A)", r"\sigma\left(A\right) \odot \tanh\left(A\right)"),
    ("log1p(A)", r"\log\left(1 + A\right)"),
    ("maximum(0, 1 - A)", r"\max\left(0, 1 - A\right)"),
    ("norm(W)", r"\left\lVert W \right\rVert"),
    ("W / norm(W, axis=0)", r"W \oslash \left\lVert W \right\rVert_{\text{col}}"),
    ("b.T @ diag(b)", r"b^{\top} \operatorname{diag}\left(b\right)"),
    ("minimum(A, Y) * s", r"\min\left(A, Y\right) s"),
    ("log1p(-A)", r"\log\left(1 - A\right)"),
    ("softplus(A - Y)", r"\operatorname{softplus}\left(A - Y\right)"),
    ("log1p(A - Y) * s", r"\log\left(1 + \left(A - Y\right)\right) s"),
    ("sqrt(A) + abs(A)", r"\sqrt{A} + \left|A\right|"),
    ("trace(Q) + det(Q) + logdet(Q)",
     r"\operatorname{tr}\left(Q\right) + \det\left(Q\right) + \log\det\left(Q\right)"),
    ("ones_like(Q) + eye_like(Q).T @ X @ X.T", r"\mathbf{1} + I^{\top} X X^{\top}"),
    ("W1 + 0.5 * W", r"W_{1} + \frac{1}{2} W"),
    ("0.1 * W + 1.0 * W", r"\frac{1}{10} W + 1 W"),
    ("0.001 * W", r"0.001 W"),
    ("x_in * lam", r"x_{\mathrm{in}} \mathrm{lam}"),
    ("b + A", r"b + A"),
])
def test_latex_of_small_expressions(text, latex):
    assert LatexPrinter().doprint(parse(text, SCOPE)) == latex


def test_names_from_the_problem_file_are_used():
    printer = LatexPrinter({"lam": r"\lambda", "A": r"\hat{A}"})
    assert printer.doprint(parse("lam * (A - Y)", SCOPE)) == r"\lambda \left(\hat{A} - Y\right)"


@pytest.mark.parametrize("name, latex", [("W", "W"), ("W1", "W_{1}"), ("W_2", "W_{2}"),
                                         ("x_in", r"x_{\mathrm{in}}"), ("loss", r"\mathrm{loss}"),
                                         ("my_loss", r"\mathrm{my\_loss}")])
def test_latex_names(name, latex):
    assert latex_name(name) == latex


@pytest.mark.parametrize("base, sub, latex", [
    ("W", "ij", "W_{ij}"), ("W_{1}", "ij", r"\left(W_{1}\right)_{ij}"),
    (r"\sigma^2", "i", r"\left(\sigma^2\right)_{i}"), ("b", "", "b"),
    (r"\left(A B\right)", "ij", r"\left(A B\right)_{ij}"),
])
def test_subscripts_on_names_that_have_one(base, sub, latex):
    assert subscripted(base, sub) == latex


@pytest.mark.parametrize("x, latex", [(1e-8, "10^{-8}"), (1e-6, "10^{-6}"),
                                      (5e-4, r"5 \cdot 10^{-4}"), (2.5e-7, r"2.5 \cdot 10^{-7}"),
                                      (0.5, "0.5"), (1, "1"), (100, "100"), (1e3, "10^{3}")])
def test_scientific_notation(x, latex):
    assert scientific(x) == latex


@pytest.mark.parametrize("tex", [
    r"\lambda", r"\hat{\mathbf{W}}_{1}", r"\operatorname{softmax}", r"\tilde{x}^{\prime}",
    r"\frac{1}{N} \sum_{i} \left\| x_i \right\|^2", r"W_{\mathrm{out}}", r"a \, b \; c",
    r"\boldsymbol{\theta}", r"\mathbb{R}^{n \times m}", r"\text{loss}",
])
def test_math_a_problem_file_may_write(tex):
    assert unsafe_tex(tex) is None


@pytest.mark.parametrize("tex, why", [
    (r"\input{x}", r"\input is not allowed"), (r"\pdffiledump{x}", r"\pdffiledump is not allowed"),
    (r"\csname input\endcsname", r"\csname is not allowed"), ("^^5cinput", "^^ is not allowed"),
    (r"\@input", "character '@' is not allowed"), ("x % comment", "character '%' is not allowed"),
    ("a & b", "character '&' is not allowed"), ("x~y", "character '~' is not allowed"),
    ("x#1", "character '#' is not allowed"), ("{", "unbalanced braces"), ("}{", "unbalanced braces"),
    ("x\\", r"\ is not allowed"),
])
def test_math_a_problem_file_may_not_write(tex, why):
    assert unsafe_tex(tex) == why


@pytest.mark.parametrize("text, latex", [
    ("-A", r"-\underbrace{A}_{\text{from } L}"),
    ("-A * Y", r"-\underbrace{A \odot Y}_{\text{from } L}"),
    ("-(A - Y)", r"-\underbrace{\left(A - Y\right)}_{\text{from } L}"),
    ("-A + Y", r"\underbrace{-A + Y}_{\text{from } L}"),      # the minus is the first term's
    ("A - Y", r"\underbrace{A - Y}_{\text{from } L}"),
])
def test_a_labelled_contribution_keeps_a_leading_minus_outside_its_brace(text, latex):
    from derivgen.report import _labelled
    assert _labelled(parse(text, SCOPE), "L", LatexPrinter().doprint) == latex


def test_a_differential_is_set_apart_from_the_factor_after_it():
    """dX X, not dXX (one name?); X dX needs nothing."""
    shape = Shape("n", "n")
    x, dx = Ref("X", "input", shape), Ref("dX", "input", shape)
    printer = LatexPrinter({"dX": r"\mathrm{d}X"})
    assert printer.doprint(dx @ x + x @ dx) == r"\mathrm{d}X \, X + X \mathrm{d}X"
    assert printer.doprint(x @ dx @ x) == r"X \mathrm{d}X \, X"
