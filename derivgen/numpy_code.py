"""NumPy source for an expression, as generated code and the JSON's ``numpy`` fields hold it.

The expression language reads as NumPy except where NumPy differs: its reductions drop
the axis they reduce (``np.sum(x, axis=0)`` is a 1-D array, the language's ``sum(x,
axis=0)`` a 1×c row), and softmax, logsumexp, ``eye_like`` are not NumPy functions. Each
operator's spelling is its registry entry's ``code`` (:mod:`derivgen.op`): here only
the walk. Every value is a 2-D array; names stand for the arrays of the inputs, steps
and gradients (dS), dims for their sizes, so

    numpy_source(sum(A - Y, axis=0) / N)  ==  "np.sum((A - Y), axis=0, keepdims=True) / N"
"""

from __future__ import annotations

from .nodes import Const, Node, Ref
from .ops import CONSTANTS, OPS


def numpy_source(node: Node) -> str:
    """``node`` as one NumPy expression (without an outer pair of brackets)."""
    text = _source(node)
    return text[1:-1] if _bracketed(text) else text


def _source(node: Node) -> str:
    if isinstance(node, Const):
        return repr(int(node.value)) if float(node.value).is_integer() else repr(node.value)
    if isinstance(node, Ref):
        return CONSTANTS[node.name].code if node.kind == "constant" else node.name
    args = [_source(a) for a in node.args]
    return OPS[node.op].code(args, node.axis, [a.shape for a in node.args])


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
