"""The expression language: every row of the spec's table, precedence, shapes,
refusals by name, limits, and printing back."""

import pytest

from derivgen.errors import ExprError, ShapeError
from derivgen.expr import Binding, parse, to_source
from derivgen.nodes import Const, Ref, names, walk
from derivgen.op import example
from derivgen.ops import FUNCTIONS
from derivgen.shapes import SCALAR, Shape

SCOPE = {
    "C": Binding("dim", SCALAR), "D": Binding("dim", SCALAR), "N": Binding("dim", SCALAR),
    "W": Binding("input", Shape("C", "D")),
    "X": Binding("input", Shape("D", "N")),
    "Z": Binding("input", Shape("E", "N")),
    "Y": Binding("step", Shape("C", "N")),
    "b": Binding("input", Shape("C", 1)),
    "r": Binding("input", Shape(1, "N")),
    "s": Binding("input", SCALAR),
    "Q": Binding("input", Shape("D", "D")),
}


def sexpr(node) -> str:
    """A compact, unambiguous rendering of a tree: (op args...) with axis."""
    if isinstance(node, Const):
        return repr(node.value)
    if isinstance(node, Ref):
        return node.name
    axis = "" if node.axis is None else f" axis={node.axis}"
    return "(" + " ".join([node.op, *map(sexpr, node.args)]) + axis + ")"


def shape(text: str) -> str:
    return str(parse(text, SCOPE).shape)


@pytest.mark.parametrize("text, value", [("2", 2), ("0.5", 0.5), ("1e-3", 0.001)])
def test_numbers_are_scalars(text, value):
    node = parse(text, SCOPE)
    assert node == Const(value) and node.shape == SCALAR


def test_dim_name_is_a_constant_scalar():
    assert parse("N", SCOPE) == Ref("N", "dim", SCALAR)


@pytest.mark.parametrize("text, expected", [
    ("W @ X", "C×N"),
    ("X.T @ W.T", "N×C"),
    ("W.T", "D×C"),
    ("-W", "C×D"),
    ("Y + Y", "C×N"), ("Y - Y", "C×N"), ("Y * Y", "C×N"), ("Y / Y", "C×N"), ("Y ** 2", "C×N"),
    # broadcasting: 1×1 anywhere, r×1 across columns, 1×c across rows, and an r×1
    # column with a 1×c row the r×c grid, in any order (as NumPy)
    ("Y * s", "C×N"), ("s / Y", "C×N"), ("2 * W", "C×D"),
    ("Y + b", "C×N"), ("b - Y", "C×N"),
    ("Y * r", "C×N"), ("r / Y", "C×N"),
    ("b + r", "C×N"), ("r * b", "C×N"), ("Y + b + r", "C×N"), ("b + r + Y", "C×N"),
    ("b + r - Y", "C×N"), ("s + r", "1×N"),
    ("sum(Y)", "1×1"), ("sum(Y, axis=0)", "1×N"), ("sum(Y, axis=1)", "C×1"),
    ("mean(Y)", "1×1"), ("mean(Y, axis=0)", "1×N"), ("mean(Y, axis=1)", "C×1"),
    ("softmax(Y, axis=0)", "C×N"), ("softmax(Y, axis=1)", "C×N"),
    ("logsumexp(Y, axis=0)", "1×N"), ("logsumexp(Y, axis=1)", "C×1"),
    ("trace(Q)", "1×1"), ("det(Q)", "1×1"), ("logdet(Q)", "1×1"), ("inv(Q)", "D×D"),
    ("trace(W.T @ W)", "1×1"),
    ("Y - sum(Y, axis=0)", "C×N"),
    ("-sum(Y * log(softmax(W @ X, axis=0))) / N", "1×1"),
])
def test_shapes(text, expected):
    assert shape(text) == expected


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sin",
                                  "cos", "step", "sign"])
def test_elementwise_functions_keep_the_shape(name):
    node = parse(f"{name}(W)", SCOPE)
    assert sexpr(node) == f"({name} W)" and node.shape == Shape("C", "D")


@pytest.mark.parametrize("text, tree", [
    ("X + X.T.T * s", "(add X (mul (transpose (transpose X)) s))"),
    ("Y - Y - Y", "(sub (sub Y Y) Y)"),
    ("Y / s * s", "(mul (div Y s) s)"),
    ("W @ X * Y", "(mul (matmul W X) Y)"),
    ("s * W @ X", "(matmul (mul s W) X)"),
    ("-Y ** 2", "(neg (pow Y 2))"),
    ("s ** s ** 2", "(pow s (pow s 2))"),
    ("-W.T", "(neg (transpose W))"),
    ("2 ** -s", "(pow 2 (neg s))"),
    ("(W @ X).T", "(transpose (matmul W X))"),
    ("sum(-Y, axis=1)", "(sum (neg Y) axis=1)"),
])
def test_precedence(text, tree):
    assert sexpr(parse(text, SCOPE)) == tree


def test_whitespace_and_newlines_are_allowed():
    assert sexpr(parse("  W @\n X ", SCOPE)) == "(matmul W X)"


