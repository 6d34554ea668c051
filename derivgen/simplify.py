"""Rewriting matrix expressions toward their textbook form.

Element-wise arithmetic (``+ - * / **``, unary functions, broadcasting) is a
commutative algebra entry by entry, so that part is handed to sympy: every
matrix-level subexpression (a product ``P @ Q``, a reduction, ``inv(X)``, an
input or a step) becomes an opaque commuting symbol, an *atom*, and sympy
cancels, factors and expands around them. Matrix-level rules run when an
atom is built:

- scalars move out of matrix products and reductions: ``(c P) @ Q = c (P @ Q)``;
- transposes move down to the leaves: ``(P @ Q)ᵀ = Qᵀ @ Pᵀ``, ``Xᵀ = X`` for a
  symmetric X, and back up for reading: ``Aᵀ @ Bᵀ = (B @ A)ᵀ``;
- a reduction distributes over a sum and uses what is known of its argument:
  each column of a one-hot or softmax matrix sums to 1;
- products with an identity or a 1×1 factor become plain products;
- terms ``P @ Q + R @ Q`` share their factor: ``(P + R) @ Q``;
- a slice of a join is the part it takes; labels, conditions and joins have rules
  of their own (:mod:`derivgen.simplify_selection`).

Of the candidate forms (as built, cancelled, factored, expanded, collected)
the one with the fewest nodes wins. Nothing here is trusted: every result is
verified against sympy's element-wise derivative afterwards. ``reasons``
records each assumption a rewrite used, for the report.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from .assumptions import SUMS_TO_ONE, SUMS_TO_ZERO, Reason, closure, powers_of, transposed
from .blocks import sliced_simply
from .forms import ShapeMismatch
from .nodes import Apply, Const, Node, Ref, chain, dim_node, make, walk
from .op import count
from .ops import OPS
from .simplify_selection import SelectionRules
from .shapes import SCALAR, Shape


def facts_of(problem) -> dict[str, frozenset[str]]:
    """What is known of each input and step: declared assumptions, with what
    they imply, and what every output of a step's top operator satisfies."""
    known: dict[str, frozenset[str]] = {}
    for name, inp in problem.inputs.items():
        known[name] = closure(inp.assume)
    for name, step in problem.steps.items():
        expr = step.expr
        if isinstance(expr, Ref):
            known[name] = known.get(expr.name, frozenset())
        elif isinstance(expr, Apply):
            known[name] = OPS[expr.op].facts(expr) | _centred(expr, problem.steps, known)
    return known


def _centred(expr: Apply, steps, known) -> frozenset[str]:
    """x - mean(x, axis=k) sums to zero along k, and so does such a matrix scaled
    by a factor that is constant along k (one value per row for k = 1)."""
    if expr.op == "sub":
        x, m = expr.args
        if isinstance(m, Ref) and m.name in steps:
            m = steps[m.name].expr
        if isinstance(m, Apply) and m.op == "mean" and m.axis is not None and m.args[0] == x:
            return frozenset({SUMS_TO_ZERO[m.axis]})
    if expr.op in ("mul", "div"):
        facts = set()
        for axis, fact in SUMS_TO_ZERO.items():
            for i, (x, factor) in enumerate((expr.args, expr.args[::-1])):
                if expr.op == "div" and i == 1:
                    continue                     # only the numerator may carry the fact
                flat = factor.shape.rows == 1 if axis == 0 else factor.shape.cols == 1
                if isinstance(x, Ref) and fact in known.get(x.name, ()) and flat:
                    facts.add(fact)
        return frozenset(facts)
    return frozenset()


def steps_of(problem) -> dict[str, Node]:
    """Each step's definition, for folding it back into the step's name."""
    return {name: step.expr for name, step in problem.steps.items()}


