"""Fuzz tests: whatever problem file arrives, derivgen answers in its own words.

Problem files may come from anyone, so hypothesis sends derivgen what anyone
might write, and checks the promises of README.md and docs/problem-format.md:

* Loader and parser: arbitrary text and bytes, random TOML documents (valid
  keys with values of the wrong type too), gallery problems with random edits,
  and random expressions from the language's grammar with junk mixed in.
  ``load`` returns a Problem or raises a DerivgenError (never another
  exception) whose message is one line that starts with the file's name and
  names a line the file has.
* Whole builds: small valid-looking problems composed from the operator
  registry. ``api.build`` and the real command line end with exit status 0, 1
  or 2 (3 is an internal error: a bug), within a time limit, with one line per
  problem; a refused or failed problem writes nothing; a built one states only
  formulas whose numeric check passed, with no NaN or infinity in its JSON.

Example counts come from the environment. Under CI the loader tests run more
than 10,000 examples in all and the builds more than 300; without CI there are
far fewer, so a developer's run stays quick.
"""

import json
import os
import re
import tempfile
import tomllib
import traceback
import warnings
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, note, settings, strategies as st

from derivgen import api
from derivgen.cli import EXIT_INTERNAL, exit_code, main
from derivgen.errors import DerivgenError
from derivgen.forms import ShapeMismatch
from derivgen.op import label_arguments
from derivgen.ops import FUNCTIONS, OPS
from derivgen.problem import load
from derivgen.shapes import SCALAR, Shape

CI = bool(os.environ.get("CI"))
BUILD_SECONDS = 10            # derivgen's time limit; the slowest gallery problem takes 1.5 s
ROOT = Path(__file__).resolve().parent.parent
GALLERY = {p.name: p.read_text(encoding="utf-8")
           for p in sorted((ROOT / "problems").glob("*.toml"))}
FILE = Path("fuzz") / "p.toml"            # the name the loader tests give their files
NON_FINITE = re.compile(r"\b(nan|inf|infinity|zoo|oo)\b", re.IGNORECASE)


