"""A derivation as plain data for the report templates.

Templates receive only strings, numbers, lists and dicts (LaTeX already
typeset by the printers), so they never call sympy and a user's template can
be run in jinja2's sandbox. The sections follow the seed articles: setup,
forward pass (matrix and index notation), the element-wise view at the
``[dims]`` sizes, the backward pass one rule at a time, the results, and how
each was verified.
"""

from __future__ import annotations

import sympy as sp

from .derivation import Derivation, latex_names
from .derive import Link
from .index import IndexPrinter
from .latex import LatexPrinter, latex_name, scientific, subscripted
from .nodes import Node, Ref
from .numeric import fixed
from .ops import OPS, local_partial
from .problem import ASSUMPTIONS

MAX_WRITTEN_ENTRIES = 16     # matrices larger than this are shown with their corners and dots
LINE_LENGTH = 90             # characters of LaTeX on one line of a broken equation


def context(d: Derivation) -> dict:
    problem = d.problem
    names = latex_names(problem)
    printer, index = LatexPrinter(names), IndexPrinter(names)
    tex = printer.doprint

    def name(n: str) -> str:
        return names.get(n) or latex_name(n)

    entries = Entries(d.elementwise, name)

    def shape(node_shape) -> dict:
        rows, cols = node_shape.size(problem.dims)
        return {"names": f"{node_shape.rows} \\times {node_shape.cols}",
                "sizes": f"{rows} \\times {cols}"}

    return {
        "title": problem.title,
        "summary": problem.summary or "",
        "name": problem.name,
        "of": name(problem.of),
        "dims": [{"name": name(k), "size": v} for k, v in problem.dims.items()],
        "inputs": [{"name": name(i.name), "shape": shape(i.shape),
                    "kind": "constant" if i.constant else "variable",
                    "assumptions": [ASSUMPTIONS[a] for a in i.assume],
                    "description": i.description or ""} for i in problem.inputs.values()],
        "steps": [{"name": name(s.name), "matrix": f"{name(s.name)} = {tex(s.expr)}",
                   "index": index.equation(s.name, s.expr), "shape": shape(s.expr.shape),
                   "description": s.description or ""} for s in problem.steps.values()],
        "elementwise": _elementwise(d, name, entries),
        "backward": _backward(d, tex, name, shape, entries),
        "results": [_result(g, not d.backward.totals[g.name].parts, tex, name, shape)
                    for g in d.gradients.values()],
        "verification": _verification(d, tex, name),
    }


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
        """A matrix, its middle elided with dots when it is large."""
        rows, cols = m.shape
        if rows * cols <= MAX_WRITTEN_ENTRIES:
            body = [[self.latex(m[i, j]) for j in range(cols)] for i in range(rows)]
        else:
            keep_r = [0, 1, None, rows - 1] if rows > 3 else list(range(rows))
            keep_c = [0, 1, None, cols - 1] if cols > 3 else list(range(cols))
            body = [[("\\ddots" if i is None and j is None else "\\vdots" if i is None
                      else "\\cdots" if j is None else self.latex(m[i, j])) for j in keep_c]
                    for i in keep_r]
        lines = " \\\\ ".join(" & ".join(row) for row in body)
        return f"\\begin{{bmatrix}} {lines} \\end{{bmatrix}}"

    def equation(self, lhs: str, rhs: sp.Expr) -> str:
        """``lhs = rhs``, a long sum broken into lines that fit a page."""
        terms = sp.Add.make_args(rhs) if isinstance(rhs, sp.Add) else (rhs,)
        return _aligned(lhs, [self.latex(t) for t in terms])


def _elementwise(d: Derivation, name, entries: Entries) -> list[dict]:
    ew, out = d.elementwise, []
    for n in d.problem.inputs:
        out.append({"name": name(n), "matrix": entries.matrix(ew.symbols[n]), "entry": ""})
    for n in d.problem.steps:
        definition = ew.definitions[n]
        # written out in full when every row fits a line
        short = all(sum(len(entries.latex(x)) for x in definition.row(i)) <= LINE_LENGTH
                    for i in range(definition.rows))
        first = entries.equation(entries.latex(ew.symbols[n][0, 0]), definition[0, 0])
        out.append({"name": name(n),
                    "matrix": entries.matrix(definition if short else ew.symbols[n]),
                    "entry": "" if short else first})
    return out


def _aligned(lhs: str, terms: list[str], total: str | None = None) -> str:
    """``lhs = t1 + t2 + ... [= total]``, in lines of about LINE_LENGTH characters when
    it is longer than that (an aligned block: amsmath and KaTeX both render it)."""
    signed = [t if i == 0 or t.startswith("-") else "+ " + t for i, t in enumerate(terms)]
    signed = [t.replace("-", "- ", 1) if i and t.startswith("-") else t
              for i, t in enumerate(signed)]
    flat = f"{lhs} = {' '.join(signed)}" + (f" = {total}" if total else "")
    if len(flat) <= LINE_LENGTH:
        return flat
    lines, line = [], ""
    for term in signed:
        if line and len(line) + len(term) > LINE_LENGTH:
            lines.append(line)
            line = ""
        line = f"{line} {term}".strip()
    lines.append(line)
    rows = [("&= " if i == 0 else "&\\quad ") + text for i, text in enumerate(lines)]
    if total:
        rows.append(f"&= {total}")
    return f"\\begin{{aligned}} {lhs} " + " \\\\ ".join(rows) + " \\end{aligned}"


