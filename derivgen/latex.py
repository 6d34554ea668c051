r"""LaTeX for derivgen's expression trees, in the style of sympy's printers.

:class:`LatexPrinter` has one ``_print_<Node>`` method per node class and, for
operators, one ``_print_<op>`` method per operator. Conventions:
``A B`` matrix product, ``A \odot B`` Hadamard product, ``A \oslash B``
element-wise division (a fraction when the divisor is a scalar),
``A^{\circ 2}`` element-wise power, ``A^{\top}`` transpose, ``\mathbf{1}^{\top} A``
column sums, ``A \mathbf{1}`` row sums, ``\operatorname{softmax}`` and friends
by name. Names are typeset as the problem's ``latex`` keys say.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from fractions import Fraction

from .expr import ATOM, mixes_products
from .nodes import Apply, Const, Node, Ref
from .ops import CONSTANTS, OPS
from .selection import joined
from .shapes import Dim, DimSum, Monomial, Shape, dim_add

LINE_LENGTH = 90             # characters of LaTeX on one line of a broken equation
MAX_WRITTEN_ENTRIES = 16     # matrices larger than this are shown with their corners and dots
_AXIS = {0: r"\text{col}", 1: r"\text{row}"}
# A \otimes B binds tighter than + and - (A \otimes B + C) but is bracketed in a product
_KRON = 1.5


# The TeX a problem file may write (``latex`` names, $math$ in its texts): math
# commands from this list, which read no file, define nothing and run nothing,
# and a few characters. A whitelist, because the report is compiled by pdflatex
# and problem files may come from strangers; a deny-list always misses one.
_USER_COMMANDS = frozenset("""
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu
    xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta
    Lambda Xi Pi Sigma Upsilon Phi Psi Omega
    hat widehat tilde widetilde bar overline underline vec dot ddot breve check acute grave
    mathrm mathbf mathit mathcal mathbb mathsf mathtt mathfrak boldsymbol operatorname text
    frac dfrac tfrac sqrt binom left right big Big bigl bigr Bigl Bigr
    cdot times div pm mp top intercal prime circ odot otimes oplus oslash star ast dagger ell
    partial nabla infty sum prod int log ln exp sin cos tan tanh sinh cosh arg max min det lim
    sup inf leq geq le ge neq ne approx equiv sim propto in notin subset subseteq to mapsto
    rightarrow leftarrow Rightarrow langle rangle lvert rvert lVert rVert vert Vert mid parallel
    ldots cdots dots vdots ddots quad qquad emptyset forall exists neg wedge vee cap cup
