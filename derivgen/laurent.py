"""A fast, sound test that a sympy expression is zero: expand it as a Laurent
polynomial in its atoms.

Most statements derivgen proves are sums of products of entry symbols and
rational numbers, where sympy's ``expand`` spends milliseconds per entry on
its general machinery. Here an expression becomes a dict from monomials (each
atom with an integer exponent, negative ones allowed so that A · A⁻¹ cancels)
to exact fractions. Anything else is an opaque atom: a function application
(e^{S₁₁}), a non-integer power, a sum under a fraction bar ((Σ e^{S})⁻¹). That
only makes the test weaker, never wrong: what vanishes for independent values
of the atoms vanishes for their true values. So ``vanishes(e)`` True is a
proof that e = 0; False says only that this test did not find one.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

Monomial = frozenset            # of (atom, exponent) pairs
Polynomial = dict               # Monomial -> Fraction, no zero coefficients
_ONE: Monomial = frozenset()


class _Unsupported(Exception):
    """A float: its rounding is not exact arithmetic, so leave it to sympy."""


def vanishes(expr: sp.Expr, *, clear_sums: bool = False) -> bool:
    """Whether ``expr`` is proven 0; with ``clear_sums``, after multiplying it by the
    sums under its fraction bars and writing them out (Σᵢ e^{xᵢ}/Σ − 1 = 0 needs that),
    which is complete for rational functions of the atoms."""
    try:
        p = _expand(expr)
        while p and clear_sums:
            sums = {atom: n for m in p for atom, n in m if n < 0 and atom.is_Add}
            if not sums:
                break
            p = _times(p, {frozenset((atom, -n) for atom, n in sums.items()): Fraction(1)})
            p = _written_out(p, set(sums))
        return not p
    except _Unsupported:
        return False


def _written_out(p: Polynomial, sums: set) -> Polynomial:
    """``p`` with each of ``sums`` (now with exponents ≥ 0) expanded in place."""
    out: Polynomial = {}
    for m, c in p.items():
        term: Polynomial = {frozenset((a, n) for a, n in m if a not in sums): c}
        for atom, n in m:
            if atom in sums:
                term = _times(term, _power(_expand(atom), n))
        _add_into(out, term)
    return out


def _expand(e: sp.Expr) -> Polynomial:
    if e.is_Rational:
        return {_ONE: Fraction(int(e.p), int(e.q))} if e != 0 else {}
    if e.is_Float:
        raise _Unsupported
    if e.is_Add:
        out: Polynomial = {}
        for arg in e.args:
            _add_into(out, _expand(arg))
        return out
    if e.is_Mul:
        out = {_ONE: Fraction(1)}
        for arg in e.args:
            out = _times(out, _expand(arg))
        return out
    if e.is_Pow and e.exp.is_Integer:
        n = int(e.exp)
        # x⁻ⁿ cancels against xⁿ; a sum under a fraction bar is one atom
        return _power(_expand(e.base), n) if n > 0 else _atom(e.base, n)
    if isinstance(e, sp.exp):
        return _exponential(e.args[0])
    return _atom(e, 1)


def _exponential(arg: sp.Expr) -> Polynomial:
    """e^{2a − b} as the monomial (e^a)² (e^b)⁻¹, so that it meets e^a · e^a."""
    out: Polynomial = {_ONE: Fraction(1)}
    for term in sp.Add.make_args(arg):
        n, rest = term.as_coeff_Mul()
        if n.is_Integer:
            out = _times(out, _atom(sp.exp(rest), int(n)))
        else:
            out = _times(out, _atom(sp.exp(term), 1))
    return out


def _atom(atom: sp.Expr, exponent: int) -> Polynomial:
    return {frozenset({(atom, exponent)}): Fraction(1)}


def _add_into(out: Polynomial, p: Polynomial) -> None:
    for m, c in p.items():
        total = out.get(m, 0) + c
        if total:
            out[m] = total
        else:
            out.pop(m, None)


def _monomial_times(a: Monomial, b: Monomial) -> Monomial:
    if not a or not b:
        return a or b
    powers = dict(a)
    for atom, n in b:
        powers[atom] = powers.get(atom, 0) + n
    return frozenset((atom, n) for atom, n in powers.items() if n)


def _times(p: Polynomial, q: Polynomial) -> Polynomial:
    out: Polynomial = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            _add_into(out, {_monomial_times(m1, m2): c1 * c2})
    return out


def _power(p: Polynomial, n: int) -> Polynomial:
    out: Polynomial = {_ONE: Fraction(1)}
    for _ in range(n):
        out = _times(out, p)
    return out
