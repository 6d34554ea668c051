"""The element-wise statements, typeset at derive time.

What the report shows entry by entry comes from sympy: each matrix written out
at the ``[dims]`` sizes, each step's definition, the proven index form of a
rule, and a rule's worked entry: ∂out/∂in_{1,1} as a matrix in the step's named
entries (seed 000's pattern), its overlay with the upstream gradient written
out and the fact that step uses (seed 001), each proven by the prover before it
is kept. They are turned into LaTeX here, while the engine's sympy objects
exist, so that a :class:`~derivgen.derivation.Derivation` holds only strings
and plain nodes and the report layer never calls back into the engine.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp
from sympy.printing.latex import LatexPrinter as LatexPrinter_

from .backward import Backward, Link
from .elementwise import Elementwise
from .latex import LINE_LENGTH, LatexPrinter, aligned, bmatrix, subscripted
from .nodes import Apply, Const, Node, Ref, walk
from .op import at_sizes, local_partial, partial_matrix
from .ops import OPS
from .problem import Problem
from .prove import Composed, Prover
from .shapes import Named, Shape, dim_size


@dataclass(frozen=True)
class Views:
    elementwise: tuple[dict, ...]     # each input and step at the [dims] sizes
    links: tuple[dict, ...]       # per Link of the pass: index form, pattern, overlay, facts
    end_to_end: tuple[dict, ...]  # per gradient: its first entry against sympy's derivative


def views(problem: Problem, prover: Prover, back: Backward, printer: LatexPrinter,
          composed: Composed) -> Views:
    ew, name = prover.ew, printer.name
    entries = Entries(ew, name)
    links = tuple(_index_form(problem, link, printer)
                  | _pattern(problem, prover, link, entries, printer)
                  for link in back.order if isinstance(link, Link))
    return Views(tuple(_elementwise(problem, ew, name, entries)), links,
                 tuple(_end_to_end(problem, prover, composed, entries, name, n)
                       for n in problem.gradients))


class SympyLatex(LatexPrinter_):
    """sympy's LaTeX, with the unit step written as the report's notation table
    defines it (step(x), not θ(x, 0))."""

    def _print_Heaviside(self, expr, exp=None):
        text = f"\\operatorname{{step}}\\left({self._print(expr.args[0])}\\right)"
        return f"{text}^{{{exp}}}" if exp else text

    def _print_Sum(self, expr):
        """A sum over an index's whole range, as index notation writes it: Σ_m x_m."""
        index = self._print(expr.limits[0][0])
        return f"\\sum_{{{index}}} {self.parenthesize(expr.function, 50)}"


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
        return SympyLatex({"symbol_names": self.names}).doprint(expr)

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
        if definition.shape == (1, 1):      # a scalar step: its value, not [L_{1,1}] first
            out.append({"name": name(n), "matrix": "",
                        "entry": entries.equation(name(n), definition[0, 0])})
            continue
        out.append({"name": name(n),
                    "matrix": entries.matrix(definition if short else ew.symbols[n]),
                    "entry": "" if short else first})
    return out


def _index_form(problem: Problem, rule: Link, printer: LatexPrinter) -> dict[str, str]:
    """The registry's ∂out_ij/∂in_kl for this link (proven by derivgen.prove), in LaTeX;
    for an entry-wise operator also ∂out_ij/∂in_ij, its one local derivative, and
    whether that is a constant."""
    op = OPS[rule.op]
    if op.index[rule.arg] is None:
        return {"index": "", "local": "", "constant": False}
    i, j, k, l = sp.symbols("i j k l")
    out_name = printer.operand(rule.output)
    nodes = {out_name: rule.output} | {printer.operand(a): a for a in rule.node.args}
    bases = [_Number(a.value) if isinstance(a, Const) else
             _Label(printer.operand(a)) if a.shape.labels is not None else
             sp.IndexedBase(printer.operand(a)) for a in rule.node.args]
    expr = local_partial(op, rule.arg, sp.IndexedBase(out_name), bases, i, j, k, l,
                         at_sizes(rule.node.axis, _dim_symbols(printer)), _sizes(rule.target.shape, printer))

    def latex(e: sp.Expr) -> str:
        # an entry of a name that is not a node (the inverse in det's partial) is shaped
        # like the operator's square argument
        e = e.replace(lambda e: isinstance(e, sp.Indexed),
                      lambda e: indexed_entry(e, nodes.get(e.base.label.name, rule.node.args[0])))
        written = {x: x.name for x in e.free_symbols if x.name.startswith("\\left(")}
        return SympyLatex({"symbol_names": written}).doprint(e)
    local = expr.subs({k: i, l: j})
    return {"index": latex(expr), "local": latex(local) if op.entrywise else "",
            # the same number for every entry (1, −1, 1/N): the rule only scales G
            "constant": op.entrywise and not local.has(sp.Indexed)}


