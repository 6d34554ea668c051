"""A differential read as a matrix: J with vec(dF) = J vec(dX), in textbook form.

dF is a sum of terms, each a chain of matrices applied to dX. Reading each
operation of dF as the matrix it applies to the vec of its argument
(column-stacking, vec of a vector is its column):

- A N is (I ⊗ A), N B is (Bᵀ ⊗ I) (for a vector N: A, and Bᵀ); c ⊙ N (c shaped
  like N) is diag(vec c); c ⊙ s (s 1×1) is vec(c) times s's row; a 1×1 factor is a
  scalar; a transposed vector is the vector;
- a sum of all entries is 𝟏ᵀ, of each column (I ⊗ 𝟏ᵀ), of each row (𝟏ᵀ ⊗ I); a
  trace vec(I)ᵀ; a 1×1 term beside a matrix is 𝟏 times it (broadcasting);

and each product is tidied as it is built: (A ⊗ B)(C ⊗ D) = AC ⊗ BD,
diag(a) diag(b) = diag(a ⊙ b), diag(a) 𝟏 = a, 𝟏ᵀ diag(a) = aᵀ,
vec(P)ᵀ(Q ⊗ A) = vec(Aᵀ P Q)ᵀ, I M = M. So A dX B reads (Bᵀ ⊗ A), dX X + X dX reads
Xᵀ ⊗ I + I ⊗ X, and the softmax's a ⊙ (dx − 𝟏ᵀ(a ⊙ dx)) reads diag(a) − a aᵀ.
A transposed matrix in dF (vec(dXᵀ) needs the commutation matrix) has no form here,
nor has anything not linear in dX: the caller says so, and proves what it gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .nodes import Apply, Const, Node, Ref, chain, make, names
from .op import count
from .shapes import Dim, Shape, vec_length


class NotLinear(Exception):
    """A part of the differential this reading does not cover."""


@dataclass(frozen=True)
class Ones:
    """𝟏, a column of ones of ``length`` rows, or (``row``) its transpose."""
    length: Dim
    row: bool = False


@dataclass(frozen=True)
class Eye:
    """The identity of ``size`` rows."""
    size: Dim


@dataclass(frozen=True)
class Kron:
    """left ⊗ right, each a node or an identity."""
    left: "Node | Eye"
    right: "Node | Eye"


@dataclass(frozen=True)
class VecRow:
    """vec(P)ᵀ, P a node or an identity."""
    of: "Node | Eye"


Factor = Node | Ones | Eye | Kron | VecRow
# (scalar coefficients, each multiplying or (True) dividing; factors of the product; the
# direction it applies to)
Term = tuple[tuple[tuple[Node, bool], ...], tuple[Factor, ...], str]


def jacobian_matrix(differential: Node, directions: Mapping[str, Node | None], variable: Ref,
                    available: list[Node]) -> Node | None:
    """J with vec(differential) = J vec(dX), or None. The differential is linear in the
    names of ``directions``: dX itself (its matrix None, the identity), or the
    differentials dT of earlier steps, each with its own matrix J_T (vec(dT) = J_T vec(dX)),
    by which the chain rule multiplies. ``available`` are nodes free of them that an
    identity or a column of ones may be sized by (I is written eye_like of one of them)."""
    try:
        terms = _terms(_down(differential), frozenset(directions))
        written = [_written(t, directions[t[2]], variable, available) for t in terms]
    except NotLinear:
        return None
    return _sum(written) if written else None


def _down(node: Node) -> Node:
    """Transposes moved down to the leaves: (A B)ᵀ = Bᵀ Aᵀ, (A + B)ᵀ = Aᵀ + Bᵀ, Xᵀᵀ = X."""
    if not isinstance(node, Apply):
        return node
    if node.op != "transpose":
        return make(node.op, *map(_down, node.args), axis=node.axis)
    inner = node.args[0]
    if isinstance(inner, Apply) and inner.op == "transpose":
        return _down(inner.args[0])
    if isinstance(inner, Apply) and inner.op == "matmul":
        return _down(make("matmul", inner.args[1].T, inner.args[0].T))
    if isinstance(inner, Apply) and inner.op in ("add", "sub", "mul", "div", "neg"):
        return make(inner.op, *(_down(a.T) if not a.shape.is_scalar else a
                                for a in inner.args))
    if inner.shape.is_scalar:
        return _down(inner)
    return node


def _vector(shape: Shape) -> bool:
    return shape.rows == 1 or shape.cols == 1


def _terms(node: Node, d: frozenset[str]) -> list[Term]:
    """The terms of the matrices applied to each vec(d) that give vec(node) (node linear
    in the directions ``d``)."""
    if isinstance(node, Ref) and node.name in d:
        return [((), (), node.name)]
    if not isinstance(node, Apply) or not d & names(node):
        raise NotLinear(node)
    op, args = node.op, node.args
    moving = [bool(d & names(a)) for a in args]
    if op in ("add", "sub"):
        out = []
        for arg, sign in zip(args, (1, 1 if op == "add" else -1)):
            if not d & names(arg):
                raise NotLinear(node)       # a constant term: not linear
            terms = _terms(arg, d)
            if arg.shape.is_scalar and not node.shape.is_scalar:     # broadcast: 𝟏 s
                terms = _times(Ones(vec_length(node.shape)), terms)
            elif arg.shape != node.shape:
                raise NotLinear(node)
            out += terms if sign > 0 else _scaled(terms, Const(-1))
        return out
    if op == "neg":
        return _scaled(_terms(args[0], d), Const(-1))
    if op == "transpose" and _vector(args[0].shape):
        return _terms(args[0], d)                   # vec(vᵀ) = vec(v)
    if op in ("sum", "mean"):
        x = args[0]
        rows, cols = x.shape.rows, x.shape.cols
        reading = {None: Ones(vec_length(x.shape), row=True),
                   0: _kron(Eye(cols), _ones_row(rows)),
                   1: _kron(_ones_row(cols), Eye(rows))}[node.axis]
        terms = _times(reading, _terms(x, d))
        return terms if op == "sum" else _scaled(terms, count(x, node.axis), divide=True)
    if op == "trace":
        return _times(VecRow(Eye(args[0].shape.rows)), _terms(args[0], d))
    if len(args) != 2 or sum(moving) != 1:
        raise NotLinear(node)
    inner, other = (args[0], args[1]) if moving[0] else (args[1], args[0])
    if op == "matmul":
        if other.shape.is_scalar:
            return _scaled(_terms(inner, d), other)
        if moving[1]:                               # A N: I ⊗ A; N B: Bᵀ ⊗ I
            return _times(_kron(Eye(inner.shape.cols), other), _terms(inner, d))
        return _times(_kron(_transposed(other), Eye(inner.shape.rows)), _terms(inner, d))
    if op == "mul" or (op == "div" and moving[0]):
        if other.shape.is_scalar:
            return _scaled(_terms(inner, d), other, divide=op == "div")
        factor = other if op == "mul" else make("div", 1, other)
        if factor.shape == inner.shape:             # c ⊙ N
            return _times(make("diag", _vec(factor)), _terms(inner, d))
        if inner.shape.is_scalar:                   # c ⊙ s: vec(c) times s's row
            return _times(_vec(factor), _terms(inner, d))
    raise NotLinear(node)


def _ones_row(length: Dim) -> Ones | Eye:
    return Eye(1) if length == 1 else Ones(length, row=True)


def _vec(node: Node) -> Node:
    """vec of a node: a column is its own, a row's is its transpose."""
    if node.shape.cols == 1:
        return node
    return node.T if node.shape.rows == 1 else make("vec", node)