@pytest.mark.parametrize("text, message, offset", [
    ("W @ Z", "W @ Z: inner dimensions differ (W is C×D, Z is E×N)", 0),
    ("Y + W", "Y + W: shapes do not broadcast (Y is C×N, W is C×D)", 0),
    ("b + r.T", "b + r.T: shapes do not broadcast (b is C×1, r.T is N×1)", 0),
    ("Y + X.T", "Y + X.T: shapes do not broadcast (Y is C×N, X.T is N×D)", 0),
    ("1 + trace(W)", "trace(W): needs a square matrix, W is C×D", 4),
    ("inv(W)", "inv(W): needs a square matrix, W is C×D", 0),
])
def test_shape_errors(text, message, offset):
    with pytest.raises(ShapeError) as info:
        parse(text, SCOPE)
    assert (info.value.message, info.value.offset) == (message, offset)


@pytest.mark.parametrize("text, message, offset", [
    ("softmx(Y, axis=0)", "unknown function 'softmx' (did you mean 'softmax'?)", 0),
    ("Y + Yy", "unknown name 'Yy' (did you mean 'Y'?)", 4),
    ("exp", "'exp' is a function: call it as exp(...)", 0),
    ("W(X)", "'W' is not a function", 0),
    ("np.exp(W)", "'np.exp(...)' is not allowed; write exp(W)", 0),
    ("W.sum()", "'W.sum(...)' is not allowed; write sum(W)", 0),
    ("(W @ X).sum(axis=0) / N", "'(W @ X).sum(...)' is not allowed; write sum(W @ X, axis=0)", 0),
    ("np.max(W, axis=0)", "'np.max(...)' is not allowed; write max(W, axis=0)", 0),
    ("np.reshape(W, (D, C))", "'np.reshape(...)' is not allowed; the expression language has no "
                              "function 'reshape'; vec(X) stacks the columns into one, "
                              "unvec(v, X) folds a column into the shape of X; else slice and "
                              "join (X[:, 0:H], concat)", 0),
    ("np.argmax(W, axis=0)", "'np.argmax(...)' is not allowed; the expression language has no "
                             "function 'argmax'; an index is not differentiable; pick by labels "
                             "with take_along_axis", 0),
    ("matmul(W, X)", "unknown function 'matmul'; write it with @", 0),
    ("dot(W, X)", "unknown function 'dot'; write A @ B", 0),
    ("np.mean(W, axis=1)", "'np.mean(...)' is not allowed; write mean(W, axis=1)", 0),
    ("W.shape", "attribute '.shape' is not allowed; the only attribute is .T (transpose)", 1),
    ("__import__('os')", "unknown function '__import__'", 0),
    ("W[0]", "W[0]: index both axes, as X[:, 0:H] or X[0:T-1, :]; every value is a matrix, "
             "of rank 2", 0),
    ("W[:, 0:D:2]", "a slice takes no step", 9),
    ("W[:, -1]", "-1: rows and columns count from 0: no negative bounds", 5),
    ("W[:, 0:X]", "X: 'X' is not a dim", 7),
    ("concat(W, W)", "concat() needs axis=0 (one above the other) or axis=1 (side by side)", 0),
    ("concat([W], axis=1)", "concat() takes a list of two or more matrices: concat([A, B], "
                            "axis=1)", 0),
    ("lambda: W", "lambda expressions are not part of the expression language", 0),
    ("[w for w in W]", "comprehensions are not part of the expression language", 0),
    ("'W'", "strings are not part of the expression language", 0),
    ("f'{W}'", "strings are not part of the expression language", 0),
    ("True", "True values are not part of the expression language", 0),
    ("None", "None values are not part of the expression language", 0),
    ("2j", "2j values are not part of the expression language", 0),
    ("W if s else W", "conditional expressions are not part of the expression language", 0),
    ("s < 1", "s < 1 is a condition, not a number: use it in where(condition, a, b)", 0),
    ("(s > 0) * s", "s > 0 is a condition, not a number: use it in where(condition, a, b)", 1),
    ("0 < s < 1", "0 < s < 1: comparisons are not chained; write each in brackets, joined by "
                  "&: (a < b) & (b < c)", 0),
    ("s in s", "s in s: 'in' and 'is' are not part of the expression language", 0),
    ("where(s, s, s)", "where() takes a condition here, such as a > b, not s", 6),
    ("where((s > 0) & s, s, s)", "'&' takes a condition here, such as a > b, not s", 16),
    ("s and s", "'and' and 'or' (join conditions with & and |, each in brackets) are not part "
                "of the expression language", 0),
    ("(s, s)", "tuples are not part of the expression language", 0),
    ("(s := 1)", "assignments are not part of the expression language", 1),
    ("(Y) % 2", "operator '%' is not part of the expression language", 4),
    ("Y ^ 2", "operator '^' (write powers as **) is not part of the expression language", 2),
    ("+Y", "unary '+' is not part of the expression language", 0),
    ("~Y", "'~' is not part of the expression language", 0),
    ("sum(Y, axis=2)", "axis must be 0 (over each column) or 1 (over each row)", 12),
    ("sum(Y, axis=True)", "axis must be 0 (over each column) or 1 (over each row)", 12),
    ("sum(Y, keepdims=1)", "sum() takes no argument 'keepdims'; the only keyword is axis", 7),
    ("sum(Y, **s)", "sum() takes no '**' arguments; the only keyword is axis", 7),
    ("sum(*Y)", "starred arguments are not part of the expression language", 4),
    ("sum(Y, 0)", "sum() takes 1 argument, 2 given; give the axis as axis=0 or axis=1", 0),
    ("exp(Y, Y)", "exp() takes 1 argument, 2 given", 0),
    ("exp(Y, axis=0)", "exp() takes no axis", 7),
    ("sum(Y, axis=0, axis=1)", "sum() is given axis twice", 15),
    ("(lambda: W)(X)", "lambda expressions are not part of the expression language", 1),
    ("(W @ X)(X)", "'W @ X' is not a function", 0),
    ("softmax(Y)", "softmax() needs axis=0 (over each column) or axis=1 (over each row)", 0),
    ("W ⊙ X", "character '⊙' (U+2299) is not part of the expression language", 2),
    ("W @", "cannot parse expression: it ends too early", 3),
    ("W X", "cannot parse expression: invalid syntax", 2),
    ("W @ X)", "cannot parse expression: unmatched ')'", 5),
    ("(W", "cannot parse expression: '(' was never closed", 0),
    ("", "the expression is empty", 0),
    ("  ", "the expression is empty", 0),
    ("1e999", "number 1e999 is too large: numbers are at most 1e12 in size", 0),
])
def test_refused_by_name(text, message, offset):
    with pytest.raises(ExprError) as info:
        parse(text, SCOPE)
    assert (info.value.message, info.value.offset) == (message, offset)


