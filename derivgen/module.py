"""A derivation as a standalone Python module that needs only NumPy (``--format py``) or
only PyTorch (``--format torch``).

The module computes what the report proves: ``forward(**inputs)`` every step,
``gradients(**inputs)`` each gradient by its variable's name (and ``jacobians``,
``hessians`` each proven matrix form), written from the verified forms with the
intermediates named as in the report (dS for ∂of/∂S), each formula as
:mod:`derivgen.numpy_code` spells it for the library. Inputs are 2-D arrays (1×1 for a
scalar; float64 tensors for PyTorch) by their problem names; a dim is read from the first
input whose shape has it (a dim no input shows is a keyword argument). ``check()``
compares the gradients by inputs with central differences at ``POINT``, a point of
derivgen's own numeric checks (where every step is finite and the inputs honour their
assumptions), and returns the largest relative error; the PyTorch module compares them
with torch.autograd as well, which knows nothing of derivgen's rules.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

from . import __version__
from .backward import Total
from .errors import ProblemError
from .nodes import Apply, names, walk
from .numpy_code import NUMPY, TORCH, Backend, source
from .shapes import Span, polynomial
from .sources import display_name


@dataclass(frozen=True)
class Library:
    """How a module is written for one array library: what differs between the NumPy
    and the PyTorch module beyond the formulas' spelling (``backend``)."""
    backend: Backend
    imports: str
    name: str                   # what the module calls the library: np, torch
    docstring: tuple[str, ...]  # the module's, after its first line
    checked: str                # what check() compares the gradients with
    array: str                  # a matrix of POINT, from nested lists of numbers
    nan: str
    copy: str                   # a copy of the matrix x
    indices: str                # every position (k, l) in x
    generator: str              # a seeded random generator, rng
    direction: str              # a random matrix shaped like x, from rng
    broadcast: str              # a gradient's {source} spread to its variable's ({name}) shape
    # its automatic differentiation, whose vjp, jvp and hvp check() compares with
    autograd: str | None = None


LIBRARIES = {
    "py": Library(
        NUMPY, imports="import numpy as np", name="np",
        docstring=("checked against central differences by check(). Inputs are 2-D NumPy "
                   "arrays (1×1", "for a scalar), by the problem's names."),
        checked="central differences", array="np.array({0}, dtype=float)", nan="np.nan",
        copy="x.copy()", indices="np.ndindex(*x.shape)", generator="np.random.default_rng(0)",
        direction="rng.standard_normal(x.shape)",
        broadcast="np.broadcast_to({source}, np.shape({name})).astype(float)"),
    "torch": Library(
        TORCH, imports="import torch", name="torch",
        docstring=("checked against torch.autograd and central differences by check(). "
                   "Inputs are 2-D", "float64 tensors (1×1 for a scalar), by the problem's names."),
        checked="torch.autograd and central differences",
        array="torch.tensor({0}, dtype=torch.float64)", nan="torch.nan", copy="x.clone()",
        indices="((k, l) for k in range(x.shape[0]) for l in range(x.shape[1]))",
        generator="torch.Generator().manual_seed(0)",
        direction="torch.randn(x.shape, generator=rng, dtype=torch.float64)",
        broadcast="torch.zeros_like({name}) + ({source})", autograd="torch.autograd.functional"),
}

_RESERVED = {"forward", "gradients", "jacobians", "hessians", "check", "POINT"}


