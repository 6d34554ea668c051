"""Every way `derivgen build` refuses a bad problem file, through the command line.

Each case is a small edit of BASE, a compact valid problem. For each we check the
whole contract of a refusal: exit status 2, exactly one line on stderr and that
line exactly, nothing on stdout and nothing written (no "out" folder, no other
file beside the problem file).

Line numbers in the expected messages are BASE's (see the numbered listing);
an edit that adds a line says so. In `step(...)` cases the expression replaces
line 11's "W @ X", so its character i is at column 6 + i.

Expected strings are the exact output.
"""

import os

import pytest

BASE_LINES = [
    'title = "Softmax regression"',                                           # 1
    "[dims]",                                                                 # 2
    "C = 3",                                                                  # 3
    "D = 2",                                                                  # 4
    "N = 3",                                                                  # 5
    "[inputs]",                                                               # 6
    'W = { shape = ["C", "D"] }',                                             # 7
    'X = { shape = ["D", "N"] }',                                             # 8
    'Y = { shape = ["C", "N"], constant = true, assume = ["one_hot_columns"] }',  # 9
    "[steps]",                                                                # 10
    'S = "W @ X"',                                                            # 11
    'A = "softmax(S, axis=0)"',                                               # 12
    'L = "-sum(Y * log(A)) / N"',                                             # 13
    "[derive]",                                                               # 14
    'of = "L"',                                                               # 15
    'wrt = ["S", "W", "X"]',                                                  # 16
    "[expect]",                                                               # 17
    'S = "(A - Y) / N"',                                                      # 18
    "[check]",                                                                # 19
    "trials = 3",                                                             # 20
]
BASE = "\n".join(BASE_LINES) + "\n"


def edit(*pairs: str) -> str:
    """BASE with each (old, new) pair replaced; every old text must occur exactly once."""
    text = BASE
    for old, new in zip(pairs[::2], pairs[1::2], strict=True):
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def step(expr: str) -> str:
    """BASE with step S (line 11) computed by ``expr`` (character i at column 6 + i)."""
    return edit('S = "W @ X"', f'S = "{expr}"')


def without(*lines: str) -> str:
    """BASE without the given whole lines."""
    return edit(*(x for line in lines for x in (line + "\n", "")))


def labelled(labels='"C"', shape='[1, "N"]', extra="", step="W @ X",
             loss="-sum(log(take_along_axis(A, y, axis=0))) / N",
             claim="(A - one_hot(y)) / N") -> str:
    """BASE with integer labels y (line 9) in place of the one-hot Y."""
    return edit('Y = { shape = ["C", "N"], constant = true, assume = ["one_hot_columns"] }',
                f'y = {{ shape = {shape}, labels = {labels}{extra} }}',
                'S = "W @ X"', f'S = "{step}"',
                'L = "-sum(Y * log(A)) / N"', f'L = "{loss}"',
                'S = "(A - Y) / N"', f'S = "{claim}"')


# -- the common asserts ---------------------------------------------------------------

def assert_refused(cli, tmp_path, paths, expected, *, files=("p.toml",), stdout=""):
    """Run `derivgen build PATHS -o out` and check the whole refusal."""
    result = cli("build", *paths, "-o", "out")
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0] == expected
    assert result.stdout == stdout
    assert not (tmp_path / "out").exists()
    assert sorted(os.listdir(tmp_path)) == sorted(files)
    return result


def write(tmp_path, problem_file, content: "str | bytes", name: str = "p.toml"):
    if isinstance(content, bytes):
        (tmp_path / name).write_bytes(content)
    else:
        problem_file(content, name)


def case(id: str, content: "str | bytes", expected):
    return pytest.param(content, expected, id=id)


# -- the table ------------------------------------------------------------------------