def _scaled(terms: list[Term], k: Node, divide: bool = False) -> list[Term]:
    return [(c + ((k, divide),), f, d) for c, f, d in terms]


def _times(factor: Factor, terms: list[Term]) -> list[Term]:
    """``factor`` @ each term, tidied where it meets the term's first factor."""
    out = []
    for c, factors, d in terms:
        merged = _product(factor, factors[0]) if factors else None
        out.append((c, (merged,) + factors[1:] if merged is not None else
                    (factor,) + factors if not _is_eye(factor) else factors, d))
    return out


def _is_eye(f) -> bool:
    return isinstance(f, Eye) or (isinstance(f, Kron) and _is_eye(f.left) and _is_eye(f.right))


def _product(a: Factor, b: Factor) -> Factor | None:
    """a @ b in one factor where that is shorter, else None."""
    if _is_eye(a):
        return b
    if _is_eye(b):
        return a
    diag_a = isinstance(a, Apply) and a.op == "diag" and a.args[0].shape.cols == 1
    diag_b = isinstance(b, Apply) and b.op == "diag" and b.args[0].shape.cols == 1
    if diag_a and diag_b:
        return make("diag", a.args[0] * b.args[0])
    if diag_a and isinstance(b, Ones) and not b.row:
        return a.args[0]
    if isinstance(a, Ones) and a.row and diag_b:
        return _transposed(b.args[0])
    plain = isinstance(b, Kron) and not {type(b.left), type(b.right)} & {Ones}
    if isinstance(a, Kron) and plain and not {type(a.left), type(a.right)} & {Ones}:
        return _kron(_matmul(a.left, b.left), _matmul(a.right, b.right))   # AC ⊗ BD
    if isinstance(a, VecRow) and plain:                     # vec(P)ᵀ (Q ⊗ A) = vec(Aᵀ P Q)ᵀ
        inner = _matmul(_matmul(_transposed(b.right), a.of), b.left)
        return VecRow(inner)
    return None


