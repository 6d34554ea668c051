"""The expression language: a safe parser, a shape checker and a printer.

Problem files may come from strangers, so their text is never executed. It is
read with :func:`ast.parse` (which only builds a syntax tree) and that tree is
walked against a whitelist: numbers, names, ``+ - * / ** @``, unary minus,
``.T`` and calls of the functions in :data:`derivgen.ops.FUNCTIONS` with an
optional ``axis=0|1``. Everything else is refused by name. Python's own
precedence is the language's: ``+ -`` loosest, then ``* / @``, unary minus,
``**`` (right-associative), then ``.T``, calls and parentheses.

The result is a small immutable tree of :class:`Const`, :class:`Ref` and
:class:`Apply` nodes, each carrying its symbolic :class:`~derivgen.shapes.Shape`.
"""

from __future__ import annotations

import ast
import math
import operator
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from .errors import ExprError, ShapeError, did_you_mean
from .nodes import Apply, Const, Node, Ref, names
from .lazy import np
from .forms import ShapeMismatch
from .op import label_arguments
from .ops import CONSTANTS, FUNCTIONS, OPS
from .selection import joined
from .shapes import SCALAR, Dim, Shape, Span, NotADim, dim_add, dim_expression

MAX_LENGTH = 2000      # characters in one expression
MAX_DEPTH = 100        # nesting of the syntax tree (and of brackets)
MAX_NUMBER = 1e12      # size of a number written in an expression (and 1/MAX_NUMBER, but 0)
MAX_EXPONENT = 100     # size of a constant exponent


@dataclass(frozen=True)
class Binding:
    """What a name in scope stands for: its kind and shape."""
    kind: str
    shape: Shape


_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
           ast.Pow: "pow", ast.MatMult: "matmul", ast.BitAnd: "logical_and",
           ast.BitOr: "logical_or"}
_COMPARE = {ast.Gt: "greater", ast.GtE: "greater_equal", ast.Lt: "less", ast.LtE: "less_equal",
            ast.Eq: "equal", ast.NotEq: "not_equal"}
_REFUSED_BINARY = {ast.Mod: "'%'", ast.FloorDiv: "'//'", ast.LShift: "'<<'",
                   ast.RShift: "'>>'", ast.BitXor: "'^' (write powers as **)"}
_REFUSED_UNARY = {ast.UAdd: "unary '+'", ast.Not: "'not'", ast.Invert: "'~'"}
_REFUSED_NODES = {
    ast.Slice: "slices outside brackets",
    ast.Lambda: "lambda expressions",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "comprehensions",
    ast.BoolOp: "'and' and 'or' (join conditions with & and |, each in brackets)",
    ast.IfExp: "conditional expressions",
    ast.List: "lists", ast.Tuple: "tuples", ast.Set: "sets", ast.Dict: "dicts",
    ast.JoinedStr: "strings", ast.FormattedValue: "strings",
    ast.NamedExpr: "assignments",
    ast.Starred: "starred arguments",
    ast.Await: "'await'", ast.Yield: "'yield'", ast.YieldFrom: "'yield'",
}


def parse(text: str, scope: Mapping[str, Binding], *, later: Collection[str] = (),
          defining: str | None = None) -> Node:
    """Parse ``text`` into a shape-checked tree.

    ``scope`` maps every name the expression may use to its binding; ``later``
    names things that exist but may not be used here (steps after this one)
    and ``defining`` the step this expression defines, so that the messages
    can say so. Raises :class:`ExprError` or :class:`ShapeError` with
    ``offset`` set to the offending character.
    """
    src = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    _check_limits(src)
    body = src.lstrip()
    lead = len(src) - len(body)
    if not body.strip():
        raise ExprError("the expression is empty", offset=0)
    try:
        with warnings.catch_warnings():      # Python's own warnings (e.g. "invalid decimal
            warnings.simplefilter("ignore")  # literal" for 2axis) would print a second line
            tree = ast.parse(body, mode="eval")
    except SyntaxError as e:
        if not e.offset:        # Python's parser reports running out of input at offset 0
            raise ExprError("cannot parse expression: it ends too early",
                            offset=lead + len(body.rstrip())) from None
        raise ExprError(f"cannot parse expression: {_first_sentence(e.msg)}",
                        offset=lead + e.offset - 1) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError("expression is too deeply nested", offset=lead) from None
    _check_depth(tree, lead)
    node = _Parser(body, lead, scope, later, defining).visit(tree.body)
    if node.shape.labels is not None:
        raise ExprError(f"{body.strip()} holds class labels, not numbers: " + _USE_LABELS,
                        offset=lead)
    if _is_condition(node):
        raise ExprError(f"{body.strip()} is a condition, not a number: use it in "
                        "where(condition, a, b)", offset=lead)
    return node