def examples(under_ci: int, otherwise: int) -> settings:
    return settings(max_examples=under_ci if CI else otherwise, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- checking answers ------------------------------------------------------------

def assert_one_line(message: str) -> None:
    assert "\n" not in message and "\r" not in message, f"message is not one line: {message!r}"


def load_or_refuse(data: bytes) -> None:
    """Load ``data`` as FILE: a Problem, or a DerivgenError whose message is one line
    starting with the file's name and naming a line of the file."""
    try:
        load(FILE, data)
    except DerivgenError as error:
        message = str(error)
        assert_one_line(message)
        assert message.startswith(f"{FILE}:"), f"message does not name the file: {message!r}"
        lines = data.count(b"\n") + 1
        assert error.line is None or 1 <= error.line <= lines, \
            f"line {error.line} of a file of {lines} lines: {message!r}"


def assert_wrote_nothing(out: Path) -> None:
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert set(written) <= {api.MANIFEST}, f"a failed build wrote {written}"


def assert_verified_results(out: Path) -> None:
    """The outputs of a problem built with exit status 0: every stated formula passed its
    numeric check, and nothing in the JSON is NaN or infinite."""
    assert (out / "p.md").is_file(), "no Markdown written"
    text = (out / "p.json").read_text(encoding="utf-8")
    non_finite = []
    result = json.loads(text, parse_constant=lambda c: non_finite.append(c) or 0.0)
    assert not non_finite, f"{non_finite} in the JSON:\n{text}"
    for name, gradient in result["gradients"].items():
        assert gradient["checks"]["numeric"] == "passed", f"{name} failed but was written:\n{text}"
        strings = [gradient["expr"] or ""] + [x for row in gradient.get("elementwise", [])
                                              for x in row]
        assert not any(map(NON_FINITE.search, strings)), f"∂/∂{name} is not finite:\n{text}"


@contextmanager
def problem_folder(text: str):
    """``text`` written as p.toml in a fresh folder: its path and the output folder."""
    note(text)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.toml"
        path.write_text(text, encoding="utf-8")
        yield path, Path(tmp) / "out"


@contextmanager
def recorded_warnings():
    """The warnings a build raises, each of which the command line would print on
    stderr as extra lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


# -- writing TOML ------------------------------------------------------------------

def toml_string(text: str) -> str:
    escaped = "".join(f"\\{c}" if c in '"\\' else f"\\u{ord(c):04x}" if ord(c) < 32 or ord(c) == 127
                      else c for c in text)
    return f'"{escaped}"'


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_string(key)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)                               # inf, nan and 1e+300 are TOML too
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return value.isoformat()                             # dates, times, date-times


def toml_document(doc: dict) -> str:
    """A TOML document laid out as the gallery's: top-level tables as [sections]."""
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for key, table in doc.items():
        if isinstance(table, dict):
            lines += [f"[{toml_key(key)}]"] + [f"{toml_key(k)} = {toml_value(v)}"
                                               for k, v in table.items()]
    text = "\n".join(lines) + "\n"
    assert tomllib.loads(text) == doc or "nan" in text, f"the fuzzer wrote bad TOML:\n{text}"
    return text


# -- loader strategies -------------------------------------------------------------

TOP_KEYS = ["title", "summary", "dims", "inputs", "steps", "derive", "expect", "check"]
INNER_KEYS = ["shape", "constant", "assume", "latex", "description", "expr", "of", "wrt",
              "sizes", "seed", "trials", "rtol", "C", "D", "N", "W", "X", "L"]
junk = st.text(max_size=6) | st.sampled_from(
    ["\n", "\r", "\r\n", "\t", "\x00", "\x1b[2J", "\u2028", "\ufeff", "\\n", "\\r", "\\", '"',
     "'", "#", "=", "[", "]", "{", "}", ",", "é", "１"])
keys = st.sampled_from(TOP_KEYS + INNER_KEYS) | st.text(max_size=8) | junk
scalars = (st.booleans() | st.integers(-2**64, 2**64) | st.floats() | st.text(max_size=20)
           | st.sampled_from(["W @ X", "softmax(S, axis=0)", "C", "positive", "L"])
           | st.dates(min_value=date(1000, 1, 1)) | st.times()
           | st.datetimes(min_value=datetime(1000, 1, 1)))
toml_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(keys, inner, max_size=4), max_leaves=12)
GALLERY_DOCS = [tomllib.loads(text) for text in GALLERY.values()]


@st.composite
def gallery_with_a_value_replaced(draw) -> dict:
    """A gallery problem with one value, at any depth, replaced (or one key added) at random."""
    doc = json.loads(json.dumps(draw(st.sampled_from(GALLERY_DOCS))))        # a deep copy
    parent, key = doc, draw(st.sampled_from(sorted(doc)))
    while isinstance(parent[key], dict | list) and parent[key] and draw(st.booleans()):
        parent = parent[key]
        key = draw(st.sampled_from(sorted(parent) if isinstance(parent, dict)
                                   else range(len(parent))))
    if isinstance(parent, dict) and draw(st.booleans()):
        key = draw(keys)
    parent[key] = draw(toml_values)
    return doc


def edit(draw, text: str) -> str:
    """One random edit: a line deleted or duplicated, two characters swapped, junk put
    into a string value or anywhere, or the text cut short."""
    lines, i = text.split("\n"), draw(st.integers(0, len(text)))
    j = draw(st.integers(0, len(lines) - 1))
    match draw(st.sampled_from(["delete", "duplicate", "swap", "into a string", "insert", "cut"])):
        case "delete":
            return "\n".join(lines[:j] + lines[j + 1:])
        case "duplicate":
            return "\n".join(lines[:j + 1] + lines[j:])
        case "swap":
            return text[:i] + text[i + 1:i + 2] + text[i:i + 1] + text[i + 2:]
        case "into a string":
            i = draw(st.sampled_from([k + 1 for k, c in enumerate(text) if c == '"'] or [0]))
            return text[:i] + draw(junk) + text[i:]
        case "insert":
            return text[:i] + draw(junk) + text[i:]
    return text[:i]


