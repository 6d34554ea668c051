"""What derivgen knows of each property a matrix may have: one registry entry each.

An entry says how the setup describes the property, how a simplification that
uses it states it, what it implies, how to draw a random matrix that has it
(for the numeric checks), and what it lets the proofs substitute for an entry
symbol (the last entry of a column that sums to 1 is one minus the others).
Some properties are declared in a problem's ``assume`` lists; others are facts
derivgen derives (a centred matrix's columns sum to 0) or domains an operator
asks of its argument (``inv`` a well-conditioned matrix).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from .lazy import np, sp

Draw = Callable[["np.random.Generator", int, int], "np.ndarray"]


@dataclass(frozen=True)
class Assumption:
    name: str
    text: str                       # in the setup: "each column is one-hot (...)"
    stated: str = ""                # where a rewrite uses it ("{}": the matrix)
    declared: bool = True           # may be listed in a problem's `assume`
    square: bool = False            # only a square matrix can have it
    implies: tuple[str, ...] = ()
    sums: tuple[int, int] | None = None     # (axis, s): the entries along axis sum to s
    mirrored: bool = False          # entry (i, j) is entry (j, i)
    draw: Draw | None = None        # a random matrix with this structure (and what it implies)
    drawn_also: tuple[str, ...] = ()    # what such a random matrix has besides (not implied)
    entries: Draw | None = None     # how each entry is drawn, where the matrix is unstructured
    adjust: Callable[[np.ndarray], np.ndarray] | None = None    # give such a matrix the property
    power: Callable[[sp.Expr, int], sp.Expr] | None = None     # x^k of an entry x, k ≥ 2

    def lines(self, m: sp.Matrix) -> list[sp.Matrix]:
        """The columns (or rows) of ``m`` whose entries the property says add up to a
        known sum; none for a property that is not a sum."""
        if self.sums is None:
            return []
        return [m[:, j] for j in range(m.cols)] if self.sums[0] == 0 else \
            [m[i, :] for i in range(m.rows)]

    def substitutions(self, m: sp.Matrix) -> dict[sp.Symbol, sp.Expr]:
        """Entry symbols of ``m`` the property determines, and what they equal: the
        last entry of each line that sums to s is s minus the others; below the
        diagonal of a symmetric matrix, the entry above it."""
        out: dict[sp.Symbol, sp.Expr] = {}
        for line in self.lines(m):
            out[line[-1]] = self.sums[1] - sp.Add(*line[:-1])
        if self.mirrored:
            out |= {m[i, j]: m[j, i] for i in range(m.rows) for j in range(i)}
        return out


def powers_of(properties: Mapping[sp.Symbol, Iterable[str]]) -> dict[sp.Symbol, Assumption]:
    """Of the symbols given with their properties, those whose powers a property
    lowers (y² = y for entries 0 or 1), with that property."""
    return {s: REGISTRY[f] for s, fs in properties.items() for f in fs if REGISTRY[f].power}


def lower_powers(expr: sp.Expr, powers: Mapping[sp.Symbol, Assumption]
                 ) -> tuple[sp.Expr, set[sp.Symbol]]:
    """``expr`` with each power y^k (k ≥ 2) of a symbol in ``powers`` written as its
    property says (y for entries 0 or 1, 1 or y for entries ±1), once expanded; and the
    symbols whose powers were lowered. ``expr`` itself, and no symbol, when there is no
    such power, expanded or not."""
    if not powers or not expr.free_symbols & powers.keys():     # most problems: no labels
        return expr, set()
    expanded = sp.expand(expr)
    raised = {p for p in expanded.atoms(sp.Pow)
              if p.base in powers and p.exp.is_Integer and p.exp > 1}
    if not raised:
        return expr, set()
    lowered = expanded.xreplace({p: powers[p.base].power(p.base, int(p.exp)) for p in raised})
    return lowered, {p.base for p in raised}


def _positive_definite(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    m = rng.standard_normal((rows, rows))
    return m @ m.T / rows + np.eye(rows)


REGISTRY: dict[str, Assumption] = {a.name: a for a in (
    Assumption("one_hot_columns", "each column is one-hot (a single 1, the rest 0)",
               "each column of {} is one-hot", implies=("probability_columns", "binary"),
               draw=lambda rng, r, c: np.eye(r)[:, rng.integers(r, size=c)]),
    Assumption("one_hot_rows", "each row is one-hot (a single 1, the rest 0)",
               "each row of {} is one-hot", implies=("probability_rows", "binary"),
               draw=lambda rng, r, c: np.eye(c)[rng.integers(c, size=r), :]),
    Assumption("probability_columns", "entries are ≥ 0 and each column sums to 1",
               "each column of {} sums to 1", sums=(0, 1),
               implies=("unit_interval",), drawn_also=("positive",),
               draw=lambda rng, r, c: rng.dirichlet(np.ones(r), size=c).T),
    Assumption("probability_rows", "entries are ≥ 0 and each row sums to 1",
               "each row of {} sums to 1", sums=(1, 1),
               implies=("unit_interval",), drawn_also=("positive",),
               draw=lambda rng, r, c: rng.dirichlet(np.ones(c), size=r)),
    Assumption("symmetric", "symmetric", "{} is symmetric", square=True, mirrored=True,
               adjust=lambda m: np.triu(m) + np.triu(m, 1).T),    # keeps each entry's values
    Assumption("positive_definite", "symmetric positive definite", square=True,
               implies=("symmetric",), draw=_positive_definite),
    # labels and targets as courses write them
    Assumption("binary", "every entry is 0 or 1", "every entry of {} is 0 or 1",
               implies=("unit_interval",), power=lambda y, k: y,
               entries=lambda rng, r, c: rng.integers(0, 2, (r, c)).astype(float)),
    Assumption("signs", "every entry is −1 or +1", "every entry of {} is −1 or +1",
               power=lambda y, k: y ** (k % 2),
               entries=lambda rng, r, c: rng.choice([-1.0, 1.0], (r, c))),
    Assumption("unit_interval", "every entry is in [0, 1]", drawn_also=("positive",),
               entries=lambda rng, r, c: rng.uniform(0.0, 1.0, (r, c))),
    Assumption("positive", "every entry is > 0",
               entries=lambda rng, r, c: rng.uniform(0.5, 2.0, (r, c))),
    Assumption("centred_columns", "each column sums to 0", "each column of {} sums to 0",
               declared=False, sums=(0, 0)),
    Assumption("centred_rows", "each row sums to 0", "each row of {} sums to 0",
               declared=False, sums=(1, 0)),
    Assumption("well_conditioned", "close to the identity, so safely invertible",
               declared=False, square=True,
               adjust=lambda m: np.eye(m.shape[0]) + 0.3 * m / np.sqrt(m.shape[0])),
)}

DECLARED = {n: a.text for n, a in REGISTRY.items() if a.declared}
SQUARE = frozenset(n for n, a in REGISTRY.items() if a.square)
# the facts that make a sum along an axis known: {axis: fact} for sums of 1 and of 0
SUMS_TO_ONE = {a.sums[0]: n for n, a in REGISTRY.items() if a.sums and a.sums[1] == 1}
SUMS_TO_ZERO = {a.sums[0]: n for n, a in REGISTRY.items() if a.sums and a.sums[1] == 0}


def transposed(name: str) -> str:
    """The property a matrix's transpose has for each of its own: rows for columns."""
    swap = {"columns": "rows", "rows": "columns"}
    head, _, tail = name.rpartition("_")
    return f"{head}_{swap[tail]}" if tail in swap else name


