"""The JSON `steps` of every gallery problem check out on their own: at a random
point, each step's `contribution` equals the vector-Jacobian product of that step's
formula alone, by central differences, with its `upstream` as the vector. The
names dS in them are the `upstream` of the steps whose output is S."""

import json

import numpy as np
import pytest

from conftest import ROOT
from derivgen.derive import grad_names
from derivgen.expr import parse
from derivgen.numeric import evaluate, valid_point
from derivgen.problem import load
from test_gallery import GALLERY, scope_of


@pytest.mark.parametrize("path", GALLERY, ids=[p.stem for p in GALLERY])
def test_each_step_contribution_is_the_steps_own_vector_jacobian_product(path):
    problem = load(path)
    steps = json.loads((ROOT / "output" / f"{path.stem}.json").read_text())["steps"]
    assert steps, "every gallery problem has a backward pass"
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


def test_a_contribution_is_complete_exactly_when_it_is_the_inputs_only_one():
    steps = json.loads((ROOT / "output" / "transformer_block.json").read_text())["steps"]
    into_x = [s for s in steps if s["input"] == "X"]
    assert [s["output"] for s in into_x] == ["H", "V", "K", "Q"]
    assert not any(s["complete"] for s in into_x)
    assert [s["contribution"] for s in steps if s["input"] == "Wq"] == ["X.T @ dQ"]
    assert [s["complete"] for s in steps if s["input"] == "Wq"] == [True]