@st.composite
def mutated_gallery(draw) -> str:
    """A gallery problem after one to three random edits."""
    text = draw(st.sampled_from(list(GALLERY.values())))
    for _ in range(draw(st.integers(1, 3))):
        text = edit(draw, text)
    return text


NAMES = ["W", "X", "Y", "b", "s", "Q", "S", "C", "D", "N"]
NUMBERS = ["2", "0.5", "1e-3", "0", "1e308", "1e309", "10**400", "0x10", "1_000", "2j"]
atoms = st.sampled_from(NAMES + NUMBERS) | st.integers(0, 10**25).map(str)


def grammar(inner):
    binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "@"]), inner,
                       st.booleans()).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})" if t[3]
                                          else f"{t[0]} {t[1]} {t[2]}")
    unary = inner.map(lambda a: f"-{a}") | inner.map(lambda a: f"({a}).T") | inner.map(
        lambda a: f"({a})")
    calls = st.tuples(st.sampled_from(sorted(FUNCTIONS)), inner,
                      st.sampled_from(["", ", axis=0", ", axis=1", ", axis=2", ", 0"])
                      ).map(lambda t: f"{t[0]}({t[1]}{t[2]})")
    return binary | unary | calls


deep = st.tuples(st.sampled_from(["(", "-", "sum(", "exp(", "s ** "]), st.integers(1, 400)).map(
    lambda t: t[0] * t[1] + "s" + ")" * t[0].count("(") * t[1])
expressions = (st.recursive(atoms, grammar, max_leaves=10)
               | st.tuples(st.recursive(atoms, grammar, max_leaves=6), st.integers(0, 60), junk
                           ).map(lambda t: t[0][:t[1]] + t[2] + t[0][t[1]:])
               | deep | st.integers(1, 300).map(lambda n: "s" + ".T" * n))

EXPRESSION_PROBLEM = """\
title = "expressions"
dims = { C = 3, D = 2, N = 2 }
steps = { S = "W @ X", Z = %s, L = "sum(S)" }
derive = { of = "L", wrt = ["W"] }
expect = { W = %s }
[inputs]
W = { shape = ["C", "D"] }
X = { shape = ["D", "N"] }
Y = { shape = ["C", "N"], constant = true }
b = { shape = ["C"] }
s = { shape = [] }
Q = { shape = ["D", "D"] }
"""


# -- loader tests --------------------------------------------------------------------

@examples(2100, 60)               # 5 loader tests: 10,500 examples under CI
@given(st.text(max_size=400)
       | st.text(alphabet="[]{}=\"'.,#\n\r\t \\abcCDNW0123_-+:", max_size=200))
def test_arbitrary_text_is_loaded_or_refused_in_one_line(text):
    load_or_refuse(text.encode("utf-8"))


@examples(2100, 60)
@given(st.binary(max_size=400) | st.binary(max_size=40).map(lambda b: GALLERY["softmax.toml"]
                                                              .encode("utf-8")[:300] + b))
def test_arbitrary_bytes_are_loaded_or_refused_in_one_line(data):
    load_or_refuse(data)


@examples(2100, 60)
@given(st.dictionaries(st.sampled_from(TOP_KEYS) | keys, toml_values, max_size=8)
       | gallery_with_a_value_replaced())
def test_random_toml_documents_are_loaded_or_refused_in_one_line(doc):
    text = toml_document(doc)
    note(text)
    load_or_refuse(text.encode("utf-8"))


