"""The authoring helpers: the starter problem file and the operator listing."""

from __future__ import annotations

import re
import tomllib

import pytest

from derivgen import authoring
from derivgen.api import derive_file
from derivgen.expr import Binding, parse, to_source
from derivgen.forms import same
from derivgen.op import Op
from derivgen.ops import OPS
from derivgen.assumptions import DECLARED
from derivgen.problem import load
from derivgen.shapes import SCALAR, Shape, parse_dim

# -- new_problem --------------------------------------------------------------------------

TOP_LEVEL = ["title", "summary", "dims", "inputs", "steps", "derive", "expect", "check"]
INPUT_KEYS = ["shape", "constant", "assume", "latex", "description"]
STEP_KEYS = ["expr", "latex", "description"]
DERIVE_KEYS = ["of", "wrt"]
CHECK_KEYS = ["sizes", "seed", "trials", "rtol"]


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    path = tmp_path_factory.mktemp("starter") / "my_model.toml"
    path.write_text(authoring.new_problem("my_model"), encoding="utf-8")
    return path


def test_new_problem_loads_derives_and_its_claim_is_confirmed(starter):
    problem = load(starter)
    assert "my_model" in problem.title
    assert problem.expect, "the starter should show an [expect] claim"
    d = derive_file(starter)
    assert all(g.matrix_form for g in d.gradients.values())
    assert d.claims and all(c.confirmed(problem.check.rtol) for c in d.claims.values())


def test_new_problem_mentions_every_key_of_the_format(starter):
    text = starter.read_text(encoding="utf-8")
    for key in TOP_LEVEL + INPUT_KEYS + STEP_KEYS + DERIVE_KEYS + CHECK_KEYS:
        assert re.search(rf"\b{key}\b", text), key
    for key in TOP_LEVEL[2:]:
        assert f"[{key}]" in text, key
    for assumption in DECLARED:              # the list comes from the loader's own
        assert re.search(rf"^#.*\b{assumption}\b", text, re.M), assumption


def test_new_problem_uses_every_key_of_the_format(starter):
    data = tomllib.loads(starter.read_text(encoding="utf-8"))
    assert set(data) == set(TOP_LEVEL)
    assert {k for spec in data["inputs"].values() for k in spec} == set(INPUT_KEYS)
    steps = list(data["steps"].values())
    assert any(isinstance(s, str) for s in steps), "the short form of a step"
    assert {k for s in steps if isinstance(s, dict) for k in s} == set(STEP_KEYS)
    assert set(data["derive"]) == set(DERIVE_KEYS)
    assert set(data["check"]) == set(CHECK_KEYS)


@pytest.mark.parametrize("name", ['say "hi"', "back\\slash", "two\nlines", "tab\there", "ünï"])
def test_new_problem_escapes_the_name(tmp_path, name):
    path = tmp_path / "p.toml"
    path.write_text(authoring.new_problem(name), encoding="utf-8")
    assert load(path).title.startswith(" ".join(name.split()) + ": ")


# -- operators ------------------------------------------------------------------------------

def shape_of(text: str) -> Shape:
    """A shape as the listing writes it: r×c, (r - 1)×c."""
    return Shape(*(parse_dim(d.strip("()"), "rckn") for d in text.split("×")))


def labelled(shape: Shape, classes) -> Shape:
    return Shape(shape.rows, shape.cols, classes)


def form(op: str, axis: int | None = None) -> dict:
    (entry,) = [e for e in authoring.operator_table() if e["name"] == op]
    (found,) = [f for f in entry["forms"] if f["axis"] == axis]
    return found


def test_every_operator_is_listed():
    table, text = authoring.operator_table(), authoring.operators_text()
    assert [e["name"] for e in table] == list(OPS)
    for name, op in OPS.items():
        assert f"\n{name}: {op.doc}\n" in text
        for f in form_list(name):
            assert f["shapes"], f"{name}: no argument shapes accepted"
            assert f"  {f['written']} " in text
            assert set(f["rules"]) == set(f["shapes"])


