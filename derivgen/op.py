"""What an operator is: the :class:`Op` record, and the helpers its rules are written with.

An operator of the expression language is one :class:`Op`, holding its forward
rule next to its derivative (as in HIPS/autograd and micrograd):

``shape(shapes, axis)``
    the result shape, or :class:`ShapeMismatch` with a sentence saying what
    does not fit (``{0}``, ``{1}`` stand for the arguments' source text);
``numpy(values, axis)``
    the numeric forward on 2-D arrays;
``sympy(matrices, axis)``
    the element-wise forward on sympy matrices, entry by entry;
``vjp``
    one rule per argument: ``rule(g, ans, *args, axis)`` is the gradient
    contribution to that argument, as a matrix expression built from nodes,
    where ``g`` is the upstream gradient (shaped like ``ans``) and ``ans`` the
    operator's output. ``None`` means the derivative is zero almost everywhere;
``jvp``
    the same derivative forward, one rule per argument: ``rule(d, ans, *args, axis)``
    is the differential of the output when that argument moves by ``d`` (shaped like
    the argument; the result is shaped like the output): d(XY) = dX Y + X dY. ``None``
    exactly where ``vjp`` is. An element-wise function's forward rule is its backward
    one (both multiply by f′(x) entry by entry), so it is given once;
``index``
    per argument, the local partial ∂out_ij/∂arg_kl in index notation, as a
    sympy expression ``index(o, a, i, j, k, l, axis, n)`` over the indexed
    output ``o`` and arguments ``a`` (Kronecker deltas, entries such as
    ``o[i, j]``; ``n`` is the argument's (rows, cols)); written for arguments
    of equal shape, broadcasting aside;
``code``
    how it is written in NumPy source, ``code(args, axis, shapes)`` with each argument's
    source (and shape): ``np.exp(x)``, ``np.sum(x, axis=0, keepdims=True)`` (NumPy drops a
    reduced axis unless told), softmax spelled out; what generated code and the JSON's
    ``numpy`` fields are written with (a registry test evaluates it against ``numpy``);
``torch_code``
    the same in PyTorch, for ``--format torch``: ``torch.sum(x, dim=0, keepdim=True)``,
    ``torch.take_along_dim(x, y.long(), dim=0)``; None where PyTorch has no spelling for
    it, and a problem holding it is refused. Torch functions take tensors only, so an
    argument that is a plain number (a dim, a constant) reaches it as a 0-d float64
    tensor (:mod:`derivgen.numpy_code`), unless the operator leaves it unwritten (a
    size); values are float64 tensors, so a spelling that makes a tensor says so;
``symbol``, ``precedence``, ``product``
    how an operator (not a function) is written in the language (``@``), how
    tightly it binds (1 sums, 2 products, 3 negation, 4 powers; functions and
    ``.T`` are 5, names and numbers 6), and which kind of product it is
    (matrix or element-wise), so that printers bracket (A @ B) * C;
``latex``
    how a function's name is typeset (``\\operatorname{softmax}``); the printer
    (:mod:`derivgen.latex`) writes it before its bracketed argument, unless it
    has a layout of its own for the operator (fractions, ``X^{-1}``, ``|x|``, ...);
``scalar``, ``algebra``
    for an element-wise function, its sympy form on one entry, and whether the
    simplifier may use sympy's algebra of it (exp(log x) = x, √x² = x for
    x > 0); without, it treats the function as an unknown f(x);
``domain``
    per argument, where the numeric checks sample an input used there directly;
``facts(node)``
    properties every output of the operator's ``node`` has, which the simplifier may use;
``condition``
    what a formula holding the operator assumes of its argument, as the end of a
    sentence ("is invertible" for ``inv``): a result holding it states it;
``reflection``
    for an element-wise function, (a, b) with f(−x) = a + b f(x) (almost everywhere):
    tanh (0, −1), the sigmoid (1, −1), cos (0, 1); the simplifier tries each sign of
    an argument and keeps whichever reads shorter (σ(x), not 1 − σ(−x));
``entrywise``
    each output entry depends on the same entry of each argument alone (broadcasting
    aside), so its rule multiplies G entry by entry by one local derivative;
``symmetric``
    its square values are symmetric whatever the argument (diag of a vector), so the
    simplifier drops their transpose;
``shape_only``
    for a constant such as a matrix of ones: its value depends on its argument's
    shape alone, so a rule holding it still only rescales or spreads G;
``boolean``, ``conditions``
    whether the operator's values are truth values, 1 or 0 (a comparison), and which
    of its arguments must be such (where's first): truth values appear only there;
``span``
    for an operator acting on a :class:`~derivgen.shapes.Span` of rows or columns
    (a slice, a join), whose node carries the span where others carry an axis: the
    span it takes, from its arguments' shapes and an axis (a join's follows from
    them; a slice's is an example, its last rows or columns);
``listed``
    written with its arguments in one list, two or more: ``concat([A, B, C], axis=1)``
    (a chain of joins of two);
``examples``
    argument shapes to show and test the operator with, where the generic ones (equal
    shapes, broadcast pairs, a matrix product) do not fit it: labels, for instance;
``implicit``
    one function per argument the language leaves unwritten (the last ones), each
    building it from the written arguments' shapes: ``one_hot(y)`` is
    ``one_hot(y, C)``, C being the number of classes y declares;
``max_size``
    for a matrix function whose entries sympy writes out whole (a determinant
    has n! terms), the largest n×n argument it may have at the ``[dims]``
    sizes: beyond it the element-wise derivation takes minutes.

The registry itself is :mod:`derivgen.ops` (with :mod:`derivgen.selection`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from .forms import ShapeMismatch
from .lazy import sp
from .nodes import Ref, dim_node, make
from .shapes import Shape, Span


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    shape: Callable
    numpy: Callable
    sympy: Callable
    vjp: tuple[Callable | None, ...]
    doc: str
    jvp: tuple[Callable | None, ...] = ()
    code: Callable | None = None    # (sources, axis, shapes) -> its NumPy source
    torch_code: Callable | None = None      # the same, its PyTorch source
    symbol: str | None = None   # how an operator (not a function) is written: '+', '@', '.T', ...
    precedence: int = 5
    product: Literal["matrix", "elementwise"] | None = None
    axis: Literal["none", "optional", "required"] = "none"
    index: tuple[Callable | None, ...] = ()
    latex: str | None = None
    scalar: Callable | None = None
    algebra: bool = False
    domain: tuple[str | None, ...] = ()
    facts: Callable[[object], frozenset[str]] = lambda node: frozenset()
    max_size: int | None = None
    entrywise: bool = False     # out_ij depends on the arguments' entries ij alone
    reflection: tuple[int, int] | None = None   # f(−x) = a + b f(x)
    shape_only: bool = False    # its value depends on its argument's shape alone (ones, I)
    condition: str | None = None    # what a formula holding it assumes of its argument
    symmetric: bool = False     # a square value of it is symmetric whatever its argument
    boolean: bool = False       # its values are truth values: 1 where it holds, else 0
    conditions: frozenset[int] = frozenset()    # the arguments that are truth values
    span: Callable | None = None    # (shapes, axis) -> the Span its node carries
    listed: bool = False        # written with one list of its arguments: concat([A, B, C])
    examples: tuple[tuple[Shape, ...], ...] = ()    # argument shapes that fit it, to show it
    implicit: tuple[Callable, ...] = ()    # the last arguments, from the written ones' shapes

    @property
    def written(self) -> int:
        """How many arguments the language writes."""
        return self.arity - len(self.implicit)

    @property
    def is_function(self) -> bool:
        return self.symbol is None


def label_arguments(op: Op) -> set[int]:
    """Which arguments of ``op`` are class labels (as its example shapes show)."""
    return {n for shapes in op.examples for n, s in enumerate(shapes) if s.labels is not None}


# -- helpers for NumPy and PyTorch source ----------------------------------------------

def template(text: str) -> Callable:
    """Source from a template of the arguments' sources: ``"np.exp({0})"``."""
    return lambda a, axis, shapes: text.format(*a, axis=axis)


