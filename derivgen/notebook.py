"""derivgen in a notebook: a derivation that displays itself.

>>> from derivgen.notebook import derive_file
>>> view = derive_file("problems/softmax.toml")
>>> view.gradients["W"]
'(A - Y) @ X.T / N'

A problem may also be given as TOML text or as a dict (``derive``). Jupyter shows a
:class:`DerivationView` through its display hooks: the results typeset
(``_repr_markdown_``, ``_repr_latex_``); ``report()`` is the whole derivation, as
``derivgen build`` writes it (:func:`derivgen.api.render_outputs`), each rendering
made once, when first asked for.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import api
from .expr import to_source

__all__ = ["DerivationView", "derive", "derive_file"]

NO_MATRIX_FORM = r"\text{no matrix form found (see the report for the element-wise result)}"


class DerivationView:
    """A verified :class:`~derivgen.derivation.Derivation` with its renderings.

    ``templates`` is a folder of report templates searched first, as with
    ``derivgen build --templates``.
    """

    def __init__(self, derivation, templates: str | Path | None = None) -> None:
        self.derivation = derivation
        self.templates = templates
        self._outputs: dict[str, str] = {}

    @property
    def problem(self):
        """The :class:`~derivgen.problem.Problem` that was derived."""
        return self.derivation.problem

    @property
    def gradients(self) -> dict[str, "Gradient"]:
        """Each gradient's matrix form in the expression language, by name (in
        ``derive.wrt`` order), with its other forms (:class:`Gradient`)."""
        return {name: Gradient(self.derivation, name) for name in self.derivation.gradients}

    def _render(self, fmt: str) -> str:
        if fmt not in self._outputs:
            outputs = api.render_outputs(self.derivation, formats=(fmt,), templates=self.templates)
            self._outputs[fmt] = outputs[fmt]
        return self._outputs[fmt]

    def to_markdown(self) -> str:
        """The Markdown report, as ``derivgen build`` writes it."""
        return self._render("md")

    def report(self) -> str:
        """The whole derivation, step by step, in Markdown (``IPython.display.Markdown``
        shows it typeset)."""
        return self.to_markdown()

    def to_latex(self) -> str:
        """The report as a standalone LaTeX document."""
        return self._render("tex")

    def to_json(self) -> str:
        """The machine-readable result (docs/problem-format.md, "Results")."""
        return self._render("json")

    def to_dict(self) -> dict:
        """The JSON result as Python data."""
        return json.loads(self.to_json())

    @property
    def differentials(self) -> dict[str, str]:
        """Each Jacobian's differential (a matrix ``of``) and each Hessian's (keyed
        ``hessian(w)``, as ``[expect]`` keys it), in the expression language."""
        d = self.derivation
        return {n: to_source(lm.differential) for n, lm in d.jacobians.items()} | {
            f"hessian({n})": to_source(lm.differential) for n, lm in d.hessians.items()}

    def latex_results(self) -> str:
        r"""The results as one ``aligned`` block, ``\frac{\partial L}{\partial X} &= ...``
        per gradient, ``\mathrm{d}F &= ...`` per Jacobian or Hessian (with its matrix),
        typeset as in the report (without math delimiters)."""
        from .derivation import latex_names
        from .latex import LatexPrinter
        from .report import derivative_latex
        problem, d = self.problem, self.derivation
        printer = LatexPrinter(latex_names(problem))
        tex, of = printer.doprint, printer.name(problem.of)
        lines = [rf"\frac{{\partial {of}}}{{\partial {printer.name(n)}}} &= "
                 + (tex(g.expr) if g.expr is not None else NO_MATRIX_FORM)
                 for n, g in d.gradients.items()]
        for n, lm in [*d.jacobians.items(), *d.hessians.items()]:
            differential, matrix = derivative_latex(of, printer.name(n), lm.kind == "hessian")
            lines.append(f"{differential} &= {tex(lm.differential)}")
            if lm.matrix is not None:
                lines.append(f"{matrix} &= {tex(lm.matrix)}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    # -- Jupyter's display hooks -------------------------------------------------------

    def _repr_markdown_(self) -> str:
        """The results, typeset: what the title promises, not the whole report."""
        return f"**{_escaped(self.problem.title)}**\n\n$$\n{self.latex_results()}\n$$\n"

    def _repr_latex_(self) -> str:
        return "$$\n" + self.latex_results() + "\n$$"

    def __repr__(self) -> str:
        of = self.problem.of
        parts = [f"∂{of}/∂{n} = {e if e is not None else '(no matrix form)'}"
                 for n, e in self.gradients.items()]
        d = self.derivation
        parts += [f"d{of} = {to_source(lm.differential)}" for lm in d.jacobians.values()]
        parts += [f"d(∇_{n} {of}) = {to_source(lm.differential)}" for n, lm in d.hessians.items()]
        return f"<DerivationView {self.problem.name}: {'; '.join(parts)}>"


class Gradient(str):
    """A gradient's matrix form in the expression language (the string itself), with
    ``latex``, ``numpy`` (NumPy source, as the JSON's numpy field), ``sympy`` (entry by
    entry at the [dims] sizes, in the inputs' and steps' entries) and ``function``
    (a NumPy callable: the gradient at 2-D arrays of the inputs, by name)."""

    def __new__(cls, derivation, name: str) -> "Gradient":
        text = super().__new__(cls, to_source(derivation.gradients[name].expr))
        text._derivation, text.name = derivation, name
        return text

    @property
    def _expr(self):
        return self._derivation.gradients[self.name].expr

    @property
    def latex(self) -> str:
        from .derivation import latex_names
        from .latex import LatexPrinter
        return LatexPrinter(latex_names(self._derivation.problem)).doprint(self._expr)

    @property
    def numpy(self) -> str:
        from .numpy_code import numpy_source
        return numpy_source(self._expr)

    @property
    def sympy(self):
        """The gradient's entries as a sympy Matrix, each G_S written out."""
        from .elementwise import Elementwise
        from .nodes import substitute
        from .simplify import facts_of
        d = self._derivation
        values = {t.grad.name: t.value for t in d.backward.totals.values()}
        return Elementwise(d.problem, facts_of(d.problem)).evaluate(
            substitute(self._expr, values))

    def function(self, **inputs):
        """The gradient at these inputs (2-D arrays by name; each dim's size read from
        the first input whose shape shows it, else the [check] size)."""
        from .derivation import gradient_values
        from .numeric import forward
        d = self._derivation
        problem = d.problem
        sizes = dict(problem.check.sizes) | {
            dim: np.shape(inputs[name])[axis] for dim, (name, axis) in problem.dim_axes().items()}
        values = forward(problem, {n: np.asarray(v, dtype=float) for n, v in inputs.items()},
                         sizes)
        return gradient_values(problem, d.backward)(values, sizes)[
            d.backward.totals[self.name].grad.name]

    def __reduce__(self):           # a plain string, pickled
        return (str, (str(self),))


def derive_file(path: str | Path, templates: str | Path | None = None) -> DerivationView:
    """Load, derive and verify one problem file (:func:`derivgen.api.derive_file`),
    for display in a notebook."""
    return DerivationView(api.derive_file(path), templates)


def derive(source: str | dict, name: str = "problem",
           templates: str | Path | None = None) -> DerivationView:
    """Derive and verify a problem given as TOML text or as a dict of the same tables
    (``{"title": ..., "dims": {...}, ...}``); ``name`` is what messages and outputs call
    it."""
    from .derivation import derive as derive_problem
    from .problem import load, load_table
    if isinstance(source, dict):
        problem = load_table(source, name)
    elif isinstance(source, str):
        problem = load(Path(f"{name}.toml"), source.encode("utf-8"))
    else:
        raise TypeError(f"derive takes TOML text or a dict, not {type(source).__name__}; "
                        "derive_file takes a path")
    return DerivationView(derive_problem(problem), templates)


def _escaped(text: str) -> str:
    """A title as Markdown text: its own markup characters escaped."""
    return "".join("\\" + c if c in "\\`*_{}[]<>()#+-.!|$" else c for c in text)