@examples(2100, 60)
@given(mutated_gallery())
def test_edited_gallery_problems_are_loaded_or_refused_in_one_line(text):
    note(text)
    load_or_refuse(text.encode("utf-8"))


@examples(2100, 60)
@given(expressions, expressions)
def test_random_expressions_are_loaded_or_refused_in_one_line(step, claim):
    text = EXPRESSION_PROBLEM % (toml_string(step), toml_string(claim))
    note(text)
    load_or_refuse(text.encode("utf-8"))


# -- whole builds ---------------------------------------------------------------------

# the operators this generator writes: functions of one matrix and operators with a
# symbol between two (not labels, conditions or spans, which need operands of their own)
OPERATORS = sorted(name for name, op in OPS.items()
                   if (op.arity == 1 or op.symbol and op.arity == 2) and not op.span
                   and not op.boolean and not op.conditions and not label_arguments(op))
CONSTANTS = [("2", SCALAR, frozenset()), ("0.5", SCALAR, frozenset())]
AXES = {"none": [None], "optional": [None, 0, 1], "required": [0, 1]}


def wrap(source: str) -> str:
    return source if re.fullmatch(r"[A-Za-z0-9_.]+", source) else f"({source})"


@st.composite
def term(draw, pool: list, depth: int):
    """An expression (source, shape, names used) over ``pool``, one operator of OPS at a
    time, choosing operands whose shapes fit where there are any."""
    if depth == 0:
        return draw(st.sampled_from(pool))
    name = draw(st.sampled_from(OPERATORS))
    op, a = OPS[name], draw(term(pool, draw(st.integers(0, depth - 1))))
    if op.arity == 1:
        axis = draw(st.sampled_from(AXES[op.axis]))
        try:
            shape = op.shape((a[1],), axis)
        except ShapeMismatch:
            return a
        source = {"neg": f"-{wrap(a[0])}", "transpose": f"{wrap(a[0])}.T"}.get(
            name, f"{name}({a[0]}{'' if axis is None else f', axis={axis}'})")
        return source, shape, a[2]
    operands = pool + [(f"{s}.T", shape.T, used) for s, shape, used in pool] + CONSTANTS
    fitting = []
    for x, y in [pair for b in operands for pair in ((a, b), (b, a))]:
        try:
            fitting.append((x, y, op.shape((x[1], y[1]), None)))
        except ShapeMismatch:
            pass
    if not fitting:
        return a
    x, y, shape = draw(st.sampled_from(fitting))
    return f"{wrap(x[0])} {op.symbol} {wrap(y[0])}", shape, x[2] | y[2]


def assumptions_for(shape: list) -> st.SearchStrategy:
    square = len(shape) == 2 and shape[0] == shape[1]
    known = ["positive"] + ["symmetric", "positive_definite"] * square + (
        ["probability_columns", "one_hot_columns"] if shape else [])
    return st.sampled_from([None] * 3 + known).map(lambda a: [a] if a else [])


prose = st.text(max_size=12) | st.sampled_from(
    ["<b>x</b>", "[a](javascript:x)", "$x$", "# h", "* a", "\\", "{{ x }}", "((( x )))", "%", "&"])
latex_names = st.sampled_from([r"\alpha", r"\hat{X}", "W_1", "x^{(i)}", r"\mathbf{x}", "a b",
                               r"\frac{a}{b}", r"\tilde{w}'", "{", r"\def\x{}", "^^5c", r"\\"])


def decorated(draw, spec: dict) -> dict:
    """``spec`` with, at random, a description and a latex name."""
    if draw(st.booleans()):
        spec["description"] = draw(prose)
    if draw(st.integers(0, 5)) == 0:
        spec["latex"] = draw(latex_names)
    return spec