def module_source(d, format: str = "py") -> str:
    """The module for the derivation ``d`` in the library of ``format`` (py, torch), as
    text; a ProblemError where it cannot be written so."""
    library = LIBRARIES[format]
    problem = d.problem
    clash = sorted((_RESERVED | {library.name}) & ({*problem.dims, *problem.inputs,
                                                     *problem.steps}))
    if clash:
        raise ProblemError(f"the name {clash[0]} would hide the generated module's own "
                           f"{clash[0]}: rename it to write --format {format}",
                           file=display_name(problem.path))
    steps = [s.expr for s in problem.steps.values()]
    totals = _totals(d) if d.gradients else []
    maps = {kind: {n: lm.matrix for n, lm in getattr(d, kind).items() if lm.matrix is not None}
            for kind in ("jacobians", "hessians")}
    unspelled = library.backend.unspelled(*steps, *(t.value for t in totals),
                                          *(m for ms in maps.values() for m in ms.values()))
    if unspelled:
        raise ProblemError(f"the operator {unspelled[0]} has no spelling in "
                           f"{library.backend.name}: --format {format} cannot write it",
                           file=display_name(problem.path))

    def code(node) -> str:
        return source(node, library.backend)
    inputs = list(problem.inputs)
    readable, keywords = _dims(problem)
    signature = ", ".join(inputs) + (", *, " + ", ".join(keywords) if keywords else "")
    call = ", ".join(f"{n}={n}" for n in inputs + keywords)

    def sizes(*nodes) -> list[str]:
        """The dims the function's formulas use, read from the inputs' shapes."""
        used = set().union(*(_used(n) for n in nodes))
        return [f"    {dim} = {text}" for dim, text in readable.items() if dim in used]
    # the title and the file's name are the user's text: comments, which end at the line
    lines = [
        f"# {problem.title}",
        f"# generated by derivgen {__version__} from {problem.name}.toml",
        '"""Every formula here was proven by derivgen, step by step (see the report), and is',
        *library.docstring,
        '"""',
        "",
        library.imports,
        "",
        "",
        f"def forward({signature}):",
        '    """Every step of the forward pass, by name."""',
        *sizes(*steps),
        *(f"    {name} = {code(step.expr)}" for name, step in problem.steps.items()),
        "    return {" + ", ".join(f'"{n}": {n}' for n in problem.steps) + "}",
    ]
    if totals:
        lines += ["", "", f"def gradients({signature}):",
                  f'    """∂{problem.of}/∂ each of {", ".join(d.gradients)}, by name."""',
                  *sizes(*(t.value for t in totals)), *_steps(problem, call),
                  *(f"    {t.grad.name} = {_shaped(t, library)}" for t in totals),
                  "    return {" + ", ".join(f'"{n}": {d.backward.totals[n].grad.name}'
                                           for n in d.gradients) + "}"]
    for kind, matrices in maps.items():
        if not matrices:
            continue
        what = (f"Jacobian matrix of {problem.of}", "vec(dF) = J vec(dX), columns stacked") \
            if kind == "jacobians" else (f"Hessian matrix of {problem.of}",
                                         f"d(∇{problem.of}) = H dw")
        lines += ["", "", f"def {kind}({signature}):",
                  f'    """The {what[0]} by each of {", ".join(matrices)} ({what[1]})."""',
                  *sizes(*matrices.values()), *_steps(problem, call)]
        lines.append("    return {" + ", ".join(f'"{n}": {code(m)}'
                                               for n, m in matrices.items()) + "}")
    lines += ["", "", "POINT = {", *(f'    "{n}": {library.array.format(_rows(rows, library))},'
                                     for n, rows in d.point.items()), "}"]
    lines += _check(d, call, keywords, library)
    return "\n".join(lines) + "\n"


def _used(node) -> set[str]:
    """The names a formula uses, the dims of its slices' bounds (x[:, H:2*H]) included."""
    used = names(node)
    for n in walk(node):
        if isinstance(n, Apply) and isinstance(n.axis, Span):
            for bound in (n.axis.start, n.axis.stop):
                used |= {name for monomial in polynomial(bound)[0] for name in monomial}
    return used


def _dims(problem) -> tuple[dict[str, str], list[str]]:
    """Each dim's source, read from an input's shape; the dims no input shows plainly."""
    readable = {dim: f"{name}.shape[{axis}]" for dim, (name, axis) in problem.dim_axes().items()}
    return readable, [d for d in problem.dims if d not in readable]


def _steps(problem, call: str) -> list[str]:
    return [f"    _steps = forward({call})",
            *(f'    {name} = _steps["{name}"]' for name in problem.steps)]


def _totals(d) -> list[Total]:
    """The gradients of the backward pass the results use, in the pass's order."""
    totals = [t for t in d.backward.order if isinstance(t, Total)]
    by_name = {t.grad.name: t for t in totals}
    needed, todo = set(), [d.backward.totals[n].grad.name for n in d.gradients]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += [n for n in names(by_name[name].value) if n in by_name]
    return [t for t in totals if t.grad.name in needed]


def _shaped(total: Total, library: Library) -> str:
    """A gradient's source, shaped like its variable (a number, 0 or 1, stands for a
    whole matrix)."""
    text = source(total.value, library.backend)
    if total.value.shape != total.grad.shape or text in ("0", "1"):
        return library.broadcast.format(source=text, name=total.name)
    return text