def _first_sentence(msg: str) -> str:
    return msg.split(". ")[0].rstrip(".?")


def _check_limits(src: str) -> None:
    depth = 0
    for i, c in enumerate(src):
        if not (c.isascii() and (c.isprintable() or c == " ")):
            raise ExprError(f"character {c!r} (U+{ord(c):04X}) is not part of the expression language",
                            offset=i)
        depth += (c in "([{") - (c in ")]}")
        if depth > MAX_DEPTH:
            raise ExprError(f"brackets are nested more than {MAX_DEPTH} deep", offset=i)
    if len(src) > MAX_LENGTH:
        raise ExprError(f"expression is {len(src)} characters long; the limit is {MAX_LENGTH}")


def _check_depth(tree: ast.AST, lead: int) -> None:
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExprError(f"expression is nested more than {MAX_DEPTH} levels deep",
                            offset=lead + getattr(node, "col_offset", 0))
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


class _Parser:
    def __init__(self, src: str, lead: int, scope: Mapping[str, Binding],
                 later: Collection[str], defining: str | None) -> None:
        self.src = src
        self.lead = lead
        self.scope = scope
        self.later = later
        self.defining = defining

    def fail(self, node: ast.AST | int, message: str, error=ExprError):
        """Refuse, pointing at ``node`` (or at a character index of the source)."""
        at = node if isinstance(node, int) else getattr(node, "col_offset", 0)
        raise error(message, offset=self.lead + at)

    def after(self, node: ast.AST) -> int:
        """Index of the first character after ``node`` that is not a space or a ')':
        where the operator or the '.' that follows an operand is written."""
        i = node.end_col_offset
        while i < len(self.src) and self.src[i] in " )":
            i += 1
        return i

    def text(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.src, node) or "?"

    def visit(self, node: ast.AST) -> Node:
        match node:
            case ast.Constant(value=value):
                return self.constant(node, value)
            case ast.Name(id=name):
                return self.name(node, name)
            case ast.BinOp(op=op, left=left, right=right):
                if type(op) not in _BINARY:
                    self.fail(self.after(left), f"operator {_REFUSED_BINARY[type(op)]} is not "
                                                "part of the expression language")
                return self.apply(node, _BINARY[type(op)], (left, right))
            case ast.Compare(left=left, ops=[op], comparators=[right]) if type(op) in _COMPARE:
                return self.apply(node, _COMPARE[type(op)], (left, right))
            case ast.Compare(ops=[_, _, *_]):
                self.fail(node, f"{self.text(node)}: comparisons are not chained; write each "
                                "in brackets, joined by &: (a < b) & (b < c)")
            case ast.Compare():
                self.fail(node, f"{self.text(node)}: 'in' and 'is' are not part of the "
                                "expression language")
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return self.apply(node, "neg", (operand,))
            case ast.UnaryOp(op=op):
                self.fail(node, f"{_REFUSED_UNARY[type(op)]} is not part of the expression language")
            case ast.Attribute(value=value, attr="T"):
                return self.apply(node, "transpose", (value,))
            case ast.Attribute(value=value, attr=attr):
                self.fail(self.after(value), f"attribute '.{attr}' is not allowed; the only "
                                             "attribute is .T (transpose)")
            case ast.Call():
                return self.call(node)
            case ast.Subscript():
                return self.subscript(node)
        what = _REFUSED_NODES.get(type(node), f"'{type(node).__name__}'")
        self.fail(node, f"{what} are not part of the expression language")

    def constant(self, node: ast.Constant, value: object) -> Const:
        if isinstance(value, bool) or not isinstance(value, int | float):
            kind = "strings" if isinstance(value, str) else f"{value!r} values"
            self.fail(node, f"{kind} are not part of the expression language")
        try:
            finite = math.isfinite(value)
        except OverflowError:
            finite = False
        if not finite or abs(value) > MAX_NUMBER:
            self.fail(node, f"number {self.text(node)} is too large: numbers are at most "
                            f"1e{round(math.log10(MAX_NUMBER))} in size")
        if value and abs(value) < 1 / MAX_NUMBER:
            self.fail(node, f"number {self.text(node)} is too small: numbers other than 0 are "
                            f"at least 1e-{round(math.log10(MAX_NUMBER))} in size")
        return Const(value)

    def name(self, node: ast.Name, name: str) -> Ref:
        if name in CONSTANTS:
            return Ref(name, "constant", SCALAR)
        if name in self.scope:
            binding = self.scope[name]
            return Ref(name, binding.kind, binding.shape)
        if name in FUNCTIONS:
            self.fail(node, f"'{name}' is a function: call it as {name}(...)")
        if name == self.defining:
            self.fail(node, f"'{name}' is the step being defined; a step cannot use itself")
        if name in self.later:
            self.fail(node, f"'{name}' is defined later; a step may only use the dims, the "
                            "inputs and the steps before it")
        self.fail(node, f"unknown name '{name}'{did_you_mean(name, self.scope)}")

    def call(self, node: ast.Call) -> Apply:
        func = node.func
        if isinstance(func, ast.Attribute):
            self.fail(node, self.spelled_as_code(node, func))
        if not isinstance(func, ast.Name):
            self.visit(func)            # refuses lambdas and the like by name
            self.fail(node, f"'{self.text(func)}' is not a function")
        name = func.id
        if name not in FUNCTIONS:
            if name in self.scope:
                self.fail(node, f"'{name}' is not a function")
            self.fail(node, f"unknown function '{name}'" + (_lacking(name) or
                                                           did_you_mean(name, FUNCTIONS)))
        op = FUNCTIONS[name]
        axis = None
        for kw in node.keywords:
            if kw.arg != "axis":
                what = "'**' arguments" if kw.arg is None else f"argument '{kw.arg}'"
                self.fail(kw, f"{name}() takes no {what}; the only keyword is axis")
            if op.axis == "none":
                self.fail(kw, f"{name}() takes no axis")
            if axis is not None:
                self.fail(kw, f"{name}() is given axis twice")
            if not (isinstance(kw.value, ast.Constant) and type(kw.value.value) is int
                    and kw.value.value in (0, 1)):
                self.fail(kw.value, "axis must be 0 (over each column) or 1 (over each row)")
            axis = kw.value.value
        if op.listed:
            if axis is None:
                self.fail(node, f"{name}() needs axis=0 (one above the other) or axis=1 (side "
                                "by side)")
            return self.listed(node, op, axis)
        if len(node.args) != op.written:
            hint = "; give the axis as axis=0 or axis=1" if op.axis != "none" else ""
            self.fail(node, f"{name}() takes {op.written} argument{'s' * (op.written > 1)}, "
                            f"{len(node.args)} given{hint}")
        if op.axis == "required" and axis is None:
            self.fail(node, f"{name}() needs axis=0 (over each column) or axis=1 (over each row)")
        return self.apply(node, name, tuple(node.args), axis)

    def spelled_as_code(self, node: ast.Call, func: ast.Attribute) -> str:
        """Why ``np.exp(W)`` or ``W.sum(axis=0)`` is refused, with the language's own
        spelling of it where there is one: exp(W), sum(W, axis=0)."""
        owner, name = self.text(func.value), func.attr
        written = f"'{self.text(func)}(...)' is not allowed"
        if name not in FUNCTIONS:
            return (f"{written}; the expression language has no function '{name}'"
                    + (_lacking(name) or did_you_mean(name, FUNCTIONS)))
        module = isinstance(func.value, ast.Name) and func.value.id not in self.scope
        args = ([] if module else [owner]) + [self.text(a) for a in node.args] + \
            [self.text(k) for k in node.keywords]
        return f"{written}; write {name}({', '.join(args)})"

    def apply(self, node: ast.AST, op_name: str, args: tuple[ast.AST, ...],
              axis: int | None = None) -> Apply:
        op = OPS[op_name]
        children = tuple(self.visit(a) for a in args)
        self.labels_in_place(op, children, args)
        self.conditions_in_place(op, children, args)
        children += tuple(build(tuple(c.shape for c in children)) for build in op.implicit)
        if op_name == "pow" and not names(children[1]):
            # a constant exponent: 2 ** 100000 or 10 ** 10 ** 10 is a number sympy
            # writes out digit by digit, for ever
            if not _constant_value(children[1]) <= MAX_EXPONENT:
                self.fail(args[1], f"exponent {self.text(args[1])} is too large: a constant "
                                   f"exponent is at most {MAX_EXPONENT} in size")
        if op.span:
            axis = op.span(tuple(c.shape for c in children), axis)
        return self.built(node, op_name, children, axis, [self.text(a) for a in args])

    def built(self, node: ast.AST, op_name: str, children: tuple[Node, ...], axis,
              texts: list[str]) -> Apply:
        """The operator's node, its shape by its rule; a mismatch refused at ``node``."""
        try:
            shape = OPS[op_name].shape(tuple(c.shape for c in children), axis)
        except ShapeMismatch as e:
            self.fail(node, f"{self.text(node)}: {str(e).format(*texts)}", ShapeError)
        return Apply(op_name, children, shape, axis)

    def subscript(self, node: ast.Subscript) -> Apply:
        """X[:, a:b], X[a:b, :], X[:, j]: rows or columns of a matrix, bounds written in
        dims (X[:, 2*H:3*H], X[0:T-1, :]); an omitted bound is the start or the end, a
        single index keeps the matrix 2-D (X[:, 0] is a column)."""
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if len(parts) == 1 and isinstance(parts[0], ast.Name) and parts[0].id in self.scope \
                and self.scope[parts[0].id].shape.labels is not None:
            self.fail(node, f"{self.text(node)}: to pick by labels write take_along_axis("
                            f"{self.text(node.value)}, {parts[0].id}, axis=0) (one entry per "
                            f"column) or take({self.text(node.value)}, {parts[0].id}, axis=0) "
                            "(whole rows)")
        if len(parts) != 2:
            self.fail(node, f"{self.text(node)}: index both axes, as X[:, 0:H] or X[0:T-1, :]; "
                            "every value is a matrix, of rank 2")
        out = self.visit(node.value)
        for axis, part in enumerate(parts):
            if isinstance(part, ast.Slice) and part.step is not None:
                self.fail(part.step, "a slice takes no step")
            if isinstance(part, ast.Slice) and part.lower is None and part.upper is None:
                continue                    # ':' the whole axis
            end = out.shape.rows if axis == 0 else out.shape.cols
            if isinstance(part, ast.Slice):
                start = self.bound(part.lower) if part.lower else 0
                stop = self.bound(part.upper) if part.upper else end
            else:
                start = self.bound(part)
                stop = dim_add(start, 1)
            out = self.built(node, "slice", (out,), Span(axis, start, stop),
                             [self.text(node.value)])
        return out

    def bound(self, node: ast.AST) -> Dim:
        """A slice bound: a whole number, a dim, or their sum (2*H, T - 1)."""
        try:
            return dim_expression(node, lambda name: name in self.scope and
                                  self.scope[name].kind == "dim")
        except NotADim as e:
            self.fail(e.node, f"{self.text(e.node)}: {e.why}")

    def listed(self, node: ast.Call, op, axis) -> Apply:
        """``concat([A, B, C], axis=1)``: the parts joined two at a time, left to right."""
        if len(node.args) != 1 or not isinstance(node.args[0], ast.List) or \
                len(node.args[0].elts) < 2:
            self.fail(node, f"{op.name}() takes a list of two or more matrices: "
                            f"{op.name}([A, B], axis=1)")
        items = node.args[0].elts
        parts = [self.visit(a) for a in items]
        for part, item in zip(parts, items):
            self.labels_in_place(op, (part,), (item,))
            self.conditions_in_place(op, (part,), (item,))
        out, joined = parts[0], self.text(items[0])
        for part, item in zip(parts[1:], items[1:]):
            out = self.built(node, op.name, (out, part), op.span((out.shape, part.shape), axis),
                             [joined, self.text(item)])
            joined += ", " + self.text(item)
        return out


    def labels_in_place(self, op, children: tuple[Node, ...], args: tuple[ast.AST, ...]) -> None:
        """Labels are names of classes, not numbers: they appear only where an operator
        takes labels, and there nothing else does."""
        takes = label_arguments(op)
        for n, (child, arg) in enumerate(zip(children, args)):
            if child.shape.labels is not None and n not in takes:
                self.fail(arg, f"{self.text(arg)} holds class labels, not numbers: " + _USE_LABELS)
            if n in takes and child.shape.labels is None:
                self.fail(arg, f"{op.name}() takes class labels as argument {n + 1}: an input "
                               "declared with labels = ...")


    def conditions_in_place(self, op, children: tuple[Node, ...], args: tuple[ast.AST, ...]):
        """Truth values (comparisons, & and |) are conditions, 1 or 0: they appear only
        where an operator takes a condition, and there nothing else does."""
        for n, (child, arg) in enumerate(zip(children, args)):
            truth = _is_condition(child)
            if truth and n not in op.conditions:
                self.fail(arg, f"{self.text(arg)} is a condition, not a number: use it in "
                               "where(condition, a, b)")
            if n in op.conditions and not truth:
                what = "where()" if op.is_function else f"'{op.symbol}'"
                self.fail(arg, f"{what} takes a condition here, such as a > b, not "
                               f"{self.text(arg)}")


