"""Problem files: TOML text -> a validated, immutable :class:`Problem`.

The format is described in ``docs/problem-format.md``. :func:`load` checks
every key and refuses anything it does not understand with a
:class:`~derivgen.errors.DerivgenError` naming the file, the key path and the
line (and, inside an expression, the column).
"""

from __future__ import annotations

import json
import keyword
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from . import tomlpos
from .assumptions import DECLARED, SQUARE, conflict
from .errors import DerivgenError, ExprError, ProblemError, did_you_mean
from .expr import Binding, parse, to_source
from .latex import latex_name, unsafe_tex
from .nodes import Apply, Node, names, walk
from .ops import CONSTANTS, FUNCTIONS, OPS
from .shapes import SCALAR, NotADim, Shape, dim_size, parse_dim
from .sources import breaks_lines, display_name, problem_name, read_problem
from .targets import Claim, Targets

# What the engine can do in the time a build has (derivgen.budget): every entry of
# every matrix at the [dims] sizes is a sympy expression, and a derivation's cost
# grows with the number of steps; the numeric checks run the forward pass ~300 times.
MAX_SYMBOLIC_ENTRIES = 256         # per matrix at the [dims] sizes (16×16)
MAX_NUMERIC_ENTRIES = 250_000      # per matrix at the [check] sizes (500×500)
MAX_STEPS = 200


_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
KeyPath = tuple  # of str (keys) and int (list indices)


@dataclass(frozen=True)
class Input:
    name: str
    shape: Shape            # with the number of classes, for labels
    constant: bool = False
    assume: tuple[str, ...] = ()
    latex: str | None = None
    description: str | None = None

    @property
    def labels(self) -> str | int | None:
        """For class labels, the number of classes (a dim's name or a number)."""
        return self.shape.labels


@dataclass(frozen=True)
class Step:
    name: str
    source: str          # the expression as written
    expr: Node
    latex: str | None = None
    description: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Check:
    sizes: Mapping[str, int]     # every dim, with [check].sizes overriding [dims]
    seed: int = 0
    trials: int = 3
    rtol: float = 1e-6


@dataclass(frozen=True)
class Problem:
    path: Path
    title: str
    summary: str | None
    dims: Mapping[str, int]
    inputs: Mapping[str, Input]
    steps: Mapping[str, Step]
    of: str
    wrt: tuple[str, ...]            # the gradients derived (for a non-scalar of: Jacobians)
    expect: Mapping[str, Claim]
    check: Check
    hessian: tuple[str, ...] = ()   # the variables whose Hessian is derived

    @property
    def jacobian(self) -> bool:
        """Whether ``of`` is a matrix or vector, so that its derivatives are Jacobians."""
        return not self.shape_of(self.of).is_scalar

    @property
    def gradients(self) -> tuple[str, ...]:
        return () if self.jacobian else self.wrt

    @property
    def name(self) -> str:
        return problem_name(self.path)

    def shape_of(self, name: str) -> Shape:
        if name in self.inputs:
            return self.inputs[name].shape
        if name in self.steps:
            return self.steps[name].expr.shape
        return SCALAR                              # a dim used as a number

    def dim_axes(self) -> dict[str, tuple[str, int]]:
        """For each dim an input's shape shows by name, the first such input and its axis
        (0 rows, 1 columns): where code given arrays reads the dim's size."""
        found: dict[str, tuple[str, int]] = {}
        for name, inp in self.inputs.items():
            for axis, dim in enumerate((inp.shape.rows, inp.shape.cols)):
                if isinstance(dim, str):
                    found.setdefault(dim, (name, axis))
        return found

    def computed_from(self, name: str) -> list[str]:
        """The steps computed from ``name``, directly or through other steps, in order."""
        found = {name}
        for step in self.steps.values():
            if names(step.expr) & found:
                found.add(step.name)
        return [s for s in self.steps if s in found and s != name]


