"""Help for problem authors: a commented starter file and the operator listing.

:func:`new_problem` writes a small, valid problem file whose comments explain
every key of the format (``derivgen help format``). :func:`operator_table` and
:func:`operators_text` list every operator of :data:`derivgen.ops.OPS` with
its derivative rules, written in the expression language. Both are generated
from the registry (and the loader's list of assumptions) each time they are
called, so a new operator or assumption shows up without an edit here: each
rule is applied to symbolic arguments and printed with
:func:`derivgen.expr.to_source`.
"""

from __future__ import annotations

from .assumptions import DECLARED
from .backward import upstream_symbol
from .expr import to_source
from .nodes import Apply, Node, Ref, make
from .forms import ShapeMismatch
from .op import Op
from .ops import FUNCTIONS, OPS
from .shapes import Shape

__all__ = ["new_problem", "operator_table", "operators_text"]

# -- the operator listing ------------------------------------------------------------

ZERO = "0 (almost everywhere)"      # what a rule of None means (see derivgen.op)
CONSTANT = "none: labels are constant"
ARG_NAMES = "ABCDEF"

_RECT, _SQUARE = Shape("r", "c"), Shape("n", "n")
# Argument shapes to try, in order of preference: the first one an operator's shape
# rule (and every one of its derivative rules) accepts is shown. Equal shapes come
# first for element-wise operators, so that no broadcasting blurs the rule;
# r×k @ k×c before n×n @ n×n, so that a product's rules show which side is which.
_CANDIDATES: dict[int, list[tuple[Shape, ...]]] = {
    1: [(_RECT,), (_SQUARE,)],
    2: [(_RECT, _RECT), (Shape("r", "k"), Shape("k", "c")), (_SQUARE, _SQUARE),
        (_RECT, Shape(1, 1)), (Shape(1, 1), _RECT)],
}
_AXES = {"none": (None,), "optional": (None, 0, 1), "required": (0, 1)}
_AXIS_POLICY = {
    "none": "none",
    "optional": "optional (none: all entries; axis=0: each column; axis=1: each row)",
    "required": "required (axis=0 or axis=1, as the description says)",
}


def _candidates(op: Op) -> list[tuple[Shape, ...]]:
    """The operator's own example shapes (labels, ...), else the generic ones."""
    return list(op.examples) or _CANDIDATES.get(op.arity, [(_RECT,) * op.arity,
                                                           (_SQUARE,) * op.arity])


def _written(op: Op, args: tuple[Node, ...], out: Shape, axis: int | None) -> str:
    """How the operator is written: ``A @ B``, ``A.T``, ``softmax(A, axis=0)``."""
    if op.is_function and not op.span:  # a function of several arguments printed whole
        extra = "" if axis is None else f", axis={axis}"
        return f"{op.name}({', '.join(to_source(a) for a in args[:op.written])}{extra})"
    return to_source(Apply(op.name, args, out, axis))


def _form(op: Op, axis: int | None) -> dict:
    """The operator at one axis, applied to the first argument shapes it accepts."""
    for shapes in _candidates(op):
        refs = tuple(Ref(ARG_NAMES[i], "input", s) for i, s in enumerate(shapes))
        # a condition is written as one: A > 0
        args = tuple(make("greater", a, 0) if i in op.conditions else a
                     for i, a in enumerate(refs))
        try:
            param = op.span(shapes, axis) if op.span else axis     # a slice's span, say
            out = op.shape(shapes, param)
            ans = Ref("ans", "step", out)
            g = upstream_symbol(ans)
            labels = {a.name: a.shape.labels for a in refs if a.shape.labels is not None}
            rules: dict[str, Node | None] = {
                a.name: None if rule is None else rule(g, ans, *args, axis=param)
                for a, rule in zip(refs[:op.written], _padded(op.vjp, op.arity))}
            forward: dict[str, Node] = {
                a.name: rule(Ref("d" + a.name, "input", a.shape), ans, *args, axis=param)
                for a, rule in zip(refs[:op.written], _padded(op.jvp, op.arity))
                if rule is not None}
        except ShapeMismatch:
            continue
        return {
            "axis": axis,
            "written": _written(op, args, out, param),
            "shapes": {a.name: str(a.shape) for a in refs[:op.written]},
            "labels": labels,
            "output": str(out),
            "rules": {name: CONSTANT if name in labels else ZERO if node is None else
                      to_source(node) for name, node in rules.items()},
            "forward": {name: to_source(node) for name, node in forward.items()},
        }
    args = tuple(Ref(ARG_NAMES[i], "input", _RECT) for i in range(op.arity))
    return {"axis": axis, "written": _written(op, args, _RECT, axis), "shapes": {}, "labels": {},
            "output": None, "rules": {}, "forward": {},
            "note": "no argument shapes tried were accepted by its shape rule"}