def _matmul(a: "Node | Eye", b: "Node | Eye") -> "Node | Eye":
    return b if isinstance(a, Eye) else a if isinstance(b, Eye) else a @ b


def _transposed(a: "Node | Eye") -> "Node | Eye":
    """aᵀ, a transpose undone (Bᵀᵀ is B)."""
    if isinstance(a, Eye):
        return a
    return a.args[0] if isinstance(a, Apply) and a.op == "transpose" else a.T


def _kron(left: "Node | Eye | Ones", right: "Node | Eye | Ones") -> Factor:
    """left ⊗ right, a 1×1 identity on either side dropped (I₁ ⊗ A = A)."""
    if isinstance(left, Eye) and left.size == 1:
        return right
    if isinstance(right, Eye) and right.size == 1:
        return left
    return Kron(left, right)


def _sum(parts: list[Node]) -> Node:
    """The terms added up, a negated one subtracted: diag(a) − a aᵀ."""
    out = parts[0]
    for part in parts[1:]:
        negated = isinstance(part, Apply) and part.op == "neg"
        out = make("sub", out, part.args[0]) if negated else make("add", out, part)
    return out


def _written(term: Term, chained: Node | None, variable: Ref, available: list[Node]) -> Node:
    """A term as a matrix product, ending in the matrix of its direction (``chained``)."""
    coefficients, factors, _ = term
    nodes = [_node(f, variable, available) for f in factors] + (
        [chained] if chained is not None else [])
    if not nodes:
        nodes = [_node(Eye(vec_length(variable.shape)), variable, available)]
    out = chain("matmul", nodes)
    for k, divide in coefficients:
        out = make("neg", out) if k == Const(-1) else out / k if divide else k * out
    return out


def _node(f: Factor, variable: Ref, available: list[Node]) -> Node:
    """A factor written in the language."""
    if isinstance(f, Kron):
        return make("kron", _node(f.left, variable, available),
                    _node(f.right, variable, available))
    if isinstance(f, VecRow):
        return make("vec", _node(f.of, variable, available)).T
    if isinstance(f, Eye):
        return make("eye_like", _sized(f.size, variable, available))
    if isinstance(f, Ones):
        ones = make("ones_like", _sized(f.length, variable, available, column=True))
        return ones.T if f.row else ones
    return f


def _sized(size: Dim, variable: Ref, available: list[Node], column: bool = False) -> Node:
    """A matrix (a column) with ``size`` rows, made of what the problem has: an input
    or step, its transpose, or the vec of the variable."""
    for node in available:
        if node.shape.rows == size and (node.shape.cols == 1 or not column):
            return node
        if node.shape.cols == size and (node.shape.rows == 1 or not column):
            return node.T
    if vec_length(variable.shape) == size:
        return make("vec", variable)
    raise NotLinear(size)