def load(path: str | Path, data: bytes | None = None) -> Problem:
    """Read and validate a problem file (``data``: its bytes, when already read)."""
    path = Path(path)
    table, positions = _parse(display_name(path), read_problem(path) if data is None else data)
    return _Loader(path, table, positions).problem()


def load_table(table: dict, name: str = "problem") -> Problem:
    """Validate a problem given as data, as ``tomllib`` reads a file (a notebook's dict);
    its messages name the keys, having no lines to point to."""
    return _Loader(Path(f"{name}.toml"), table, {}).problem()


def _parse(file: str, raw: bytes) -> tuple[dict, dict]:
    """A problem file's table, and where each of its keys stands."""
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")    # Windows editors write a BOM
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise ProblemError(f"file is not UTF-8 (byte 0x{raw[e.start]:02x})", file=file,
                           line=line, column=column) from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        at = re.search(r"\s*\(at line (\d+), column (\d+)\)|\s*\(at end of document\)", message)
        line = int(at.group(1)) if at and at.group(1) else text.count("\n") + 1
        column = int(at.group(2)) if at and at.group(2) else None
        message = message[:at.start()] if at else message
        raise ProblemError(f"invalid TOML: {message}", file=file, line=line,
                           column=column) from None
    return table, tomlpos.scan(text)