def _indexed_name(node: Node, tex, name) -> str:
    return name(node.name) if isinstance(node, Ref) else f"\\left({tex(node)}\\right)"


def _backward(d: Derivation, tex, name, shape, entries: Entries) -> list[dict]:
    """One section per gradient, in the order of the pass: G_S complete (its
    contributions labelled by the step they come from, then added up), then the
    rules that carry it into what S is computed from."""
    sections = []
    for item in d.backward.order:
        if isinstance(item, Link):
            sections[-1]["rules"].append(_rule(d, item, tex, name, entries))
            continue
        grad = tex(item.grad)
        parts = [f"\\underbrace{{{tex(p)}}}_{{\\text{{from }} {name(s)}}}" if len(item.parts) > 1
                 else tex(p) for p, s in zip(item.parts, item.sources)]
        value = tex(item.value)
        # the sum, simplified, when that changes it
        total = None if not parts or parts == [value] or item.value == item.raw else value
        sections.append({
            "name": name(item.name), "grad": grad, "shape": shape(item.grad.shape),
            "parts": len(item.parts),
            "start": item.name == d.problem.of, "zero": not item.parts and item.name != d.problem.of,
            "equation": _aligned(grad, parts or [value], total),
            "reasons": list(item.reasons), "rules": []})
    return sections


def _rule(d: Derivation, rule: Link, tex, name, entries: Entries) -> dict:
    op = OPS[rule.op]
    out_name = _indexed_name(rule.output, tex, name)
    target = _indexed_name(rule.target, tex, name)
    formula = op.index[rule.arg]
    i, j, k, l = sp.symbols("i j k l")
    index = ""
    if formula is not None:
        nodes = {out_name: rule.output} | {_indexed_name(a, tex, name): a for a in rule.node.args}
        bases = [sp.IndexedBase(_indexed_name(a, tex, name)) for a in rule.node.args]
        rows, cols = rule.target.shape.size(d.problem.dims)
        expr = local_partial(op, rule.arg, sp.IndexedBase(out_name), bases, i, j, k, l,
                             rule.node.axis, (rows, cols))
        # an entry of a name that is not a node (the inverse in det's partial) is shaped
        # like the operator's square argument
        index = sp.latex(expr.replace(
            lambda e: isinstance(e, sp.Indexed),
            lambda e: _entry(e, nodes.get(e.base.label.name, rule.node.args[0]))))
    return {
        "step": name(rule.step), "op": rule.op, "doc": op.doc, "output": out_name,
        "target": target, "target_entry": subscripted(target, "1,1"),
        "upstream": tex(rule.upstream), "rule": tex(rule.rule),
        "index": index, "pattern": _pattern(d, rule, entries), "result": tex(rule.result),
        "named": isinstance(rule.target, Ref), "reasons": list(rule.reasons),
    }


def _entry(e: sp.Indexed, node: Node) -> sp.Expr:
    """An entry written with the indices its shape has: a, a_i, a_j or a_ij."""
    kept = [x for x, n in zip(e.indices, (node.shape.rows, node.shape.cols)) if n != 1]
    return sp.Symbol(e.base.label.name) if not kept else e.base[tuple(kept)]


def _pattern(d: Derivation, rule: Link, entries: Entries) -> str:
    """∂step/∂target_{1,1} entry by entry (seed 000's pattern of zeros), where the rule
    is the whole step and the target a named matrix."""
    if not (isinstance(rule.output, Ref) and isinstance(rule.target, Ref)
            and rule.target.name in d.elementwise.symbols and rule.target.kind != "dim"):
        return ""
    partials = d.elementwise.partials(rule.step, rule.target.name)
    rows, cols = d.elementwise.symbols[rule.step].shape
    m = sp.Matrix(rows, cols, lambda i, j: partials.get((i, j), {}).get((0, 0), 0))
    return entries.matrix(m)


def _result(g, zero: bool, tex, name, shape) -> dict:
    return {"name": name(g.name), "shape": shape(g.shape), "zero": zero, "expr": tex(g.expr),
            "reasons": list(g.reasons)}


def _verification(d: Derivation, tex, name) -> dict:
    check, rtol = d.problem.check, d.problem.check.rtol
    return {
        "dims": ", ".join(f"{latex_name(k)} = {v}" for k, v in d.problem.dims.items()),
        "sizes": ", ".join(f"{latex_name(k)} = {v}" for k, v in check.sizes.items()),
        "seed": check.seed, "trials": check.trials, "rtol": scientific(rtol),
        "gradients": [{
            "name": name(g.name), "entries": g.entries,
            "checked": g.numeric.entries, "error_below": scientific(g.numeric.bound(rtol)),
            "passed": g.numeric.passed(rtol),
            "samples": [{"entry": f"({k + 1}, {l + 1})",
                         "formula": fixed(a, g.numeric.sample_scale),
                         "fd": fixed(b, g.numeric.sample_scale)}
                        for (k, l), a, b in g.numeric.samples],
        } for g in d.gradients.values()],
        "claims": [{"name": name(n), "claim": tex(c.claim.expr),
                    "verdict": "confirmed" if c.confirmed(rtol) else "refuted"}
                   for n, c in d.claims.items()],
    }