def _padded(rules: tuple, arity: int) -> tuple:
    return tuple(rules) + (None,) * (arity - len(rules))


def operator_table() -> list[dict]:
    """Every operator of :data:`derivgen.ops.OPS`, in registry order, as plain data.

    Each entry has ``name``, ``symbol`` (``None`` for a function), ``arity``,
    ``doc``, ``axis`` (the policy: ``"none"``, ``"optional"`` or ``"required"``),
    ``written`` (how each form is written) and ``forms``: one per axis the
    operator takes, each with ``axis``, ``written``, the symbolic ``shapes`` of
    its arguments (``{"A": "r×k", "B": "k×c"}``), the ``output`` shape and
    ``rules``: per argument, its gradient contribution in the expression
    language, with ``G`` the upstream gradient (shaped like the output) and
    ``ans`` the output; ``"0 (almost everywhere)"`` where the registry's rule is
    None; and ``forward``: per argument with a rule, the differential of the output
    when that argument A moves by dA.
    """
    table = []
    for op in OPS.values():
        forms = [_form(op, axis) for axis in _AXES[op.axis]]
        table.append({
            "name": op.name,
            "symbol": op.symbol,
            "arity": op.arity,
            "doc": op.doc,
            "axis": op.axis,
            "written": [f["written"] for f in forms],
            "forms": forms,
        })
    return table


def operators_text() -> str:
    """A readable listing of :func:`operator_table`."""
    lines = [
        "Operators of the expression language, with their derivative rules",
        "",
        "For each argument, the rule gives the gradient that flows back to it, written",
        "in the expression language: ans is the operator's output and G the upstream",
        "gradient ∂L/∂ans, shaped like ans. The forward rule (dA ->) gives the",
        "differential of the output when A moves by dA, the rule Jacobians and Hessians",
        "are derived with. Shapes are symbolic: r×c is any matrix, n×n a square one.",
    ]
    for entry in operator_table():
        lines += ["", f"{entry['name']}: {entry['doc']}", f"  axis: {_AXIS_POLICY[entry['axis']]}"]
        for form in entry["forms"]:
            shapes = ", ".join(f"{n} {s}" + (f" (labels of {form['labels'][n]} classes)"
                                             if n in form["labels"] else "")
                               for n, s in form["shapes"].items())
            signature = f"{shapes} -> {form['output']}" if form["shapes"] else form["note"]
            lines.append(f"  {form['written']:<28} {signature}")
            for name, rule in form["rules"].items():
                lines.append(f"    ∂/∂{name}: {rule}")
                if name in form["forward"]:
                    lines.append(f"    d{name} -> {form['forward'][name]}")
    return "\n".join(lines) + "\n"


# -- the starter problem ------------------------------------------------------------------

def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _wrapped(words: list[str], prefix: str, width: int = 79) -> list[str]:
    """``words`` joined by ", " into comment lines no wider than ``width``."""
    lines, line = [], prefix
    for i, word in enumerate(words):
        piece = word + ("," if i < len(words) - 1 else "")
        if len(line) + 1 + len(piece) > width and line.strip() != "#":
            lines.append(line)
            line = "#  "
        line += " " + piece
    return lines + [line]