def _is_condition(node: Node) -> bool:
    return isinstance(node, Apply) and OPS[node.op].boolean


_USE_LABELS = "use them in " + ", ".join(
    f"{name}()" for name, op in FUNCTIONS.items() if label_arguments(op))

# what courses write that the language says otherwise, or not at all (an operator
# written with a symbol is found in the registry: matmul is @)
_LACKING = {
    "dot": "write A @ B",
    "reshape": "vec(X) stacks the columns into one, unvec(v, X) folds a column into the "
               "shape of X; else slice and join (X[:, 0:H], concat)",
    "ravel": "vec(X) stacks the columns into one; ravel's rows one after another are vec(X.T)",
    "argmax": "an index is not differentiable; pick by labels with take_along_axis",
    "argmin": "an index is not differentiable; pick by labels with take_along_axis",
    "einsum": "write products with @ and *, sums with sum(..., axis=...)",
}


def _lacking(name: str) -> str:
    """A hint for a function courses write that the language lacks: '; write A @ B'."""
    op = OPS.get(name)
    if op is not None and op.symbol:
        return f"; write it with {op.symbol}"
    return f"; {_LACKING[name]}" if name in _LACKING else ""


_ARITHMETIC = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
               "div": operator.truediv, "pow": operator.pow, "neg": operator.neg}


