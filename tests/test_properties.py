"""Property tests: whatever text arrives, derivgen answers with its own error or a tree."""

from hypothesis import given, strategies as st

from derivgen.errors import DerivgenError, ExprError, ShapeError
from derivgen.expr import parse, to_source
from derivgen.ops import FUNCTIONS
from derivgen.problem import load
from derivgen.expr import Binding
from derivgen.shapes import Shape
from test_expr import SCOPE as EXPR_SCOPE
from conftest import SOFTMAX

SCOPE = EXPR_SCOPE | {"y": Binding("input", Shape(1, "N", "C"))}     # labels 0..C−1

TOKENS = ["W", "X", "Y", "b", "r", "s", "Q", "N", "2", "0.5", "1e-3", "+", "-", "*", "/", "**",
          "@", ".T", "(", ")", ",", "axis=0", "axis=1", " ", "[", "]", "lambda", ":", "'", ".",
          "=", "<", "%", "__class__", *FUNCTIONS]


def parse_or_refuse(text: str):
    try:
        return parse(text, SCOPE)
    except ExprError:
        return None


@given(st.text(max_size=200))
def test_random_text_gives_a_tree_or_a_derivgen_error(text):
    parse_or_refuse(text)


@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_random_token_soup_gives_a_tree_or_a_derivgen_error(text):
    parse_or_refuse(text)


leaves = st.sampled_from(["W", "X", "Y", "b", "r", "s", "Q", "N", "y", "2", "0.5"])


def extend(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", "@"]), children).map(
        lambda t: f"({t[0]}) {t[1]} ({t[2]})")
    unary = children.map(lambda c: f"-({c})") | children.map(lambda c: f"({c}).T")
    # each function with as many arguments as it takes
    call = st.sampled_from(sorted(FUNCTIONS)).flatmap(lambda name: st.tuples(
        st.just(name), st.lists(children, min_size=FUNCTIONS[name].written,
                                max_size=FUNCTIONS[name].written),
        st.sampled_from(["", ", axis=0", ", axis=1"]))).map(
        lambda t: f"{t[0]}({', '.join(t[1])}{t[2]})")
    return binary | unary | call


well_formed = st.recursive(leaves, extend, max_leaves=12)


@given(well_formed)
def test_well_formed_trees_parse_or_fail_on_shapes_and_print_back(text):
    try:
        node = parse(text, SCOPE)
    except ShapeError:
        return
    except ExprError as e:
        # the generator may give an axis to a function without one, or none where one is
        # needed, and labels or conditions where numbers are wanted or the other way round
        assert "axis" in e.message or "class labels" in e.message or "condition" in e.message, \
            e.message
        return
    assert parse(to_source(node), SCOPE) == node


@given(st.binary(max_size=300))
def test_random_bytes_as_a_problem_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("p") / "p.toml"
    path.write_bytes(data)
    try:
        load(path)
    except DerivgenError:
        pass


@given(st.integers(0, len(SOFTMAX)), st.integers(0, 20), st.text(max_size=10))
def test_edited_problem_files_load_or_give_a_derivgen_error(tmp_path_factory, at, cut, insert):
    path = tmp_path_factory.mktemp("p") / "p.toml"
    path.write_text(SOFTMAX[:at] + insert + SOFTMAX[at + cut:], encoding="utf-8")
    try:
        load(path)
    except DerivgenError as e:
        assert str(e).startswith(str(path))
