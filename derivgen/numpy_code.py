"""NumPy (or PyTorch) source for an expression, as generated code and the JSON's ``numpy``
fields hold it.

The expression language reads as NumPy except where NumPy differs: its reductions drop
the axis they reduce (``np.sum(x, axis=0)`` is a 1-D array, the language's ``sum(x,
axis=0)`` a 1×c row), and softmax, logsumexp, ``eye_like`` are not NumPy functions. Each
operator's spelling is its registry entry's ``code`` (:mod:`derivgen.op`), or its
``torch_code`` for PyTorch: here only the walk, the same for both. Every value is a 2-D
array; names stand for the arrays of the inputs, steps and gradients (dS), dims for their
sizes, so

    numpy_source(sum(A - Y, axis=0) / N)  ==  "np.sum((A - Y), axis=0, keepdims=True) / N"
"""

from __future__ import annotations

from dataclasses import dataclass

from .nodes import Apply, Const, Node, Ref, walk
from .ops import CONSTANTS, OPS


@dataclass(frozen=True)
class Backend:
    """An array library the printer writes for: which field of an operator's (and a
    constant's) registry entry spells it there, and how a plain number (a dim, a
    constant, 2 * N) is written as a function's argument: NumPy's functions take
    numbers, PyTorch's only tensors (``torch.sqrt(d)`` fails for an int d)."""
    name: str
    field: str                          # "code" or "torch_code"
    number: str = "{0}"                 # a number as an argument of a function

    def spelling(self, op_name: str):
        """The operator's spelling here, or None where it has none."""
        return getattr(OPS[op_name], self.field)

    def unspelled(self, *nodes: Node) -> list[str]:
        """The operators in ``nodes`` that have no spelling here, sorted."""
        return sorted({n.op for node in nodes for n in walk(node)
                       if isinstance(n, Apply) and self.spelling(n.op) is None})


NUMPY = Backend("numpy", "code")
TORCH = Backend("torch", "torch_code", number="torch.tensor({0}, dtype=torch.float64)")


def numpy_source(node: Node) -> str:
    """``node`` as one NumPy expression (without an outer pair of brackets)."""
    return source(node, NUMPY)


def source(node: Node, backend: Backend) -> str:
    """``node`` as one expression of ``backend``'s library (without an outer pair of
    brackets); every operator in it must have a spelling there (:meth:`Backend.unspelled`)."""
    text = _source(node, backend)
    return text[1:-1] if _bracketed(text) else text


def _source(node: Node, backend: Backend) -> str:
    if isinstance(node, Const):
        return repr(int(node.value)) if float(node.value).is_integer() else repr(node.value)
    if isinstance(node, Ref):
        return getattr(CONSTANTS[node.name], backend.field) if node.kind == "constant" \
            else node.name
    op = OPS[node.op]
    args = [_source(a, backend) for a in node.args]
    if op.is_function:      # its written arguments that are numbers, as the library needs them
        args = [backend.number.format(text) if n < op.written and _is_number(a) else text
                for n, (a, text) in enumerate(zip(node.args, args))]
    return backend.spelling(node.op)(args, node.axis, [a.shape for a in node.args])


def _is_number(node: Node) -> bool:
    """Whether ``node`` is a plain number in generated code: made of numbers, dims and
    constants alone (the dims are read from the inputs' shapes as ints)."""
    return all(isinstance(n, Const) or (isinstance(n, Ref) and n.kind in ("dim", "constant"))
               for n in walk(node) if not isinstance(n, Apply))


def _bracketed(text: str) -> bool:
    """Whether the whole of ``text`` is one bracketed expression, (a + b) but not
    (a + b) / (c + d)."""
    if not text.startswith("("):
        return False
    depth = 0
    for i, c in enumerate(text):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0:
            return i == len(text) - 1
    return False
