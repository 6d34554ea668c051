"""Index notation of the forward pass: exact strings."""

import pytest

from derivgen.expr import Binding, parse
from derivgen.index import IndexPrinter
from derivgen.shapes import SCALAR, Shape

SCOPE = {
    "N": Binding("dim", SCALAR), "D": Binding("dim", SCALAR),
    "W": Binding("input", Shape("C", "D")), "X": Binding("input", Shape("D", "N")),
    "S": Binding("step", Shape("C", "N")), "b": Binding("input", Shape("C", 1)),
    "g": Binding("input", Shape(1, "N")), "s": Binding("input", SCALAR),
    "Q": Binding("input", Shape("D", "D")),
}


@pytest.mark.parametrize("text, shape, index", [
    ("W @ X", Shape("C", "N"), r"Z_{ij} = \sum_{k} W_{ik} X_{kj}"),
    ("W @ X + b", Shape("C", "N"), r"Z_{ij} = \sum_{k} W_{ik} X_{kj} + b_{i}"),
    ("softmax(S, axis=0)", Shape("C", "N"), r"Z_{ij} = \frac{e^{S_{ij}}}{\sum_{k} e^{S_{kj}}}"),
    ("softmax(S, axis=1)", Shape("C", "N"), r"Z_{ij} = \frac{e^{S_{ij}}}{\sum_{k} e^{S_{ik}}}"),
    ("sum(S)", SCALAR, r"Z = \sum_{k,l} S_{kl}"),
    ("sum(S, axis=0)", Shape(1, "N"), r"Z_{j} = \sum_{k} S_{kj}"),
    ("mean(X, axis=1)", Shape("D", 1), r"Z_{i} = \frac{1}{N} \sum_{k} X_{ik}"),
    ("logsumexp(S, axis=0)", Shape(1, "N"), r"Z_{j} = \log \sum_{k} e^{S_{kj}}"),
    ("X.T", Shape("N", "D"), r"Z_{ij} = X_{ji}"),
    ("g * S - s", Shape("C", "N"), r"Z_{ij} = g_{j} S_{ij} - s"),
    ("tanh(S) ** 2", Shape("C", "N"), r"Z_{ij} = \tanh\left(S_{ij}\right)^{2}"),
    ("trace(Q)", SCALAR, r"Z = \sum_{k} Q_{kk}"),
    ("inv(Q)", Shape("D", "D"), r"Z_{ij} = \left(Q^{-1}\right)_{ij}"),
    ("sum(S * log(S)) / N", SCALAR, r"Z = \frac{\sum_{k,l} S_{kl} \log\left(S_{kl}\right)}{N}"),
])
def test_index_equations(text, shape, index):
    node = parse(text, SCOPE)
    assert node.shape == shape
    assert IndexPrinter().equation("Z", node) == index


def test_problem_latex_names_are_used():
    printer = IndexPrinter({"S": r"\hat{S}"})
    assert printer.equation("Z", parse("S * 2", SCOPE)) == r"Z_{ij} = \hat{S}_{ij} 2"