""".split())
_USER_SYMBOLS = frozenset(",;:!| {}")           # \, \; \: \! \| \  \{ \}: spacing, braces
_USER_CHARACTERS = re.compile(r"[A-Za-z0-9\\{}_^' ,.;:!|()\[\]+\-*/=<>]*\Z")


def unsafe_tex(text: str) -> str | None:
    """Why ``text``, math a problem file wrote, may not go into a report, or None."""
    bad = next((c for c in text if not _USER_CHARACTERS.match(c)), None)
    if bad:
        return f"character {bad!r} is not allowed"
    if "^^" in text:                            # TeX's ^^5c is a backslash in disguise
        return "^^ is not allowed"
    for command in re.findall(r"\\([A-Za-z]+|.?)", text):
        if command not in (_USER_COMMANDS if command.isalpha() else _USER_SYMBOLS):
            return f"\\{command} is not allowed"
    depth = 0
    for c in text:
        depth += (c == "{") - (c == "}")
        if depth < 0:
            break
    return "unbalanced braces" if depth else None


def latex_name(name: str) -> str:
    r"""A name as LaTeX: ``W`` as is, ``W1`` as ``W_{1}``, ``x_in`` as ``x_{\mathrm{in}}``,
    longer words upright."""
    m = re.fullmatch(r"([A-Za-z])_?(\d+)", name)
    if m:
        return f"{m.group(1)}_{{{m.group(2)}}}"
    m = re.fullmatch(r"([A-Za-z])_([A-Za-z0-9]+)", name)
    if m:
        return f"{m.group(1)}_{{\\mathrm{{{m.group(2)}}}}}"
    if len(name) == 1:
        return name
    return f"\\mathrm{{{name.replace('_', chr(92) + '_')}}}"


def dim_latex(d: Dim) -> str:
    """A dimension in LaTeX: N, 3, 4H, T - 1, mp, n^{2}."""
    return d.written(_monomial_latex, "") if isinstance(d, DimSum) else str(d)


def _monomial_latex(names: Monomial) -> str:
    r"""Dims multiplied, side by side as in 4H, a repeated one as a power: mp, mn^{2};
    names longer than a letter set apart by a thin space (Tx\,H)."""
    powers = [(name, len(list(run))) for name, run in itertools.groupby(names)]
    sep = "" if all(len(name) == 1 for name, _ in powers) else r"\,"
    return sep.join(name if k == 1 else f"{name}^{{{k}}}" for name, k in powers)


def shape_latex(shape: Shape) -> str:
    """r \\times c, a sum bracketed: T \\times (4H)."""
    def one(d: Dim) -> str:
        return f"\\left({dim_latex(d)}\\right)" if isinstance(d, DimSum) else dim_latex(d)
    return f"{one(shape.rows)} \\times {one(shape.cols)}"


def scientific(x: float) -> str:
    r"""A positive number as LaTeX in scientific notation: ``10^{-8}``, ``5 \cdot 10^{-4}``,
    ``0.5``."""
    mantissa, exponent = f"{x:e}".split("e")
    mantissa, exponent = mantissa.rstrip("0").rstrip("."), int(exponent)
    if -1 <= exponent <= 2:
        return f"{x:g}"
    power = f"10^{{{exponent}}}"
    return power if mantissa == "1" else f"{mantissa} \\cdot {power}"


def subscripted(base: str, sub: str) -> str:
    """``base_{sub}``, or ``(base)_{sub}`` when base already carries a sub- or
    superscript: the entries of W_1 are (W_1)_{ij}, not W_{1ij}."""
    if not sub:
        return base
    if ("_" in base or "^" in base) and not base.startswith("\\left("):
        base = f"\\left({base}\\right)"
    return f"{base}_{{{sub}}}"


class LatexPrinter:
    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self.names = dict(names or {})

    def doprint(self, node: Node) -> str:
        return self._print(node)

    def _print(self, node: Node) -> str:
        return getattr(self, f"_print_{type(node).__name__}")(node)

    def _wrap(self, node: Node, needs: bool) -> str:
        text = self._print(node)
        return f"\\left({text}\\right)" if needs else text

    @staticmethod
    def precedence(node: Node) -> float:
        if isinstance(node, Apply):
            if node.op == "mul" and _scalar_product(node):
                return 2
            if node.op == "div" and node.args[1].shape.is_scalar:
                return ATOM             # a fraction needs no brackets
            if node.op in ("ones_like", "zeros_like", "eye_like", "concat") or \
                    OPS[node.op].boolean:
                return ATOM             # printed as a single symbol, or in brackets
            if node.op == "kron":
                return _KRON
            return OPS[node.op].precedence
        if isinstance(node, Const) and node.value < 0:
            return OPS["neg"].precedence
        return ATOM

    # -- leaves ----------------------------------------------------------------------
    def _print_Const(self, node: Const) -> str:
        """An integer as such; a decimal as the fraction it is (0.5 is 1/2, 0.25 is 1/4)
        while that is small, else as written."""
        value = Fraction(repr(node.value))
        if value.denominator == 1:
            return str(value.numerator)
        if value.denominator <= 100:
            sign = "-" if value < 0 else ""
            return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"
        return repr(node.value)

    def _print_Ref(self, node: Ref) -> str:
        return CONSTANTS[node.name].latex if node.kind == "constant" else self.name(node.name)

    def name(self, name: str) -> str:
        """How a name is typeset: as the problem's ``latex`` key says, else by itself."""
        return self.names.get(name) or latex_name(name)

    def operand(self, node: Node) -> str:
        """What an index or a partial attaches to: a name, or a bracketed expression."""
        return self.name(node.name) if isinstance(node, Ref) else f"\\left({self.doprint(node)}\\right)"

    def _print_Apply(self, node: Apply) -> str:
        if OPS[node.op].boolean:            # a truth value: the Iverson bracket [a > b]
            return f"\\left[{relation(node, self._print)}\\right]"
        return getattr(self, f"_print_{node.op}", self._print_function)(node)

    # -- operators ---------------------------------------------------------------------
    def _binary(self, node: Apply, symbol: str) -> str:
        prec = OPS[node.op].precedence
        a, b = node.args
        return (f"{self._wrap(a, self.precedence(a) < prec or mixes_products(node, a))}{symbol}"
                f"{self._wrap(b, self.precedence(b) <= prec)}")

    def _print_add(self, node):
        return self._binary(node, " + ")

    def _print_sub(self, node):
        return self._binary(node, " - ")

    def _print_mul(self, node):
        a, b = node.args
        if isinstance(b, Const) and not isinstance(a, Const):     # a number leads: 2 G, not G 2
            node = Apply(node.op, (b, a), node.shape, node.axis)
        return self._binary(node, self._juxtaposed(node) if _scalar_product(node) else
                            r" \odot ")

    def _print_matmul(self, node):
        return self._binary(node, self._juxtaposed(node))

    def _juxtaposed(self, node: Apply) -> str:
        r"""Factors side by side; a differential set apart from what follows it
        (dX\,X, not dXX, which reads as one name)."""
        left = node.args[0]
        while isinstance(left, Apply) and left.op in ("matmul", "mul") and \
                self.precedence(left) >= OPS[node.op].precedence:
            left = left.args[1]
        differential = isinstance(left, Ref) and self.name(left.name).startswith(r"\mathrm{d}")
        return r" \, " if differential else " "

    def _print_kron(self, node):
        r"""A \otimes B, a factor bracketed unless it is a name, a power or a function
        (transposed): B^{\top} \otimes A, \left(A B\right) \otimes C."""
        a, b = (self._wrap(x, self.precedence(x) < OPS["pow"].precedence) for x in node.args)
        return f"{a} \\otimes {b}"

    def _print_div(self, node):
        a, b = node.args
        if b.shape.is_scalar:
            return f"\\frac{{{self._print(a)}}}{{{self._print(b)}}}"
        return self._binary(node, r" \oslash ")

    def _script(self, node: Node) -> str:
        """``node`` ready for a superscript: bracketed unless an atom, and braced when
        its LaTeX already has one (X^{-1} transposed is {X^{-1}}^{\top})."""
        text = self._wrap(node, self.precedence(node) < ATOM)
        return f"{{{text}}}" if "^" in text and not text.startswith("\\left(") else text

    def _print_pow(self, node):
        base, exponent = node.args
        if isinstance(exponent, Const) and exponent.value == 1:     # a rule's x^{2-1}
            return self._wrap(base, self.precedence(base) < ATOM)
        circ = "" if base.shape.is_scalar else r"\circ "
        return f"{self._script(base)}^{{{circ}{self._print(exponent)}}}"

    def _print_neg(self, node):
        arg = node.args[0]
        return "-" + self._wrap(arg, self.precedence(arg) <= OPS["neg"].precedence)

    def _print_transpose(self, node):
        arg = node.args[0]
        if isinstance(arg, Apply) and arg.op == "inv":
            return f"{self._script(arg.args[0])}^{{-\\top}}"
        return f"{self._script(arg)}^{{\\top}}"

    def _print_inv(self, node):
        return f"{self._script(node.args[0])}^{{-1}}"

    def _print_sqrt(self, node):
        return f"\\sqrt{{{self._print(node.args[0])}}}"

    def _print_log1p(self, node):
        """log(1 + x) as it is written, log(1 − x) for log1p(−x)."""
        x = node.args[0]
        one_plus = Apply("sub", (Const(1), x.args[0]), node.shape) if \
            isinstance(x, Apply) and x.op == "neg" else Apply("add", (Const(1), x), node.shape)
        return f"\\log\\left({self._print(one_plus)}\\right)"

    def _print_norm(self, node):
        axis = "" if node.axis is None else f"_{{{_AXIS[node.axis]}}}"
        return f"\\left\\lVert {self._print(node.args[0])} \\right\\rVert{axis}"

    def _print_abs(self, node):
        return f"\\left|{self._print(node.args[0])}\\right|"

    def _print_sum(self, node):
        arg = node.args[0]
        inner = self._wrap(arg, self.precedence(arg) <= OPS["matmul"].precedence)
        return {None: rf"\mathbf{{1}}^{{\top}} {inner} \mathbf{{1}}",
                0: rf"\mathbf{{1}}^{{\top}} {inner}",
                1: rf"{inner} \mathbf{{1}}"}[node.axis]

    def _print_take(self, node):
        """The rows the labels x list, W_{x,:} (the columns, W_{:,x}), as NumPy indexes."""
        w, labels = node.args
        picked = self.name(labels.name) if isinstance(labels, Ref) else self.doprint(labels)
        return subscripted(self.operand(w), f"{picked},\\,:" if node.axis == 0 else f":,\\,{picked}")

    def _print_slice(self, node):
        """Rows (columns) a+1 to b, counted from 1: X_{:, H+1:2H}; one of them, X_{:, 1}."""
        span = node.axis
        first = dim_latex(dim_add(span.start, 1))
        rows = first if span.length == 1 else f"{first}:{dim_latex(span.stop)}"
        return subscripted(self.operand(node.args[0]),
                           f"{rows},\\,:" if span.axis == 0 else f":,\\,{rows}")

    def _print_concat(self, node):
        """The parts side by side, [A  B  C], or one above the other."""
        parts = joined(node, node.axis.axis)
        sep = " \\\\ " if node.axis.axis == 0 else " & "
        return f"\\begin{{bmatrix}} {sep.join(self._print(p) for p in parts)} \\end{{bmatrix}}"

    def _print_ones_like(self, node):
        return r"\mathbf{1}"

    def _print_zeros_like(self, node):
        return r"\mathbf{0}"

    def _print_eye_like(self, node):
        return "I"

    def _print_function(self, node):
        """A function without a layout of its own: its registry name, bracketed argument."""
        name = OPS[node.op].latex
        if node.axis is not None:
            name += f"_{{{_AXIS[node.axis]}}}"
        written = node.args[:OPS[node.op].written]
        return f"{name}\\left({', '.join(self._print(a) for a in written)}\\right)"