def _key_text(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def _toml(value: Any) -> str:
    """A value as it is written in TOML, for messages."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


class _Loader(Targets):
    def __init__(self, path: Path, data: dict, positions: dict) -> None:
        self.path = path
        self.file = display_name(path)
        self.data, self.positions = data, positions
        self.where: dict[str, KeyPath] = {}          # every defined name -> where it is defined

    # -- reporting ------------------------------------------------------------
    def fail(self, path: KeyPath, message: str, *, offset: int | None = None) -> NoReturn:
        raise self.locate(ProblemError(message), path, offset)

    def locate(self, error: DerivgenError, path: KeyPath, offset: int | None = None):
        pos = None
        for end in range(len(path), 0, -1):
            pos = self.positions.get(path[:end])
            if pos:
                break
        line = column = None
        if pos and offset is not None and pos.raw:
            line, column = pos.value_line, tomlpos.string_column(pos, offset)
        elif pos:
            line = pos.line
        return error.locate(file=self.file, key=_key_text(path), line=line, column=column)

    def line_of(self, path: KeyPath) -> int | None:
        pos = self.positions.get(path)
        return pos.line if pos else None

    # -- typed access -------------------------------------------------------------
    def table(self, value: Any, path: KeyPath, allowed: Mapping[str, type | tuple],
              required: tuple[str, ...] = ()) -> dict:
        """Check that ``value`` is a table with only ``allowed`` keys of the allowed types."""
        if not isinstance(value, dict):
            self.fail(path, f"expected a table, got {_kind(value)}")
        for key, item in value.items():
            if key not in allowed:
                where = f"[{_key_text(path)}]" if path else "the top level"
                self.fail(path + (key,), f"unknown key '{key}' in {where}"
                                         + did_you_mean(key, allowed))
            self.typed(item, path + (key,), allowed[key])
        for key in required:
            if key not in value:
                self.fail(path + (key,), "missing required key")
        return value

    def typed(self, value: Any, path: KeyPath, kind: type | tuple) -> Any:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = any(isinstance(value, k) and not (isinstance(value, bool) and k is not bool)
                 for k in kinds)
        if not ok:
            wanted = "a number" if set(kinds) == {int, float} else " or ".join(
                _kind(k()) for k in kinds)
            self.fail(path, f"expected {wanted}, got {_kind(value)}")
        return value

    def new_name(self, name: str, path: KeyPath) -> None:
        if not _NAME.match(name):
            self.fail(path, f"'{name}' is not a valid name: use letters, digits and _, "
                            "starting with a letter")
        if name in FUNCTIONS or name in CONSTANTS or keyword.iskeyword(name):
            self.fail(path, f"'{name}' is a reserved word of the expression language")
        if name in self.where:
            first = self.where[name]
            line = self.line_of(first)
            at = f" (line {line})" if line else ""
            self.fail(path, f"'{name}' is already defined as {_key_text(first)}{at}")
        self.where[name] = path

    def expression(self, source: str, path: KeyPath, scope: Mapping[str, Binding],
                   **context) -> Node:
        try:
            return parse(source, scope, **context)
        except ExprError as e:
            raise self.locate(e, path, e.offset) from None

    # -- the problem ------------------------------------------------------------
    def problem(self) -> Problem:
        top = self.table(self.data, (), {
            "title": str, "summary": str, "dims": dict, "inputs": dict, "steps": dict,
            "derive": dict, "expect": dict, "check": dict,
        }, required=("title", "dims", "inputs", "steps", "derive"))
        if not top["title"].strip():
            self.fail(("title",), "the title is empty")
        if breaks_lines(top["title"]):
            self.fail(("title",), "a title is one line, without control characters")
        dims = self.dims(top["dims"])
        inputs = self.inputs(top["inputs"], dims)
        scope = {d: Binding("dim", SCALAR) for d in dims}
        scope |= {i.name: Binding("input", i.shape) for i in inputs.values()}
        steps = self.steps(top["steps"], scope)
        self.written_apart(dims, inputs, steps)
        self.fits(inputs, steps, dims, MAX_SYMBOLIC_ENTRIES, "[dims]")
        of, wrt, hessian = self.derive(top["derive"], scope, inputs, steps)
        expect = self.expect(top.get("expect", {}), scope, of, wrt, hessian, dims)
        check = self.check(top.get("check", {}), dims, inputs, steps)
        self.matrices_fit(scope, of, wrt, hessian, check.sizes, MAX_NUMERIC_ENTRIES)
        return Problem(
            path=self.path, title=top["title"], summary=top.get("summary"),
            dims=MappingProxyType(dims), inputs=MappingProxyType(inputs),
            steps=MappingProxyType(steps), of=of, wrt=wrt,
            expect=MappingProxyType(expect), check=check, hessian=hessian)

    def written_apart(self, dims, inputs, steps) -> None:
        """Two names typeset alike would read as one symbol (a dim H beside a matrix
        written H): refused at the second."""
        seen: dict[str, str] = {}
        named = [(d, None, ("dims", d), "dim") for d in dims]
        named += [(n, i.latex, ("inputs", n, "latex"), "input") for n, i in inputs.items()]
        named += [(n, s.latex, ("steps", n, "latex"), "step") for n, s in steps.items()]
        for name, latex, path, kind in named:
            written = latex or latex_name(name)
            if written in seen:
                self.fail(path if latex else path[:2], f"{name} would be written {written}, like "
                          f"the {seen[written]}: give it another latex name")
            seen[written] = f"{kind} {name}"

    def dims(self, table: dict) -> dict[str, int]:
        for name, size in table.items():
            self.new_name(name, ("dims", name))
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                self.fail(("dims", name), f"a dim must be a positive integer, got {_toml(size)}")
        return dict(table)

    def inputs(self, table: dict, dims: dict[str, int]) -> dict[str, Input]:
        out = {}
        for name, spec in table.items():
            path = ("inputs", name)
            self.new_name(name, path)
            spec = self.table(spec, path, {"shape": list, "constant": bool, "assume": list,
                                           "latex": str, "description": str,
                                           "labels": (str, int)},
                              required=("shape",))
            shape = self.shape(spec["shape"], path + ("shape",), dims)
            if "labels" in spec:
                shape = self.labels(spec, path, dims, shape)
            assume = self.assumptions(spec.get("assume", []), path + ("assume",), name, shape)
            if "latex" in spec:
                self.latex(spec["latex"], path + ("latex",))
            out[name] = Input(name, shape, spec.get("constant", False) or "labels" in spec,
                              assume, spec.get("latex"), spec.get("description"))
        return out

    def shape(self, entries: list, path: KeyPath, dims: dict[str, int]) -> Shape:
        if len(entries) > 2:
            self.fail(path, f"a shape has 0, 1 or 2 entries, got {len(entries)}: every value is "
                            "a matrix; write a tensor of rank 3 as matrices, one input each")
        parts = []
        for i, d in enumerate(entries):
            self.typed(d, path + (i,), (str, int))
            if isinstance(d, int) and d < 1:
                self.fail(path + (i,), f"a size must be positive, got {d}")
            if isinstance(d, str) and d not in dims and _NAME.match(d):
                self.fail(path + (i,), f"unknown dim '{d}'" + did_you_mean(d, dims))
            if isinstance(d, str) and d not in dims:        # arithmetic of dims: "4*H"
                try:
                    d = parse_dim(d, dims)
                except NotADim as e:
                    self.fail(path + (i,), e.why, offset=getattr(e.node, "col_offset", 0))
            parts.append(d)
        parts += [1] * (2 - len(parts))
        return Shape(*parts)

    def labels(self, spec: dict, path: KeyPath, dims: dict[str, int], shape: Shape) -> Shape:
        """Integer class labels 0..C−1: a row, a column or one label; constant."""
        classes = spec["labels"]
        if isinstance(classes, str) and classes not in dims:
            self.fail(path + ("labels",), f"unknown dim '{classes}'" + did_you_mean(classes, dims))
        if isinstance(classes, int) and classes < 2:
            self.fail(path + ("labels",), f"labels need at least 2 classes, got {classes}")
        if shape.rows != 1 and shape.cols != 1:
            self.fail(path + ("shape",), f"labels are a row, a column or one label; {shape} is "
                                         "a matrix")
        if spec.get("constant") is False:
            self.fail(path + ("constant",), "labels are constant: remove constant = false")
        if spec.get("assume"):
            self.fail(path + ("assume",), "labels take no assumptions: their entries are the "
                                          f"classes 0 to {classes} - 1")
        return Shape(shape.rows, shape.cols, classes)

    def assumptions(self, names: list, path: KeyPath, name: str, shape: Shape) -> tuple[str, ...]:
        for i, a in enumerate(names):
            self.typed(a, path + (i,), str)
            if a not in DECLARED:
                self.fail(path + (i,), f"unknown assumption '{a}'" + did_you_mean(a, DECLARED)
                                       + "; known: " + ", ".join(DECLARED))
            if a in names[:i]:
                self.fail(path + (i,), f"assumption '{a}' is listed twice")
            if a in SQUARE and not shape.is_square:
                self.fail(path + (i,), f"'{a}' needs a square shape, {name} is {shape}")
        clash = conflict(names)
        if clash:
            self.fail(path, f"no matrix is drawn with both '{clash[0]}' and '{clash[1]}': "
                            "declare one of them")
        return tuple(names)

    def latex(self, text: str, path: KeyPath) -> None:
        problem = unsafe_tex(text)
        if problem:
            self.fail(path, f"{problem} in a latex name")

    def fits(self, inputs: Mapping[str, Input], steps: Mapping[str, Step],
             sizes: Mapping[str, int], limit: int, where: str) -> None:
        """Refuse any input, step or part of a step with more than ``limit`` entries."""
        for name, step in steps.items():        # a slice's own words first
            for node in walk(step.expr):
                if isinstance(node, Apply) and node.op == "slice":
                    self.within(node, sizes, ("steps", name), where)
        items = [(("inputs", n, "shape"), n, i.shape) for n, i in inputs.items()]
        items += [(("steps", n), n if sub is s.expr else f"a part of {n}", sub.shape)
                  for n, s in steps.items() for sub in walk(s.expr)]
        for path, what, shape in items:
            rows, cols = shape.size(sizes)
            if rows < 1 or cols < 1:
                self.fail(path, f"{what} is {shape} = {rows}×{cols} at the {where} sizes: a "
                                "matrix has at least one row and one column")
            if rows * cols <= limit:
                continue
            if where == "[dims]":
                advice = (" Keep [dims] small, since the element-wise derivation writes every"
                          " entry out; give large sizes in [check].sizes.")
            else:
                path, advice = ("check", "sizes"), ""
            self.fail(path, f"{what} is {shape} = {rows}×{cols} at the {where} sizes, "
                            f"{rows * cols} entries; the limit is {limit} per matrix.{advice}")
        if where != "[dims]":
            return
        for name, step in steps.items():
            for node in walk(step.expr):
                largest = OPS[node.op].max_size if isinstance(node, Apply) else None
                n = node.args[0].shape.size(sizes)[0] if largest else 0
                if largest and n > largest:
                    self.fail(("steps", name), f"{node.op} of a {n}×{n} matrix at the [dims] "
                              f"sizes: derivgen writes it out entry by entry up to "
                              f"{largest}×{largest}; keep [dims] small and give large sizes in "
                              "[check].sizes")

    def within(self, node: Apply, sizes: Mapping[str, int], path: KeyPath, where: str) -> None:
        """A slice's bounds lie inside what it slices, at these sizes."""
        span, x = node.axis, node.args[0]
        end = (x.shape.rows if span.axis == 0 else x.shape.cols)
        start, stop, n = (dim_size(d, sizes) for d in (span.start, span.stop, end))
        if not 0 <= start < stop <= n:
            what = "rows" if span.axis == 0 else "columns"
            self.fail(path, f"{to_source(node)} is {what} {start} to {stop} at the {where} "
                            f"sizes, of the {n} of {to_source(x)}: a slice needs 0 <= start < "
                            f"stop <= {n}")

    def steps(self, table: dict, scope: dict[str, Binding]) -> dict[str, Step]:
        if len(table) > MAX_STEPS:
            self.fail(("steps",), f"{len(table)} steps; a problem may have at most {MAX_STEPS}")
        out = {}
        pending = list(table)
        for name, spec in table.items():
            path = ("steps", name)
            pending.remove(name)
            self.new_name(name, path)
            if isinstance(spec, str):
                spec, expr_path = {"expr": spec}, path
            elif not isinstance(spec, dict):
                self.fail(path, f"expected a string or a table, got {_kind(spec)}")
            else:
                self.table(spec, path, {"expr": str, "latex": str, "description": str},
                           required=("expr",))
                expr_path = path + ("expr",)
                if "latex" in spec:
                    self.latex(spec["latex"], path + ("latex",))
            node = self.expression(spec["expr"], expr_path, scope, later=pending, defining=name)
            scope[name] = Binding("step", node.shape)
            out[name] = Step(name, spec["expr"], node, spec.get("latex"), spec.get("description"),
                             self.line_of(path))
        return out

    def check(self, table: dict, dims: dict[str, int], inputs: Mapping[str, Input],
              steps: Mapping[str, Step]) -> Check:
        self.table(table, ("check",), {"sizes": dict, "seed": int, "trials": int,
                                       "rtol": (float, int)})
        sizes = dict(dims)
        for name, size in table.get("sizes", {}).items():
            path = ("check", "sizes", name)
            if name not in dims:
                self.fail(path, f"unknown dim '{name}'" + did_you_mean(name, dims))
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                self.fail(path, f"a size must be a positive integer, got {_toml(size)}")
            sizes[name] = size
        seed = table.get("seed", 0)
        if not 0 <= seed < 2**32:
            self.fail(("check", "seed"), f"seed must be between 0 and 2**32 - 1, got {seed}")
        trials = table.get("trials", 3)
        if not 1 <= trials <= 100:
            self.fail(("check", "trials"), f"trials must be between 1 and 100, got {trials}")
        rtol = table.get("rtol", 1e-6)
        if not 0 < rtol < 1:
            self.fail(("check", "rtol"), f"rtol must be > 0 and < 1, got {rtol}")
        self.fits(inputs, steps, sizes, MAX_NUMERIC_ENTRIES, "[check]")
        return Check(MappingProxyType(sizes), seed, trials, float(rtol))