def _constant_value(node: Node) -> float:
    """The size of an expression of numbers alone (inf when it overflows)."""
    if isinstance(node, Const):
        return abs(float(node.value))
    values = [_constant_value(a) for a in node.args]
    try:
        if node.op in _ARITHMETIC:
            return abs(_ARITHMETIC[node.op](*values))
        return abs(float(OPS[node.op].numpy([np.full((1, 1), v) for v in values],
                                            node.axis)[0, 0]))
    except (ArithmeticError, ValueError):
        return math.inf


# -- reading trees -----------------------------------------------------------

# -- printing back -------------------------------------------------------------

ATOM = 6        # the precedence of a name or a number: nothing binds tighter


def _precedence(node: Node) -> int:
    return OPS[node.op].precedence if isinstance(node, Apply) else ATOM


def mixes_products(parent: Apply, child: Node) -> bool:
    """Whether ``child`` mixes a matrix product with an element-wise one under
    ``parent``: (A @ B) * C is legal without brackets but easily misread."""
    if not isinstance(child, Apply):
        return False
    kinds = OPS[parent.op].product, OPS[child.op].product
    others = [a for a in parent.args if a is not child]
    return None not in kinds and kinds[0] != kinds[1] and \
        not all(a.shape.is_scalar for a in others)


