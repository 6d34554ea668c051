"""The element-wise statements, typeset at derive time.

What the report shows entry by entry comes from sympy: each matrix written out
at the ``[dims]`` sizes, each step's definition, the proven index form of a
rule, ∂out/∂in_{1,1} as a matrix (seed 000's pattern of zeros). They are
turned into LaTeX here, while the engine's sympy objects exist, so that a
:class:`~derivgen.derivation.Derivation` holds only strings and plain nodes and
the report layer never calls back into the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .derive import Backward, Link
from .elementwise import Elementwise
from .latex import LINE_LENGTH, LatexPrinter, aligned, bmatrix, subscripted
from .nodes import Node, Ref
from .ops import OPS, local_partial
from .problem import Problem


@dataclass(frozen=True)
class Views:
    elementwise: tuple[dict, ...]     # each input and step at the [dims] sizes
    links: tuple[dict, ...]           # per Link of the pass, in order: its index form and pattern


def views(problem: Problem, ew: Elementwise, back: Backward, printer: LatexPrinter) -> Views:
    name = printer.name
    entries = Entries(ew, name)
    links = tuple({"index": _index_form(problem, link, printer),
                   "pattern": _pattern(ew, link, entries)}
                  for link in back.order if isinstance(link, Link))
    return Views(tuple(_elementwise(problem, ew, name, entries)), links)


class Entries:
    """Typesets sympy's entry-wise expressions with the problem's names:
    the entries of W_{1} are (W_{1})_{1,2}, not W1_{1,2}."""

    def __init__(self, ew, name) -> None:
        self.names = {}
        for n, m in ew.symbols.items():
            for i in range(m.rows):
                for j in range(m.cols):
                    self.names[m[i, j]] = subscripted(name(n), f"{i + 1},{j + 1}")

    def latex(self, expr: sp.Expr) -> str:
        return sp.latex(expr, symbol_names=self.names)

    def matrix(self, m: sp.Matrix) -> str:
        return bmatrix(m.rows, m.cols, lambda i, j: self.latex(m[i, j]))

    def equation(self, lhs: str, rhs: sp.Expr) -> str:
        """``lhs = rhs``, a long sum broken into lines that fit a page."""
        terms = sp.Add.make_args(rhs) if isinstance(rhs, sp.Add) else (rhs,)
        return aligned(lhs, [self.latex(t) for t in terms])


def _elementwise(problem: Problem, ew: Elementwise, name, entries: Entries) -> list[dict]:
    out = []
    for n in problem.inputs:
        out.append({"name": name(n), "matrix": entries.matrix(ew.symbols[n]), "entry": ""})
    for n in problem.steps:
        definition = ew.definitions[n]
        # written out in full when every row fits a line
        short = all(sum(len(entries.latex(x)) for x in definition.row(i)) <= LINE_LENGTH
                    for i in range(definition.rows))
        first = entries.equation(entries.latex(ew.symbols[n][0, 0]), definition[0, 0])
        out.append({"name": name(n),
                    "matrix": entries.matrix(definition if short else ew.symbols[n]),
                    "entry": "" if short else first})
    return out


def _index_form(problem: Problem, rule: Link, printer: LatexPrinter) -> str:
    """The registry's ∂out_ij/∂in_kl for this link (proven by derivgen.prove), in LaTeX."""
    op = OPS[rule.op]
    if op.index[rule.arg] is None:
        return ""
    i, j, k, l = sp.symbols("i j k l")
    out_name = printer.operand(rule.output)
    nodes = {out_name: rule.output} | {printer.operand(a): a for a in rule.node.args}
    bases = [sp.IndexedBase(printer.operand(a)) for a in rule.node.args]
    expr = local_partial(op, rule.arg, sp.IndexedBase(out_name), bases, i, j, k, l,
                         rule.node.axis, rule.target.shape.size(problem.dims))
    # an entry of a name that is not a node (the inverse in det's partial) is shaped
    # like the operator's square argument
    return sp.latex(expr.replace(
        lambda e: isinstance(e, sp.Indexed),
        lambda e: _entry(e, nodes.get(e.base.label.name, rule.node.args[0]))))


def _entry(e: sp.Indexed, node: Node) -> sp.Expr:
    """An entry written with the indices its shape has: a, a_i, a_j or a_ij."""
    kept = [x for x, n in zip(e.indices, (node.shape.rows, node.shape.cols)) if n != 1]
    return sp.Symbol(e.base.label.name) if not kept else e.base[tuple(kept)]


def _pattern(ew: Elementwise, rule: Link, entries: Entries) -> str:
    """∂step/∂target_{1,1} entry by entry (seed 000's pattern of zeros), where the rule
    is the whole step and the target a named matrix: sympy's own partials."""
    if not (isinstance(rule.output, Ref) and isinstance(rule.target, Ref)
            and rule.target.name in ew.symbols and rule.target.kind != "dim"):
        return ""
    return entries.matrix(ew.partial_by_first_entry(rule.step, rule.target.name))
