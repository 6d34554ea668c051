"""A derivation as plain data for the report templates.

Templates receive only strings, numbers, lists and dicts (LaTeX already
typeset by the printers), so they never call sympy and a user's template can
be run in jinja2's sandbox. The sections follow the seed articles: setup,
forward pass (matrix and index notation), the element-wise view at the
``[dims]`` sizes, the backward pass one rule at a time, the results, and how
each was verified.
"""

from __future__ import annotations

import itertools

from .assumptions import REGISTRY
from .backward import Link
from .derivation import Derivation, latex_names
from .forward import Tangent
from .index import IndexPrinter
from .latex import LatexPrinter, aligned, bmatrix, latex_name, scientific, shape_latex, subscripted
from .nodes import Apply, Node, Ref, walk
from .numeric import fixed
from .op import example
from .ops import OPS
from .shapes import Span


def context(d: Derivation) -> dict:
    problem = d.problem
    names = latex_names(problem)
    printer = LatexPrinter(names)
    # summation letters are not the problem's own names (a label input k)
    index = IndexPrinter(names, reserved={printer.name(n) for n in (
        *problem.dims, *problem.inputs, *problem.steps)})
    tex, name = printer.doprint, printer.name

    def shape(node_shape) -> dict:
        rows, cols = node_shape.size(problem.dims)
        return {"names": shape_latex(node_shape), "sizes": f"{rows} \\times {cols}"}

    return {
        "title": problem.title,
        "summary": problem.summary or "",
        "name": problem.name,
        "of": name(problem.of),
        "of_shape": shape(problem.shape_of(problem.of)),
        "jacobian": problem.jacobian,
        "dims": [{"name": name(k), "size": v} for k, v in problem.dims.items()],
        "inputs": [{"name": name(i.name), "shape": shape(i.shape),
                    "kind": "labels" if i.labels else "constant" if i.constant else "variable",
                    "assumptions": [REGISTRY[a].text for a in i.assume] + (
                        [f"integer class labels, 0 to {i.labels} - 1"] if i.labels else []),
                    "description": i.description or ""} for i in problem.inputs.values()],
        "steps": [{"name": name(s.name), "matrix": f"{name(s.name)} = {tex(s.expr)}",
                   "index": index.equation(s.name, s.expr), "shape": shape(s.expr.shape),
                   "description": s.description or ""} for s in problem.steps.values()],
        "notation": _notation(d, printer),
        "elementwise": list(d.views.elementwise),
        "backward": _backward(d, printer, shape),
        "results": [_result(g, not d.backward.totals[g.name].parts, problem.steps, tex, name,
                            shape) for g in d.gradients.values()],
        "verification": _verification(d, tex, name),
        "derivatives": [_linear(d, lm, printer, shape)
                        for lm in [*d.jacobians.values(), *d.hessians.values()]],
    }


def _notation(d: Derivation, printer: LatexPrinter) -> dict:
    """Each operation the report writes, in the registry's order: how it is written
    (applied to matrices whose names the problem does not use, once per axis form
    used) and what it means."""
    shown = [s.expr for s in d.problem.steps.values()] + [g.expr for g in d.gradients.values()]
    for lm in [*d.jacobians.values(), *d.hessians.values()]:
        shown += [lm.differential] + ([lm.matrix] if lm.matrix is not None else [])
        shown += [x for t in lm.forward.order for x in (
            (t.rule, t.result) if isinstance(t, Tangent) else (t.value,))]
    for item in d.backward.order:
        shown += [item.upstream, item.rule, item.result] if isinstance(item, Link) else \
            [item.value, *item.parts]
    used = {(n.op, n.axis.axis if isinstance(n.axis, Span) else n.axis)   # a slice's axis
            for node in shown for n in walk(node) if isinstance(n, Apply)}
    # two names written unlike any of the problem's: A and B, else another pair, else any
    # free letters (three, A, B and C, where an operation takes three)
    written = {printer.name(n) for n in (*d.problem.dims, *d.problem.inputs, *d.problem.steps)}
    count = 3 if any(OPS[n].written > 2 for n, _ in used) else 2
    free = [x for x in "ABCDEFGHKLMNPQRSUVWXYZ" if printer.name(x) not in written]
    choices = itertools.chain(["ABC", "PQR", "UVW", "MKE"] if count == 3 else
                              ["AB", "PQ", "UV", "MK", "EF"], ["".join(free[:count])])
    names = next(c for c in choices
                 if len(c) == count and not {printer.name(n) for n in c} & written)
    return {"a": printer.name(names[0]), "b": printer.name(names[1]),
            "c": printer.name(names[2]) if count == 3 else "", "operations": [
        {"symbol": ", \\quad ".join(printer.doprint(example(op, names, axis))
                                    for axis in (None, 0, 1) if (name, axis) in used),
         "meaning": op.doc}
        for name, op in OPS.items() if any(u == name for u, _ in used)]}


