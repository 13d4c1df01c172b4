"""Closed-form constants to a number of significant digits, or no number at all.

``sympy.N`` returns what its working precision leaves after cancellation, without saying
so: GELU's branch x (1 + erf(x/sqrt 2))/2 at x = -40 is -20 + 20 erf(20 sqrt 2), about
-1.46e-348, and ``sp.N`` of it is 0.e-159 or 4.55e-159 depending on the requested digits.
:func:`certified` evaluates in evalf's strict mode, which tracks the accuracy of every
partial result and raises instead of returning noise, with up to :data:`MAX_BITS` bits of
working precision, and evaluates again with :data:`GUARD` more digits: the value is
returned only when both agree to the digits asked for.  Every number gemsym prints or
decides from an exact expression goes through here.
"""

from __future__ import annotations

import mpmath
import sympy as sp
from sympy.core.evalf import PrecisionExhausted

__all__ = ["MAX_BITS", "GUARD", "Imprecise", "certified", "certified_mpf", "certified_float",
           "strict"]

#: the most bits of working precision evalf may use to overcome cancellation (GELU's
#: branch at x = -40 needs ~1200; each 2x costs ~4x in time)
MAX_BITS = 4000
#: extra digits of the second evaluation that the first must agree with
GUARD = 15


class Imprecise(ArithmeticError):
    """The expression cannot be evaluated to the digits asked for (cancellation beyond
    :data:`MAX_BITS`, or a value that is zero without being written as 0): no number is
    given.  The CLI reports it as "cannot decide" with exit status 3."""


def strict(e: sp.Expr, digits: int) -> sp.Expr:
    """One evaluation of ``e`` to ``digits`` digits in evalf's strict mode (for decisions
    made often, where :func:`certified`'s second evaluation costs too much): accurate to
    those digits by SymPy's accounting of every partial result, or :class:`Imprecise`."""
    try:
        return sp.N(e, digits, strict=True, maxn=MAX_BITS)
    except PrecisionExhausted:
        raise Imprecise(f"{e} cannot be evaluated to {digits} digits: its terms cancel "
                        f"beyond {MAX_BITS} bits, or it is 0 written otherwise") from None


def certified(expr: sp.Basic, digits: int = 30) -> sp.Expr:
    """``expr`` (a real constant, or +-oo) as a Float whose ``digits`` significant digits
    are right: evaluated at ``digits`` and at ``digits`` + :data:`GUARD` digits in strict
    mode, which must agree.  Exact 0 stays 0; a Float is returned as it is.  Raises
    :class:`Imprecise` when that cannot be done, and ValueError for a non-real value."""
    e = sp.sympify(expr)
    if e.is_Float or e in (sp.oo, -sp.oo) or e == 0:
        return e
    if e.free_symbols:
        raise ValueError(f"{e}: a number was expected, got an expression in "
                         f"{', '.join(sorted(map(str, e.free_symbols)))}")
    if e.has(sp.nan, sp.zoo):
        raise ValueError(f"{e} is not a finite real number")
    v, w = strict(e, digits), strict(e, digits + GUARD)
    if not (v.is_Float or v.is_zero) or not (w.is_Float or w.is_zero):
        raise ValueError(f"{e} is not a real number (it evaluates to {sp.N(e, 6)})")
    if v.is_zero or w.is_zero:
        if v.is_zero and w.is_zero:
            return sp.S.Zero
        raise Imprecise(f"{e} evaluates to 0 at one precision and not at another")
    if abs(v - w) > abs(w) * sp.Float(10, digits + GUARD) ** (1 - digits):
        raise Imprecise(f"{e}: evaluations at {digits} and {digits + GUARD} digits disagree")
    return v


def certified_mpf(expr: sp.Basic, digits: int = 30):
    """:func:`certified` as an ``mpmath.mpf`` (+-inf for +-oo)."""
    v = certified(expr, digits)
    if v in (sp.oo, -sp.oo):
        return mpmath.inf if v == sp.oo else -mpmath.inf
    return mpmath.mpf(v) if v.is_Float else mpmath.mpf(int(v))


def certified_float(expr: sp.Basic) -> float:
    """:func:`certified` to 30 digits, rounded to a float (+-inf for +-oo)."""
    v = certified(expr, 30)
    if v in (sp.oo, -sp.oo):
        return float("inf") if v == sp.oo else float("-inf")
    return float(v)