def infix(symbol: str) -> Callable:
    """``(a + b)``: an operator NumPy (and PyTorch) write as the language does, bracketed."""
    return lambda a, axis, shapes: f"({a[0]} {symbol} {a[1]})"


def reduction(function: str) -> Callable:
    """``np.sum(x, axis=0, keepdims=True)``: a reduction keeping the matrix shape."""
    return lambda a, axis, shapes: \
        f"{function}({a[0]}{'' if axis is None else f', axis={axis}'}, keepdims=True)"


def torch_reduction(function: str) -> Callable:
    """``torch.sum(x, dim=0, keepdim=True)``; over all entries, ``dim=(0, 1)``."""
    return lambda a, axis, shapes: \
        f"{function}({a[0]}, dim={(0, 1) if axis is None else axis}, keepdim=True)"


# -- helpers for derivative rules ----------------------------------------------------

def unbroadcast(g, like):
    """Sum ``g`` over the axes along which ``like`` was stretched to g's shape:
    the adjoint of broadcasting."""
    if g.shape == like.shape:
        return g
    if like.shape.is_scalar:
        return make("sum", g)
    return make("sum", g, axis=1 if like.shape.cols == 1 else 0)


def stretched(d, like):
    """``d`` broadcast to the shape of ``like`` (the adjoint of :func:`unbroadcast`): how
    an argument's differential reaches an output it was broadcast into."""
    return d if d.shape == like.shape else spread(d, like)


