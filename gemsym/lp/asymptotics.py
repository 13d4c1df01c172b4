"""Behaviour of a difference d = f - g at the ends of its interval, and its scaling symmetry.

* :func:`end_behaviour`: |d| ~ |c| r^e toward +-oo (r = |x|) or toward a junction
  (r = distance), read off by the one-sided series engine, or an exponential decay found by
  SymPy's Gruntz limit of log|d|/x;
* :func:`end_condition` / :func:`decide`: when |d|^p is integrable there (p e < -1 at oo,
  p e > -1 at a junction) or |d| bounded (p = oo), decided for every p >= 1 and every
  admissible parameter value where SymPy's assumptions can;
* :func:`scaling_symmetry`: constants (alpha, beta) with d(lam^alpha u; lam) = lam^beta d(u; 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..activation import Activation
from ..series import NotExpandable, SeriesEngine, Undecidable, is_zero

__all__ = ["End", "end_behaviour", "end_condition", "decide", "describe", "scaling_symmetry", "P"]

#: The exponent p when it is kept symbolic (p >= 1 is imposed by :func:`decide`).
P = sp.Symbol("p", positive=True)
_T = sp.Symbol("t", positive=True)


@dataclass(frozen=True)
class End:
    """|d| ~ |coef| * r^exponent (r = |x| at an infinite end, r = distance to a finite
    end) for kind 'power'; 'decay' = faster than any power; 'unknown' otherwise."""

    point: sp.Expr
    side: int            # +1: approached from the right, -1: from the left
    kind: str
    exponent: sp.Expr | None = None
    coef: sp.Expr | None = None

    @property
    def where(self) -> str:
        if self.point in (sp.oo, -sp.oo):
            return f"x -> {'+' if self.point == sp.oo else '-'}oo"
        return f"x -> {self.point}{'+' if self.side > 0 else '-'}"


def end_behaviour(d: sp.Expr, x: sp.Symbol, point: sp.Expr, side: int) -> End:
    infinite = point in (sp.oo, -sp.oo)
    if infinite:
        e = d.subs(x, sp.sign(point) / _T)
    else:
        e = d.subs(x, point + side * _T)
    try:
        s = SeriesEngine(_T).leading_expansion(e, sp.S.One)
        k = SeriesEngine(_T).low(s)
        return End(point, side, "power", -k if infinite else k, s.terms[k])
    except (NotExpandable, Undecidable, RecursionError, TypeError, ValueError, KeyError):
        pass
    if infinite:
        try:
            rate = sp.limit(sp.log(d**2) / (2 * x), x, point)
            if (rate * sp.sign(point)).is_negative:
                return End(point, side, "decay")
            if (rate * sp.sign(point)).is_positive:
                return End(point, side, "power", sp.oo)
        except (NotImplementedError, ValueError, TypeError):
            pass
    return End(point, side, "unknown")


def end_condition(end: End, p: sp.Expr) -> sp.Basic:
    """When |d|^p is integrable near the end (p < oo), or |d| bounded there (p = oo)."""
    if end.kind == "decay":
        return sp.true
    if end.kind == "unknown":
        return sp.Symbol(f"unknown({end.where})")
    e = end.exponent
    infinite = end.point in (sp.oo, -sp.oo)
    if p == sp.oo:
        return sp.Le(e, 0) if infinite else sp.Ge(e, 0)
    return sp.Gt(p * sp.expand(-e), 1) if infinite else sp.Gt(p * e, -1)


def decide(cond: sp.Basic, act: Activation) -> bool | None:
    """Truth of ``cond`` for every p >= 1 and every admissible parameter value."""
    if cond in (sp.true, sp.false):
        return bool(cond)
    if isinstance(cond, sp.And):
        parts = [decide(c, act) for c in cond.args]
        return False if False in parts else (True if all(parts) else None)
    if not isinstance(cond, sp.core.relational.Relational):
        return None
    subs = {P: 1 + sp.Dummy("q", nonnegative=True)}
    for param in act.parameters:
        if param.integer and param.domain.inf.is_finite:
            subs[param.symbol] = param.domain.inf + sp.Dummy("m", integer=True, nonnegative=True)
    diff = sp.expand((cond.lhs - cond.rhs).subs(subs))
    strict = isinstance(cond, (sp.StrictGreaterThan, sp.StrictLessThan))
    if isinstance(cond, (sp.LessThan, sp.StrictLessThan)):
        diff = -diff
    if (diff.is_positive if strict else diff.is_nonnegative):
        return True
    if (diff.is_nonpositive if strict else diff.is_negative):
        return False
    return None


def describe(end: End, x: sp.Symbol) -> str:
    if end.kind == "decay":
        return f"{end.where}: |f - limit| decays exponentially"
    if end.kind == "unknown":
        return f"{end.where}: behaviour of |f - limit| not determined"
    if end.exponent == sp.oo:
        return f"{end.where}: |f - limit| grows exponentially"
    r = f"|{x}|" if end.point in (sp.oo, -sp.oo) or end.point == 0 else f"|{x - end.point}|"
    return f"{end.where}: |f - limit| ~ {sp.Abs(end.coef)} * {r}^({end.exponent})"


# --------------------------------------------------------------------- scaling and rate
def scaling_symmetry(d: sp.Expr, x: sp.Symbol, lam: sp.Symbol, side: int = 1) -> tuple[sp.Expr, sp.Expr] | None:
    """(alpha, beta) with d(lam^alpha u; lam) = lam^beta d(u; 1) for all lam > 0 and all u
    of the sign ``side``, or None.

    Differentiating that identity in lam gives alpha r1 + r2 = beta with r1 = x d_x/d and
    r2 = lam d_lam/d, so alpha = -(d r2/dx)/(d r1/dx) must be a constant; the identity
    itself is then verified exactly."""

    def constant(e: sp.Expr) -> sp.Expr:
        e = sp.cancel(sp.together(e))
        return e if not e.has(x, lam) else sp.simplify(e)

    try:
        r1 = sp.cancel(sp.together(x * sp.diff(d, x) / d))
        r2 = sp.cancel(sp.together(lam * sp.diff(d, lam) / d))
        d1 = sp.cancel(sp.together(sp.diff(r1, x)))
        if d1 == 0:
            return None
        alpha = constant(-sp.diff(r2, x) / d1)
        beta = constant(r2 + alpha * r1)
    except (TypeError, ZeroDivisionError, NotImplementedError):
        return None
    if alpha.has(x, lam) or beta.has(x, lam):
        return None
    u = sp.Dummy("u", positive=True)
    lhs = d.subs(x, side * lam**alpha * u)
    rhs = lam**beta * d.subs(lam, 1).subs(x, side * u)
    check = sp.powsimp(sp.expand_power_base(lhs - rhs, force=True), force=True)
    if sp.cancel(sp.together(check)) != 0 and not is_zero(check):
        return None
    return alpha, beta
