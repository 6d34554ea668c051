"""Numeric spot-checks: formulas against central finite differences.

At the ``[check]`` sizes, with a seeded generator, inputs are sampled so that
they honour their assumptions (one-hot columns are one-hot, positive-definite
matrices are positive definite, ...) and the domain of the operator they feed
(the argument of ``log`` is positive, of ``logdet`` positive definite). The
forward pass runs in numpy; each gradient formula is evaluated at the same
point and compared, entry by entry, with

    (L(x + h e_kl) − L(x − h e_kl)) / 2h,   h = ε^(1/3) · max(1, |x_kl|).

The error of an entry is |formula − difference| divided by the largest
magnitude in either gradient (floored at 10⁻³(1 + |L|), so that an entry
whose true value is zero is not judged by round-off alone).

What the reports print of these numbers must be the same on every machine,
while the numbers themselves are not: libm, SIMD and BLAS round differently,
and a finite difference carries round-off of about ε|L|/h ≈ 10⁻¹¹|L|. So the
error is printed as a bound (:meth:`Comparison.bound`) and sample values to
four significant digits of the largest (:func:`fixed`), both far above that
noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .assumptions import draw
from .nodes import Apply, Const, Node, Ref, walk
from .op import at_sizes
from .ops import CONSTANTS, OPS
from .problem import Problem
from .shapes import dim_size

ROUND_OFF = 1e-8          # a correct formula's error is ~1e-10: "below 1e-8" on any machine
MAX_ENTRIES = 48          # entries compared per gradient and trial (chosen at random beyond)
ATTEMPTS = 20             # tries to find a point where every step is finite
_H = np.finfo(float).eps ** (1 / 3)


@dataclass
class Comparison:
    """One gradient compared with finite differences over every trial."""
    name: str
    max_rel_error: float = 0.0
    entries: int = 0
    samples: list[tuple[tuple[int, int], float, float]] = field(default_factory=list)
    sample_scale: float = 1.0       # the largest magnitude among the first trial's entries
    worst: tuple[tuple[int, int], float, float] | None = None   # (entry, formula, difference)

    def passed(self, rtol: float) -> bool:
        return self.max_rel_error <= rtol

    def bound(self, rtol: float) -> float:
        """A bound on the error that is the same on every machine: ``ROUND_OFF`` when
        the error is at round-off level (two decades below it, so that no CPU or BLAS
        crosses it), else ``rtol``, the bound the check enforces."""
        return ROUND_OFF if self.max_rel_error < ROUND_OFF < rtol else rtol


def fixed(x: float, scale: float, digits: int = 4) -> str:
    """``x`` rounded to ``digits`` significant digits of ``scale``, in fixed point:
    0.1246 and -0.0223 beside each other, and never round-off such as 3e-12."""
    decimals = max(0, digits - 1 - math.floor(math.log10(scale)))
    text = f"{x:.{decimals}f}"
    return text[1:] if text.lstrip("-0.") == "" and text.startswith("-") else text


def evaluate(node: Node, values: Mapping[str, np.ndarray], sizes: Mapping[str, int]) -> np.ndarray:
    if isinstance(node, Const):
        return np.array([[float(node.value)]])
    if isinstance(node, Ref):
        if node.kind == "constant":
            return np.array([[CONSTANTS[node.name].numpy]])
        return np.array([[float(sizes[node.name])]]) if node.kind == "dim" else values[node.name]
    args = [evaluate(a, values, sizes) for a in node.args]
    try:
        return OPS[node.op].numpy(args, at_sizes(node.axis, sizes))
    except np.linalg.LinAlgError:       # a singular matrix at this point: no value here
        return np.full(node.shape.size(sizes), np.nan)


def forward(problem: Problem, values: dict[str, np.ndarray], sizes: Mapping[str, int],
            after: str | None = None) -> dict[str, np.ndarray]:
    """Every step's value; with ``after``, only the steps after it are recomputed."""
    values = dict(values)
    steps = list(problem.steps)
    start = steps.index(after) + 1 if after else 0
    with np.errstate(all="ignore"):
        for name in steps[start:]:
            values[name] = evaluate(problem.steps[name].expr, values, sizes)
    return values