def spread(g, like):
    """``g`` (a reduction's gradient) stretched back to the shape of ``like``."""
    return g * make("ones_like", like)


def applied(op: Op, args, axis=None):
    """``op`` applied to the arguments the language writes, the unwritten ones built (and
    for an operator on a span, the span its arguments give at ``axis``)."""
    shapes = tuple(a.shape for a in args)
    if op.span and not isinstance(axis, Span):
        axis = op.span(shapes, axis)
    return make(op.name, *args, *(build(shapes) for build in op.implicit), axis=axis)


def at_sizes(axis, sizes: Mapping):
    """A node's axis as its forms take it: a span's bounds as numbers at ``sizes``."""
    return axis.at(sizes) if isinstance(axis, Span) else axis


def example(op: Op, names, axis=None):
    """``op`` applied to matrices with the given ``names``, of the first of its example
    shapes (else n×n) that it takes at ``axis`` (a condition written A > 0); None if it
    takes none."""
    for shapes in op.examples or ((Shape("n", "n"),) * op.arity,):
        args = [Ref(n, "input", s) for n, s in zip(names, shapes[:op.written])]
        args = [make("greater", a, 0) if n in op.conditions else a for n, a in enumerate(args)]
        try:
            return applied(op, args, axis)
        except ShapeMismatch:
            continue
    return None


def count(x, axis):
    """How many entries a reduction over ``axis`` adds up, as an expression."""
    rows, cols = dim_node(x.shape.rows), dim_node(x.shape.cols)
    if axis is None:                # a vector's entries are its rows (or its columns)
        return rows * cols if x.shape.rows != 1 and x.shape.cols != 1 else (
            cols if x.shape.rows == 1 else rows)
    return rows if axis == 0 else cols


# -- helpers for index formulas: ∂out_ij/∂arg_kl -------------------------------------------

def delta(a, b):
    return sp.KroneckerDelta(a, b)


def diagonal(local):
    """An element-wise operator's partial: δ_ik δ_jl times ``local(o_ij, a_ij, b_ij)``."""
    def index(o, a, i, j, k, l, axis, n):
        entries = [x[i, j] for x in a]
        return delta(i, k) * delta(j, l) * local(o[i, j], *entries)
    return index


def inverse_of(base):
    """The entries of a matrix's inverse, as an indexed name: (X^{-1})_{lk}."""
    return sp.IndexedBase(f"{base.label}^{{-1}}")


def local_partial(op: Op, arg: int, out, bases, i, j, k, l, axis, size: tuple[int, int]):
    """∂out_ij/∂arg_kl in index notation, for an argument of ``size`` (rows, cols).

    The registry's formulas are written for arguments shaped like the output. An
    argument with one row (column) is broadcast down the rows (across the columns):
    its only row k reaches every output row i, so δ_ik (δ_jl) is 1."""
    rows, cols = size
    partial = sp.sympify(op.index[arg](out, bases, i, j, k, l, axis, size))
    broadcast = [delta for delta, one in ((sp.KroneckerDelta(i, k), rows == 1),
                                          (sp.KroneckerDelta(j, l), cols == 1)) if one]
    return partial.subs({delta: 1 for delta in broadcast})


def partial_matrix(op: Op, arg: int, axis, matrices: dict, k: int, l: int):
    """∂out/∂arg_kl entry by entry, from the registry's index form: ``matrices`` holds
    the output (``_out``) and the arguments (``_x0``, ``_x1``, ...) as sympy matrices,
    a broadcast argument with its one row or column. Raises KeyError for an entry of a
    matrix not given (the inverse in det's partial)."""
    i, j, k_, l_ = sp.symbols("i j k l", integer=True)
    out, target = matrices["_out"], matrices[f"_x{arg}"]
    bases = [sp.IndexedBase(f"_x{n}") for n in range(op.arity)]
    formula = local_partial(op, arg, sp.IndexedBase("_out"), bases, i, j, k_, l_, axis,
                            target.shape).subs({k_: k, l_: l})

    def entry(e):
        m = matrices[e.base.label.name]
        r, c = (int(x) for x in e.indices)
        return m[r % m.rows, c % m.cols]
    return sp.Matrix(out.rows, out.cols, lambda a, b: formula.subs({i: a, j: b}).replace(
        lambda e: isinstance(e, sp.Indexed), entry))