def new_problem(name: str) -> str:
    """A commented starter problem file, with ``name`` in its title.

    The worked example (a linear layer, a sigmoid and a squared loss) is valid:
    it loads, derives and its ``[expect]`` claim is confirmed. Its comments
    explain every key of the format; the lists of assumptions and functions
    come from derivgen itself.
    """
    assumptions = [f"#   {key:<20} {text}" for key, text in DECLARED.items()]
    functions = _wrapped([f for f in FUNCTIONS], "# Functions:")
    one_line = " ".join(name.split())               # a title is one line
    title = _toml_string(f"{one_line}: a sigmoid layer trained with a squared loss")
    return "\n".join([
        "# A derivgen problem file: one composition of matrix functions and the",
        "# gradients to derive. `derivgen help format` describes the format;",
        "# `derivgen build THIS_FILE` writes the step-by-step derivation (Markdown,",
        "# LaTeX, JSON). Lines starting with # are comments. Unknown keys are errors.",
        "",
        "# title (required): the heading of the report.",
        f"title = {title}",
        "# summary (optional, Markdown): shown under the title.",
        'summary = "A linear layer with a bias, a sigmoid on each entry, a squared loss."',
        "",
        "# [dims] (required, may be empty): dimension name -> positive integer. Shapes",
        "# refer to dims by name; in an expression a dim's name is its size (N below).",
        "# These sizes are the ones the element-wise derivation writes out entry by",
        "# entry: keep them small; the numeric checks use [check].sizes.",
        "[dims]",
        "K = 2    # outputs",
        "D = 3    # features",
        "N = 3    # examples",
        "",
        "# [inputs] (required): the leaves of the composition, one table each.",
        '#   shape        [] a scalar, ["D"] a column vector (D×1), ["K", "D"] a matrix;',
        "#                each entry a dim name or a positive integer (required)",
        "#   constant     true for data: it is not differentiated and may not be in",
        "#                [derive].wrt (default false: a variable)",
        "#   assume       list of properties the simplifier may use; the numeric",
        "#                checks sample values that honour them (default [])",
        '#   latex        how the name is typeset, e.g. "\\\\mathbf{b}" (a backslash is',
        "#                doubled in a TOML string); default: from the name, W1 as W_{1}",
        "#   description  a few words for the setup table",
        "# Assumptions:",
        *assumptions,
        "[inputs]",
        'W = { shape = ["K", "D"], description = "weights" }',
        'b = { shape = ["K"], latex = "\\\\mathbf{b}", description = "bias" }',
        'X = { shape = ["D", "N"], constant = true, description = "examples as columns" }',
        'Y = { shape = ["K", "N"], constant = true, assume = ["one_hot_columns"] }',
        "",
        "# [steps] (required): the forward pass, in order. Each step is a new name and",
        "# may use dims, inputs and the steps before it. Two forms:",
        '#   NAME = "expression"',
        '#   NAME = { expr = "expression", latex = "...", description = "..." }',
        "# Every value is a matrix (a scalar is 1×1, a vector a column). Operators:",
        "# A @ B (matrix product), + - * / ** element-wise with broadcasting (a 1×1,",
        "# an r×1 column or a 1×c row stretches to fit), -A, A.T (transpose).",
        *functions,
        "# sum and mean take axis=0 (each column) or axis=1 (each row) or none (all",
        "# entries); softmax and logsumexp need the axis. Every operator and its",
        "# derivative rules: run `derivgen ops`.",
        "[steps]",
        'Z = "W @ X + b"                   # b (K×1) is added to every column',
        'Yhat = { expr = "sigmoid(Z)", latex = "\\\\hat{Y}", description = "predictions" }',
        'L = "sum((Yhat - Y) ** 2) / (2 * N)"',
        "",
        "# [derive] (required): of = a step whose value is a scalar (1×1); wrt = the",
        "# non-constant inputs and steps to differentiate it with respect to. A matrix",
        "# or vector of gets its Jacobians instead (wrt optional: every variable it",
        '# uses); hessian = ["w"] adds the Hessian of a scalar of by the input w.',
        "[derive]",
        'of = "L"',
        'wrt = ["Z", "W", "b"]',
        "",
        "# [expect] (optional): your own answers, NAME = expression, NAME in wrt (for a",
        "# Jacobian its differential, in the direction dNAME, or its matrix; for a",
        '# Hessian the key "hessian(w)"). Each is proven equal to derivgen\'s result (any',
        "# equivalent form is accepted) and checked numerically; a refuted claim fails",
        "# the build.",
        "[expect]",
        'Z = "(Yhat - Y) * Yhat * (1 - Yhat) / N"',
        "",
        "# [check] (optional): the numeric spot-checks against finite differences.",
        "#   sizes   dim sizes for the checks, usually larger than [dims] (default the",
        "#           [dims] sizes)",
        "#   seed    seed of the random points: the same file always gives the same",
        "#           report (default 0)",
        "#   trials  how many random points, 1 to 100 (default 3)",
        "#   rtol    largest accepted relative error (default 1e-6)",
        "[check]",
        "sizes = { K = 3, D = 5, N = 7 }",
        "seed = 0",
        "trials = 3",
        "rtol = 1e-6",
        "",
    ])
