"""The forward pass: the differential of a value in a direction, one rule at a time.

Where the reverse pass (:mod:`derivgen.backward`) carries ∂of/∂S back from a scalar,
this pass carries a direction forward from a variable X: X moves by dX (a general
matrix shaped like X), and every step S computed from X moves by its differential
dS, the sum over the uses of X's descendants in S's expression of one forward rule
each (the registry's ``jvp``): d(XY) = dX Y + X dY. What it finds is the linear map
dX ↦ dF, the derivative of a matrix function F, in the form courses write it:
d(X²) = dX X + X dX, d(X⁻¹) = −X⁻¹ dX X⁻¹.

Each application of a rule is a :class:`Tangent`; each step's differential, complete
once the steps before it are, a :class:`Differential` named dS where it is used (or
written out where that is short, as the reverse pass writes G_S). Applied to the
expression of a gradient instead of a step, the same pass gives a Hessian: the
differential of ∇L in the direction dw.

Nothing here is trusted: :mod:`derivgen.prove` proves every rule and simplification.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .assumptions import Reason
from .backward import INLINE_COST, Equal, simplest
from .nodes import Apply, Node, Ref, chain, names
from .ops import OPS
from .problem import Problem
from .simplify import Simplifier, cost
from .targets import dependencies, direction_name


@dataclass(frozen=True)
class Tangent:
    """One forward rule applied: what the argument's differential adds to its output's."""
    step: str                 # the step (or the gradient) whose expression holds the operator
    op: str
    node: Apply
    arg: int
    output: Node              # the operator's node (the step itself at a step's root)
    target: Node              # the argument whose differential is carried forward
    direction: Node           # d(target) as the rule was given it
    rule: Node                # the rule with a symbolic direction D
    raw: Node                 # the rule applied to ``direction``, as the rule writes it
    result: Node              # the contribution to d(output), simplified
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Differential:
    """dS: the sum of the contributions of every argument of S's expression that moves."""
    name: str
    symbol: Ref               # dS, the name it goes by
    raw: Node                 # the contributions added up, as the rules write them
    value: Node               # simplified
    reasons: tuple[Reason, ...]


@dataclass
class Forward:
    variable: str
    direction: Ref                                  # dX
    order: list[Tangent | Differential] = field(default_factory=list)
    differentials: dict[str, Differential] = field(default_factory=dict)


class Pass:
    """The forward pass from one variable, over the steps and then any expression of them."""

    def __init__(self, problem: Problem, variable: str, symbols: Mapping[str, Ref],
                 simplifier: Simplifier, equal: Equal | None = None) -> None:
        self.problem, self.simplifier, self.equal = problem, simplifier, equal
        self.symbols = symbols              # step name -> the Ref its differential goes by
        direction = Ref(direction_name(variable), "input", problem.shape_of(variable))
        self.result = Forward(variable, direction)
        self.moves = {variable} | set(problem.computed_from(variable))
        self.written: dict[str, Node] = {variable: direction}     # how each dS is used

    def of(self, node: Node, label: str) -> Differential:
        """The differential of ``node``, an expression of the inputs and steps (a step's
        own, or a gradient's), after those of the steps it is computed from; ``label``
        names it in the records (its step, or the gradient)."""
        needed = set().union(*(dependencies(n, self.problem.steps) for n in names(node))) & \
            self.moves
        for name, step in self.problem.steps.items():
            if name in needed and name not in self.result.differentials and \
                    name not in (label, self.result.variable):
                self._record(self._differential(name, step.expr, Ref(name, "step", step.expr.shape)))
        like = Ref(label, "step", node.shape) if label in self.problem.steps else node
        return self._record(self._differential(label, node, like))

    def _differential(self, name: str, expr: Node, like: Node) -> Differential:
        raw = self.carry(expr, name, like)
        value, reasons = simplest(self.simplifier, self.equal, raw, like, name)
        symbol = self.symbols.get(name) or Ref("d" + name, "input", expr.shape)
        return Differential(name, symbol, raw, value, reasons)

    def _record(self, d: Differential) -> Differential:
        self.result.differentials[d.name] = d
        self.result.order.append(d)
        self.written[d.name] = d.value if cost(d.value) <= INLINE_COST else d.symbol
        return d

    def carry(self, node: Node, step: str, ans: Node) -> Node:
        """d(node), every operator's rule applied and recorded, inner ones first."""
        if isinstance(node, Ref):
            return self.written[node.name]
        parts = []
        for i, arg in enumerate(node.args):
            rule = OPS[node.op].jvp[i]
            if rule is None or not (names(arg) & self.moves):
                continue
            direction = self.carry(arg, step, arg)
            raw = rule(direction, ans, *node.args, axis=node.axis)
            result, reasons = simplest(self.simplifier, self.equal, raw, ans, step)
            symbolic = Ref("D", "input", arg.shape)
            self.result.order.append(Tangent(
                step, node.op, node, i, ans, arg, direction,
                rule(symbolic, ans, *node.args, axis=node.axis), raw, result, reasons))
            parts.append(result)
        return chain("add", parts)