def sample(problem: Problem, rng: np.random.Generator, sizes: Mapping[str, int],
           positive: bool = False) -> dict[str, np.ndarray]:
    """A random point honouring every input's assumptions and domain."""
    domains = _domains(problem)
    values = {}
    for name, inp in problem.inputs.items():
        rows, cols = inp.shape.size(sizes)
        if inp.labels is not None:      # any class, repeats and all
            values[name] = rng.integers(dim_size(inp.labels, sizes), size=(rows, cols)).astype(float)
            continue
        wanted = set(inp.assume) | domains.get(name, set()) | ({"positive"} if positive else set())
        values[name] = draw(rng, rows, cols, wanted)
    return values


def _domains(problem: Problem) -> dict[str, set[str]]:
    """For each input used directly (or transposed) as an operator's argument, the
    domain that argument asks for."""
    found: dict[str, set[str]] = {}
    for step in problem.steps.values():
        for node in walk(step.expr):
            if not isinstance(node, Apply):
                continue
            for arg, domain in zip(node.args, OPS[node.op].domain):
                if isinstance(arg, Apply) and arg.op == "transpose":
                    arg = arg.args[0]
                if domain and isinstance(arg, Ref) and arg.name in problem.inputs:
                    found.setdefault(arg.name, set()).add(domain)
    return found


def valid_point(problem: Problem, seed: int, trial: int, sizes: Mapping[str, int]):
    """A sampled point where every step is finite, or None."""
    for attempt in range(ATTEMPTS):
        rng = np.random.default_rng([seed, trial, attempt])
        values = forward(problem, sample(problem, rng, sizes, positive=attempt % 2 == 1), sizes)
        if all(np.all(np.isfinite(v)) for v in values.values()):
            return values
    return None


def compare(problem: Problem, name: str, values: dict[str, np.ndarray], sizes: Mapping[str, int],
            formula: Callable[[dict[str, np.ndarray]], np.ndarray], rng: np.random.Generator,
            result: Comparison) -> None:
    """Compare ``formula`` at ``values`` with finite differences of ``of`` w.r.t. ``name``."""
    x = values[name]
    with np.errstate(all="ignore"):        # NaN and inf are judged below, not warned about
        claimed = np.broadcast_to(formula(values), x.shape)
    entries = [(k, l) for k in range(x.shape[0]) for l in range(x.shape[1])]
    if len(entries) > MAX_ENTRIES:
        entries = [entries[i] for i in sorted(rng.choice(len(entries), MAX_ENTRIES, replace=False))]
    after = name if name in problem.steps else None
    differences = []
    for k, l in entries:
        h = _H * max(1.0, abs(x[k, l]))
        ends = []
        for sign in (1, -1):
            moved = dict(values)
            moved[name] = x.copy()
            moved[name][k, l] += sign * h
            ends.append(forward(problem, moved, sizes, after)[problem.of][0, 0])
        differences.append((ends[0] - ends[1]) / (2 * h))
    _record(result, entries, [claimed[k, l] for k, l in entries], differences,
            abs(values[problem.of][0, 0]))


def judge(result: Comparison, claimed: np.ndarray, differences: np.ndarray,
          level: float) -> None:
    """Compare a formula's matrix with finite differences entry by entry (a directional
    derivative's), ``level`` being the size of the value differentiated."""
    entries = list(np.ndindex(*differences.shape))
    _record(result, entries, [claimed[e] for e in entries], [differences[e] for e in entries],
            level)


def _record(result: Comparison, entries: list, at: list, differences: list,
            level: float) -> None:
    finite = [abs(x) for x in at + differences if np.isfinite(x)]
    scale = max(finite + [1e-3 * (1 + level)])
    # NaN or ±inf, in the formula or the finite difference, is never a pass
    errors = [float(abs(a - d) / scale) if np.isfinite(a) and np.isfinite(d) else math.inf
              for a, d in zip(at, differences)]
    i = int(np.argmax(errors))
    if errors[i] >= result.max_rel_error:
        result.max_rel_error = errors[i]
        result.worst = (entries[i], float(at[i]), float(differences[i]))
    result.entries += len(entries)
    if not result.samples:
        result.samples = [(kl, float(a), float(d)) for kl, a, d in zip(entries, at, differences)][:4]
        result.sample_scale = float(scale)