class _Number:
    """A number in an index form: every entry is the number (2 a^{2-1} is 2 a, not
    (2) a^{(2)-1})."""

    def __init__(self, value: float) -> None:
        self.value = sp.Rational(repr(value))       # 0.5 is 1/2, as written

    def __getitem__(self, index) -> sp.Rational:
        return self.value


class _Label:
    """Labels in an index form: label y_j names row (or column) y_j + 1, as labels
    count from 0 and rows from 1 (the proofs, counting rows from 0, read y_j itself)."""

    def __init__(self, name: str) -> None:
        self.base = sp.IndexedBase(name)

    def __getitem__(self, index) -> sp.Expr:
        return self.base[index] + 1


def _dim_symbols(printer: LatexPrinter) -> Named:
    """Each dim as the symbol the index form writes it with."""
    return Named(lambda name: sp.Symbol(printer.name(name)))


def _sizes(shape: Shape, printer: LatexPrinter) -> tuple:
    """A shape's sizes as the index form writes them: dims by name (δ_jl / N, not / 3)."""
    return tuple(dim_size(d, _dim_symbols(printer)) for d in (shape.rows, shape.cols))


def indexed_entry(e: sp.Indexed, node: Node) -> sp.Expr:
    """An entry written with the indices its shape has: a, a_i, a_j or a_ij ((u_o)_k for
    a name that has a subscript of its own)."""
    kept = [x for x, n in zip(e.indices, (node.shape.rows, node.shape.cols)) if n != 1]
    name = e.base.label.name
    if not kept:
        return sp.Symbol(name)
    if "_" not in name or name.startswith("\\left("):
        return e.base[tuple(kept)]
    # sympy would read the name's own subscript as part of the name: written out here
    return sp.Symbol(subscripted(name, ",".join(sp.latex(x) for x in kept)))


def named_entries(prover: Prover, definitions: list, e: sp.Expr) -> sp.Expr:
    """``e`` with entries written by name where their definitions appear (a step's:
    A_{1,1}(1 − A_{1,1}), not e^{S_{1,1}} / Σ e^{S} − e^{2S_{1,1}} / (Σ e^{S})²), when
    that is shorter and proven equal; ``definitions`` holds (definition, name, the
    symbols of the definition's numerator)."""
    if e == 0:
        return e
    # a definition can only be found where its numerator's symbols are (e^{S_21} for A_21)
    symbols = sp.fraction(sp.together(e))[0].free_symbols
    fold = {definition: name for definition, name, made_of in definitions
            if made_of <= symbols}
    if not fold:
        return e
    named = e.subs(fold)
    shorter = named != e and sp.count_ops(named) < sp.count_ops(e)
    written = named.xreplace({name: definition for definition, name in fold.items()})
    return named if shorter and prover.is_zero(written - e) else e


def _definitions(prover: Prover, step: str) -> list[tuple[sp.Expr, sp.Symbol, set]]:
    """Each entry of a step: its definition, its name, its numerator's symbols."""
    ew = prover.ew
    definition, names = ew.definitions[step], ew.symbols[step]
    return [(d, n, sp.fraction(d)[0].free_symbols) for d, n in zip(definition, names)
            if d.free_symbols]


def _one_entry(prover: Prover, rule: Link, definitions: list) -> sp.Matrix:
    """∂out/∂target_{1,1} entry by entry: the registry's index form at (k, l) = (1, 1),
    in the step's named entries where the rule is the whole step (A_{1,1}(1 − A_{1,1}),
    −A_{1,1} A_{2,1}, as seed 000 writes it), where proven equal to sympy's own
    partials; else sympy's partials, in named entries where that is shorter."""
    ew = prover.ew
    first = ew.symbols[rule.target.name][0, 0]
    whole = isinstance(rule.output, Ref)
    out = ew.symbols[rule.step] if whole else prover.value(rule.output)
    truth = ew.partial_by_first_entry(rule.step, rule.target.name) if whole else \
        out.applyfunc(lambda e: sp.diff(e, first))
    registry = _registry_partial(prover, rule, out, [prover.value(a) for a in rule.node.args],
                                 truth)
    return registry if registry is not None else \
        truth.applyfunc(lambda e: named_entries(prover, definitions, e))


