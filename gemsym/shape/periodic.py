"""Pieces whose derivative is periodic (Snake: f' = 1 + sin(2 a x)), for
:mod:`gemsym.shape.properties`.

On a piece unbounded on at least one side, a periodic f' of period T takes every value of
one period, so inf f' and sup f' are its minimum and maximum over [x0, x0 + T), attained.
Writing x = x0 + T s makes the period s in [0, 1) (and often removes the parameters: Snake's
f'(pi s / a) = 1 + sin(2 pi s)); the critical points of f' there are found exactly
(``solveset``), each checked numerically, and their number confirmed by certified isolation
(:func:`~gemsym.shape.isolate.certified_zeros`).  When min f' = 0, every zero of f' is a
local minimum of f', hence one of those finitely many critical points per period: the zeros
are isolated and f is strictly monotone.  f(x + T) - f(x) = c is then a constant (its
derivative is f'(x + T) - f'(x) = 0), so f = (c/T) x + q with q periodic: f tends to
+-oo when c != 0, and has an asymptote only when q is constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
from sympy.functions.elementary.trigonometric import TrigonometricFunction

from .isolate import certified_zeros
from .signs import (CHART_P, DPS, Step, Undecided, extreme, is_concrete, is_identically_zero,
                    numeric, sign, tidy)

__all__ = ["PeriodicRange", "periodic_range", "drift"]

#: the position in one period, x = x0 + T s with s in [0, 1)
PHASE_S = sp.Symbol("s", real=True)
_OFFSET = sp.Rational(1, 7)


@dataclass(frozen=True)
class PeriodicRange:
    """min and max of a periodic expression g over a piece: ``period`` T > 0 with
    g(x + T) = g(x) for every x; ``low`` = min g attained at ``low_at``, ``high`` = max g
    attained at ``high_at`` (both points inside the piece); ``critical``: the zeros of g'
    in one period [x0, x0 + T), finitely many; ``steps``: the derivation."""

    period: sp.Expr
    low: sp.Expr
    low_at: sp.Expr
    high: sp.Expr
    high_at: sp.Expr
    critical: tuple[sp.Expr, ...]
    steps: tuple[Step, ...]


def _period(expr: sp.Expr, x: sp.Symbol) -> sp.Expr | None:
    """A period T > 0 of ``expr`` in x, proven by expr(x + T) - expr(x) = 0, or None."""
    if not expr.has(x) or not expr.has(TrigonometricFunction):
        return None
    try:
        period = sp.periodicity(expr, x)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if period is None or not period.has(sp.pi) or period.has(x):
        return None
    try:
        if sign(period) <= 0:
            return None
    except Undecided:
        return None
    return period if is_identically_zero(_shift(expr, x, period) - expr, x) else None


def _shift(expr: sp.Expr, x: sp.Symbol, period: sp.Expr) -> sp.Expr:
    """expr(x + T) with the arguments of sin/cos/... expanded, so that sin(a x + pi)
    evaluates to -sin(a x) (``expand_trig`` would expand sin(3 x) into powers instead)."""
    return expr.subs(x, x + period).replace(
        lambda n: isinstance(n, TrigonometricFunction),
        lambda n: n.func(sp.expand(n.args[0])))


def _anchor(lo: sp.Expr, hi: sp.Expr, period: sp.Expr) -> sp.Expr:
    """x0 such that [x0, x0 + T) lies inside the piece (lo, hi)."""
    if lo == -sp.oo and hi == sp.oo:
        return sp.S.Zero
    return lo + period if hi == sp.oo else hi - 2 * period


def _critical_phases(g: sp.Expr) -> list[sp.Expr]:
    """The zeros of g' in [0, 1): exact from ``solveset``, each checked to DPS / 2
    digits, and as many as certified isolation finds (plus s = 0 when g'(0) = 0)."""
    dg = sp.diff(g, PHASE_S)
    found = sp.solveset(dg, PHASE_S, sp.Interval.Ropen(0, 1))
    if found.is_finite_set is not True:  # a FiniteSet, or a union with Range(0, 1)
        raise Undecided(f"cannot solve {dg} = 0 over one period (SymPy gives {found})")
    phases = sorted(set(found), key=numeric)
    tol = sp.Float(10) ** (-DPS // 2)
    for z in phases:
        if abs(numeric(dg.subs(PHASE_S, z))) > tol:
            raise Undecided(f"SymPy's zero s = {z} of {dg} is not one")
    # counted over the period [1/7, 8/7): bisection points of (0, 1) are dyadic, and a
    # zero exactly on one (s = 1/4 for Snake) cannot be separated by its end signs
    smooth = sp.trigsimp(dg).subs(PHASE_S, CHART_P + _OFFSET)
    count = len(certified_zeros(smooth, CHART_P, sp.S.One))
    count += int(bool(abs(numeric(dg.subs(PHASE_S, _OFFSET))) <= tol))
    if count != len(phases):
        raise Undecided(f"{dg} has {count} zeros in one period by interval arithmetic, "
                        f"but SymPy finds {len(phases)}")
    return phases


@lru_cache(maxsize=64)
def _range(expr: sp.Expr, x: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> PeriodicRange | None:
    period = _period(expr, x)
    if period is None:
        return None
    x0 = _anchor(lo, hi, period)
    g = expr.subs(x, x0 + period * PHASE_S)
    if not is_concrete(g.subs(PHASE_S, 0)):
        raise Undecided(f"{expr} is periodic in {x} with period {period}, but its extrema "
                        "over a period depend on the parameters; bind them")
    steps: list[Step] = [
        (f"$f'$ is periodic with period $T = {sp.latex(period)}$ "
         f"($f'(x + T) - f'(x) = 0$); on the period $x = {sp.latex(x0)} + T s$, "
         "$0 \\le s < 1$, it reads", g)]
    phases = _critical_phases(g)
    if not phases:
        raise Undecided(f"{expr} is periodic but SymPy finds no critical point in a period")
    steps.append(("the critical points $s$ of $f'$ in one period (exact; their number "
                  "confirmed by certified isolation)", sp.Tuple(*phases)))
    values = [(tidy(g.subs(PHASE_S, z)), tidy(x0 + period * z)) for z in phases]
    low = extreme(values, False, steps)
    high = extreme(values, True, steps)
    steps.append(("so over the piece, which holds whole periods, "
                  "$\\min f'$ and $\\max f'$ (both attained) are", sp.Tuple(low[0], high[0])))
    return PeriodicRange(period, low[0], low[1], high[0], high[1],
                         tuple(x0 + period * z for z in phases), tuple(steps))


def periodic_range(expr: sp.Expr, x: sp.Symbol, lo: sp.Expr,
                   hi: sp.Expr) -> PeriodicRange | None:
    """min and max of ``expr`` over (lo, hi) when it is periodic in x and the piece is
    unbounded on at least one side (None: not periodic, or a bounded piece).  Raises
    :class:`Undecided` when it is periodic but its extrema cannot be certified."""
    if lo != -sp.oo and hi != sp.oo:
        return None
    return _range(sp.sympify(expr), x, lo, hi)


def drift(expr: sp.Expr, x: sp.Symbol, period: sp.Expr, at: sp.Expr) -> sp.Expr:
    """c = f(x + T) - f(x), a constant when f' has period T (evaluated at x = ``at``,
    and checked to be free of x)."""
    shift = _shift(expr, x, period) - expr
    if not is_identically_zero(sp.diff(shift, x), x):
        raise Undecided(f"{expr}(x + {period}) - {expr}(x) is not constant")
    return tidy(sp.simplify(shift.subs(x, at)))