@st.composite
def small_problem(draw) -> str:
    """A small problem that loads (usually): dims of sizes 1 to 3, up to three inputs,
    up to three steps, L = sum or mean of the last step, and now and then prose, latex
    names and an [expect] claim."""
    dims = {d: draw(st.integers(1, 3)) for d in ["m", "n", "k"][:draw(st.integers(1, 3))]}
    extent = st.sampled_from([*dims, *dims, 2])
    inputs, pool = {}, []
    for i, name in enumerate(["P", "Q", "R"][:draw(st.integers(1, 3))]):
        shape = draw(st.lists(extent, max_size=2))
        spec = {"shape": shape}
        if i and draw(st.booleans()):
            spec["constant"] = True
        if assume := draw(assumptions_for(shape)):
            spec["assume"] = assume
        inputs[name] = decorated(draw, spec)
        pool.append((name, Shape(*shape + [1] * (2 - len(shape))), frozenset({name})))
    steps = {}
    for name in ["S1", "S2", "S3"][:draw(st.integers(1, 3))]:
        source, shape, used = draw(term(pool, 2))
        steps[name] = decorated(draw, {"expr": source}) if draw(st.booleans()) else source
        pool.append((name, shape, used | {name}))
    last, _, used = pool[-1]
    steps["L"] = f"{draw(st.sampled_from(['sum', 'mean']))}({last})"
    wrt = [n for n in inputs if n in used and not inputs[n].get("constant")]
    wrt += [n for n in steps if n in used and draw(st.integers(0, 4)) == 0]
    title = draw(prose.filter(str.strip)) if draw(st.integers(0, 3)) == 0 else "fuzz"
    doc = {"title": title, "dims": dims, "inputs": inputs, "steps": steps,
           "derive": {"of": "L", "wrt": wrt or [last]}}
    if draw(st.booleans()):
        doc["summary"] = draw(prose)
    if draw(st.booleans()):
        x = draw(st.sampled_from(wrt or [last]))
        claims = [x, f"ones_like({x})", f"0 * {x}", f"2 * {x}", f"-{x}"]
        doc["expect"] = {x: draw(st.sampled_from(claims))}
    if draw(st.booleans()):
        doc["check"] = {"seed": draw(st.integers(0, 2**32 - 1)), "trials": draw(st.integers(1, 3))}
    return toml_document(doc)


@examples(1200, 20)
@given(small_problem())
def test_small_problems_build_verified_or_fail_cleanly(text):
    with problem_folder(text) as (path, out), recorded_warnings() as warned:
        [outcome] = api.build([path], out_dir=out, formats=("md", "json"), jobs=1,
                              time_limit=BUILD_SECONDS)
        assert not warned, f"warnings, printed on stderr: {[str(w.message) for w in warned]}"
        if outcome.error is None:
            assert_verified_results(out)
        else:
            trace = "".join(traceback.format_exception(outcome.error)[-6:])
            assert exit_code(outcome.error) != EXIT_INTERNAL, f"internal error (exit 3):\n{trace}"
            assert_one_line(str(outcome.error))
            assert_wrote_nothing(out)


@examples(100, 6)
@given(small_problem() | mutated_gallery())
def test_the_command_line_exits_0_1_or_2_with_one_line(text):
    with problem_folder(text) as (path, out), recorded_warnings() as warned:
        result = CliRunner().invoke(main, ["build", str(path), "-o", str(out), "-f",
                                           "md,json", "--time-limit", str(BUILD_SECONDS),
                                           "--memory-limit", "0"])
        crash = result.exception if not isinstance(result.exception, SystemExit) else None
        assert crash is None, "".join(traceback.format_exception(crash)[-6:])
        assert result.exit_code in (0, 1, 2), result.stderr
        lines = result.stderr.splitlines() + [str(w.message) for w in warned]
        if result.exit_code:
            assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), lines
            assert result.stdout == "", result.stdout
            assert_wrote_nothing(out)
        else:
            assert not lines, f"a successful build printed on stderr: {lines}"
            assert_verified_results(out)
