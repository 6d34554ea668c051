"""Joins and slices as blocks, for the simplifier: the parts of a join and where each
lies, a slice that takes exactly one part (or a slice of a slice), and joins of the
same layout added block by block ([A 0 0] + [0 B 0] + [0 0 C] = [A B C], an LSTM's
gates). Pure node arithmetic: what these forms equal is proven like every other."""

from __future__ import annotations

from dataclasses import dataclass

from .nodes import Apply, Node, make
from .selection import concat, joined, sliced
from .shapes import Dim, Span, dim_add, surely_below


@dataclass(frozen=True)
class Block:
    start: Dim          # its first row (column) in the join, counted from 0
    stop: Dim
    part: Node


def is_zero_block(node: Node) -> bool:
    return isinstance(node, Apply) and node.op == "zeros_like"


def parts(node: Node, axis: int) -> list[Block]:
    """The parts of a chain of joins along ``axis``, with where each lies; a node that
    is not such a join is one part."""
    blocks, start = [], 0
    for part in joined(node, axis):
        stop = dim_add(start, part.shape.rows if axis == 0 else part.shape.cols)
        blocks.append(Block(start, stop, part))
        start = stop
    return blocks


def sliced_simply(x: Node, span: Span) -> Node | None:
    """x[span] without a slice where there is one: the part of a join the span is
    exactly, or the slice of what x slices (a slice of a slice)."""
    if isinstance(x, Apply) and x.op == "slice" and x.axis.axis == span.axis:
        inner = x.axis
        return sliced(x.args[0], span.axis, dim_add(inner.start, span.start),
                      dim_add(inner.start, span.stop))
    blocks = parts(x, span.axis)
    return next((b.part for b in blocks
                 if len(blocks) > 1 and (b.start, b.stop) == (span.start, span.stop)), None)


def _zero(block: Block, start: Dim, stop: Dim, axis: int) -> Node:
    """The piece from ``start`` to ``stop`` of a zero block zeros_like(Y): zeros shaped
    like Y's rows (columns) from start − (the block's start) on."""
    shaped = block.part.args[0]
    cut = sliced(shaped, axis, dim_add(start, block.start, -1), dim_add(stop, block.start, -1))
    return make("zeros_like", sliced_simply(shaped, cut.axis) or cut)


def added(joins: list[Node], axis: int) -> Node | None:
    """Joins of the same length along ``axis`` added up block by block, or None where a
    part that is not zeros would have to be cut."""
    layouts = [parts(j, axis) for j in joins]
    cuts: list[Dim] = []
    for layout in layouts:
        for b in layout:
            for d in (b.start, b.stop):
                if d not in cuts:
                    cuts.append(d)
    try:
        cuts.sort(key=_Order)
    except _Unordered:
        return None
    pieces = []
    for start, stop in zip(cuts, cuts[1:]):
        total = None
        for layout in layouts:
            block = _covering(layout, start, stop)
            if is_zero_block(block.part):
                continue
            if (block.start, block.stop) != (start, stop):
                return None             # a part that is not zeros would be cut
            total = block.part if total is None else make("add", total, block.part)
        if total is None:               # zeros in every join: the first one's, cut to size
            first = _covering(layouts[0], start, stop)
            total = first.part if (first.start, first.stop) == (start, stop) else \
                _zero(first, start, stop, axis)
        pieces.append(total)
    return concat(pieces, axis)


def _covering(layout: list[Block], start: Dim, stop: Dim) -> Block:
    """The block of a layout that rows (columns) start..stop−1 lie in."""
    return next(b for b in layout if not surely_below(start, b.start)
                and not surely_below(b.stop, stop))


class _Unordered(Exception):
    """Two bounds whose order depends on the sizes (H and D)."""


class _Order:
    """Sort key of bounds that are surely ordered (0 < H < 2H < 3H)."""

    def __init__(self, d: Dim) -> None:
        self.d = d

    def __lt__(self, other: "_Order") -> bool:
        if surely_below(self.d, other.d):
            return True
        if surely_below(other.d, self.d) or self.d == other.d:
            return False
        raise _Unordered