CASES = [
    # ---- the file itself --------------------------------------------------------------
    case("toml-syntax-error", edit("D = 2", "D = = 2"),
         "error: p.toml:4:5: invalid TOML: Invalid value"),
    case("toml-duplicate-key", edit('S = "W @ X"', 'S = "W @ X"\nS = "W"'),   # adds line 12
         "error: p.toml:12:8: invalid TOML: Cannot overwrite a value"),
    case("not-utf8", BASE.encode().replace(b"C = 3", b"C = \xff3"),
         "error: p.toml:3:5: file is not UTF-8 (byte 0xff)"),
    # ---- missing required keys -----------------------------------------------------------
    case("missing-title", without('title = "Softmax regression"'),
         "error: p.toml: title: missing required key"),
    case("missing-dims", without("[dims]", "C = 3", "D = 2", "N = 3"),
         "error: p.toml: dims: missing required key"),
    case("missing-inputs", without(*BASE_LINES[5:9]),
         "error: p.toml: inputs: missing required key"),
    case("missing-steps", without("[steps]", 'S = "W @ X"', 'A = "softmax(S, axis=0)"',
                                  'L = "-sum(Y * log(A)) / N"'),
         "error: p.toml: steps: missing required key"),
    case("missing-derive", without("[derive]", 'of = "L"', 'wrt = ["S", "W", "X"]'),
         "error: p.toml: derive: missing required key"),
    case("missing-derive.of", without('of = "L"'),
         "error: p.toml:14: derive.of: missing required key"),
    case("missing-derive.wrt", without('wrt = ["S", "W", "X"]'),
         "error: p.toml:14: derive.wrt: missing required key"),
    case("missing-input-shape", edit('W = { shape = ["C", "D"] }', 'W = { description = "weights" }'),
         "error: p.toml:7: inputs.W.shape: missing required key"),
    case("missing-step-expr", edit('S = "W @ X"', 'S = { latex = "S" }'),
         "error: p.toml:11: steps.S.expr: missing required key"),

    # ---- unknown keys ------------------------------------------------------------------
    case("title-two-lines", edit('title = "Softmax regression"', 'title = "Softmax\\n# regression"'),
         "error: p.toml:1: title: a title is one line, without control characters"),
    case("unknown-top-titel", edit("title =", "titel ="),
         "error: p.toml:1: titel: unknown key 'titel' in the top level (did you mean 'title'?)"),
    case("unknown-top-author", edit("[dims]", 'author = "me"\n[dims]'),          # adds line 2
         "error: p.toml:2: author: unknown key 'author' in the top level"),
    case("unknown-input-shpae", edit('W = { shape', 'W = { shpae'),
         "error: p.toml:7: inputs.W.shpae: unknown key 'shpae' in [inputs.W] (did you mean 'shape'?)"),
    case("unknown-step-key", edit('S = "W @ X"', 'S = { expr = "W @ X", descripton = "x" }'),
         "error: p.toml:11: steps.S.descripton: unknown key 'descripton' in [steps.S] "
         "(did you mean 'description'?)"),
    case("unknown-derive-off", edit('of = "L"', 'off = "L"'),
         "error: p.toml:15: derive.off: unknown key 'off' in [derive] (did you mean 'of'?)"),
    case("unknown-derive-with", edit('of = "L"', 'of = "L"\nwith = ["W"]'),   # adds line 16
         "error: p.toml:16: derive.with: unknown key 'with' in [derive]"),
    case("unknown-check-trails", edit("trials = 3", "trails = 3"),
         "error: p.toml:20: check.trails: unknown key 'trails' in [check] (did you mean 'trials'?)"),

    # ---- wrong types ------------------------------------------------------------------
    case("title-not-string", edit('title = "Softmax regression"', "title = 1"),
         "error: p.toml:1: title: expected a string, got an integer"),
    case("title-blank", edit('title = "Softmax regression"', 'title = "  "'),
         "error: p.toml:1: title: the title is empty"),
    case("shape-not-list", edit('W = { shape = ["C", "D"] }', 'W = { shape = "C" }'),
         "error: p.toml:7: inputs.W.shape: expected a list, got a string"),
    case("constant-not-bool", edit("constant = true", 'constant = "yes"'),
         "error: p.toml:9: inputs.Y.constant: expected a boolean, got a string"),
    case("assume-not-list", edit('assume = ["one_hot_columns"]', 'assume = "one_hot_columns"'),
         "error: p.toml:9: inputs.Y.assume: expected a list, got a string"),
    case("wrt-not-list", edit('wrt = ["S", "W", "X"]', 'wrt = "W"'),
         "error: p.toml:16: derive.wrt: expected a list, got a string"),
    case("of-not-string", edit('of = "L"', 'of = ["L"]'),
         "error: p.toml:15: derive.of: expected a string, got a list"),
    case("dim-string", edit("D = 2", 'D = "2"'),
         "error: p.toml:4: dims.D: a dim must be a positive integer, got \"2\""),
    case("dim-float", edit("D = 2", "D = 2.5"),
         "error: p.toml:4: dims.D: a dim must be a positive integer, got 2.5"),
    case("dim-bool", edit("D = 2", "D = true"),
         "error: p.toml:4: dims.D: a dim must be a positive integer, got true"),
    case("dim-zero", edit("D = 2", "D = 0"),
         "error: p.toml:4: dims.D: a dim must be a positive integer, got 0"),
    case("dim-negative", edit("D = 2", "D = -1"),
         "error: p.toml:4: dims.D: a dim must be a positive integer, got -1"),
    case("step-integer", edit('S = "W @ X"', "S = 3"),
         "error: p.toml:11: steps.S: expected a string or a table, got an integer"),

    # ---- names ------------------------------------------------------------------------
    case("name-dim-and-input", edit('X = { shape = ["D", "N"] }', 'D = { shape = ["D", "N"] }'),
         "error: p.toml:8: inputs.D: 'D' is already defined as dims.D (line 4)"),
    case("name-input-and-step", edit('S = "W @ X"', 'W = "W @ X"'),
         "error: p.toml:11: steps.W: 'W' is already defined as inputs.W (line 7)"),
    case("name-function", edit('S = "W @ X"', 'exp = "W @ X"'),
         "error: p.toml:11: steps.exp: 'exp' is a reserved word of the expression language"),
    case("name-keyword", edit('S = "W @ X"', 'lambda = "W @ X"'),
         "error: p.toml:11: steps.lambda: 'lambda' is a reserved word of the expression language"),
    case("name-starts-with-digit", edit("D = 2", '"2x" = 2'),
         "error: p.toml:4: dims.2x: '2x' is not a valid name: use letters, digits and _, "
         "starting with a letter"),
    case("name-with-dash", edit('S = "W @ X"', 'a-b = "W @ X"'),
         "error: p.toml:11: steps.a-b: 'a-b' is not a valid name: use letters, digits and _, "
         "starting with a letter"),

    # ---- names used in steps ------------------------------------------------------------
    case("step-uses-later-step", step("W @ X + A"),
         "error: p.toml:11:14: steps.S: 'A' is defined later; a step may only use the dims, "
         "the inputs and the steps before it"),
    case("step-uses-itself", step("W @ X + S"),
         "error: p.toml:11:14: steps.S: 'S' is the step being defined; a step cannot use itself"),
    case("step-unknown-name-hint", edit("softmax(S,", "softmax(SS,"),
         "error: p.toml:12:14: steps.A: unknown name 'SS' (did you mean 'S'?)"),
    case("step-unknown-name", step("W @ Q"),
         "error: p.toml:11:10: steps.S: unknown name 'Q'"),

    # ---- shapes of inputs ----------------------------------------------------------------
    case("shape-unknown-dim", edit('W = { shape = ["C", "D"] }', 'W = { shape = ["C", "DD"] }'),
         "error: p.toml:7: inputs.W.shape[1]: unknown dim 'DD' (did you mean 'D'?)"),
    case("shape-three-entries", edit('W = { shape = ["C", "D"] }', 'W = { shape = ["C", "D", "N"] }'),
         "error: p.toml:7: inputs.W.shape: a shape has 0, 1 or 2 entries, got 3: every value "
         "is a matrix; write a tensor of rank 3 as matrices, one input each"),
    case("shape-size-zero", edit('W = { shape = ["C", "D"] }', 'W = { shape = ["C", 0] }'),
         "error: p.toml:7: inputs.W.shape[1]: a size must be positive, got 0"),
    case("shape-size-negative", edit('W = { shape = ["C", "D"] }', 'W = { shape = [-2, "D"] }'),
         "error: p.toml:7: inputs.W.shape[0]: a size must be positive, got -2"),

    # ---- [derive] ----------------------------------------------------------------------
    case("wrt-constant", edit('wrt = ["S", "W", "X"]', 'wrt = ["S", "Y"]'),
         "error: p.toml:16: derive.wrt[1]: 'Y' is a constant input; only variables can be in wrt"),
    case("wrt-unknown", edit('wrt = ["S", "W", "X"]', 'wrt = ["S", "WW"]'),
         "error: p.toml:16: derive.wrt[1]: unknown name 'WW' (did you mean 'W'?)"),
    case("wrt-dim", edit('wrt = ["S", "W", "X"]', 'wrt = ["S", "N"]'),
         "error: p.toml:16: derive.wrt[1]: 'N' is a dim, not a variable"),
    case("wrt-of-itself", edit('wrt = ["S", "W", "X"]', 'wrt = ["S", "L"]'),
         "error: p.toml:16: derive.wrt[1]: 'L' is the value being differentiated"),
    case("wrt-twice", edit('wrt = ["S", "W", "X"]', 'wrt = ["S", "W", "S"]'),
         "error: p.toml:16: derive.wrt[2]: 'S' is listed twice"),
    case("wrt-not-a-dependency", edit('L = "-sum(Y * log(A)) / N"', 'L = "sum(S) / N"',
                                      'wrt = ["S", "W", "X"]', 'wrt = ["S", "W", "A"]'),
         "error: p.toml:16: derive.wrt[2]: L does not depend on A"),
    case("wrt-empty", edit('wrt = ["S", "W", "X"]', "wrt = []"),
         "error: p.toml:16: derive.wrt: wrt is empty: name at least one input or step"),
    case("hessian-of-not-scalar", edit('of = "L"', 'of = "A"\nhessian = ["W"]'),
         "error: p.toml:16: derive.hessian: A is C×N; a Hessian is of a scalar (1×1)"),
    case("hessian-of-a-step", edit('wrt = ["S", "W", "X"]', 'hessian = ["S"]'),
         "error: p.toml:16: derive.hessian[0]: 'S' is a step; a Hessian is taken with respect "
         "to an input"),
    case("hessian-of-a-constant", edit('wrt = ["S", "W", "X"]', 'hessian = ["Y"]'),
         "error: p.toml:16: derive.hessian[0]: 'Y' is a constant input; only variables can be "
         "in hessian"),
    case("of-input", edit('of = "L"', 'of = "W"'),
         "error: p.toml:15: derive.of: 'W' is an input; of must name a step"),
    case("of-unknown", edit('of = "L"', 'of = "LL"'),
         "error: p.toml:15: derive.of: unknown step 'LL' (did you mean 'L'?)"),

    # ---- [expect] ----------------------------------------------------------------------
    case("expect-not-in-wrt", edit('S = "(A - Y) / N"', 'A = "(A - Y) / N"'),
         "error: p.toml:18: expect.A: 'A' is not in derive.wrt; a claim is about one of: S, W, X"),
    case("expect-wrong-shape", edit('S = "(A - Y) / N"', 'S = "sum(A - Y, axis=0) / N"'),
         "error: p.toml:18: expect.S: the claim is 1×N but S is C×N; a gradient has the shape "
         "of its variable"),
    case("expect-syntax-error", edit('S = "(A - Y) / N"', 'S = "(A - Y)) / N"'),
         "error: p.toml:18:13: expect.S: cannot parse expression: unmatched ')'"),
    case("expect-ends-early", edit('S = "(A - Y) / N"', 'S = "(A - Y) /"'),
         "error: p.toml:18:15: expect.S: cannot parse expression: it ends too early"),

    # ---- assumptions ---------------------------------------------------------------------
    case("written-like-a-dim", edit("A = \"softmax(S, axis=0)\"",
                                    "A = { expr = \"softmax(S, axis=0)\", latex = \"N\" }"),
         "error: p.toml:12: steps.A.latex: A would be written N, like the dim N: give it another "
         "latex name"),
    case("written-like-an-input", edit("A = \"softmax(S, axis=0)\"",
                                       "A = { expr = \"softmax(S, axis=0)\", latex = \"W\" }"),
         "error: p.toml:12: steps.A.latex: A would be written W, like the input W: give it "
         "another latex name"),
    case("assume-unknown", edit('"one_hot_columns"]', '"one_hot_column"]'),
         "error: p.toml:9: inputs.Y.assume[0]: unknown assumption 'one_hot_column' "
         "(did you mean 'one_hot_columns'?); known: one_hot_columns, one_hot_rows, "
         "probability_columns, probability_rows, symmetric, positive_definite, binary, signs, "
         "unit_interval, positive"),
    case("assume-twice", edit('"one_hot_columns"]', '"one_hot_columns", "one_hot_columns"]'),
         "error: p.toml:9: inputs.Y.assume[1]: assumption 'one_hot_columns' is listed twice"),
    case("assume-symmetric-not-square", edit('"one_hot_columns"]', '"symmetric"]'),
         "error: p.toml:9: inputs.Y.assume[0]: 'symmetric' needs a square shape, Y is C×N"),

    # ---- [check] -----------------------------------------------------------------------
    case("check-seed-negative", edit("trials = 3", "seed = -1"),
         "error: p.toml:20: check.seed: seed must be between 0 and 2**32 - 1, got -1"),
    case("check-seed-too-big", edit("trials = 3", "seed = 4294967296"),
         "error: p.toml:20: check.seed: seed must be between 0 and 2**32 - 1, got 4294967296"),
    case("check-trials-0", edit("trials = 3", "trials = 0"),
         "error: p.toml:20: check.trials: trials must be between 1 and 100, got 0"),
    case("check-trials-101", edit("trials = 3", "trials = 101"),
         "error: p.toml:20: check.trials: trials must be between 1 and 100, got 101"),
    case("check-rtol-0", edit("trials = 3", "rtol = 0"),
         "error: p.toml:20: check.rtol: rtol must be > 0 and < 1, got 0"),
    case("check-rtol-1.5", edit("trials = 3", "rtol = 1.5"),
         "error: p.toml:20: check.rtol: rtol must be > 0 and < 1, got 1.5"),
    case("check-rtol-nan", edit("trials = 3", "rtol = nan"),
         "error: p.toml:20: check.rtol: rtol must be > 0 and < 1, got nan"),
    case("check-sizes-unknown-dim", edit("trials = 3", "sizes = { NN = 4 }"),
         "error: p.toml:20: check.sizes.NN: unknown dim 'NN' (did you mean 'N'?)"),
    case("check-sizes-zero", edit("trials = 3", "sizes = { N = 0 }"),
         "error: p.toml:20: check.sizes.N: a size must be a positive integer, got 0"),

    # ---- sizes too large to work with --------------------------------------------------------
    case("absurd-dim", edit("N = 3", "N = 1000000000"),
         "error: p.toml:8: inputs.X.shape: X is D×N = 2×1000000000 at the [dims] sizes, "
         "2000000000 entries; the limit is 256 per matrix. Keep [dims] small, since the "
         "element-wise derivation writes every entry out; give large sizes in [check].sizes."),
    case("huge-check-sizes", edit('X = { shape = ["D", "N"] }',                # adds line 9
                                  'X = { shape = ["D", "N"] }\nK = { shape = ["N", "N"] }',
                                  "trials = 3", "sizes = { N = 100000 }"),
         "error: p.toml:21: check.sizes: K is N×N = 100000×100000 at the [check] sizes, "
         "10000000000 entries; the limit is 250000 per matrix."),

    # ---- expressions (columns: line 11 character i is at column 6 + i) ------------------
    case("expr-unknown-function", edit("softmax(S,", "softmx(S,"),
         "error: p.toml:12:6: steps.A: unknown function 'softmx' (did you mean 'softmax'?)"),
    case("expr-inner-dims-differ", edit("N = 3", "N = 3\nE = 2",                   # adds line 6
                                        'X = { shape = ["D", "N"] }', 'X = { shape = ["E", "N"] }'),
         "error: p.toml:12:6: steps.S: W @ X: inner dimensions differ (W is C×D, X is E×N)"),
    case("expr-no-broadcast", step("W @ X + W"),
         "error: p.toml:11:6: steps.S: W @ X + W: shapes do not broadcast (W @ X is C×N, W is C×D)"),
    case("expr-import", step("__import__('os')"),
         "error: p.toml:11:6: steps.S: unknown function '__import__'"),
    case("expr-dunder-attribute", step("W.__class__"),
         "error: p.toml:11:7: steps.S: attribute '.__class__' is not allowed; the only attribute "
         "is .T (transpose)"),
    case("expr-subscript", step("W @ X[0]"),
         "error: p.toml:11:10: steps.S: X[0]: index both axes, as X[:, 0:H] or X[0:T-1, :]; "
         "every value is a matrix, of rank 2"),
    case("expr-slice-beyond", step("W @ X[:, 0:N+1]"),
         "error: p.toml:11:10: steps.S: X[:, 0:N+1]: X is D×N: the slice 0:N + 1 ends beyond "
         "its N columns"),
    case("expr-slice-empty-at-the-sizes", step("W[:, 2:D] @ X[2:D, :]"),
         "error: p.toml:11: steps.S: W[:, 2:D] is columns 2 to 2 at the [dims] sizes, of the 2 "
         "of W: a slice needs 0 <= start < stop <= 2"),
    case("expr-labels-as-index", labelled(loss="-sum(log(A[y])) / N"),
         "error: p.toml:13:15: steps.L: A[y]: to pick by labels write take_along_axis(A, y, "
         "axis=0) (one entry per column) or take(A, y, axis=0) (whole rows)"),
    case("shape-arithmetic", edit('W = { shape = ["C", "D"] }', 'W = { shape = ["C", "2*D"] }'),
         "error: p.toml:11:6: steps.S: W @ X: inner dimensions differ (W is C×(2*D), X is D×N)"),
    case("shape-arithmetic-of-no-dim", edit('W = { shape = ["C", "D"] }',
                                            'W = { shape = ["C", "2*E"] }'),
         "error: p.toml:7:24: inputs.W.shape[1]: 'E' is not a dim"),
    case("shape-arithmetic-not-positive", edit('W = { shape = ["C", "D"] }',     # adds line 8
                                               'W = { shape = ["C", "D"] }\n'
                                               'Z = { shape = ["D - 2"], constant = true }'),
         "error: p.toml:8: inputs.Z.shape: Z is (D - 2)×1 = 0×1 at the [dims] sizes: a matrix "
         "has at least one row and one column"),
    case("expr-lambda", step("lambda: W"),
         "error: p.toml:11:6: steps.S: lambda expressions are not part of the expression language"),
    case("expr-lambda-called", step("(lambda: W)() @ X"),
         "error: p.toml:11:7: steps.S: lambda expressions are not part of the expression language"),
    case("expr-string-literal", step("W @ X + 'a'"),
         "error: p.toml:11:14: steps.S: strings are not part of the expression language"),
    case("expr-axis-2", edit("axis=0)", "axis=2)"),
         "error: p.toml:12:22: steps.A: axis must be 0 (over each column) or 1 (over each row)"),
    case("expr-keyword-foo", edit("axis=0)", "foo=1)"),
         "error: p.toml:12:17: steps.A: softmax() takes no argument 'foo'; the only keyword is axis"),
    case("expr-axis-repeated", edit("log(A))", "log(A), axis=0, axis=1)"),
         "error: p.toml:13:31: steps.L: sum() is given axis twice"),
    case("expr-axis-positional", edit("log(A))", "log(A), 0)"),
         "error: p.toml:13:7: steps.L: sum() takes 1 argument, 2 given; give the axis as axis=0 "
         "or axis=1"),
    case("expr-comparison", step("W @ X > 0"),
         "error: p.toml:11:6: steps.S: W @ X > 0 is a condition, not a number: use it in "
         "where(condition, a, b)"),
    case("expr-modulo", step("W @ X % 2"),
         "error: p.toml:11:12: steps.S: operator '%' is not part of the expression language"),
    case("expr-5000-parentheses", step("(" * 5000 + "W @ X" + ")" * 5000),
         "error: p.toml:11:106: steps.S: brackets are nested more than 100 deep"),
    case("expr-too-long", step("W @ X" + " + W @ X" * 300),
         "error: p.toml:11: steps.S: expression is 2405 characters long; the limit is 2000"),
    case("expr-non-ascii", step("W @ X × 2"),
         "error: p.toml:11:12: steps.S: character '×' (U+00D7) is not part of the expression language"),
    case("expr-syntax-error", step("W @@ X"),
         "error: p.toml:11:9: steps.S: cannot parse expression: invalid syntax"),
    case("expr-empty", step("  "),
         "error: p.toml:11:6: steps.S: the expression is empty"),
    case("expr-not-square", step("trace(W) * W @ X"),
         "error: p.toml:11:6: steps.S: trace(W): needs a square matrix, W is C×D"),
    case("expr-column-after-escape", edit('S = "W @ X"', r'S = "W @ X \u002B Q"'),
         "error: p.toml:11:19: steps.S: unknown name 'Q'"),
    case("expr-in-step-table", edit('S = "W @ X"', 'S = { expr = "W @ Q" }'),
         "error: p.toml:11:19: steps.S.expr: unknown name 'Q'"),

    # ---- latex --------------------------------------------------------------------------
    case("latex-input", edit('W = { shape = ["C", "D"] }',
                             r'W = { shape = ["C", "D"], latex = "\\input{/etc/passwd}" }'),
         r"error: p.toml:7: inputs.W.latex: \input is not allowed in a latex name"),
    case("latex-def-in-step", edit('S = "W @ X"', r'S = { expr = "W @ X", latex = "\\def\\x{1}" }'),
         r"error: p.toml:11: steps.S.latex: \def is not allowed in a latex name"),
    case("latex-dollar", edit('W = { shape = ["C", "D"] }', 'W = { shape = ["C", "D"], latex = "W$" }'),
         "error: p.toml:7: inputs.W.latex: character '$' is not allowed in a latex name"),
    case("latex-unbalanced", edit('W = { shape = ["C", "D"] }',
                                  r'W = { shape = ["C", "D"], latex = "\\hat{W" }'),
         "error: p.toml:7: inputs.W.latex: unbalanced braces in a latex name"),
    # a whitelist of math commands, not a deny-list: each of these reads a file into
    # the PDF, runs code or acts when the PDF opens, and none is on any deny-list
    *[case(f"latex-{command}", edit('W = { shape = ["C", "D"] }',
                                     f'W = {{ shape = ["C", "D"], latex = "{tex}" }}'),
           f"error: p.toml:7: inputs.W.latex: \\{command} is not allowed in a latex name")
      for command, tex in [
          ("pdffiledump", r"\\pdffiledump length 9999{/etc/passwd}"),
          ("pdfobj", r"\\pdfobj file{/etc/passwd}"),
          ("ExplSyntaxOn", r"\\ExplSyntaxOn\\file_input:n{/etc/passwd}"),
          ("pdfcatalog", r"\\pdfcatalog{/OpenAction 1 0 R}"),
          ("href", r"\\href{javascript:alert(1)}{W}"),
          ("newcommand", r"\\newcommand{\\W}{W}"),
      ]],
    case("latex-caret-caret", edit('W = { shape = ["C", "D"] }',
                                   r'W = { shape = ["C", "D"], latex = "^^5cinput{/etc/passwd}" }'),
         "error: p.toml:7: inputs.W.latex: ^^ is not allowed in a latex name"),
    case("latex-line-break", edit('W = { shape = ["C", "D"] }',
                                  r'W = { shape = ["C", "D"], latex = "W\\\\" }'),
         r"error: p.toml:7: inputs.W.latex: \\ is not allowed in a latex name"),

    # ---- what the engine can do in a build's time --------------------------------------
    case("inv-too-large", edit("[dims]", "[dims]\nn = 4").replace(
        'W = { shape = ["C", "D"] }', 'W = { shape = ["C", "D"] }\nV = { shape = ["n", "n"] }')
        .replace('L = "-sum(Y * log(A)) / N"', 'L = "-sum(Y * log(A)) / N + sum(inv(V))"')
        .replace('wrt = ["S", "W", "X"]', 'wrt = ["S", "W", "X", "V"]'),
         "error: p.toml:15: steps.L: inv of a 4×4 matrix at the [dims] sizes: derivgen writes "
         "it out entry by entry up to 3×3; keep [dims] small and give large sizes in "
         "[check].sizes"),
    case("det-too-large", edit("C = 3", "C = 5").replace('S = "W @ X"', 'S = "W @ X"\nZ = "det(W @ W.T)"')
         .replace('L = "-sum(Y * log(A)) / N"', 'L = "-sum(Y * log(A)) / N + Z"'),
         "error: p.toml:12: steps.Z: det of a 5×5 matrix at the [dims] sizes: derivgen writes "
         "it out entry by entry up to 4×4; keep [dims] small and give large sizes in "
         "[check].sizes"),
    case("unused-step", edit('A = "softmax(S, axis=0)"', 'A = "softmax(S, axis=0)"\nB = "inv(W @ W.T)"'),
         "error: p.toml:13: steps.B: L does not use B: remove the step, or make L depend on it"),
    case("step-after-of", edit('L = "-sum(Y * log(A)) / N"', 'L = "-sum(Y * log(A)) / N"\nM = "2 * L"'),
         "error: p.toml:14: steps.M: L does not use M: remove the step, or make L depend on it"),
    case("too-many-steps", edit('S = "W @ X"', "\n".join(
        ['S = "W @ X"'] + [f'S{i} = "S + {i}"' for i in range(200)])),
         "error: p.toml:10: steps: 203 steps; a problem may have at most 200"),

    case("huge-number", step("W @ X * 1e300"),
         "error: p.toml:11:14: steps.S: number 1e300 is too large: numbers are at most 1e12 in size"),
    case("tiny-number", step("W @ X * 1e-320"),
         "error: p.toml:11:14: steps.S: number 1e-320 is too small: numbers other than 0 are at "
         "least 1e-12 in size"),
    case("power-tower", step("W @ X * 10 ** 10 ** 10"),
         "error: p.toml:11:20: steps.S: exponent 10 ** 10 is too large: a constant exponent is "
         "at most 100 in size"),
    case("huge-exponent", step("(W @ X) ** 100000"),
         "error: p.toml:11:17: steps.S: exponent 100000 is too large: a constant exponent is at "
         "most 100 in size"),
    case("overflowing-exponent", step("(W @ X) ** (1e12 * 1e12)"),
         "error: p.toml:11:18: steps.S: exponent 1e12 * 1e12 is too large: a constant "
         "exponent is at most 100 in size"),

    # ---- class labels --------------------------------------------------------------
    case("labels-unknown-dim", labelled(labels='"K"'),
         "error: p.toml:9: inputs.y.labels: unknown dim 'K'"),
    case("labels-one-class", labelled(labels="1"),
         "error: p.toml:9: inputs.y.labels: labels need at least 2 classes, got 1"),
    case("labels-matrix", labelled(shape='["C", "N"]'),
         "error: p.toml:9: inputs.y.shape: labels are a row, a column or one label; C×N is a "
         "matrix"),
    case("labels-variable", labelled(extra=", constant = false"),
         "error: p.toml:9: inputs.y.constant: labels are constant: remove constant = false"),
    case("labels-assumed", labelled(extra=', assume = ["binary"]'),
         "error: p.toml:9: inputs.y.assume: labels take no assumptions: their entries are the "
         "classes 0 to C - 1"),
    case("labels-in-arithmetic", labelled(loss="-sum(log(take_along_axis(A, y, axis=0)) * y) / N"),
         "error: p.toml:13:48: steps.L: y holds class labels, not numbers: use them in "
         "take_along_axis(), take(), one_hot()"),
    case("labels-as-a-step", labelled(step="y"),
         "error: p.toml:11:6: steps.S: y holds class labels, not numbers: use them in "
         "take_along_axis(), take(), one_hot()"),
    case("numbers-as-labels", labelled(loss="-sum(log(take_along_axis(A, A, axis=0))) / N"),
         "error: p.toml:13:34: steps.L: take_along_axis() takes class labels as argument 2: "
         "an input declared with labels = ..."),
    case("labels-across-the-wrong-axis", labelled(loss="-sum(log(take_along_axis(A, y, axis=1))) / N"),
         "error: p.toml:13:15: steps.L: take_along_axis(A, y, axis=1): with axis=1 the labels "
         "are a column, one per row of A (A is C×N, y is 1×N)"),
    case("labels-of-other-classes", labelled(labels='"D"'),
         "error: p.toml:13:15: steps.L: take_along_axis(A, y, axis=0): y holds labels of D "
         "classes, A has C rows"),
    case("one-hot-with-a-count", labelled(claim="(A - one_hot(y, C)) / N"),
         "error: p.toml:18:11: expect.S: one_hot() takes 1 argument, 2 given"),

    # ---- one line, whatever the file holds: a newline would forge a CI annotation -----
    case("newline-in-key", edit("[dims]", '"x\\n::error file=README.md,line=1::y" = 1\n[dims]'),
         r"error: p.toml:2: x\n::error file=README.md,line=1::y: unknown key "
         r"'x\n::error file=README.md,line=1::y' in the top level"),
    case("escape-in-expression", step("W @ X\\u001b[2J\\u2028"),
         r"error: p.toml:11:11: steps.S: character '\x1b' (U+001B) is not part of the "
         "expression language"),
    case("newline-in-assumption", edit('assume = ["one_hot_columns"]',
                                       'assume = ["one_hot\\r\\n::warning::x"]'),
         r"error: p.toml:9: inputs.Y.assume[0]: unknown assumption 'one_hot\r\n::warning::x'; "
         "known: one_hot_columns, one_hot_rows, probability_columns, probability_rows, "
         "symmetric, positive_definite, binary, signs, unit_interval, positive"),
]


