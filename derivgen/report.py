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

from .derivation import Derivation
from .derive import Rule
from .expr import Node, Ref
from .index import IndexPrinter
from .latex import LatexPrinter, latex_name
from .ops import OPS
from .problem import ASSUMPTIONS

MAX_WRITTEN_ENTRIES = 16     # matrices larger than this are shown with their corners and dots
MAX_ENTRY_LENGTH = 60        # longer entries are shown for (1, 1) only


def context(d: Derivation) -> dict:
    problem = d.problem
    names = {n: i.latex for n, i in problem.inputs.items() if i.latex}
    names |= {n: s.latex for n, s in problem.steps.items() if s.latex}
    printer, index = LatexPrinter(names), IndexPrinter(names)
    tex = printer.doprint

    def name(n: str) -> str:
        return names.get(n) or latex_name(n)

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
        "elementwise": _elementwise(d, name),
        "backward": [_rule(d, r, tex, name) for r in d.backward.rules],
        "accumulated": [{"name": name(n), "parts": [tex(p) for p in g.sources],
                         "total": tex(g.simplified)}
                        for n, g in d.backward.gradients.items() if len(g.sources) > 1],
        "results": [_result(d, g, tex, name, shape) for g in d.gradients.values()],
        "verification": _verification(d, tex, name),
    }


def _matrix(m: sp.Matrix) -> str:
    """A sympy matrix as LaTeX, its middle elided with dots when it is large."""
    rows, cols = m.shape
    if rows * cols <= MAX_WRITTEN_ENTRIES:
        body = [[sp.latex(m[i, j]) for j in range(cols)] for i in range(rows)]
    else:
        keep_r = [0, 1, None, rows - 1] if rows > 3 else list(range(rows))
        keep_c = [0, 1, None, cols - 1] if cols > 3 else list(range(cols))
        body = [[("\\ddots" if i is None and j is None else "\\vdots" if i is None
                  else "\\cdots" if j is None else sp.latex(m[i, j])) for j in keep_c]
                for i in keep_r]
    lines = " \\\\ ".join(" & ".join(row) for row in body)
    return f"\\begin{{bmatrix}} {lines} \\end{{bmatrix}}"


def _elementwise(d: Derivation, name) -> list[dict]:
    ew, out = d.elementwise, []
    for n in d.problem.inputs:
        out.append({"name": name(n), "matrix": _matrix(ew.symbols[n]), "entry": ""})
    for n in d.problem.steps:
        definition = ew.definitions[n]
        short = all(len(sp.latex(x)) <= MAX_ENTRY_LENGTH for x in definition)
        first = _equation(sp.latex(ew.symbols[n][0, 0]), definition[0, 0])
        out.append({"name": name(n), "matrix": _matrix(definition if short else ew.symbols[n]),
                    "entry": "" if short else first})
    return out


def _equation(lhs: str, rhs: sp.Expr, per_line: int = 3) -> str:
    """``lhs = rhs``, a long sum broken after every few terms so that it fits a page."""
    terms = sp.Add.make_args(rhs) if isinstance(rhs, sp.Add) else (rhs,)
    if len(sp.latex(rhs)) <= 2 * MAX_ENTRY_LENGTH or len(terms) <= per_line:
        return f"{lhs} = {sp.latex(rhs)}"
    lines = []
    for start in range(0, len(terms), per_line):
        chunk = sp.latex(sp.Add(*terms[start:start + per_line], evaluate=False))
        if start and not chunk.startswith("-"):
            chunk = "+ " + chunk
        lines.append(("&= " if not start else "&\\quad ") + chunk)
    return f"\\begin{{aligned}} {lhs} " + " \\\\ ".join(lines) + " \\end{aligned}"


def _indexed_name(node: Node, tex, name) -> str:
    return name(node.name) if isinstance(node, Ref) else f"\\left({tex(node)}\\right)"


def _rule(d: Derivation, rule: Rule, tex, name) -> dict:
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
        expr = formula(sp.IndexedBase(out_name), bases, i, j, k, l, rule.node.axis, (rows, cols))
        # an entry of a name that is not a node (the inverse in det's partial) is shaped
        # like the operator's square argument
        index = sp.latex(sp.sympify(expr).replace(
            lambda e: isinstance(e, sp.Indexed),
            lambda e: _entry(e, nodes.get(e.base.label.name, rule.node.args[0]))))
    return {
        "step": name(rule.step), "op": rule.op, "doc": op.doc, "output": out_name,
        "target": target, "target_entry": f"{{{target}}}_{{1,1}}",
        "upstream": tex(rule.upstream), "rule": tex(rule.rule),
        "index": index, "pattern": _pattern(d, rule), "result": tex(rule.result),
        "reasons": list(rule.reasons),
    }


def _entry(e: sp.Indexed, node: Node) -> sp.Expr:
    """An entry written with the indices its shape has: a, a_i, a_j or a_ij."""
    kept = [x for x, n in zip(e.indices, (node.shape.rows, node.shape.cols)) if n != 1]
    return sp.Symbol(e.base.label.name) if not kept else e.base[tuple(kept)]


def _pattern(d: Derivation, rule: Rule) -> str:
    """∂step/∂target_{1,1} entry by entry (seed 000's pattern of zeros), where the rule
    is the whole step and the target a named matrix."""
    if not (isinstance(rule.output, Ref) and isinstance(rule.target, Ref)
            and rule.target.name in d.elementwise.symbols and rule.target.kind != "dim"):
        return ""
    partials = d.elementwise.partials(rule.step, rule.target.name)
    rows, cols = d.elementwise.symbols[rule.step].shape
    m = sp.Matrix(rows, cols, lambda i, j: partials.get((i, j), {}).get((0, 0), 0))
    return _matrix(m)


def _result(d: Derivation, g, tex, name, shape) -> dict:
    return {"name": name(g.name), "shape": shape(g.shape), "matrix_form": g.matrix_form,
            "expr": tex(g.expr) if g.matrix_form else "",
            "elementwise": "" if g.matrix_form else _matrix(g.proof.elementwise),
            "reasons": list(g.reasons)}


def _verification(d: Derivation, tex, name) -> dict:
    check, rtol = d.problem.check, d.problem.check.rtol
    return {
        "dims": ", ".join(f"{latex_name(k)} = {v}" for k, v in d.problem.dims.items()),
        "sizes": ", ".join(f"{latex_name(k)} = {v}" for k, v in check.sizes.items()),
        "seed": check.seed, "trials": check.trials, "rtol": f"{rtol:g}",
        "gradients": [{
            "name": name(g.name), "form": g.proof.form, "entries": g.proof.entries,
            "checked": g.numeric.entries, "max_error": f"{g.numeric.max_rel_error:.1e}",
            "passed": g.numeric.passed(rtol),
            "samples": [{"entry": f"({k + 1}, {l + 1})", "formula": f"{a:.6g}", "fd": f"{b:.6g}"}
                        for (k, l), a, b in g.numeric.samples],
        } for g in d.gradients.values()],
        "claims": [{"name": name(n), "claim": tex(c.claim.expr),
                    "verdict": "confirmed" if c.confirmed(rtol) else "refuted"}
                   for n, c in d.claims.items()],
    }