class Simplifier(SelectionRules):
    def __init__(self, facts: Mapping[str, frozenset[str]],
                 steps: Mapping[str, Node] | None = None) -> None:
        self.facts = facts
        self.steps = dict(steps or {})          # name -> definition, to fold back into names
        self._step_patterns: list[tuple[sp.Expr, sp.Symbol]] | None = None
        self.symbol_of: dict[Node, sp.Symbol] = {}
        self.node_of: dict[sp.Symbol, Node] = {}
        self.reasons: list[Reason] = []
        # the names whose entries' powers a property lowers (labels of 0/1 or ±1)
        self.labelled = {n for n, known in facts.items() if powers_of({n: known})}
        self.rank: dict[sp.Symbol, int] = {}     # atoms in the order the expression uses them
        self.done: dict[tuple[Node, Node], tuple[Node, tuple[str, ...]]] = {}

    # -- entry points ---------------------------------------------------------------
    def rewrite(self, node: Node, like: Node) -> tuple[Node, tuple[str, ...]]:
        """The simplest form of ``node`` shaped like ``like``, and the assumptions used.
        Where the rewriting meets shapes it cannot put back together (sympy reorders
        the factors of a product), ``node`` stays as it is: it is verified all the same."""
        self.reasons = []
        try:
            return self.simplify(node, like), tuple(self.reasons)
        except ShapeMismatch:
            self.rank = {}
            return node, ()

    def simplify(self, node: Node, like: Node | None = None) -> Node:
        """The simplest equal form of ``node``, shaped like ``like`` (default: node).
        The same expression (an argument met again, a rule's repeated upstream) is
        simplified once; the assumptions it used are noted again each time."""
        like = node if like is None else like
        if isinstance(node, Apply) and OPS[node.op].shape_only and node.shape == like.shape:
            return node                 # zeros (ones) shaped like X: nothing shorter
        if (node, like) in self.done:
            best, reasons = self.done[(node, like)]
            for reason in reasons:
                self.note(reason)
            return best
        outer_rank, self.rank = self.rank, {}
        outer_reasons, self.reasons = self.reasons, []
        expr = self.lower(self.to_sympy(node))
        rewritten = [x for x in (self.pick(expr), self.join_blocks(expr)) if x != expr]
        best = None
        best_expr = None
        for candidate in self.candidates(expr) + [c for x in rewritten for c in self.candidates(x)]:
            try:
                form = tidy(fit(self.from_sympy(candidate), like))
            except Exception:       # a form whose shapes do not fit our broadcasting rules
                continue
            if best is None or cost(form) < cost(best):
                best, best_expr = form, candidate
        if best_expr is not None:
            try:
                folded = tidy(fit(self.from_sympy(self.fold(best_expr)), like))
                if cost(folded) < cost(best):
                    best = folded
            except Exception:
                pass
        best = best if best is not None else node
        self.done[(node, like)] = best, tuple(self.reasons)
        self.rank, inner_reasons, self.reasons = outer_rank, self.reasons, outer_reasons
        for reason in inner_reasons:
            self.note(reason)
        return best

    def facts_of(self, node: Node) -> frozenset[str]:
        """What is known of a name (its facts), of an operator's output (the registry's),
        of a transpose (its argument's, columns for rows)."""
        if isinstance(node, Ref):
            return self.facts.get(node.name, frozenset())
        if isinstance(node, Apply) and node.op == "transpose":
            return frozenset(map(transposed, self.facts_of(node.args[0])))
        return closure(OPS[node.op].facts(node)) if isinstance(node, Apply) else frozenset()

    def candidates(self, expr: sp.Expr) -> list[sp.Expr]:
        forms = [expr, sp.factor_terms(expr), sp.cancel(expr)]
        if sp.count_ops(expr) < 80:
            forms += [sp.factor(expr), sp.expand(expr), sp.factor_terms(sp.expand(expr))]
        forms += [self.collect_products(f) for f in forms]
        # f(x) written as a + b f(−x) (1 − σ(−x) is σ(x)): whichever reads shorter
        flips = {f: a + b * f.func(-f.args[0]) for f in expr.atoms(sp.Function)
                 if (a_b := _reflection(f)) for a, b in [a_b]}
        if flips:
            forms.append(sp.expand(expr.xreplace(flips)))
        return forms

    def fold(self, expr: sp.Expr) -> sp.Expr:
        """Write known things by their names: a step's definition as the step,
        sum(x, axis) / (entries summed) as mean(x, axis)."""
        for symbol in sorted(expr.free_symbols, key=sp.default_sort_key):
            node = self.node_of.get(symbol)
            if isinstance(node, Apply) and node.op == "sum" and node.axis is not None:
                mean = make("mean", *node.args, axis=node.axis)
                expr = expr.subs(symbol / self.to_sympy(count(node.args[0], node.axis)),
                                 self.atom(mean))
        for pattern, name in self.step_patterns():
            if pattern.free_symbols <= expr.free_symbols:
                expr = expr.subs(pattern, name)
        return expr

    def step_patterns(self) -> list[tuple[sp.Expr, sp.Symbol]]:
        """Each step's definition in the algebra, latest step first."""
        if self._step_patterns is None:
            self._step_patterns = []            # while they are built, nothing is folded
            saved, self.rank = self.rank, {}
            patterns = [(self.to_sympy(node), self.atom(Ref(name, "step", node.shape)))
                        for name, node in reversed(self.steps.items())]
            self.rank, self._step_patterns = saved, patterns
        return self._step_patterns

    def note(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    # -- nodes to sympy ------------------------------------------------------------
    def atom(self, node: Node) -> sp.Symbol:
        if node not in self.symbol_of:
            if isinstance(node, Ref) and node.kind in ("dim", "constant"):
                symbol = sp.Symbol(node.name, positive=True)
            else:
                positive = isinstance(node, Ref) and "positive" in self.facts.get(node.name, ())
                symbol = sp.Dummy(f"a{len(self.symbol_of)}", real=True, positive=positive or None)
            self.symbol_of[node] = symbol
            self.node_of[symbol] = node
        symbol = self.symbol_of[node]
        self.rank.setdefault(symbol, len(self.rank))
        return symbol

    def to_sympy(self, node: Node, transposed: bool = False) -> sp.Expr:
        """The element-wise algebra of ``node`` (of its transpose, if ``transposed``)."""
        if isinstance(node, Const):
            return sp.Rational(repr(node.value))          # 0.1 is 1/10, as written
        if isinstance(node, Ref):
            if not transposed or node.shape.is_scalar:
                return self.atom(node)
            if "symmetric" in self.facts.get(node.name, ()):
                self.note(Reason(node, "symmetric"))
                return self.atom(node)
            return self.atom(make("transpose", node))
        op, args = node.op, node.args
        if op == "transpose":
            return self.to_sympy(args[0], not transposed)
        if op in ("add", "sub", "mul", "div", "pow"):
            a, b = (self.to_sympy(x, transposed) for x in args)
            return {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b, "pow": a ** b}[op]
        if op == "neg":
            return -self.to_sympy(args[0], transposed)
        if op == "ones_like":
            return sp.Integer(1)
        if op == "zeros_like":
            return sp.Integer(0)
        if op == "where":           # c a + (1 − c) b, for a condition c of 1 or 0
            c, a, b = (self.to_sympy(x, transposed) for x in args)
            return c * a + (1 - c) * b
        if OPS[op].scalar:         # an element-wise function: known algebra, or f(x)
            f = OPS[op].scalar if OPS[op].algebra else sp.Function(op)
            return f(self.to_sympy(args[0], transposed))
        return self.matrix_level(node, transposed)

    # -- matrix-level rules ------------------------------------------------------------
    def matrix_level(self, node: Apply, transposed: bool) -> sp.Expr:
        op, args, axis = node.op, node.args, node.axis
        if node.shape.is_scalar:
            transposed = False
        if op == "matmul":
            a, b = args
            return self.matmul(b, a, True) if transposed else self.matmul(a, b, False)
        if op in ("sum", "mean"):
            flip = {None: None, 0: 1, 1: 0}[axis] if transposed else axis
            arg = make("transpose", args[0]) if transposed else args[0]
            total = self.reduce(arg, flip)
            return total / self.to_sympy(count(arg, flip)) if op == "mean" else total
        if op in ("softmax", "logsumexp") and transposed:
            return self.to_sympy(make(op, make("transpose", args[0]), axis=1 - axis))
        if op == "eye_like":
            return self.atom(make(op, args[0]))
        if op == "slice":           # the part of a join it takes, a slice of what x slices
            shorter = sliced_simply(self.simplify(args[0]), axis)
            if shorter is not None:
                return self.to_sympy(shorter, transposed)
        if OPS[op].boolean and not OPS[op].conditions:
            known = self.truth_of_binary(node)
            if known is not None:
                return known
        # conditions stay as written: [|r| <= delta], not where(|r| <= delta, 1, 0)
        inner = tuple(a if n in OPS[op].conditions else self.simplify(a)
                      for n, a in enumerate(args))
        built = Apply(op, inner, node.shape, axis)
        if transposed and OPS[op].symmetric and node.shape.is_square:     # diag(w)ᵀ = diag(w)
            return self.atom(built)
        if transposed:
            symmetric = op == "inv" and isinstance(inner[0], Ref) and \
                "symmetric" in self.facts.get(inner[0].name, ())
            if symmetric:
                self.note(Reason(inner[0], "symmetric"))
            return self.atom(built if symmetric else make("transpose", built))
        return self.atom(built)

    def split_scalar(self, node: Node) -> tuple[sp.Expr, Node]:
        """``node`` as (scalar factor, matrix rest), with the rest shaped like node."""
        scalar, rest = self.split_scalar_expr(sp.factor_terms(self.to_sympy(node)))
        return scalar, fit(self.from_sympy(rest), node)

    def matmul(self, a: Node, b: Node, transpose_both: bool) -> sp.Expr:
        if transpose_both:
            a, b = make("transpose", a), make("transpose", b)
        ca, a = self.split_scalar(a)
        cb, b = self.split_scalar(b)
        a, b = self.as_transpose_if_shorter(a), self.as_transpose_if_shorter(b)
        scale = ca * cb
        if isinstance(a, Apply) and a.op == "eye_like":
            return scale * self.to_sympy(b)
        if isinstance(b, Apply) and b.op == "eye_like":
            return scale * self.to_sympy(a)
        if a.shape.is_scalar or b.shape.is_scalar:      # (1×1)(1×n) or (n×1)(1×1)
            return scale * self.to_sympy(a) * self.to_sympy(b)
        return scale * self.atom(make("matmul", a, b))

    def as_transpose_if_shorter(self, node: Node) -> Node:
        """``node`` or ``(node.T simplified).T``, whichever reads shorter: K @ dSᵀ
        rather than K @ (a transpose pushed into every leaf of dS)."""
        if node.shape.is_scalar or not any(_is_transpose(n) for n in walk(node)):
            return node
        flipped = tidy(make("transpose", self.simplify(make("transpose", node))))
        return flipped if cost(flipped) < cost(node) else node

    def reduce(self, arg: Node, axis: int | None) -> sp.Expr:
        """sum(arg, axis), distributed over the terms of arg where that lets a known
        sum replace a written one; otherwise the sum of arg, its constants outside."""
        expr = self.fold(self.to_sympy(arg))
        terms = sp.Add.make_args(self.pick(sp.expand(expr)))
        total, fired = sp.Integer(0), False
        for term in terms:
            scalar, rest = self.split_scalar_expr(term, along=axis)
            known = self.known_sum(rest, arg.shape, axis)
            fired |= known is not None
            total += scalar * (known if known is not None else
                               self.atom(make("sum", fit(self.from_sympy(rest), arg), axis=axis)))
        if fired:
            return total
        scalar, rest = self.split_scalar_expr(sp.factor_terms(expr), along=axis)
        return scalar * self.atom(make("sum", fit(self.from_sympy(rest), arg), axis=axis))

    def split_scalar_expr(self, term: sp.Expr, along: int | None = None) -> tuple[sp.Expr, sp.Expr]:
        """A product as (its factors constant along ``along``, the rest): with no axis
        the 1×1 factors; along the rows (axis 0) those with one row; along the columns,
        those with one column. A sum along that axis leaves them as they are."""
        def constant(s: sp.Symbol) -> bool:
            shape = self.node_of[s].shape
            return {None: shape.is_scalar, 0: shape.rows == 1, 1: shape.cols == 1}[along]
        scalar, rest = [], []
        for factor in sp.Mul.make_args(term):
            is_scalar = factor.is_number or all(
                constant(s) for s in factor.free_symbols if s in self.node_of)
            (scalar if is_scalar else rest).append(factor)
        return sp.Mul(*scalar), sp.Mul(*rest)

    def known_sum(self, rest: sp.Expr, shape: Shape, axis: int | None) -> sp.Expr | None:
        """The sum over ``axis`` of ``rest`` (stretched to ``shape``) when it is known
        without writing a sum: a constant, or a matrix whose columns/rows sum to 1."""
        try:
            part = self.from_sympy(rest)
        except (ValueError, KeyError, ShapeMismatch):   # no form our broadcasting allows
            return None
        # a factor stretched along the summed axis is added up as many times as it is stretched
        rows = part.shape.rows == 1 and shape.rows != 1
        cols = part.shape.cols == 1 and shape.cols != 1
        times = {0: (rows, False), 1: (False, cols), None: (rows, cols)}[axis]
        if any(times):
            factor = sp.Integer(1)
            if times[0]:
                factor *= self.to_sympy(dim_node(shape.rows))
            if times[1]:
                factor *= self.to_sympy(dim_node(shape.cols))
            unstretched = part.shape.is_scalar or axis is not None
            return factor * (rest if unstretched else self.atom(make("sum", part)))
        node = self.node_of.get(rest) if isinstance(rest, sp.Symbol) else None
        if node is None:
            return None
        facts = self.facts_of(node)
        for along, fact in SUMS_TO_ZERO.items():
            if fact in facts and axis in (along, None):
                self.note(Reason(node, fact))
                return sp.Integer(0)
        for along, fact in SUMS_TO_ONE.items():
            if fact in facts and axis in (along, None):
                self.note(Reason(node, fact))
                # summing each column of ones gives 1 per column; all of them, one per column
                return sp.Integer(1) if axis == along else self.to_sympy(
                    dim_node(node.shape.cols if along == 0 else node.shape.rows))
        return None

    def collect_products(self, expr: sp.Expr) -> sp.Expr:
        """Terms c₁ P₁ @ Q + c₂ P₂ @ Q (scalar cᵢ) as (c₁ P₁ + c₂ P₂) @ Q; likewise on the left."""
        terms = sp.Add.make_args(expr)
        for side in (1, 0):
            groups: dict[Node, list[tuple[sp.Expr, Node]]] = {}
            others = []
            for term in terms:
                scalar, rest = self.split_scalar_expr(term)
                node = self.node_of.get(rest) if isinstance(rest, sp.Symbol) else None
                if isinstance(node, Apply) and node.op == "matmul":
                    groups.setdefault(node.args[side], []).append((scalar, node.args[1 - side]))
                else:
                    others.append(term)
            if all(len(g) < 2 for g in groups.values()):
                continue
            total = sp.Add(*others)
            for shared, factors in groups.items():
                other = self.from_sympy(sp.Add(*(c * self.to_sympy(p) for c, p in factors)))
                other = fit(other, factors[0][1])
                pair = (shared, other) if side == 0 else (other, shared)
                total += self.atom(make("matmul", *pair))
            return total
        return expr

    # -- sympy to nodes ----------------------------------------------------------------
    def from_sympy(self, expr: sp.Expr) -> Node:
        condition = self.condition_in(expr)
        if condition is not None:
            return self.where(expr, condition)
        if isinstance(expr, sp.Symbol):
            return self.node_of[expr]
        if expr.is_Number:
            return _number(expr)
        if isinstance(expr, sp.Add):
            terms = sorted(expr.args, key=self.order)
            out = self.from_sympy(terms[0])
            for term in terms[1:]:
                negative = term.could_extract_minus_sign()
                out = make("sub" if negative else "add", out, self.from_sympy(-term if negative else term))
            return out
        if isinstance(expr, sp.Mul):
            return self.product(expr)
        if isinstance(expr, sp.Pow):
            base, exponent = expr.args
            if exponent == sp.Rational(1, 2):
                return make("sqrt", self.from_sympy(base))
            if exponent.is_negative:
                return make("div", Const(1), self.from_sympy(base ** -exponent))
            return make("pow", self.from_sympy(base), self.from_sympy(exponent))
        if isinstance(expr, sp.exp):
            return make("exp", self.from_sympy(expr.args[0]))
        if isinstance(expr, sp.log):
            return make("log", self.from_sympy(expr.args[0]))
        if isinstance(expr, sp.Function) and getattr(OPS.get(expr.func.__name__), "scalar", None):
            return make(expr.func.__name__, self.from_sympy(expr.args[0]))
        raise ValueError(f"no matrix form for {expr}")

    def product(self, expr: sp.Mul) -> Node:
        """c · Π numerator / Π denominator, written -x * y / (z * w) for a negative c."""
        coeff, factors = expr.as_coeff_mul()
        p, q = sp.fraction(abs(coeff))
        num = [f for f in factors if not (f.is_Pow and f.exp.is_negative)]
        den = [1 / f for f in factors if f.is_Pow and f.exp.is_negative]
        num_nodes = ([Const(int(p))] if p != 1 else []) + [   # a scalar leads: δ sign(r)
            self.from_sympy(f) for f in sorted(num, key=lambda f: (not self.is_scalar(f),
                                                                  self.order(f)))]
        den_nodes = ([Const(int(q))] if q != 1 else []) + [
            self.from_sympy(f) for f in sorted(den, key=self.order)]
        num_nodes = num_nodes or [Const(1)]
        if coeff < 0:
            num_nodes[0] = make("neg", num_nodes[0])
        out = chain("mul", num_nodes)
        return make("div", out, chain("mul", den_nodes)) if den_nodes else out

    def is_scalar(self, expr: sp.Expr) -> bool:
        """Whether every atom of ``expr`` is 1×1 (a dim, a scalar input)."""
        return all(s in self.node_of and self.node_of[s].shape.is_scalar
                   for s in expr.free_symbols)

    def order(self, expr: sp.Expr) -> tuple:
        """Sort key: positive terms first, then by where their first atom stood in the
        expression being simplified, so that the result reads as it was written."""
        first = min((self.rank.get(s, len(self.rank)) for s in expr.free_symbols), default=10**6)
        return (expr.could_extract_minus_sign(), first, sp.default_sort_key(expr))


# -- node helpers ----------------------------------------------------------------------

def _reflection(f: sp.Expr) -> tuple[int, int] | None:
    """(a, b) with f(−x) = a + b f(x), for a function the algebra holds as unknown f(x)."""
    op = OPS.get(type(f).__name__)
    return op.reflection if op is not None and not op.algebra else None


def _number(value: sp.Number) -> Node:
    if value.is_Integer:
        return Const(int(value)) if value >= 0 else make("neg", Const(int(-value)))
    if value.is_Rational:
        p, q = int(value.p), int(value.q)
        frac = make("div", Const(abs(p)), Const(q))
        return frac if p >= 0 else make("neg", frac)
    return Const(float(value)) if value >= 0 else make("neg", Const(float(-value)))


def fit(node: Node, like: Node) -> Node:
    """``node`` (whose shape broadcasts to like's) given exactly the shape of ``like``."""
    if node.shape == like.shape:
        return node
    if like.shape == SCALAR:
        raise ValueError("cannot shrink to a scalar")
    return make("mul", node, make("ones_like", like))


def cost(node: Node) -> int:
    """How long a form is to read: nodes, with a transpose or ones_like costing more."""
    extra = {"transpose": 1, "ones_like": 3}
    return sum(1 + (extra.get(n.op, 0) if isinstance(n, Apply) else 0) for n in walk(node))


def tidy(node: Node) -> Node:
    """Presentation, bottom-up: matrix products as left-to-right chains, and a
    transpose taken once outside rather than on every factor or term:
    Aᵀ @ Bᵀ = (B @ A)ᵀ, Aᵀ + Bᵀ = (A + B)ᵀ."""
    if not isinstance(node, Apply):
        return node
    if node.op == "matmul":           # flatten the whole chain before tidying its factors
        factors = [tidy(f) for f in _chain(node)]
        if all(_is_transpose(f) for f in factors):
            # the untransposed factors may be products themselves: flatten them too
            return make("transpose", tidy(chain("matmul", [f.args[0] for f in reversed(factors)])))
        return chain("matmul", factors)
    node = Apply(node.op, tuple(tidy(a) for a in node.args), node.shape, node.axis)
    if node.op in ("add", "sub", "mul", "div"):
        matrices = [a for a in node.args if not a.shape.is_scalar]
        if len(matrices) == 2 and all(_is_transpose(a) for a in matrices):
            inner = [a.args[0] if _is_transpose(a) else a for a in node.args]
            return make("transpose", make(node.op, *inner))
    return node


def _is_transpose(node: Node) -> bool:
    return isinstance(node, Apply) and node.op == "transpose"


def _chain(node: Node) -> list[Node]:
    if isinstance(node, Apply) and node.op == "matmul":
        return _chain(node.args[0]) + _chain(node.args[1])
    return [node]