def _registry_partial(prover: Prover, rule: Link, out: sp.Matrix, args: list[sp.Matrix],
                      truth: sp.Matrix, written: dict | None = None) -> sp.Matrix | None:
    """∂out/∂arg_{1,1} from the registry's index form, with ``out`` and ``args`` the
    matrices its entries are read from, where proven equal entry by entry to sympy's
    partials ``truth`` (``out``'s entries replaced by ``written`` for the proof, when
    they are names); else None (no index form, one holding entries of a matrix with no
    name such as an inverse, or one not proven)."""
    op = OPS[rule.op]
    if op.index[rule.arg] is None:
        return None
    matrices = {"_out": out} | {f"_x{n}": m for n, m in enumerate(args)}
    try:
        registry = partial_matrix(op, rule.arg, at_sizes(rule.node.axis, prover.problem.dims),
                                  matrices, 0, 0)
    except KeyError:
        return None
    stated = registry.xreplace(written or {})
    proven = all(r == t or prover.is_zero(r - t) for r, t in zip(stated, truth))
    return registry if proven else None


def _pattern(problem: Problem, prover: Prover, rule: Link, entries: Entries,
             printer: LatexPrinter) -> dict:
    """∂out/∂target_{1,1} entry by entry (seed 000's pattern of zeros, see
    :func:`_one_entry`), and that entry of the contribution as the overlay and sum
    Σ_ij G_ij ∂out_ij/∂target_{1,1} written out (seed 001), shown only where it is
    proven equal to the rule's entry. A target that is not a named matrix (Qᵀ in
    Qᵀ K) gets entries of its own, (Qᵀ)_{1,1}, which the proofs write out."""
    ew, none = prover.ew, {"pattern": "", "overlay": "", "facts": []}
    if isinstance(rule.target, Ref):
        # sympy's partial by target_{1,1} is this rule's only where the target occurs
        # once (in q = xᵀ A x it is the sum of two rules')
        holder = problem.steps[rule.step].expr if isinstance(rule.output, Ref) else rule.output
        if rule.target.name not in ew.symbols or rule.target.kind == "dim" or \
                list(walk(holder)).count(rule.target) != 1:
            return none
        definitions = _definitions(prover, rule.step)
        first, partial = ew.symbols[rule.target.name][0, 0], \
            _one_entry(prover, rule, definitions)
        written_out: dict = {}
    elif isinstance(rule.target, Apply):
        definitions = []
        first, partial, written_out = _unnamed_entry(prover, rule, entries, printer)
    else:
        return none
    upstream = prover.value(rule.upstream)
    terms = [upstream[i % upstream.rows, j % upstream.cols] * partial[i, j]
             for i in range(partial.rows) for j in range(partial.cols) if partial[i, j] != 0]
    terms = [t for t in terms if t != 0] or terms[:1]   # a one-hot G's zeros add nothing
    entry, overlaid = prover.value(rule.raw)[0, 0], sp.Add(*terms)
    proven = bool(terms) and prover.is_zero(overlaid.xreplace(written_out) - entry)
    # and the entry as the simplified contribution has it, where that is shorter (a line):
    # (A_{1,1} − Y_{1,1}) / 3, once the column of Y is known to sum to 1
    result = prover.value(rule.result)[0, 0]
    simplified = sp.factor_terms(named_entries(prover, definitions, result))
    written = entries.latex(simplified)
    shorter = sp.count_ops(simplified) < sp.count_ops(overlaid) and len(written) <= LINE_LENGTH \
        and written != entries.latex(overlaid)
    total = written if proven and shorter and prover.is_zero(simplified - entry) else None
    # the facts that step needs, written out: Y_{1,1} + Y_{2,1} + Y_{3,1} = 1
    facts = [f"{entries.latex(line)} = {value}" for line, value in
             prover.sums_used(simplified - overlaid.xreplace(written_out))] if total else []
    # and the powers it lowers: y_{1,1}^2 = 1 for a label of ±1
    facts += [f"{entries.latex(p)} = {entries.latex(prover.powers[p.base].power(p.base, 2))}"
              for p in sorted(sp.expand(overlaid).atoms(sp.Pow), key=sp.default_sort_key)
              if p.base in prover.powers and p.exp == 2] if total else []
    out = subscripted(printer.operand(rule.output), "ij")
    lhs = (f"\\sum_{{i,j}} G_{{ij}}\\, \\frac{{\\partial\\, {out}}}"
           f"{{\\partial\\, {entries.latex(first)}}}")
    return {"pattern": entries.matrix(partial),
            "overlay": aligned(lhs, [entries.latex(t) for t in terms], total) if proven else "",
            "facts": facts}


