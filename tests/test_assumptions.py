"""The assumption registry, entry by entry: every property's random matrices have
it, its substitutions hold on them, and what cannot be drawn together is refused."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

from derivgen.assumptions import (DECLARED, REGISTRY, SQUARE, Reason, closure, conflict,
                                  draw, lower_powers, powers_of)
from derivgen.errors import ProblemError
from derivgen.problem import load

# Each property as a test of a NumPy matrix, written here from its definition, apart
# from the registry's code; a property added to the registry must be added here.
HOLDS = {
    "one_hot_columns": lambda m: set(np.unique(m)) <= {0, 1} and np.all(m.sum(axis=0) == 1),
    "one_hot_rows": lambda m: set(np.unique(m)) <= {0, 1} and np.all(m.sum(axis=1) == 1),
    "probability_columns": lambda m: np.all(m >= 0) and np.allclose(m.sum(axis=0), 1),
    "probability_rows": lambda m: np.all(m >= 0) and np.allclose(m.sum(axis=1), 1),
    "positive_definite": lambda m: np.allclose(m, m.T) and np.all(np.linalg.eigvalsh(m) > 0),
    "positive": lambda m: np.all(m > 0),
    "binary": lambda m: set(np.unique(m)) <= {0, 1},
    "signs": lambda m: set(np.unique(m)) <= {-1, 1},
    "unit_interval": lambda m: np.all((0 <= m) & (m <= 1)),
    "symmetric": lambda m: np.array_equal(m, m.T),
    "centred_columns": lambda m: np.allclose(m.sum(axis=0), 0),
    "centred_rows": lambda m: np.allclose(m.sum(axis=1), 0),
    "well_conditioned": lambda m: np.linalg.cond(m) < 10,
}
DRAWN = [n for n, a in REGISTRY.items() if a.draw or a.entries or a.adjust]


def test_every_property_has_a_test():
    assert set(HOLDS) == set(REGISTRY)


@pytest.mark.parametrize("name", DRAWN)
@pytest.mark.parametrize("trial", range(5))
def test_drawn_matrices_have_the_property_and_what_it_implies(name, trial):
    rows, cols = (4, 4) if name in SQUARE else (4, 3)
    m = draw(np.random.default_rng(trial), rows, cols, [name])
    assert m.shape == (rows, cols)
    for implied in closure([name]):
        assert HOLDS[implied](m), implied


@pytest.mark.parametrize("name", [n for n, a in REGISTRY.items() if a.sums or a.mirrored])
def test_substitutions_hold_on_a_matrix_with_the_property(name):
    """What the proofs substitute for an entry symbol is what that entry is."""
    size = 3
    m = sp.Matrix(size, size, lambda i, j: sp.Symbol(f"m{i}{j}"))
    values = np.random.default_rng(0).uniform(0.1, 1.0, (size, size))
    axis, s = REGISTRY[name].sums or (None, None)
    if axis is not None:      # make the lines sum to s
        values = values / values.sum(axis=axis, keepdims=True) if s else \
            values - values.mean(axis=axis, keepdims=True)
    if REGISTRY[name].mirrored:
        values = (values + values.T) / 2
    assert HOLDS[name](values)
    point = {m[i, j]: values[i, j] for i in range(size) for j in range(size)}
    subs = REGISTRY[name].substitutions(m)
    assert subs
    for symbol, expr in subs.items():
        assert float(expr.subs(point)) == pytest.approx(point[symbol])


@pytest.mark.parametrize("name", [n for n, a in REGISTRY.items() if a.power])
def test_lowered_powers_hold_on_a_drawn_matrix(name):
    """What the proofs and the simplifier write for y^k is what y^k is, for every
    entry a matrix with the property can have."""
    values = draw(np.random.default_rng(0), 4, 4, [name])
    for k in range(2, 6):
        lowered = np.vectorize(lambda v: float(REGISTRY[name].power(sp.Float(v), k)))(values)
        assert np.array_equal(lowered, values ** k), (name, k)


def test_lower_powers_expands_and_lowers_only_the_symbols_given():
    y, z, x = sp.symbols("y z x")
    powers = powers_of({y: ["signs"], z: ["binary"], x: ["positive"]})
    assert set(powers) == {y, z}
    assert lower_powers(y * (y * x - 1), powers) == (x - y, {y})
    assert lower_powers(z ** 3 + x ** 2 + y ** 3, powers) == (z + x ** 2 + y, {y, z})
    # nothing to lower: the expression itself, not expanded
    assert lower_powers(y * (x - 1), powers) == (y * (x - 1), set())


def test_a_sum_substitution_replaces_the_last_entry_of_each_line():
    m = sp.Matrix(2, 2, sp.symbols("a b c d"))
    a, b, c, d = m
    assert REGISTRY["probability_columns"].substitutions(m) == {c: 1 - a, d: 1 - b}
    assert REGISTRY["centred_rows"].substitutions(m) == {b: -a, d: -c}
    assert REGISTRY["symmetric"].substitutions(m) == {c: b}


def test_stated_facts():
    """In words, the matrix written by the writer (a LaTeX name in a report)."""
    assert Reason("Y", "probability_columns").words(str) == "each column of Y sums to 1"
    assert Reason("Xc", "centred_rows").words(lambda n: f"${n}$") == "each row of $Xc$ sums to 0"
    assert Reason("S", "symmetric").parts() == ("", " is symmetric")


def test_implications():
    assert closure(["one_hot_columns"]) == {"one_hot_columns", "probability_columns", "binary",
                                            "unit_interval"}
    assert closure(["positive_definite"]) == {"positive_definite", "symmetric"}


def _problem(tmp_path, assume: list[str], shape='["n", "n"]'):
    path = tmp_path / "p.toml"
    listed = ", ".join(f'"{a}"' for a in assume)
    path.write_text(f'title = "t"\n[dims]\nn = 3\nm = 2\n[inputs]\n'
                    f'Y = {{ shape = {shape}, constant = true, assume = [{listed}] }}\n'
                    f'X = {{ shape = {shape} }}\n[steps]\nL = "sum(Y * X)"\n'
                    f'[derive]\nof = "L"\nwrt = ["X"]\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("pair", list(itertools.combinations(DECLARED, 2)), ids="+".join)
def test_two_declared_properties_are_drawn_together_or_refused(pair, tmp_path):
    clash = conflict(pair)
    if clash is None:
        m = draw(np.random.default_rng(1), 4, 4, pair)
        assert all(HOLDS[p](m) for p in closure(pair)), pair
        load(_problem(tmp_path, list(pair)))
    else:
        assert set(clash) <= closure(pair)
        with pytest.raises(ProblemError) as e:
            load(_problem(tmp_path, list(pair)))
        assert e.value.key == "inputs.Y.assume"
        assert f"no matrix is drawn with both '{clash[0]}' and '{clash[1]}'" in str(e.value)


def test_conflicts():
    assert conflict(["probability_columns", "probability_rows"]) == \
        ("probability_columns", "probability_rows")
    assert conflict(["one_hot_rows", "symmetric"]) == ("one_hot_rows", "symmetric")
    assert conflict(["positive_definite", "symmetric"]) is None
    assert conflict(["one_hot_columns", "probability_columns"]) is None
    assert conflict(["positive_definite", "positive"]) == ("positive_definite", "positive")
    assert conflict(["probability_rows", "positive"]) is None
    assert conflict(["binary", "signs"]) == ("binary", "signs")
    assert conflict(["binary", "positive"]) == ("binary", "positive")
    assert conflict(["unit_interval", "positive"]) is None
    assert conflict(["binary", "symmetric"]) is None          # the upper triangle, mirrored


@pytest.mark.parametrize("name", sorted(SQUARE & set(DECLARED)))
def test_square_properties_need_a_square_matrix(name, tmp_path):
    with pytest.raises(ProblemError) as e:
        load(_problem(tmp_path, [name], shape='["n", "m"]'))
    assert f"'{name}' needs a square shape, Y is n×m" in str(e.value)
