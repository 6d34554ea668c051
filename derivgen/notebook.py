"""derivgen in a notebook: a derivation that displays itself.

>>> from derivgen.notebook import derive_file
>>> view = derive_file("problems/softmax.toml")
>>> view.gradients["W"]
'(A - Y) @ X.T / N'

Jupyter shows a :class:`DerivationView` through its display hooks: the results
as LaTeX (``_repr_latex_``) or the whole report as Markdown
(``_repr_markdown_``). The renderings are the ones ``derivgen build`` writes
(:func:`derivgen.api.render_outputs`), each made once, when first asked for.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import api
from .expr import to_source

__all__ = ["DerivationView", "derive_file"]

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
    def gradients(self) -> dict[str, str | None]:
        """Each gradient's matrix form in the expression language, by name (in
        ``derive.wrt`` order); None where no matrix form was found."""
        return {name: to_source(g.expr) if g.expr is not None else None
                for name, g in self.derivation.gradients.items()}

    def _render(self, fmt: str) -> str:
        if fmt not in self._outputs:
            self._outputs[fmt] = api.render_outputs(self.derivation, (fmt,), self.templates)[fmt]
        return self._outputs[fmt]

    def to_markdown(self) -> str:
        """The Markdown report, as ``derivgen build`` writes it."""
        return self._render("md")

    def to_latex(self) -> str:
        """The report as a standalone LaTeX document."""
        return self._render("tex")

    def to_json(self) -> str:
        """The machine-readable result (docs/problem-format.md, "Results")."""
        return self._render("json")

    def to_dict(self) -> dict:
        """The JSON result as Python data."""
        return json.loads(self.to_json())

    def latex_results(self) -> str:
        r"""The results as one ``aligned`` block, ``\frac{\partial L}{\partial X} &= ...``
        per gradient, typeset as in the report (without math delimiters)."""
        from .latex import LatexPrinter, latex_name
        problem = self.problem
        names = {n: i.latex for n, i in problem.inputs.items() if i.latex}
        names |= {n: s.latex for n, s in problem.steps.items() if s.latex}
        printer = LatexPrinter(names)

        def name(n: str) -> str:
            return names.get(n) or latex_name(n)

        lines = [rf"\frac{{\partial {name(problem.of)}}}{{\partial {name(n)}}} &= "
                 + (printer.doprint(g.expr) if g.expr is not None else NO_MATRIX_FORM)
                 for n, g in self.derivation.gradients.items()]
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    # -- Jupyter's display hooks -------------------------------------------------------

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_latex_(self) -> str:
        return "$$\n" + self.latex_results() + "\n$$"

    def __repr__(self) -> str:
        of = self.problem.of
        parts = [f"∂{of}/∂{n} = {e if e is not None else '(no matrix form)'}"
                 for n, e in self.gradients.items()]
        return f"<DerivationView {self.problem.name}: {'; '.join(parts)}>"


def derive_file(path: str | Path, templates: str | Path | None = None) -> DerivationView:
    """Load, derive and verify one problem file (:func:`derivgen.api.derive_file`),
    for display in a notebook."""
    return DerivationView(api.derive_file(path), templates)
