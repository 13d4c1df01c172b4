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
    end) for kind 'power' (exponent oo: unbounded); 'decay' = faster than any power;
    'oscillating' = bounded by coef without tending to 0; 'unknown' otherwise."""

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
        found = _end_by_limits(d, x, point, side)
        if found is not None:
            return found
        try:
            rate = sp.limit(sp.log(d**2) / (2 * x), x, point)
            if (rate * sp.sign(point)).is_negative:
                return End(point, side, "decay")
            if (rate * sp.sign(point)).is_positive:
                return End(point, side, "power", sp.oo)
        except (NotImplementedError, ValueError, TypeError):
            pass
    return End(point, side, "unknown")


_Y = sp.Symbol("y", positive=True)
_K = sp.Symbol("k", positive=True)


def _end_by_limits(d: sp.Expr, x: sp.Symbol, point: sp.Expr, side: int) -> End | None:
    """Behaviour of d at an infinite end where no power series exists (exp, erf, sin ...),
    from SymPy's Gruntz limits in y = |x| -> oo:

    * lim d = L != 0 finite: |d| -> |L|, a power with exponent 0 (so |d|^p is integrable
      for no finite p, and d is bounded);
    * lim d = +-oo: unbounded (exponent oo);
    * lim d = 0 and lim d y^k = 0 for a symbolic k > 0: faster than every power ('decay':
      exponential, Gaussian);
    * lim d an interval of accumulation points (AccumBounds): d oscillates without tending
      to 0 ('oscillating'; for the elementary functions in which such d are written, the
      set where |d| exceeds half its limsup has infinite measure, so |d|^p is not
      integrable for finite p; bounded iff the interval is).
    erf is rewritten through erfc first, because Gruntz handles erfc's asymptotics
    directly (and erf's only slowly)."""
    e = d.rewrite(sp.erfc) if d.has(sp.erf) else d
    e = sp.expand(e.subs(x, sp.sign(point) * _Y))
    try:
        L = sp.limit(e, _Y, sp.oo)
        if L.has(sp.AccumBounds):  # possibly times constants: AccumBounds(0, 1)/a
            bound = L.replace(lambda z: isinstance(z, sp.AccumBounds),
                              lambda z: sp.Max(sp.Abs(z.min), sp.Abs(z.max)))
            if all(z.min != z.max for z in L.atoms(sp.AccumBounds)) and bound.is_nonzero:
                if bound.is_finite:
                    return End(point, side, "oscillating", sp.S.Zero, bound)
                return End(point, side, "power", sp.oo)
            return None
        if L in (sp.oo, -sp.oo, sp.zoo):
            return End(point, side, "power", sp.oo)
        if L.is_nonzero and L.is_finite:
            return End(point, side, "power", sp.S.Zero, L)
        if L.is_zero and sp.limit(e * _Y**_K, _Y, sp.oo) == 0:
            return End(point, side, "decay")
    except (NotImplementedError, ValueError, TypeError, AttributeError):
        pass
    return None


def end_condition(end: End, p: sp.Expr) -> sp.Basic:
    """When |d|^p is integrable near the end (p < oo), or |d| bounded there (p = oo)."""
    if end.kind == "decay":
        return sp.true
    if end.kind == "oscillating":
        return sp.true if p == sp.oo else sp.false
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
        return f"{end.where}: |f - limit| decays faster than every power"
    if end.kind == "unknown":
        return f"{end.where}: behaviour of |f - limit| not determined"
    if end.kind == "oscillating":
        return f"{end.where}: f - limit oscillates without tending to 0 (|f - limit| <= {end.coef})"
    if end.exponent == sp.oo:
        return f"{end.where}: |f - limit| is unbounded"
    if end.exponent == 0 and end.point in (sp.oo, -sp.oo):
        return f"{end.where}: f - limit tends to {end.coef} != 0"
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