def _unnamed_entry(prover: Prover, rule: Link, entries: Entries, printer: LatexPrinter):
    """For a target with no name of its own: fresh entries T for it, typeset as its
    bracketed expression's ((Qᵀ)_{1,1}); ∂out/∂T_{1,1} from the registry's index form
    where proven equal to sympy's partial (else sympy's); and T written out, for the
    proofs. Returns (T_{1,1}, the partial, T → its value)."""
    value = prover.value(rule.target)
    fresh = sp.Matrix(value.rows, value.cols, lambda i, j: sp.Dummy(real=True))
    operand = printer.operand(rule.target)
    for i in range(value.rows):
        for j in range(value.cols):
            entries.names[fresh[i, j]] = subscripted(operand, f"{i + 1},{j + 1}")
    args = [fresh if n == rule.arg else prover.value(a) for n, a in enumerate(rule.node.args)]
    out = OPS[rule.op].sympy(args, at_sizes(rule.node.axis, prover.problem.dims))
    truth = out.applyfunc(lambda e: sp.diff(e, fresh[0, 0]))
    # where the output is a step, in its named entries: P_{1,1}(1 − P_{1,1}) for P =
    # softmax(p W), not the exponentials of (p W)_{1,1}
    named = prover.ew.symbols[rule.output.name] if isinstance(rule.output, Ref) and \
        rule.output.name in prover.problem.steps else None
    registry = None if named is None else \
        _registry_partial(prover, rule, named, args, truth, dict(zip(named, out)))
    registry = registry if registry is not None else \
        _registry_partial(prover, rule, out, args, truth)
    return fresh[0, 0], truth if registry is None else registry, dict(zip(fresh, value))


#: The largest value of ``of``, in expression nodes once written out in the variables,
#: that the end-to-end check differentiates whole: beyond it (a transformer block,
#: any problem at large [dims]) sympy's expansion takes seconds to minutes, and the
#: local proofs alone stand.
END_TO_END_SIZE = 400
END_TO_END_LINES = 6     # the longest end-to-end entry printed, in lines


def _end_to_end(problem: Problem, prover: Prover, composed: Composed, entries: Entries,
                name, wrt: str) -> dict:
    """Seed 001's last cells for one entry: ``of`` written out in the entries of ``wrt``
    and what does not depend on it (every step computed from ``wrt`` replaced by its
    definition), differentiated by sympy by the first entry of ``wrt``, minus entry
    (1, 1) of the derived gradient, expanded to zero; ``equation`` says ∂of/∂wrt_{1,1}
    equals that entry. ``shown`` is False where ``of`` written out is too large to
    differentiate whole or the entry too long to print (nothing is claimed then), or
    the difference is not proven zero."""
    ew, first = prover.ew, prover.ew.symbols[wrt][0, 0]
    skipped = {"name": name(wrt), "equation": "", "shown": False}
    # the latest step first: its definition holds earlier ones
    definitions = [dict(zip(ew.symbols[s], ew.definitions[s]))
                   for s in reversed(problem.computed_from(wrt)) if s != problem.of]
    def written_out(e: sp.Expr) -> sp.Expr:
        for definition in definitions:
            e = e.xreplace(definition)
        return e

    value = ew.definitions[problem.of][0, 0]
    # a bound told before anything is written out (at 16×16 that alone takes seconds);
    # sympy's own arithmetic makes the written-out value smaller than the bound
    if _written_size(value, {k: v for d in definitions for k, v in d.items()}) > \
            4 * END_TO_END_SIZE:
        return skipped
    value = written_out(value)
    if sum(1 for _ in itertools.islice(sp.preorder_traversal(value), END_TO_END_SIZE + 1)) \
            > END_TO_END_SIZE:
        return skipped
    formula = composed(wrt)[0, 0]
    difference = sp.diff(value, first) - written_out(formula)
    # steps within maxima and minima multiply into a difference too large to prove whole
    if sp.count_ops(difference) > 4 * END_TO_END_SIZE or not prover.is_zero(difference):
        return skipped
    # as one fraction where that fits a line, else term by term over several lines
    factored = sp.factor_terms(formula)
    number, rest = factored.as_independent(*factored.free_symbols, as_Add=False)
    rhs = factored if len(entries.latex(factored)) <= LINE_LENGTH else \
        sp.Add(*(number * t for t in rest.args)) if isinstance(rest, sp.Add) else \
        sp.expand_mul(formula)
    if len(entries.latex(rhs)) > END_TO_END_LINES * LINE_LENGTH:
        return skipped          # proven, but a page of terms teaches nothing
    lhs = f"\\frac{{\\partial {name(problem.of)}}}{{\\partial {entries.latex(first)}}}"
    return skipped | {"equation": entries.equation(lhs, rhs), "shown": True}


def _written_size(expr: sp.Expr, definitions: dict) -> int:
    """The number of nodes of ``expr`` with each symbol in ``definitions`` written out
    as its definition (and so on down), counted no further than 4 END_TO_END_SIZE + 1:
    shared subexpressions are sized once, nothing is built."""
    sizes: dict[sp.Expr, int] = {}

    def size(e: sp.Expr) -> int:
        if e not in sizes:
            n = size(definitions[e]) if e in definitions else \
                1 + sum(size(a) for a in e.args)
            sizes[e] = min(n, 4 * END_TO_END_SIZE + 1)
        return sizes[e]
    return size(expr)