def form_list(name: str) -> list[dict]:
    return next(e["forms"] for e in authoring.operator_table() if e["name"] == name)


def test_a_new_operator_is_listed_without_an_edit(monkeypatch):
    double = Op("double", 1, same, lambda vs, axis: 2 * vs[0], lambda ms, axis: 2 * ms[0],
                (lambda g, ans, x, axis: 2 * g,), "twice each entry")
    monkeypatch.setitem(OPS, "double", double)
    text = authoring.operators_text()
    assert "\ndouble: twice each entry\n" in text
    assert "  double(A) " in text
    assert "    ∂/∂A: 2 * G\n" in text


def test_axis_policies_and_forms():
    assert [f["axis"] for f in form_list("sum")] == [None, 0, 1]
    assert [f["axis"] for f in form_list("softmax")] == [0, 1]
    assert [f["axis"] for f in form_list("exp")] == [None]
    assert form("sum", 0)["written"] == "sum(A, axis=0)"
    assert form("softmax", 1)["written"] == "softmax(A, axis=1)"
    assert form("transpose")["written"] == "A.T"
    assert form("neg")["written"] == "-A"


@pytest.mark.parametrize("op, axis, rules", [
    ("matmul", None, {"A": "G @ B.T", "B": "A.T @ G"}),
    ("add", None, {"A": "G", "B": "G"}),
    ("exp", None, {"A": "G * ans"}),
    ("softmax", 0, {"A": "ans * (G - sum(ans * G, axis=0))"}),
    ("softmax", 1, {"A": "ans * (G - sum(ans * G, axis=1))"}),
    ("sum", 0, {"A": "G * ones_like(A)"}),
    ("sum", 1, {"A": "G * ones_like(A)"}),
    ("mean", None, {"A": "G * ones_like(A) / (r * c)"}),
    ("trace", None, {"A": "G * eye_like(A)"}),
    ("inv", None, {"A": "-(ans.T @ G @ ans.T)"}),
    ("step", None, {"A": "0 (almost everywhere)"}),
])
def test_rules_are_shown_exactly(op, axis, rules):
    f = form(op, axis)
    assert f["rules"] == rules
    text = authoring.operators_text()
    section = text[text.index(f"\n{op}: "):]
    section = section[:section.index("\n\n")] if "\n\n" in section else section
    for name, rule in rules.items():
        assert f"    ∂/∂{name}: {rule}\n" in section + "\n"


def test_matmul_and_square_operators_get_fitting_shapes():
    assert form("matmul")["shapes"] == {"A": "r×k", "B": "k×c"}
    for op in ("det", "inv", "trace", "logdet"):
        assert form(op)["shapes"] == {"A": "n×n"}
    assert form("mul")["shapes"] == {"A": "r×c", "B": "r×c"}


CASES = [(e["name"], f, arg, rule) for e in authoring.operator_table() for f in e["forms"]
         for arg, rule in f["rules"].items() if rule not in (authoring.ZERO, authoring.CONSTANT)]


@pytest.mark.parametrize("op, f, arg, rule", CASES,
                         ids=[f"{op}-axis{f['axis']}-{arg}" for op, f, arg, _ in CASES])
def test_every_rule_shown_is_the_expression_language(op, f, arg, rule):
    out = shape_of(f["output"])
    scope = {d: Binding("dim", SCALAR) for d in "rckn"}
    scope |= {"G": Binding("grad", out), "ans": Binding("step", out)}
    scope |= {name: Binding("input", labelled(shape_of(s), f["labels"].get(name)))
              for name, s in f["shapes"].items()}
    node = parse(rule, scope)
    assert to_source(node) == rule                  # printed as the language writes it
    assert node.shape == shape_of(f["shapes"][arg])  # a gradient is shaped like its argument
    # a condition is a value only inside where()
    written = parse(f"where({f['written']}, 1, 0)" if OPS[op].boolean else f["written"], scope)
    assert written.shape == out
