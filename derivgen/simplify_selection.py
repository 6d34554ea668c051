"""The simplifier's rules for the operators that select (:mod:`derivgen.selection`):
labels, conditions and blocks. A mixin of :class:`derivgen.simplify.Simplifier`, whose
atoms (``node_of``), notes and conversions to and from sympy these methods use.

- powers of labels lowered: y ⊙ y = y for 0/1 entries (one-hot ones too), 1 for ±1;
- onehot(y) ⊙ X = onehot(y) ⊙ pick(X, y): each column keeps only the entry its label
  picks, so P ⊙ onehot(y) ⊘ pick(P, y) is onehot(y) (CS231n's −log P[y]);
- a comparison of a 0/1 matrix with a number is the matrix: [onehot(y) = 1] = onehot(y);
- an expression holding a condition c (1 or 0) is where(c, its value at 1, at 0);
- joins of one layout add up block by block ([A 0] + [0 B] = [A B]).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import sympy as sp

from .assumptions import Reason, lower_powers, powers_of
from .blocks import added, parts
from .nodes import Apply, Const, Node, Ref, make
from .ops import OPS
from .selection import concat


class SelectionRules:
    def lower(self, expr: sp.Expr) -> sp.Expr:
        """Powers of a matrix whose entries are 0 or 1 (y ⊙ y = y, one-hot labels too) or
        ±1 (y ⊙ y = 1) lowered, each property used noted."""
        held = ((a, self.node_of[a]) for a in expr.free_symbols if a in self.node_of)
        powers = powers_of({atom: self.facts_of(node) for atom, node in held
                            if isinstance(node, Ref) and node.name in self.labelled
                            or isinstance(node, Apply)})
        lowered, bases = lower_powers(expr, powers)
        for base in bases:
            self.note(Reason(self.node_of[base], powers[base].name))
        return lowered

    def pick(self, expr: sp.Expr) -> sp.Expr:
        """Where a term is a product with onehot(y), each of its other factors needs only
        the entries the labels pick: X ⊙ onehot(y) = pick(X, y) ⊙ onehot(y), a row (column)
        spread back over the one-hot columns (rows). So P ⊙ onehot(y) ⊘ pick(P, y) is
        onehot(y), and a column sum of onehot(y) ⊙ X is pick(X, y)."""
        hots = {a: hot for a, n in self.node_of.items()
                if a in expr.free_symbols and (hot := _one_hot(n)) is not None}
        if not hots:
            return expr
        terms = []
        for term in sp.Add.make_args(sp.expand(expr)):
            factors = {f.base if f.is_Pow else f for f in sp.Mul.make_args(term)}
            for hot, (labels, axis) in hots.items():
                if hot not in factors:
                    continue
                node = self.node_of[hot]
                full = {a for a in term.free_symbols - {hot}
                        if a in self.node_of and self.node_of[a].shape == node.shape}
                if full:
                    self.note(Reason(node, ("one_hot_columns", "one_hot_rows")[axis]))
                term = term.xreplace({a: self.atom(make("take_along_axis", self.node_of[a], labels,
                                                        axis=axis)) for a in full})
            terms.append(term)
        return sp.Add(*terms)

    def truth_of_binary(self, node: Apply) -> sp.Expr | None:
        """A comparison of a matrix X of 0s and 1s with a number, written in X itself:
        [X = 1] is X, [X = 0] is 1 − X (its value at X = 0, plus X times the change)."""
        x, number = node.args
        if isinstance(x, Const):
            x, number = number, x
        if not isinstance(number, Const) or "binary" not in self.facts_of(x):
            return None
        self.note(Reason(x, "binary"))
        def value(v: int) -> float:             # the comparison where X is v
            args = [np.full((1, 1), v if a is x else number.value) for a in node.args]
            return float(OPS[node.op].numpy(args, None)[0, 0])
        at = [value(0), value(1)]
        return sp.Integer(round(at[0])) + sp.Integer(round(at[1] - at[0])) * self.to_sympy(x)

    def condition_in(self, expr: sp.Expr) -> sp.Symbol | None:
        """The first (as written) condition, a truth value of 1 or 0, that ``expr`` holds."""
        held = [s for s in expr.free_symbols if s in self.node_of and
                isinstance(self.node_of[s], Apply) and OPS[self.node_of[s].op].boolean]
        return min(held, key=lambda s: self.rank.get(s, len(self.rank)), default=None)

    def where(self, expr: sp.Expr, c: sp.Symbol) -> Node:
        """An expression holding a condition c, which is 1 or 0, as where(c, its value
        at c = 1, its value at c = 0): the language's only use of a condition."""
        held, otherwise = (sp.factor_terms(expr.xreplace({c: v})) for v in (1, 0))
        if held == otherwise:
            return self.from_sympy(held)
        # a factor both pieces share stays outside: where(c, r, δ sign(r)) / N; beside 0,
        # the other piece's scalar factors: where(c, 0, sign(r)) / N
        shared = Counter(sp.Mul.make_args(held)) & Counter(sp.Mul.make_args(otherwise))
        if 0 in (held, otherwise):
            scalar, _ = self.split_scalar_expr(held + otherwise)
            shared = Counter(sp.Mul.make_args(scalar))
        common = sp.Mul(*shared.elements())
        chosen = make("where", self.node_of[c], self.from_sympy(held / common),
                      self.from_sympy(otherwise / common))
        return chosen if common == 1 else self.from_sympy(common * self.atom(chosen))

    def join_blocks(self, expr: sp.Expr) -> sp.Expr:
        """Joins of the same layout added block by block: the gradient of a matrix
        sliced into parts (an LSTM's gates) as the parts' gradients side by side."""
        terms = sp.Add.make_args(expr)
        joins = [t for t in terms if isinstance(self.node_of.get(t), Apply)
                 and self.node_of[t].op == "concat"]
        for axis in (0, 1):
            same = [t for t in joins if self.node_of[t].axis.axis == axis]
            merged = added([self.node_of[t] for t in same], axis) if len(same) > 1 else None
            if merged is not None:      # each block's sum simplified on its own
                pieces = [self.simplify(b.part) for b in parts(merged, axis)]
                return expr - sp.Add(*same) + self.atom(concat(pieces, axis))
        return expr


def _one_hot(node: Node):
    """(labels, the axis they pick along) for onehot(y), and for the transpose of one
    label's one-hot column (a row); else None."""
    if isinstance(node, Apply) and node.op == "one_hot":
        labels = node.args[0]
        return labels, 0 if labels.shape.rows == 1 else 1
    if isinstance(node, Apply) and node.op == "transpose" and _one_hot(node.args[0]) and \
            node.args[0].args[0].shape.is_scalar:
        return node.args[0].args[0], 1
    return None
