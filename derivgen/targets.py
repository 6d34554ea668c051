"""What a problem differentiates: its ``[derive]`` and ``[expect]`` tables.

``of`` is a scalar (its gradients by ``wrt``) or a matrix (its Jacobians: by ``wrt``,
or by every variable it uses); ``hessian`` lists inputs whose Hessian is derived
too. A claim states a gradient, or a Jacobian or Hessian as its differential (in
the direction d + the variable's name) or as its matrix. The checks live here, as
a part of the problem loader (:class:`derivgen.problem._Loader`), which they use
to report where a file goes wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import did_you_mean
from .expr import Binding, to_source
from .nodes import Node, names, walk
from .shapes import Shape, vec_length


@dataclass(frozen=True)
class Claim:
    """An ``[expect]`` entry: the author's claimed gradient of ``of`` w.r.t. ``variable``,
    or its Jacobian or Hessian as a differential (in the direction d + variable) or as
    a matrix; ``name`` is the key as written (``X``, ``hessian(w)``)."""
    name: str
    source: str
    expr: Node
    line: int | None = None
    variable: str = ""
    form: str = "gradient"          # "gradient", "differential" or "matrix"

    @property
    def hessian(self) -> bool:
        return self.name != self.variable


def direction_name(name: str) -> str:
    """The expression-language name of the direction a variable moves in: dX."""
    return "d" + name


SYMBOLIC_ENTRIES = 256     # a claim's parts may be this large, whatever it states (16×16)


class Targets:
    """The loader's checks of ``[derive]`` and ``[expect]`` (``inputs`` and ``steps``
    are the loader's :class:`~derivgen.problem.Input` and ``Step`` records by name)."""

    def derive(self, table: dict, scope: Mapping[str, Binding], inputs: Mapping,
               steps: Mapping) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """What to differentiate: of, the variables of its gradients (of its Jacobians,
        for a matrix or vector of: every variable it uses, unless wrt lists them) and
        of its Hessians (whose gradients are derived too)."""
        self.table(table, ("derive",), {"of": str, "wrt": list, "hessian": list},
                   required=("of",))
        of = table["of"]
        if of not in steps:
            kind = scope[of].kind if of in scope else None
            self.fail(("derive", "of"), f"'{of}' is a{'n' * (kind == 'input')} {kind}; of must "
                      "name a step" if kind else f"unknown step '{of}'" + did_you_mean(of, steps))
        scalar = scope[of].shape.is_scalar
        needed = dependencies(of, steps)
        if "wrt" not in table and scalar and "hessian" not in table:
            self.fail(("derive", "wrt"), "missing required key")
        hessian = self.variables(table.get("hessian", []), ("derive", "hessian"), of, scope,
                                 inputs, needed)
        if hessian and not scalar:
            self.fail(("derive", "hessian"), f"{of} is {scope[of].shape}; a Hessian is of a "
                                             "scalar (1×1)")
        for i, name in enumerate(hessian):
            if name not in inputs:
                self.fail(("derive", "hessian", i), f"'{name}' is a step; a Hessian is taken "
                                                    "with respect to an input")
        default = hessian if scalar else tuple(
            n for n, i in inputs.items() if n in needed and not i.constant)
        wrt = self.variables(table["wrt"], ("derive", "wrt"), of, scope, inputs, needed) \
            if "wrt" in table else default
        if not wrt:
            self.fail(("derive", "wrt"), "wrt is empty: name at least one input or step")
        for name in steps:
            if name not in needed:      # it would only cost time, and say nothing
                self.fail(("steps", name), f"{of} does not use {name}: remove the step, or "
                                           f"make {of} depend on it")
        for key, listed in (("wrt", () if scalar else wrt), ("hessian", hessian)):
            for i, name in enumerate(listed):
                taken = scope.get(direction_name(name))
                if taken is not None:
                    kind = "an input" if taken.kind == "input" else f"a {taken.kind}"
                    self.fail(("derive", key, i) if key in table else ("derive", "of"),
                              f"the direction {name} moves in is written "
                              f"{direction_name(name)}, which names {kind} already: rename it")
        return of, tuple(wrt) + tuple(n for n in hessian if n not in wrt), tuple(hessian)

    def variables(self, names: list, path: tuple, of: str, scope: Mapping[str, Binding],
                  inputs: Mapping, needed: set[str]) -> tuple[str, ...]:
        """A list of names to differentiate by: variables ``of`` depends on, each once."""
        for i, name in enumerate(names):
            self.typed(name, path + (i,), str)
            if name not in scope:
                self.fail(path + (i,), f"unknown name '{name}'" + did_you_mean(name, scope))
            if scope[name].kind == "dim":
                self.fail(path + (i,), f"'{name}' is a dim, not a variable")
            if name in inputs and inputs[name].constant:
                self.fail(path + (i,), f"'{name}' is a constant input; only variables can be "
                                       f"in {path[-1]}")
            if name == of:
                self.fail(path + (i,), f"'{name}' is the value being differentiated")
            if name in names[:i]:
                self.fail(path + (i,), f"'{name}' is listed twice")
            if name not in needed:
                self.fail(path + (i,), f"{of} does not depend on {name}")
        return tuple(names)

    def expect(self, table: dict, scope: Mapping[str, Binding], of: str, wrt: tuple[str, ...],
               hessian: tuple[str, ...], dims: Mapping[str, int]) -> dict[str, Claim]:
        """Claims: a gradient (keyed by its variable), a Jacobian (keyed by its variable,
        for a matrix of) or a Hessian (``hessian(w)``), the last two as a differential in
        the direction dX or as a matrix."""
        out = {}
        linear = not scope[of].shape.is_scalar
        keys = {name: name for name in wrt} | {f"hessian({n})": n for n in hessian}
        for key, source in table.items():
            path = ("expect", key)
            if key not in keys:
                also = " or derive.hessian (as hessian(w))" if hessian else ""
                self.fail(path, f"'{key}' is not in derive.wrt{also}; a claim is about one of: "
                                + ", ".join(keys))
            self.typed(source, path, str)
            name = keys[key]
            if not linear and key == name:
                claim = self.gradient_claim(source, path, scope, name)
            else:
                claim = self.linear_claim(source, path, scope, name,
                                          scope[name].shape if key != name else scope[of].shape)
            # no part larger than what it states (kron(kron(X, X), X) is n⁶ entries)
            most = max(_entries(claim.expr.shape, dims), SYMBOLIC_ENTRIES)
            for part in walk(claim.expr):
                if _entries(part.shape, dims) > most:
                    self.fail(path, f"a part of the claim, {to_source(part)}, is {part.shape} "
                                    f"= {_entries(part.shape, dims)} entries at the [dims] "
                                    f"sizes; the claim itself is {claim.expr.shape}")
            out[key] = Claim(key, source, claim.expr, self.line_of(path), name, claim.form)
        return out


    def gradient_claim(self, source: str, path: tuple, scope: Mapping[str, Binding],
                       name: str) -> Claim:
        node = self.expression(source, path, scope)
        if node.shape != scope[name].shape:
            self.fail(path, f"the claim is {node.shape} but {name} is {scope[name].shape}; a "
                            "gradient has the shape of its variable")
        return Claim(path[-1], source, node)

    def linear_claim(self, source: str, path: tuple, scope: Mapping[str, Binding], name: str,
                     value: Shape) -> Claim:
        """A Jacobian's or Hessian's claim: the differential of ``value`` (it uses dX) or
        the matrix, (entries of the value) × (entries of the variable)."""
        direction = Binding("input", scope[name].shape)
        node = self.expression(source, path, {**scope, direction_name(name): direction})
        form = "differential" if direction_name(name) in names(node) else "matrix"
        want = value if form == "differential" else \
            Shape(vec_length(value), vec_length(scope[name].shape))
        if node.shape != want:
            what = "its differential" if form == "differential" else "its matrix"
            self.fail(path, f"the claim is {node.shape}; {what} is {want}")
        return Claim(path[-1], source, node, form=form)

    def matrices_fit(self, scope: Mapping[str, Binding], of: str, wrt: tuple[str, ...],
                     hessian: tuple[str, ...], sizes: Mapping[str, int], limit: int) -> None:
        """Each Jacobian's or vector Hessian's matrix, which the numeric checks build at
        the [check] sizes, within ``limit`` entries."""
        pairs = [] if scope[of].shape.is_scalar else [("wrt", n, scope[of].shape) for n in wrt]
        pairs += [("hessian", n, scope[n].shape) for n in hessian
                  if 1 in (scope[n].shape.rows, scope[n].shape.cols)]
        for key, name, value in pairs:
            matrix = Shape(vec_length(value), vec_length(scope[name].shape))
            if _entries(matrix, sizes) > limit:
                self.fail(("check", "sizes"), f"the matrix of the derivative by {name} "
                          f"(derive.{key}) is {matrix} = {_entries(matrix, sizes)} entries at "
                          f"the [check] sizes; the limit is {limit}: give smaller sizes")


def _entries(shape: Shape, sizes: Mapping[str, int]) -> int:
    rows, cols = shape.size(sizes)
    return rows * cols


def dependencies(name: str, steps: Mapping) -> set[str]:
    """Every input and step that the value of ``name`` is computed from (itself included)."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in steps:
            todo.extend(names(steps[current].expr))
    return seen