def test_a_later_step_is_named_as_such():
    with pytest.raises(ExprError, match="'L' is defined later; a step may only use"):
        parse("W + L", SCOPE, later={"L"})


def test_nesting_is_limited_before_python_sees_it():
    with pytest.raises(ExprError) as info:
        parse("(" * 5000 + "s" + ")" * 5000, SCOPE)
    assert info.value.message == "brackets are nested more than 100 deep"


def test_long_chains_are_refused_not_recursed():
    with pytest.raises(ExprError, match="nested more than 100 levels deep"):
        parse(" + ".join(["s"] * 300), SCOPE)
    with pytest.raises(ExprError, match="is too deeply nested|nested more than 100"):
        parse("-" * 1500 + "s", SCOPE)


def test_length_is_limited():
    with pytest.raises(ExprError, match="expression is 2003 characters long; the limit is 2000"):
        parse("s" + " + s" * 500 + "  ", SCOPE)


def test_names_lists_everything_used():
    assert names(parse("sum(W @ X * Y) / N + s", SCOPE)) == {"W", "X", "Y", "N", "s"}


@pytest.mark.parametrize("text, printed", [
    ("(A - B) / N", "(A - B) / N"),
    ("A - (B - A)", "A - (B - A)"),
    ("(A - B) - A", "A - B - A"),
    ("A / (B * A)", "A / (B * A)"),
    ("-(A ** 2)", "-(A ** 2)"),
    ("-A ** 2", "-(A ** 2)"),
    ("(-A) ** 2", "(-A) ** 2"),
    ("-(-A)", "-(-A)"),
    ("(A ** B) ** 2", "(A ** B) ** 2"),
    ("A ** B ** 2", "A ** B ** 2"),
    ("(A + B).T", "(A + B).T"),
    ("(2).T", "(2).T"),
    ("A * (B - sum(A * B, axis=0))", "A * (B - sum(A * B, axis=0))"),
    ("A @ (B @ A)", "A @ (B @ A)"),
    ("maximum(0, 1 - A * B)", "maximum(0, 1 - A * B)"),
])
def test_to_source_uses_few_parentheses_and_reads_back(text, printed):
    scope = {"A": Binding("input", Shape("K", "K")), "B": Binding("input", Shape("K", "K")),
             "N": Binding("dim", SCALAR)}
    node = parse(text, scope)
    assert to_source(node) == printed
    assert parse(printed, scope) == node


def test_every_registered_function_parses():
    """Each function, written with arguments of its example shapes (else square), parses
    to itself and prints back as written (its unwritten arguments unwritten)."""
    for name, op in FUNCTIONS.items():
        axis = 0 if op.axis == "required" else None
        names = [f"A{n}" for n in range(op.written)]
        node = example(op, names, axis)
        scope = {a.name: Binding("input", a.shape) for a in walk(node) if isinstance(a, Ref)}
        args = [f"{a} > 0" if n in op.conditions else a for n, a in enumerate(names)]
        listed = f"[{', '.join(args)}]" if op.listed else ", ".join(args)
        written = to_source(node)
        assert written == f"{name}({listed}{'' if axis is None else ', axis=0'})"
        assert parse(written, scope) == node