INLINE_LENGTH = 80      # characters of LaTeX in a list item's formulas that fit one line
_ORDINALS = ("first", "second", "third")


def _backward(d: Derivation, printer: LatexPrinter, shape) -> list[dict]:
    """One section per gradient, in the order of the pass: G_S complete (its
    contributions labelled by the step they come from, then added up), then the step
    S carried back to what it is computed from, rule by rule."""
    tex, name = printer.doprint, printer.name
    sections, views = [], iter(d.views.links)
    for item in d.backward.order:
        if isinstance(item, Link):
            _carry(sections[-1], _rule(d, item, next(views), printer, shape))
            continue
        grad = tex(item.grad)
        parts = [_labelled(p, name(s), tex) if len(item.parts) > 1 else tex(p)
                 for p, s in zip(item.parts, item.sources)]
        value = tex(item.value)
        # the sum, simplified, when that changes it
        total = None if not parts or parts == [value] or item.value == item.raw else value
        sections.append({
            "name": name(item.name), "grad": grad, "shape": shape(item.grad.shape),
            "parts": len(item.parts),
            "start": item.name == d.problem.of, "zero": not item.parts and item.name != d.problem.of,
            "equation": aligned(grad, parts or [value], total),
            "reasons": _facts(item.reasons, tex), "targets": [], "blocks": []})
    return sections


def _carry(section: dict, rule: dict) -> None:
    """Add a rule to its step's section: a brief one (entry by entry, or only summing
    or rearranging G) to the list of brief rules before it, shown as one list that
    ends where the gradient reaches a named matrix; any other in a block of its own,
    with its worked entry."""
    blocks = section["blocks"]
    if rule["named"] and rule["target"] not in section["targets"]:
        section["targets"].append(rule["target"])
    if not rule["brief"]:
        blocks.append({"rule": rule, "brief": None, "reasons": rule["reasons"]})
        return
    # say where G comes from when it does not continue from the rule just before
    previous = (blocks[-1]["rule"] or blocks[-1]["brief"][-1]) if blocks else None
    rule["branch"] = rule["output"] != (previous["target"] if previous else section["name"])
    if not (blocks and blocks[-1]["brief"] and not blocks[-1]["brief"][-1]["named"]):
        blocks.append({"rule": None, "brief": [], "reasons": []})
    # a line too long for a page (inline math does not break) shows its result displayed
    rule["display"] = len(rule["local"] or rule["index"]) + len(rule["rule"]) + \
        len(rule["result"]) + (len(rule["target"]) if rule["branch"] else 0) > INLINE_LENGTH
    rule["long_local"] = len(rule["local"]) > INLINE_LENGTH    # the PDF displays it too
    blocks[-1]["brief"].append(rule)
    blocks[-1]["reasons"] += [r for r in rule["reasons"] if r not in blocks[-1]["reasons"]]


def _facts(reasons, tex) -> list[dict]:
    """The facts a simplification used, as words around a typeset matrix: "each
    column of", Y, "sums to 1"."""
    return [dict(zip(("before", "after"), r.parts()), math=tex(r.matrix)) for r in reasons]


def _labelled(part: Node, source: str, tex) -> str:
    """A contribution braced and labelled with the step it comes from; a leading minus
    stays outside the brace, so that the sum reads "− x", not "+ −x" (only where it
    negates the whole contribution: not the first term of a sum)."""
    text = tex(part)
    sign = "-" if text.startswith("-") and not (
        isinstance(part, Apply) and part.op in ("add", "sub")) else ""
    return f"{sign}\\underbrace{{{text[len(sign):]}}}_{{\\text{{from }} {source}}}"


def _plain(d: Derivation, rule: Link) -> bool:
    """A rule that only rescales, negates, sums or rearranges the upstream gradient: its
    formula holds nothing but G and sizes (G/N, −G, G𝟏, Gᵀ)."""
    used = {n.name for n in _values_read(rule.rule) if isinstance(n, Ref)}
    return used <= {"G", *d.problem.dims}


def _values_read(node: Node):
    """The nodes whose values an expression reads: not what a shape-only constant
    (a matrix of ones) is applied to."""
    yield node
    if isinstance(node, Apply) and not OPS[node.op].shape_only:
        for arg in node.args:
            yield from _values_read(arg)


