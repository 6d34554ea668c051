"""The reverse pass: ∂of/∂name in matrix form, one derivative rule at a time.

Steps are visited from the last to the first. When a step is reached, every
later use of it has contributed, so its gradient is complete: a
:class:`Total` adds the contributions up (a value used twice accumulates, as
in micrograd). The gradient then flows down the step's expression tree
through one registered rule per operator and argument; each application is a
:class:`Link`.

Each gradient has a name, ``G_S`` for ∂of/∂S (``dS`` in the expression
language). A rule is given either that name or, when it is short, the
gradient's value, whichever gives the shorter contribution: softmax
regression reads ``(A - Y) / N``, a transformer block ``X.T @ dQ``. So every
contribution is an expression of bounded size, and the pass, like its proof,
costs in proportion to the number of steps.

Nothing here is trusted: :mod:`derivgen.prove` proves every link and total.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .assumptions import Reason
from .nodes import Apply, Const, Node, Ref, chain, names
from .ops import OPS
from .problem import Problem
from .simplify import Simplifier, cost, facts_of, steps_of
from .targets import direction_name

INLINE_COST = 16     # a gradient at most this long may be written out where it is used


@dataclass(frozen=True)
class Link:
    """One derivative rule applied: the contribution flowing from ``output`` to ``target``."""
    step: str                 # the step whose expression holds the operator
    op: str
    node: Apply               # the operator's node in the step's expression
    arg: int                  # which argument of the operator
    output: Node              # the operator's node (the step itself at a step's root)
    target: Node              # the argument the gradient flows to
    upstream: Node            # ∂of/∂output as the rule was given it
    rule: Node                # the rule with a symbolic upstream G
    raw: Node                 # the rule applied to ``upstream``, as the rule writes it
    result: Node              # the contribution to ∂of/∂target, simplified
    reasons: tuple[Reason, ...]   # the facts the simplification used


@dataclass(frozen=True)
class Total:
    """∂of/∂name: the sum of the contributions of every use of ``name``."""
    name: str
    grad: Ref                 # G_name, the name the gradient goes by
    parts: tuple[Node, ...]   # the contributions, in the order they were made
    sources: tuple[str, ...]  # the step each came from
    value: Node               # their sum, simplified
    reasons: tuple[Reason, ...]

    @property
    def raw(self) -> Node:
        return chain("add", list(self.parts)) if self.parts else Const(0)


class WrongSimplification(Exception):
    """A simplified form that differs from what it simplifies (a bug in the simplifier)."""

    def __init__(self, step: str, raw: Node, simplified: Node) -> None:
        super().__init__(step, raw, simplified)
        self.step, self.raw, self.simplified = step, raw, simplified


@dataclass
class Backward:
    order: list[Link | Total]         # the report's order: each total before its links
    totals: dict[str, Total]


def directions(problem: Problem) -> dict[str, str]:
    """The direction each variable of a Jacobian or Hessian moves in: dX."""
    return {name: direction_name(name)
            for name in (problem.wrt if problem.jacobian else ()) + problem.hessian}


def grad_names(problem: Problem) -> dict[str, str]:
    """The expression-language name of each gradient: dS for ∂of/∂S (d_S, d__S, ... when
    the problem already uses dS, or a direction is so named); none for a matrix of."""
    if problem.jacobian:
        return {}
    return _prefixed([*problem.inputs, *problem.steps], _names(problem))


def differential_names(problem: Problem) -> dict[str, str]:
    """The name of each step's differential in a forward pass: dS, or d_S, ... beside
    the gradients' and the directions' names."""
    return _prefixed(list(problem.steps), _names(problem) | set(grad_names(problem).values()))


def moving_names(problem: Problem) -> list[tuple[str, str]]:
    """(name, what its motion is called) for the forward passes: each variable's direction
    dX, then each step's differential dS; a step that is a variable has both (dS, d_S).
    None without Jacobians or Hessians."""
    if not directions(problem):
        return []
    return [*directions(problem).items(), *differential_names(problem).items()]


def _names(problem: Problem) -> set[str]:
    """The names a gradient's or a differential's may not take."""
    return set(directions(problem).values()) | set(problem.dims) | set(problem.inputs) | \
        set(problem.steps)


def _prefixed(names: list[str], taken: set[str]) -> dict[str, str]:
    out = {}
    for name in names:
        candidate = "d" + name
        while candidate in taken:
            candidate = candidate[0] + "_" + candidate[1:]
        taken.add(candidate)
        out[name] = candidate
    return out


def upstream_symbol(node: Node) -> Ref:
    """The symbol G standing for the upstream gradient in a rule, shaped like ``node``."""
    return Ref("G", "grad", node.shape)


Equal = Callable[[Node, Node], "bool | None"]


def simplest(simplifier: Simplifier, equal: Equal | None, raw: Node, like: Node,
             step: str) -> tuple[Node, tuple[Reason, ...]]:
    """``raw`` simplified (shaped like ``like``) where ``equal`` proves it (True), as
    written where it cannot (None); a refuted simplification (False) raises
    WrongSimplification. Without ``equal``, the simplification is taken as it is."""
    simplified, reasons = simplifier.rewrite(raw, like)
    verdict = True if equal is None else equal(simplified, raw)
    if verdict is False:
        raise WrongSimplification(step, raw, simplified)
    return (simplified, reasons) if verdict else (raw, ())


def backward(problem: Problem, simplifier: Simplifier | None = None,
             equal: Equal | None = None) -> Backward:
    """The reverse pass. With ``equal`` (a prover's: True proven, False refuted, None
    not proven), every simplification is proven as it is made; one that cannot be
    is not made (the form the rule writes is kept), one that is refuted raises
    WrongSimplification."""
    simplifier = simplifier or Simplifier(facts_of(problem), steps_of(problem))

    path = on_path(problem)
    grad_of = grad_names(problem)
    result = Backward([], {})
    pending: dict[str, list[tuple[Node, str]]] = {}   # contributions so far, with their step

    def total(name: str, shape) -> Total:
        grad = Ref(grad_of[name], "grad", shape)
        parts = pending.get(name, [])
        if name == problem.of:
            value, reasons = Const(1), ()
        elif not parts:     # every path to `of` crosses a derivative that is zero (step, sign)
            value, reasons = Const(0), ()
        else:
            like = Ref(name, "input" if name in problem.inputs else "step", shape)
            value, reasons = simplest(simplifier, equal, chain("add", [p for p, _ in parts]),
                                      like, name)
        t = Total(name, grad, tuple(p for p, _ in parts), tuple(s for _, s in parts), value,
                  reasons)
        result.totals[name] = t
        result.order.append(t)
        return t

    def flow(node: Node, upstreams: Iterable[Node], step: str, ans: Node) -> None:
        if isinstance(node, Ref):
            if node.name in path:
                pending.setdefault(node.name, []).append((next(iter(upstreams)), step))
            return
        if not isinstance(node, Apply):
            return
        for i, arg in enumerate(node.args):
            rule = OPS[node.op].vjp[i]
            if rule is None or not (names(arg) & path):
                continue
            # of the ways to write the upstream gradient, the one giving the shortest result
            best = None
            for g in upstreams:
                raw = rule(g, ans, *node.args, axis=node.axis)
                simplified, _ = simplifier.rewrite(raw, arg)
                if best is None or cost(simplified) < cost(best[2]):
                    best = (g, raw, simplified)
            g, raw, _ = best
            simplified, reasons = simplest(simplifier, equal, raw, arg, step)
            local = rule(upstream_symbol(ans), ans, *node.args, axis=node.axis)
            result.order.append(Link(step, node.op, node, i, ans, arg, g, local, raw, simplified,
                                     reasons))
            flow(arg, [simplified], step, arg)

    for step in reversed(problem.steps.values()):
        if step.name != problem.of and step.name not in pending:
            continue
        t = total(step.name, step.expr.shape)
        # the value itself where it is short (1, P * g2), else its name
        upstreams = [t.value] if cost(t.value) <= INLINE_COST else []
        flow(step.expr, upstreams + [t.grad], step.name, Ref(step.name, "step", step.expr.shape))
    for name in problem.wrt:
        if name not in result.totals:
            total(name, problem.shape_of(name))
    return result


def on_path(problem: Problem) -> set[str]:
    """The names through which a variable in ``wrt`` reaches ``of``."""
    reaches = set(problem.wrt)
    for step in problem.steps.values():           # file order: uses come before definitions
        if names(step.expr) & reaches:
            reaches.add(step.name)
    needed, todo = set(), [problem.of]
    while todo:
        name = todo.pop()
        if name in needed or name not in reaches:
            continue
        needed.add(name)
        if name in problem.steps:
            todo.extend(names(problem.steps[name].expr))
    return needed
