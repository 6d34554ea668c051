r"""Index notation: entry (i, j) of an expression, as a student writes it.

``IndexPrinter().entry(W @ X, "i", "j")`` gives ``\sum_{k} W_{ik} X_{kj}``.
Sums get fresh index letters; a 1×1 value carries no index, a column vector
only its row index and a row vector only its column index, so broadcasting
reads naturally (``Z_{ij} = \sum_k W_{ik} X_{kj} + b_{i}``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from .latex import LatexPrinter, dim_latex, latex_name, relation, subscripted
from .shapes import Dim, DimSum, dim_add
from .nodes import Apply, Const, Node, Ref
from .op import count
from .ops import OPS

_LETTERS = "klmpqrstuvw"


class IndexPrinter:
    def __init__(self, names: Mapping[str, str] | None = None,
                 reserved: Collection[str] = ()) -> None:
        self.names = dict(names or {})
        self.reserved = set(reserved)       # letters that already name something
        self.matrix = LatexPrinter(self.names)
        self.used: set[str] = set()

    def equation(self, name: str, node: Node) -> str:
        """``NAME_{ij} = ...`` for a step, with i, j (or fewer) as its shape needs."""
        self.used = {"i", "j"}
        target = self.indexed(Ref(name, "step", node.shape), "i", "j")
        return f"{target} = {self.entry(node, 'i', 'j')}"

    def fresh(self) -> str:
        """An index letter not in use: k, l, m, ..., then k_{1}, k_{2}, ..."""
        taken = self.used | self.reserved
        candidates = (*_LETTERS, *(f"k_{{{n}}}" for n in range(1, len(taken) + 2)))
        letter = next(c for c in candidates if c not in taken)
        self.used.add(letter)
        return letter

    def term(self, node: Node, i: str, j: str, prec: int) -> str:
        """One term of a sum: its summation indices are its own, so the next term
        may use the same letters (sum(A) + sum(B) both sum over k, l)."""
        outside = set(self.used)
        text = self.entry(node, i, j, prec)
        self.used = outside
        return text

    def indexed(self, node: Node, i: str, j: str) -> str:
        """A leaf (or a bracketed whole) with the indices its shape carries."""
        base = self._base(node)
        kept = [k for k, n in ((i, node.shape.rows), (j, node.shape.cols)) if n != 1]
        # indices that are letters run together (W_ij); sums are set apart (Z_{i, j + H})
        return subscripted(base, ",\\, ".join(kept) if any(len(k) > 1 for k in kept)
                           else "".join(kept))

    def entry(self, node: Node, i: str, j: str, prec: int = 0) -> str:
        text, own = self._entry(node, i, j)
        return f"\\left({text}\\right)" if own < prec else text

    def _entry(self, node: Node, i: str, j: str) -> tuple[str, int]:
        """(LaTeX, precedence): 1 sums, 2 products, 3 unary, 4 powers, 5 atoms."""
        if isinstance(node, Const):
            return self.matrix.doprint(node), 5
        if isinstance(node, Ref):
            number = node.kind in ("dim", "constant")
            return (self.matrix.doprint(node) if number else self.indexed(node, i, j)), 5
        op, args = node.op, node.args
        if OPS[op].boolean:
            return f"\\left[{relation(node, lambda x: self.entry(x, i, j))}\\right]", 5
        if op in ("add", "sub"):
            sign = " + " if op == "add" else " - "
            return self.term(args[0], i, j, 1) + sign + self.term(args[1], i, j, 2), 1
        if op == "mul":
            return self.entry(args[0], i, j, 2) + " " + self.entry(args[1], i, j, 2), 2
        if op == "div":
            return f"\\frac{{{self.entry(args[0], i, j)}}}{{{self.entry(args[1], i, j)}}}", 5
        if op == "pow":
            return f"{self.entry(args[0], i, j, 5)}^{{{self.entry(args[1], i, j)}}}", 4
        if op == "neg":
            return "-" + self.entry(args[0], i, j, 3), 3
        if op == "transpose":
            return self._entry(args[0], j, i)
        if op == "matmul":
            k = self.fresh()
            return f"\\sum_{{{k}}} {self.entry(args[0], i, k, 2)} {self.entry(args[1], k, j, 2)}", 1
        if op == "exp":
            return f"e^{{{self.entry(args[0], i, j)}}}", 4
        if op == "sqrt":
            return f"\\sqrt{{{self.entry(args[0], i, j)}}}", 5
        if op == "abs":
            return f"\\left|{self.entry(args[0], i, j)}\\right|", 5
        if op == "log1p":
            return f"\\log\\left(1 + {self.entry(args[0], i, j, 2)}\\right)", 5
        if OPS[op].latex and OPS[op].entrywise:
            # an element-wise function: the registry's name, applied to the entries
            entries = ", ".join(self.entry(a, i, j) for a in args)
            return f"{OPS[op].latex}\\left({entries}\\right)", 5
        if op == "diag":
            vector = args[0].shape.cols == 1 or args[0].shape.rows == 1
            return (f"\\delta_{{{i}{j}}} {self.entry(args[0], i, i, 2)}" if vector
                    else self.entry(args[0], i, i)), 2 if vector else 5
        if op == "slice":           # rows (columns) from a + 1 on: X_{i, j + a}; one: X_{i, a+1}
            span, x = node.axis, args[0]
            at = dim_latex(dim_add(span.start, 1)) if span.length == 1 else None
            shifted = lambda k: at or (k if span.start == 0 else f"{k} + {dim_latex(span.start)}")
            return (self.entry(x, shifted(i), j) if span.axis == 0 else
                    self.entry(x, i, shifted(j))), 5
        if op in ("take_along_axis", "take", "one_hot"):
            return self._by_label(node, i, j), 5
        if op in ("vec", "unvec", "kron"):
            return self._moved(node, i, j)
        if op in ("sum", "mean", "logsumexp", "softmax", "norm"):
            return self._reduction(node, i, j)
        if op == "trace":
            k = self.fresh()
            return f"\\sum_{{{k}}} {self.entry(args[0], k, k, 2)}", 1
        if op == "eye_like":
            return f"\\delta_{{{i}{j}}}", 5
        if op == "ones_like":
            return "1", 5
        if op == "zeros_like":
            return "0", 5
        # det, logdet, inv: matrix functions with no entry-wise formula of their own
        return self.indexed(node, i, j), 5

    def _by_label(self, node: Apply, i: str, j: str) -> str:
        """An entry picked by a label: labels count from 0, rows and columns from 1, so
        label y_j names row y_j + 1."""
        if node.op == "one_hot":        # a row of labels: column j is one-hot; a column: row i
            y = node.args[0]
            index = i if y.shape.rows == 1 else j
            return f"\\delta_{{{index},\\, {self.entry(y, i, j)} + 1}}"
        x, y = node.args
        if node.op == "take_along_axis":
            label = self.entry(y, i, j)
        else:           # take: the label of the output's row i (axis 0) or column j (axis 1)
            label = self.entry(y, i, i) if node.axis == 0 else self.entry(y, j, j)
        return self.indexed_at(x, label + " + 1", j) if node.axis == 0 else \
            self.indexed_at(x, i, label + " + 1")

    def _moved(self, node: Apply, i: str, j: str) -> tuple[str, int]:
        """An entry vec, unvec or kron moves, rows and columns counted from 1: vec(X)_{i}
        is X_{(i - 1) mod m + 1, ⌈i / m⌉} for X of m rows, unvec(v, X)_{ij} is
        v_{i + m (j - 1)}, and (A ⊗ B)_{ij} is A_{⌈i / p⌉, ⌈j / q⌉} B_{(i - 1) mod p + 1,
        (j - 1) mod q + 1} for B p×q."""
        x = node.args[0]
        if node.op == "vec":
            block, within = _split(i, x.shape.rows, x.shape.cols)
            return self._entry(x, within, block)
        if node.op == "unvec":
            m, n = node.shape.rows, node.shape.cols
            at = j if m == 1 else i if n == 1 else f"{i} + {_factor(m)} \\left({j} - 1\\right)"
            return self._entry(x, at, "1")
        b = node.args[1]
        (ai, bi), (aj, bj) = (_split(i, b.shape.rows, x.shape.rows),
                              _split(j, b.shape.cols, x.shape.cols))
        return f"{self.entry(x, ai, aj, 2)} {self.entry(b, bi, bj, 2)}", 2

    def indexed_at(self, node: Node, row: str, col: str) -> str:
        """Entry (row, col) of a matrix whose indices are expressions: X_{y_j + 1,\\, j}."""
        return subscripted(self._base(node), f"{row},\\, {col}")

    def _base(self, node: Node) -> str:
        """What indices attach to: a name, or a bracketed expression."""
        return self.names.get(node.name) or latex_name(node.name) if isinstance(node, Ref) \
            else f"\\left({self.matrix.doprint(node)}\\right)"

    def _reduction(self, node: Apply, i: str, j: str) -> tuple[str, int]:
        arg, axis = node.args[0], node.axis
        if axis is None:
            r, c = self.fresh(), self.fresh()
            over, inner = f"{r},{c}", self.entry(arg, r, c, 2)
        elif axis == 0:
            r = self.fresh()
            over, inner = r, self.entry(arg, r, j, 2)
        else:
            c = self.fresh()
            over, inner = c, self.entry(arg, i, c, 2)
        if node.op == "sum":
            return f"\\sum_{{{over}}} {inner}", 1
        if node.op == "norm":
            return f"\\sqrt{{\\sum_{{{over}}} {inner}^{{2}}}}", 5
        if node.op == "mean":
            n = self.matrix.doprint(count(arg, axis))
            return f"\\frac{{1}}{{{n}}} \\sum_{{{over}}} {inner}", 2
        exps = f"\\sum_{{{over}}} e^{{{inner}}}"
        if node.op == "logsumexp":
            return f"\\log {exps}", 3
        return f"\\frac{{e^{{{self.entry(arg, i, j)}}}}}{{{exps}}}", 5


def _split(k: str, n: Dim, blocks: Dim) -> tuple[str, str]:
    """Row (column) k of ``blocks`` blocks of n each, counted from 1, as (the block, the
    row within it): (⌈k / n⌉, (k - 1) mod n + 1)."""
    if blocks == 1:
        return "1", k
    if n == 1:
        return k, "1"
    grouped = k if " " not in k else f"\\left({k}\\right)"
    return (f"\\left\\lceil {grouped} / {_factor(n)} \\right\\rceil",
            f"\\left({k} - 1\\right) \\bmod {_factor(n)} + 1")


def _factor(d: Dim) -> str:
    """A dimension as a factor or a divisor: a sum or a product bracketed, (4H)."""
    return f"\\left({dim_latex(d)}\\right)" if isinstance(d, DimSum) else dim_latex(d)