def _rule(d: Derivation, rule: Link, view: dict, printer: LatexPrinter, shape) -> dict:
    tex, name = printer.doprint, printer.name
    target = printer.operand(rule.target)
    op = OPS[rule.op]
    # worth its worked entry: a rule that sums over a broadcast argument, one whose
    # simplification uses an assumption, and a step that is one operation on named
    # matrices (p = σ(z), S = W X) unless it only scales G (X − μ, back to X)
    spread = op.entrywise and rule.target.shape != rule.output.shape
    whole = isinstance(rule.output, Ref) and isinstance(rule.target, Ref) and \
        bool(view["pattern"]) and not view["constant"]
    return {
        "step": name(rule.step), "op": rule.op, "doc": op.doc,
        "output": printer.operand(rule.output), "target": target,
        # in words where the formula is longer than part of a line (inline math does
        # not break): "its second argument"
        "target_text": f"${target}$" if len(target) <= INLINE_LENGTH // 2 else
        f"its {_ORDINALS[rule.arg]} argument" if op.written > 1 else "its argument",
        "target_entry": subscripted(target, "1,1"),
        "upstream": tex(rule.upstream), "rule": tex(rule.rule),
        "index": view["index"], "local": view["local"], "pattern": view["pattern"],
        "overlay": view["overlay"], "facts": view["facts"], "result": tex(rule.result),
        "named": isinstance(rule.target, Ref), "reasons": _facts(rule.reasons, tex),
        "brief": (_plain(d, rule) or op.entrywise) and not (spread or whole or rule.reasons),
        "shape_check": _shape_check(rule.rule, rule.target), "branch": False,
    }


def _shape_check(formula: Node, target: Node) -> str:
    """The rule's shape worked out: (C × N)(N × D) = C × D for a matrix product, the
    shape of the variable the gradient is taken with respect to."""
    factors = list(_factors(formula))
    sizes = "".join(f"\\left({shape_latex(f.shape)}\\right)" for f in factors)
    result = shape_latex(target.shape)
    return f"{sizes} = {result}" if len(factors) > 1 else result


def _factors(node: Node):
    """The factors of a matrix product, in order (a product of products flattened)."""
    if isinstance(node, Apply) and OPS[node.op].product == "matrix":
        for arg in node.args:
            yield from _factors(arg)
    else:
        yield node


def _result(g, zero: bool, steps: dict, tex, name, shape) -> dict:
    return {"name": name(g.name), "shape": shape(g.shape), "zero": zero, "expr": tex(g.expr),
            "reasons": _facts(g.reasons, tex), "conditions": _conditions(g.expr, steps, tex)}


def _conditions(expr: Node, steps: dict, tex) -> list[dict]:
    """What a formula assumes of the values it holds, directly or through the steps it
    names (X^{-1}: X is invertible), from the registry, each once."""
    found, todo, seen = {}, [expr], set()
    while todo:
        for node in walk(todo.pop()):
            if isinstance(node, Apply) and OPS[node.op].condition:
                found.setdefault((tex(node.args[0]), OPS[node.op].condition), None)
            elif isinstance(node, Ref) and node.name in steps and node.name not in seen:
                seen.add(node.name)
                todo.append(steps[node.name].expr)
    return [{"math": math, "text": text} for math, text in found]


def _numbers(rows: tuple[tuple[float, ...], ...]) -> str:
    """A sampled matrix in LaTeX: integers as such (labels), other values to 4
    significant digits of the largest, so that every machine prints the same."""
    scale = max((abs(x) for row in rows for x in row), default=0.0) or 1.0
    # labels are integers, whatever the last bit another machine's arithmetic leaves
    integral = all(abs(x - round(x)) <= 1e-9 for row in rows for x in row)

    def cell(i: int, j: int) -> str:
        return str(round(rows[i][j])) if integral else fixed(rows[i][j], scale)
    return cell(0, 0) if len(rows) == len(rows[0]) == 1 else bmatrix(len(rows), len(rows[0]), cell)


