"""The reverse pass: matrix-form gradients of ``of`` for every step and variable.

Steps are visited from the last to the first. A step's gradient G is the sum
of what every later use of it contributed (a value used twice accumulates,
as in micrograd); G then flows down the step's expression tree, through one
registered derivative rule per operator and argument, to the names the step
uses. Every rule applied is recorded, for the report, with its upstream
gradient, the rule itself (with a symbolic upstream ``G``) and the simplified
contribution.

Alongside each simplified gradient the plain composition of the rules (no
simplification) is kept: if the simplified form cannot be verified, the
longer composed one may still be.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .expr import Apply, Const, Node, Ref, chain, names
from .ops import OPS
from .problem import Problem
from .simplify import Simplifier, facts_of, steps_of


@dataclass(frozen=True)
class Rule:
    """One derivative rule applied: the gradient flowing from ``output`` to ``target``."""
    step: str                 # the step whose expression holds the operator
    op: str
    node: Apply               # the operator's node in the step's expression
    arg: int                  # which argument of the operator
    output: Node              # the operator's node (the step itself at a step's root)
    target: Node              # the argument the gradient flows to
    upstream: Node            # ∂of/∂output, simplified
    rule: Node                # the rule with a symbolic upstream G (a "grad" reference)
    result: Node              # the contribution to ∂of/∂target, simplified
    reasons: tuple[str, ...]  # assumptions the simplification used


@dataclass
class Gradient:
    """∂of/∂name in matrix form: simplified, and as the plain composition of rules."""
    name: str
    simplified: Node
    composed: Node
    reasons: tuple[str, ...] = ()
    sources: tuple[Node, ...] = ()     # the contributions that were added up


@dataclass
class Backward:
    gradients: dict[str, Gradient] = field(default_factory=dict)   # in the order computed
    rules: list[Rule] = field(default_factory=list)


def upstream_symbol(node: Node) -> Ref:
    """The symbol G standing for the upstream gradient in a rule, shaped like ``node``."""
    return Ref("G", "grad", node.shape)


def backward(problem: Problem, simplifier: Simplifier | None = None) -> Backward:
    simplifier = simplifier or Simplifier(facts_of(problem), steps_of(problem))
    path = on_path(problem)
    result = Backward()
    # each name's contributions so far, as (simplified, composed) pairs; ∂of/∂of = 1
    pending: dict[str, list[tuple[Node, Node]]] = {problem.of: [(Const(1), Const(1))]}

    def gradient(name: str, like: Ref) -> Gradient:
        parts = pending.get(name)
        if not parts:   # every path to `of` crosses a derivative that is zero (step, sign)
            result.gradients[name] = Gradient(name, Const(0), Const(0))
            return result.gradients[name]
        simplified_sum = chain("add", [p[0] for p in parts])
        composed = chain("add", [p[1] for p in parts])
        simplified, reasons = simplifier.rewrite(simplified_sum, like)
        grad = Gradient(name, simplified, composed, reasons, tuple(p[0] for p in parts))
        result.gradients[name] = grad
        return grad

    def flow(node: Node, g: Node, raw: Node, step: str, ans: Node) -> None:
        if isinstance(node, Ref):
            if node.name in path:
                pending.setdefault(node.name, []).append((g, raw))
            return
        if not isinstance(node, Apply):
            return
        for i, arg in enumerate(node.args):
            rule = OPS[node.op].vjp[i]
            if rule is None or not (names(arg) & path):
                continue
            local = rule(upstream_symbol(ans), ans, *node.args, axis=node.axis)
            contribution, reasons = simplifier.rewrite(rule(g, ans, *node.args, axis=node.axis), arg)
            result.rules.append(Rule(step, node.op, node, i, ans, arg, g, local, contribution,
                                     reasons))
            flow(arg, contribution, rule(raw, ans, *node.args, axis=node.axis), step, arg)

    for step in reversed(problem.steps.values()):
        if step.name not in pending:
            continue
        ref = Ref(step.name, "step", step.expr.shape)
        grad = gradient(step.name, ref)
        flow(step.expr, grad.simplified, grad.composed, step.name, ref)
    for name in problem.wrt:
        if name not in result.gradients:
            gradient(name, Ref(name, "input" if name in problem.inputs else "step",
                               problem.shape_of(name)))
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
