"""The derivative of a matrix function as a tensor: ∂F_ij/∂X_kl in index notation.

The differential dF is linear in dX, so ∂F_ij/∂X_kl is entry (i, j) of dF with dX
put equal to the matrix whose only non-zero entry is a 1 at (k, l):
dX_ab = δ_ak δ_bl. Written entry by entry (a matrix product a sum over its inner
index, element-wise operations entry by entry), each sum meeting a δ collapses:
Σ_m δ_ik δ_ml X_mj = δ_ik X_lj. So d(X²) = dX X + X dX gives seed 000's
∂F_ij/∂X_kl = δ_ik X_lj + X_ik δ_jl.

Operations whose entries are not written here (an inverse, a softmax) appear as
named matrices, (X⁻¹)_ik, when they do not hold dX; otherwise there is no index
form. The caller proves the form entry by entry against the proven differential.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from .nodes import Const, Node, Ref, names
from .ops import OPS
from .shapes import Named, dim_size

_SUMMED = "mnpqrstuvw"


class NoIndexForm(Exception):
    """An operation holding dX whose entries this module does not write."""


class IndexForm:
    """Entries of an expression in index notation, over named matrices' entries."""

    def __init__(self, direction: Ref, printer, dim_symbol: Callable[[str], sp.Symbol],
                 reserved: set[str]) -> None:
        self.direction, self.dim_symbol = direction, dim_symbol
        self.operand, self.latex = printer.operand, printer.doprint
        self.reserved = reserved            # letters that name something: no summation index
        self.k, self.l = sp.symbols("k l", integer=True, positive=True)
        self.nodes: dict[str, Node] = {}        # each base's node, to print and evaluate
        self.used = 0

    def tensor(self, differential: Node) -> sp.Expr:
        """∂F_ij/∂X_kl, each sum over a δ collapsed."""
        i, j = sp.symbols("i j", integer=True, positive=True)
        return _collapse(self.entry(differential, i, j))

    def entry(self, node: Node, i, j) -> sp.Expr:
        rows, cols = node.shape.rows, node.shape.cols
        i, j = (i if rows != 1 else sp.Integer(1)), (j if cols != 1 else sp.Integer(1))
        if node == self.direction:
            return sp.KroneckerDelta(i, self.k if rows != 1 else 1) * \
                sp.KroneckerDelta(j, self.l if cols != 1 else 1)
        if isinstance(node, Const):
            return sp.Rational(repr(node.value))
        if isinstance(node, Ref) and node.kind == "dim":
            return self.dim_symbol(node.name)
        if isinstance(node, Ref):
            return self.named(node)[i, j]
        op, args = OPS[node.op], node.args
        # entry-wise operations are written entry by entry; a product or a reduction
        # free of dX stays one named matrix, (XᵀX)_ik, rather than a sum of products
        if not (op.entrywise or node.op == "transpose") and \
                self.direction.name not in names(node):
            return self.named(node)[i, j]
        if node.op in ("add", "sub", "mul", "div", "pow"):
            a, b = (self.entry(x, i, j) for x in args)
            return {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b,
                    "pow": a ** b}[node.op]
        if node.op == "neg":
            return -self.entry(args[0], i, j)
        if node.op == "transpose":
            return self.entry(args[0], j, i)
        if node.op == "matmul":
            m = self.fresh()
            inner = args[0].shape.cols
            return sp.Sum(self.entry(args[0], i, m) * self.entry(args[1], m, j),
                          (m, 1, self.size(inner)))
        if node.op in ("sum", "mean") and node.axis is not None:
            r = self.fresh()
            x = args[0]
            n = x.shape.rows if node.axis == 0 else x.shape.cols
            body = self.entry(x, r, j) if node.axis == 0 else self.entry(x, i, r)
            total = sp.Sum(body, (r, 1, self.size(n)))
            return total if node.op == "sum" else total / self.size(n)
        if node.op == "trace":
            r = self.fresh()
            return sp.Sum(self.entry(args[0], r, r), (r, 1, self.size(args[0].shape.rows)))
        if op.entrywise and op.scalar is not None:
            return op.scalar(self.entry(args[0], i, j))
        raise NoIndexForm(node.op)

    def fresh(self) -> sp.Symbol:
        while True:
            letter = _SUMMED[self.used % len(_SUMMED)] + ("'" * (self.used // len(_SUMMED)))
            self.used += 1
            if letter not in self.reserved:
                return sp.Symbol(letter, integer=True, positive=True)

    def size(self, dim) -> sp.Expr:
        return dim_size(dim, Named(self.dim_symbol))

    def named(self, node: Node) -> sp.IndexedBase:
        """The matrix a node is, by the name the report writes it with (a 1×1 one as
        itself: det X, not (det X))."""
        name = self.latex(node) if node.shape.is_scalar else self.operand(node)
        self.nodes[name] = node
        return sp.IndexedBase(name)


def _collapse(expr: sp.Expr) -> sp.Expr:
    """Each sum over an index that a δ fixes, taken: Σ_m δ_ml X_mj = X_lj (sympy joins
    nested sums into one with several indices: each is taken in turn, innermost first)."""
    if isinstance(expr, sp.Sum):
        body = _collapse(expr.function)
        for limit in expr.limits:
            body = _collapse_one(body, *limit)
        return body
    if expr.args and not isinstance(expr, sp.Indexed):
        return expr.func(*(_collapse(a) for a in expr.args))
    return expr


def _collapse_one(body: sp.Expr, index: sp.Symbol, low, high) -> sp.Expr:
    if not any(index in d.args for d in body.atoms(sp.KroneckerDelta)):
        return sp.Sum(body, (index, low, high)) if index in body.free_symbols else \
            body * (high - low + 1)
    out = []
    for term in sp.Add.make_args(sp.expand(body)):
        delta = next((f for f in sp.Mul.make_args(term) if isinstance(f, sp.KroneckerDelta)
                      and index in f.args), None)
        if delta is not None:
            other = delta.args[1] if delta.args[0] == index else delta.args[0]
            out.append((term / delta).xreplace({index: other}))
        elif index not in term.free_symbols:
            out.append(term * (high - low + 1))
        else:
            out.append(sp.Sum(term, (index, low, high)))
    return sp.Add(*out)
