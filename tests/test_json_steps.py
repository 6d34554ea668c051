"""The JSON `steps` of every gallery problem check out on their own: at a random
point, each step's `contribution` equals the vector-Jacobian product of that step's
formula alone, by central differences, with its `upstream` as the vector. The
names dS in them are the `upstream` of the steps whose output is S."""

import json

import numpy as np
import pytest

from conftest import ROOT
from derivgen.backward import grad_names
from derivgen.expr import parse
from derivgen.numeric import evaluate, valid_point
from derivgen.problem import load
from test_gallery import GALLERY, scope_of


@pytest.mark.parametrize("path", GALLERY, ids=[p.stem for p in GALLERY])
def test_each_step_contribution_is_the_steps_own_vector_jacobian_product(path):
    problem = load(path)
    steps = json.loads((ROOT / "output" / f"{path.stem}.json").read_text())["steps"]
    assert bool(steps) is not problem.jacobian, "a backward pass, unless of is a matrix"
    scope, sizes = scope_of(problem), problem.dims
    values = valid_point(problem, 0, 0, sizes)
    grad = grad_names(problem)
    for record in steps:         # in the report's order: each upstream is known before its use
        values[grad[record["output"]]] = np.broadcast_to(
            evaluate(parse(record["upstream"], scope), values, sizes),
            problem.shape_of(record["output"]).size(sizes))
    for record in steps:
        assert record["proof"] == "passed"
        step, name = problem.steps[record["output"]], record["input"]
        stated = np.broadcast_to(evaluate(parse(record["contribution"], scope), values, sizes),
                                 values[name].shape)
        upstream = values[grad[step.name]]
        numeric = np.zeros_like(values[name], dtype=float)
        for k, l in np.ndindex(*values[name].shape):
            h, ends = 1e-6, []
            for sign in (1, -1):
                moved = dict(values)
                moved[name] = values[name].astype(float).copy()
                moved[name][k, l] += sign * h
                ends.append(np.sum(upstream * evaluate(step.expr, moved, sizes)))
            numeric[k, l] = (ends[0] - ends[1]) / (2 * h)
        scale = max(1.0, float(np.max(np.abs(numeric))))
        assert np.max(np.abs(stated - numeric)) < 1e-5 * scale, (record, stated, numeric)


LINEAR = [p for p in GALLERY if p.stem.startswith(("jacobian_", "hessian_"))]


@pytest.mark.parametrize("path", LINEAR, ids=[p.stem for p in LINEAR])
def test_each_steps_differential_is_its_own_jacobian_vector_product(path):
    """The forward pass's records: at a random point and direction, each step's
    differential equals central differences of that step's formula alone, every name
    it uses moved along its own differential."""
    problem = load(path)
    out = json.loads((ROOT / "output" / f"{path.stem}.json").read_text())
    sizes = problem.dims
    for kind in ("jacobians", "hessians"):
        for variable, entry in out.get(kind, {}).items():
            scope = scope_of(problem) | {entry["direction"]: scope_of(problem)[variable]}
            for record in entry["steps"]:
                scope[record["name"]] = scope_of(problem)[record["output"]]
            values = valid_point(problem, 0, 0, sizes)
            rng = np.random.default_rng(3)
            moves = {variable: rng.standard_normal(values[variable].shape)}
            values[entry["direction"]] = moves[variable]
            assert entry["steps"] or kind == "hessians", "a forward pass through the steps"
            for record in entry["steps"]:
                step = problem.steps[record["output"]]
                stated = evaluate(parse(record["differential"], scope), values, sizes)
                ends = []
                for sign in (1, -1):
                    moved = {n: v + sign * 1e-6 * moves[n] if n in moves else v
                             for n, v in values.items()}
                    ends.append(evaluate(step.expr, moved, sizes))
                numeric = (ends[0] - ends[1]) / 2e-6
                values[record["name"]] = moves[record["output"]] = np.broadcast_to(
                    stated, numeric.shape)
                scale = max(1.0, float(np.max(np.abs(numeric))))
                assert np.max(np.abs(moves[record["output"]] - numeric)) < 1e-5 * scale, record


def test_a_contribution_is_complete_exactly_when_it_is_the_inputs_only_one():
    steps = json.loads((ROOT / "output" / "transformer_block.json").read_text())["steps"]
    into_x = [s for s in steps if s["input"] == "X"]
    assert [s["output"] for s in into_x] == ["H", "V", "K", "Q"]
    assert not any(s["complete"] for s in into_x)
    assert [s["contribution"] for s in steps if s["input"] == "Wq"] == ["X.T @ dQ"]
    assert [s["complete"] for s in steps if s["input"] == "Wq"] == [True]