def _rows(rows, library: Library) -> str:
    """A matrix as nested lists, each number to 12 significant digits: the same text on
    every machine (the sampled point's last bits may differ), and far inside what the
    assumptions need (a column summing to 1 does so to 1e-12)."""
    return "[" + ", ".join("[" + ", ".join(f"{x:.12g}" if math.isfinite(x) else library.nan
                                         for x in row) + "]" for row in rows) + "]"


def _check(d, call: str, keywords: list[str], library: Library) -> list[str]:
    """check(): the gradients by inputs entry by entry, and each Jacobian's or Hessian's
    matrix along a random direction, against central differences (and the library's
    automatic differentiation, if it has one)."""
    problem, lib, autograd = d.problem, library.name, library.autograd
    variables = [n for n in d.gradients if n in problem.inputs]
    # a matrix's values moved along a direction, and the autograd function differentiating
    # the value of `of` along it: its Jacobian, or its gradient's (the Hessian)
    matrices = [(kind, value, how) for kind, value, how, maps in (
        ("jacobians", f'forward(**moved)["{problem.of}"]', "jvp", d.jacobians),
        ("hessians", "gradients(**moved)[name]", "hvp", d.hessians))
        if any(lm.matrix is not None for lm in maps.values())]
    of = f'lambda moved: forward(**(point | {{name: moved}}))["{problem.of}"]'
    vec = library.backend.spelling("vec")(["direction"], None, None)
    unvec = library.backend.spelling("unvec")([f"(matrix @ {vec})", "numeric"], None, None)
    doc = (f"The largest relative error, against {library.checked} at point (default POINT), "
           "of the gradients by inputs, entry by entry, and of each Jacobian's or Hessian's "
           'matrix applied to a random direction."""')
    lines = ["", "", "def check(point=None, h=6e-6):",
             textwrap.fill(doc, 84, initial_indent='    """', subsequent_indent="    "),
             "    point = dict(POINT if point is None else point)"]
    if keywords:
        lines.append("    point.update(" + ", ".join(
            f"{k}={v}" for k, v in problem.check.sizes.items() if k in keywords) + ")")
    lines.append("    worst = 0.0")
    if variables:
        lines += [
            "    stated = gradients(**point)",
            f"    for name in {variables!r}:",
            "        x = point[name]",
            f"        numeric = {lib}.zeros_like(x)",
            f"        for k, l in {library.indices}:",
            "            step = h * max(1.0, abs(x[k, l]))",
            "            ends = []",
            "            for sign in (1, -1):",
            f"                moved = {library.copy}",
            "                moved[k, l] += sign * step",
            f'                ends.append(float(forward(**(point | {{name: moved}}))'
            f'["{problem.of}"][0, 0]))',
            "            numeric[k, l] = (ends[0] - ends[1]) / (2 * step)",
            "        worst = max(worst, _error(stated[name], numeric))"]
        if autograd:
            lines += [f"        automatic = {autograd}.vjp({of}, x)[1]",
                      "        worst = max(worst, _error(stated[name], automatic))"]
    if matrices:
        lines.append(f"    rng = {library.generator}")
    for kind, value, how in matrices:
        lines += [
            f"    for name, matrix in {kind}(**point).items():",
            "        if name not in point:       # a step's Jacobian: derivgen checked it",
            "            continue",
            "        x = point[name]",
            f"        direction = {library.direction}",
            f"        step = h * max(1.0, float({lib}.max({lib}.abs(x))))",
            "        ends = []",
            "        for sign in (1, -1):",
            "            moved = point | {name: x + sign * step * direction}",
            f"            ends.append({value})",
            "        numeric = (ends[0] - ends[1]) / (2 * step)",
            f"        stated = {unvec}",
            "        worst = max(worst, _error(stated, numeric))"]
        if autograd:
            lines += [f"        automatic = {autograd}.{how}({of}, x, direction)[1]",
                      "        worst = max(worst, _error(stated, automatic))"]
    return lines + [
        "    return worst",
        "",
        "",
        "def _error(stated, numeric):",
        '    """The largest difference, relative to the largest entry (at least 1e-3)."""',
        f"    scale = max(1e-3, float({lib}.max({lib}.abs(numeric))), "
        f"float({lib}.max({lib}.abs(stated))))",
        f"    return float({lib}.max({lib}.abs(stated - numeric))) / scale",
        "",
        "",
        'if __name__ == "__main__":',
        f'    print(f"largest relative error against {library.checked}: {{check():.1e}}")',
    ]
