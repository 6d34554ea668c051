"""The JSON's numpy fields evaluate in NumPy as written: for every gallery problem, each
gradient's (and each Jacobian's or Hessian's) ``numpy`` source, run by NumPy with the
arrays of the inputs, steps and gradients by name and the dims by size, equals derivgen's
own evaluation of ``expr``. Pasting ``expr`` itself into NumPy would not do: NumPy's sum
drops the axis it reduces, and softmax is not a NumPy function."""

import json

import numpy as np
import pytest

from conftest import ROOT
from derivgen.backward import differential_names, directions, grad_names
from derivgen.expr import parse
from derivgen.numeric import evaluate, valid_point
from derivgen.problem import load
from test_gallery import GALLERY, scope_of


def _values(problem, out):
    """A point, with every gradient dS (from the JSON's upstreams) and direction dX."""
    sizes = problem.dims
    values = valid_point(problem, 0, 0, sizes)
    grad, scope = grad_names(problem), scope_of(problem)
    for record in out["steps"]:
        values[grad[record["output"]]] = np.broadcast_to(
            evaluate(parse(record["upstream"], scope), values, sizes),
            problem.shape_of(record["output"]).size(sizes))
    rng = np.random.default_rng(2)
    for name, direction in (directions(problem) | differential_names(problem)).items():
        values[direction] = rng.standard_normal(problem.shape_of(name).size(sizes))
    return values, scope


@pytest.mark.parametrize("path", GALLERY, ids=[p.stem for p in GALLERY])
def test_every_numpy_field_is_numpy_for_its_expression(path):
    problem = load(path)
    out = json.loads((ROOT / "output" / f"{path.stem}.json").read_text())
    values, scope = _values(problem, out)
    names = {**values, **problem.dims, "np": np}
    pairs = [(g["expr"], g["numpy"], name) for name, g in out["gradients"].items()]
    for kind in ("jacobians", "hessians"):
        for name, entry in out.get(kind, {}).items():
            scope |= {entry["direction"]: scope[name]}
            scope |= {d: scope[s] for s, d in differential_names(problem).items()}
            pairs.append((entry["differential"], entry["differential_numpy"], name))
            if entry["matrix_form"]:
                pairs.append((entry["matrix"], entry["matrix_numpy"], name))
    assert pairs
    for expr, source, name in pairs:
        expected = evaluate(parse(expr, scope), values, problem.dims)
        computed = eval(source, dict(names))        # derivgen's output, in a test
        assert np.allclose(np.broadcast_to(computed, expected.shape), expected), (name, source)
        assert np.ndim(computed) == 2, (name, source)