def to_source(node: Node) -> str:
    """The expression in the language's own syntax, with as few parentheses as
    its meaning allows; :func:`parse` reads it back to the same tree."""
    if isinstance(node, Const):
        return repr(node.value)
    if isinstance(node, Ref):
        return node.name

    def wrapped(child: Node, needs: bool) -> str:
        return f"({to_source(child)})" if needs else to_source(child)

    op, prec = OPS[node.op], _precedence(node)
    if op.symbol and op.arity == 2:
        left, right = node.args
        if node.op == "pow":      # right-associative; a power's base is never negated bare
            lhs, rhs = wrapped(left, _precedence(left) <= prec), wrapped(right, _precedence(right) < prec)
        else:
            lhs = wrapped(left, _precedence(left) < prec or mixes_products(node, left))
            rhs = wrapped(right, _precedence(right) <= prec)
        return f"{lhs} {op.symbol} {rhs}"
    if node.op == "neg":
        # -(x ** 2) rather than the legal but easily misread -x ** 2
        return "-" + wrapped(node.args[0], _precedence(node.args[0]) <= OPS["pow"].precedence)
    if node.op == "transpose":
        arg = node.args[0]
        return wrapped(arg, _precedence(arg) < prec or isinstance(arg, Const)) + ".T"
    if node.op == "slice":
        arg, span = node.args[0], node.axis
        piece = f"{span.start}:{span.stop}"
        return wrapped(arg, _precedence(arg) < prec or isinstance(arg, Const)) + \
            (f"[{piece}, :]" if span.axis == 0 else f"[:, {piece}]")
    if op.listed:       # a chain of joins along one axis is one list
        written = ", ".join(to_source(p) for p in joined(node, node.axis.axis))
        return f"{node.op}([{written}], axis={node.axis.axis})"
    axis = "" if node.axis is None else f", axis={node.axis}"
    return f"{node.op}({', '.join(to_source(a) for a in node.args[:op.written])}{axis})"