def test_labelled_base_is_valid(cli, problem_file):
    problem_file(labelled())
    result = cli("build", "p.toml", "-o", "out")
    assert result.exit_code == 0, result.output
    assert "1 [expect] claim confirmed" in result.output


def test_base_is_valid(cli, problem_file):
    problem_file(BASE)
    result = cli("build", "p.toml", "-o", "out")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


@pytest.mark.parametrize("content, expected", CASES)
def test_refused(cli, tmp_path, problem_file, content, expected):
    write(tmp_path, problem_file, content)
    assert_refused(cli, tmp_path, ["p.toml"], expected)


# -- refusals about paths rather than contents ---------------------------------------------

@pytest.mark.parametrize("name", ["a\n::error file=README.md::x.toml", "a\rb.toml",
                                  "a\x1b[31mb.toml", "a\u2028b.toml"])
def test_a_file_name_with_control_characters_is_one_line(cli, tmp_path, problem_file, name):
    problem_file(BASE, name)
    result = cli("build", name, "-o", "out")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and len(result.stderr.split("\u2028")) == 1
    assert result.stderr == "error: " + "".join(
        c if c.isprintable() else repr(c)[1:-1] for c in name) + (
        ": its outputs cannot take its name: it holds a control character; rename the file\n")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", [".derivgen.toml", ".hidden.toml"])