def _linear(d: Derivation, lm, printer: LatexPrinter, shape) -> dict:
    """A Jacobian or a Hessian: the forward pass rule by rule, the differential, its
    index form and one slice, the matrix, and how each was checked."""
    tex, name, rtol = printer.doprint, printer.name, d.problem.check.rtol
    variable, direction = name(lm.variable), tex(lm.forward.direction)
    hessian = lm.kind == "hessian"
    of = f"\\nabla_{{{variable}}} {name(d.problem.of)}" if hessian else name(lm.label)
    steps = []
    for item in lm.forward.order:
        if isinstance(item, Tangent):
            op = OPS[item.op]
            step = {"kind": "rule", "doc": op.doc, "output": printer.operand(item.output),
                    "target": tex(item.target), "rule": tex(item.rule),
                    "direction": tex(item.direction), "result": tex(item.result),
                    "reasons": _facts(item.reasons, tex)}
            # inline math does not break: a long line shows its result displayed
            step["display"] = sum(len(step[k]) for k in ("target", "rule", "direction",
                                                         "result")) > INLINE_LENGTH
            steps.append(step)
        elif item.name != lm.label:
            steps.append({"kind": "total", "name": tex(item.symbol), "value": tex(item.value),
                          "reasons": _facts(item.reasons, tex)})
    differential, matrix_lhs = derivative_latex(name(d.problem.of), variable, hessian)
    numeric = [lm.numeric] + ([lm.matrix_numeric] if lm.matrix_numeric else [])
    whole = of if not hessian else f"\\left({of}\\right)"
    x_shape = lm.forward.direction.shape
    return {
        "index_lhs": f"\\frac{{\\partial {_indexed(whole, lm.shape, 'i', 'j')}}}"
                     f"{{\\partial {_indexed(variable, x_shape, 'k', 'l')}}}",
        "slice_lhs": f"\\frac{{\\partial {of}}}{{\\partial {subscripted(variable, '1,1')}}}",
        "matrix_lhs": matrix_lhs,
        "kind": lm.kind, "variable": variable, "of": of, "direction": direction,
        "of_shape": shape(lm.shape), "variable_shape": shape(x_shape),
        "gradient": tex(d.gradients[lm.variable].expr) if hessian else "",
        "steps": steps, "differential": f"{differential} = {tex(lm.differential)}",
        "index": lm.index, "slice": lm.slice, "matrix": tex(lm.matrix) if lm.matrix is not None
        else "", "matrix_shape": shape_latex(lm.matrix_shape), "symmetric": lm.symmetric,
        "vector": x_shape.rows == 1 or x_shape.cols == 1,
        "square": x_shape.is_square and not x_shape.is_scalar,
        "entries": lm.entries, "trials": d.problem.check.trials,
        "error_below": scientific(max(n.bound(rtol) for n in numeric)),
        "passed": all(n.passed(rtol) for n in numeric),
    }


def _indexed(name: str, shape, i: str, j: str) -> str:
    """An entry of a named matrix with the indices its shape has: F_ij, a_i, x_k."""
    return subscripted(name, "".join(x for x, n in ((i, shape.rows), (j, shape.cols)) if n != 1))


def derivative_latex(of: str, variable: str, hessian: bool,
                     inline: bool = False) -> tuple[str, str]:
    """How a Jacobian's or a Hessian's differential and matrix are written: (dF, ∂F/∂X)
    or (d(∇_w L), ∇²_w L); ``inline``, ∂F/∂X with a slash, for a line of text."""
    if hessian:
        return (f"\\mathrm{{d}}\\left(\\nabla_{{{variable}}} {of}\\right)",
                f"\\nabla^{{2}}_{{{variable}}} {of}")
    matrix = f"\\partial {of} / \\partial {variable}" if inline else \
        f"\\frac{{\\partial {of}}}{{\\partial {variable}}}"
    return f"\\mathrm{{d}}{of}", matrix


def _claimed(d: Derivation, claim, name) -> str:
    """What a claim states, as the report writes it: ∂L/∂W, dF, ∂a/∂s (a Jacobian's
    matrix), d(∇_w L) or ∇²_w L."""
    of, variable = name(d.problem.of), name(claim.variable)
    if claim.form == "gradient":
        return f"\\partial {of} / \\partial {variable}"
    differential, matrix = derivative_latex(of, variable, claim.hessian, inline=True)
    return differential if claim.form == "differential" else matrix


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
        "point": [{"name": name(n), "value": _numbers(rows)} for n, rows in d.point.items()],
        "end_to_end": [e for e in d.views.end_to_end if e["shown"]],
        "too_large": [e["name"] for e in d.views.end_to_end if not e["shown"]],
        # a claim longer than a line (inline math does not break) by its name alone
        "claims": [{"lhs": _claimed(d, c.claim, name),
                    "claim": "" if len(tex(c.claim.expr)) > 2 * INLINE_LENGTH
                    else tex(c.claim.expr),
                    "verdict": "confirmed" if c.confirmed(rtol) else "refuted"}
                   for n, c in d.claims.items()],
    }