def closure(names: Iterable[str]) -> frozenset[str]:
    """The properties and everything they imply (one-hot columns are probability columns)."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(REGISTRY[name].implies)
    return frozenset(found)


@dataclass(frozen=True)
class Reason:
    """A fact a rewrite used: the property ``fact`` (a registry name) of ``matrix`` (a
    node: a name, or softmax(S) whose columns sum to 1). Whoever writes it out names
    the matrix in its own way: as source text in the JSON, in LaTeX in a report."""
    matrix: object
    fact: str

    def words(self, write: Callable[[object], str]) -> str:
        """"each column of Y sums to 1", the matrix written by ``write``."""
        return REGISTRY[self.fact].stated.format(write(self.matrix))

    def parts(self) -> tuple[str, str]:
        """The words before and after the matrix, for a writer that typesets it."""
        before, _, after = REGISTRY[self.fact].stated.partition("{}")
        return before, after


def _structure(wanted: frozenset[str]) -> Assumption | None:
    return next((a for a in REGISTRY.values() if a.name in wanted and a.draw), None)


def _entries(wanted: frozenset[str]) -> Assumption | None:
    return next((a for a in REGISTRY.values() if a.name in wanted and a.entries), None)


def conflict(names: Iterable[str]) -> tuple[str, str] | None:
    """Two properties no one matrix can be drawn with, or None: two that each fix the
    structure or the distribution of the entries (one-hot and symmetric, 0/1 and ±1),
    unless one gives the other (a probability column's entries are positive)."""
    wanted = closure(names)
    drawer = _structure(wanted) or _entries(wanted)
    if drawer is None:
        return None
    given = closure([drawer.name, *drawer.drawn_also])
    # a structure is changed by any adjustment; entries drawn one by one are kept by
    # the adjustments (a symmetric matrix mirrors its upper triangle)
    other = next((a for a in REGISTRY.values() if a.name in wanted - given
                  and (a.draw or a.entries or (a.adjust and drawer.draw))), None)
    return (drawer.name, other.name) if other else None


def draw(rng: np.random.Generator, rows: int, cols: int, wanted: Iterable[str]) -> np.ndarray:
    """A random rows×cols matrix with every wanted property: drawn with the structure
    one of them fixes (one-hot, positive definite, ...) or else entry by entry
    (standard normal unless a property says otherwise), then adjusted by each
    property that adjusts (symmetric: the upper triangle mirrored)."""
    wanted = closure(wanted)
    structure = _structure(wanted)
    if structure is not None:
        return structure.draw(rng, rows, cols)
    entries = _entries(wanted)
    m = entries.entries(rng, rows, cols) if entries else rng.standard_normal((rows, cols))
    for a in REGISTRY.values():
        if a.name in wanted and a.adjust:
            m = a.adjust(m)
    return m