def test_outputs_are_never_hidden_files(cli, tmp_path, problem_file, name):
    """.derivgen.toml would write .derivgen.json, the build's own record."""
    problem_file(BASE, name)
    result = cli("build", name, "-o", "out", "-f", "json")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {name}: its outputs cannot take its name: it starts "
                             "with '.'; rename the file\n")


def test_missing_file(cli, tmp_path):
    assert_refused(cli, tmp_path, ["missing.toml"], "error: missing.toml: no such file", files=())


def test_folder_without_problem_files(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not a problem\n")
    assert_refused(cli, tmp_path, ["empty"],
                   "error: empty: folder holds no problem files (*.toml)", files=("empty",))


BAD = edit("softmax(S,", "softmx(S,")


@pytest.mark.parametrize("order", [("bad.toml", "good.toml"), ("good.toml", "bad.toml")],
                         ids=["bad-first", "good-first"])
def test_one_bad_file_among_good(cli, tmp_path, problem_file, order):
    problem_file(BASE, "good.toml")
    problem_file(BAD, "bad.toml")
    result = cli("build", *order, "-o", "out")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "error: bad.toml:12:6: steps.A: unknown function 'softmx' (did you mean 'softmax'?)"]
    out = result.stdout.splitlines()
    assert len(out) == 2 and out[0].startswith("good.toml: "), result.stdout
    assert out[1] == "built 1, unchanged 0, failed 1"
    # the bad one wrote nothing
    assert sorted(os.listdir(tmp_path / "out")) == [".derivgen.json", "good.json", "good.md",
                                                    "good.tex"]
    assert sorted(os.listdir(tmp_path)) == ["bad.toml", "good.toml", "out"]


def test_folder_with_one_bad_file(cli, tmp_path, problem_file):
    (tmp_path / "probs").mkdir()
    problem_file(BASE, "probs/good.toml")
    problem_file(BAD, "probs/bad.toml")
    result = cli("build", "probs", "-o", "out")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "error: probs/bad.toml:12:6: steps.A: unknown function 'softmx' (did you mean 'softmax'?)"]
    out = result.stdout.splitlines()
    assert len(out) == 2 and out[0].startswith("probs/good.toml: "), result.stdout
    assert out[1] == "built 1, unchanged 0, failed 1"
    assert sorted(os.listdir(tmp_path / "out")) == [".derivgen.json", "good.json", "good.md",
                                                    "good.tex"]


def test_debug_prints_a_traceback(cli, tmp_path, problem_file):
    problem_file(BAD)
    result = cli("build", "p.toml", "-o", "out", "--debug")
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) > 1 and "Traceback" in result.stderr
    assert lines[-1] == ("error: p.toml:12:6: steps.A: unknown function 'softmx' "
                         "(did you mean 'softmax'?)")
    assert result.stdout == ""
    assert not (tmp_path / "out").exists()
