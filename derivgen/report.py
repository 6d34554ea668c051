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
from .derivation import Derivation, latex_names
from .derive import Link
from .index import IndexPrinter
from .latex import LatexPrinter, aligned, bmatrix, latex_name, scientific, subscripted
from .nodes import Apply, Node, Ref, make, walk
from .numeric import fixed
from .ops import OPS
from .shapes import Shape


def context(d: Derivation) -> dict:
    problem = d.problem
    names = latex_names(problem)
    printer, index = LatexPrinter(names), IndexPrinter(names)
    tex, name = printer.doprint, printer.name

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
                    "assumptions": [REGISTRY[a].text for a in i.assume],
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
    }


def _notation(d: Derivation, printer: LatexPrinter) -> dict:
    """Each operation the report writes, in the registry's order: how it is written
    (applied to two matrices whose names the problem does not use, once per axis
    form used) and what it means."""
    shown = [s.expr for s in d.problem.steps.values()] + [g.expr for g in d.gradients.values()]
    for item in d.backward.order:
        shown += [item.upstream, item.rule, item.result] if isinstance(item, Link) else \
            [item.value, *item.parts]
    used = {(n.op, n.axis) for node in shown for n in walk(node) if isinstance(n, Apply)}
    # two names written unlike any of the problem's: A and B, else another pair
    written = {printer.name(n) for n in (*d.problem.dims, *d.problem.inputs, *d.problem.steps)}
    pairs = itertools.chain(["AB", "PQ", "UV", "MK", "EF"],
                            ((f"P{k}", f"Q{k}") for k in itertools.count(1)))
    a, b = next(pair for pair in pairs if not {printer.name(n) for n in pair} & written)
    square = Shape("n", "n")
    generic = [Ref(a, "input", square), Ref(b, "input", square)]
    return {"a": printer.name(a), "b": printer.name(b), "operations": [
        {"symbol": ", \\quad ".join(printer.doprint(make(name, *generic[:op.arity], axis=axis))
                                    for axis in (None, 0, 1) if (name, axis) in used),
         "meaning": op.doc}
        for name, op in OPS.items() if any(u == name for u, _ in used)]}


def _backward(d: Derivation, printer: LatexPrinter, shape) -> list[dict]:
    """One section per gradient, in the order of the pass: G_S complete (its
    contributions labelled by the step they come from, then added up), then the
    rules that carry it into what S is computed from."""
    tex, name = printer.doprint, printer.name
    sections, views = [], iter(d.views.links)
    for item in d.backward.order:
        if isinstance(item, Link):
            rules, rule = sections[-1]["rules"], _rule(d, item, next(views), printer)
            if rule["plain"] and rules and rules[-1]["plain"] and \
                    rules[-1]["step"] == rule["step"] and rules[-1]["target"] == rule["output"]:
                rules[-1] = _folded(rules[-1], rule)
            else:
                rules.append(rule)
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
            "reasons": list(item.reasons), "rules": []})
    return sections


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


def _folded(first: dict, then: dict) -> dict:
    """Two plain rules in a row within a step, shown as one: what the gradient goes
    through, one operation at a time, and what it reaches."""
    chain = first.get("chain") or [{k: first[k] for k in ("doc", "rule", "result")}]
    return first | {"chain": chain + [{k: then[k] for k in ("doc", "rule", "result")}],
                    "target": then["target"], "target_entry": then["target_entry"],
                    "result": then["result"], "named": then["named"],
                    "reasons": first["reasons"] + then["reasons"]}


def _rule(d: Derivation, rule: Link, view: dict, printer: LatexPrinter) -> dict:
    tex, name = printer.doprint, printer.name
    target = printer.operand(rule.target)
    return {
        "step": name(rule.step), "op": rule.op, "doc": OPS[rule.op].doc,
        "output": printer.operand(rule.output), "target": target,
        "target_entry": subscripted(target, "1,1"),
        "upstream": tex(rule.upstream), "rule": tex(rule.rule),
        "index": view["index"], "pattern": view["pattern"], "overlay": view["overlay"],
        "facts": view["facts"], "result": tex(rule.result),
        "named": isinstance(rule.target, Ref), "reasons": list(rule.reasons),
        "plain": _plain(d, rule), "chain": [],
    }


def _result(g, zero: bool, steps: dict, tex, name, shape) -> dict:
    return {"name": name(g.name), "shape": shape(g.shape), "zero": zero, "expr": tex(g.expr),
            "reasons": list(g.reasons), "conditions": _conditions(g.expr, steps, tex)}


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
        "claims": [{"name": name(n), "claim": tex(c.claim.expr),
                    "verdict": "confirmed" if c.confirmed(rtol) else "refuted"}
                   for n, c in d.claims.items()],
    }