def relation(node: Apply, operand) -> str:
    """A condition as written inside its Iverson bracket, its operands by ``operand``:
    a > b, a \\leq b, a > 0 \\land b < 1 (an ∨ inside an ∧ bracketed)."""
    op = OPS[node.op]
    a, b = node.args
    if not op.conditions:
        return f"{operand(a)} {op.latex} {operand(b)}"

    def part(x: Apply) -> str:
        text = relation(x, operand)
        inner = OPS[x.op]
        return f"\\left({text}\\right)" if inner.conditions and inner.precedence < op.precedence \
            else text
    return f"{part(a)} {op.latex} {part(b)}"


def _scalar_product(node: Apply) -> bool:
    """A product with a 1×1 factor is scaling, written by juxtaposition."""
    return any(a.shape.is_scalar for a in node.args)


def bmatrix(rows: int, cols: int, cell) -> str:
    """A rows×cols matrix of ``cell(i, j)``, its middle elided with dots when it has
    more than MAX_WRITTEN_ENTRIES entries."""
    if rows * cols <= MAX_WRITTEN_ENTRIES:
        body = [[cell(i, j) for j in range(cols)] for i in range(rows)]
    else:
        keep_r = [0, 1, None, rows - 1] if rows > 3 else list(range(rows))
        keep_c = [0, 1, None, cols - 1] if cols > 3 else list(range(cols))
        body = [[("\\ddots" if i is None and j is None else "\\vdots" if i is None
                  else "\\cdots" if j is None else cell(i, j)) for j in keep_c]
                for i in keep_r]
    lines = " \\\\ ".join(" & ".join(row) for row in body)
    return f"\\begin{{bmatrix}} {lines} \\end{{bmatrix}}"


def aligned(lhs: str, terms: list[str], total: str | None = None) -> str:
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
