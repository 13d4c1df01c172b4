"""Splitting off a flat part: g(t) = A(t) + F(t) as t -> 0+, where F is *flat*
(F = o(t^n) for every n) and A has a one-sided generalized power series
(:mod:`gemsym.series`).  Then lim g = lim A, and where A is not identically zero g has
the sign of A's leading term.

This decides the limits at +-oo of the gated activations without Gruntz' algorithm: with
x = +-1/t, tanh(u) = +-1 + F and erf(u) = +-1 + F when u ~ c t^e with e < 0 (so u tends
to +-oo polynomially in x), because 1 - tanh(u) = 2/(e^{2u} + 1) <= 2 e^{-2u} and
erfc(u) <= e^{-u^2} for u > 0; likewise e^u = 0 + F when u tends to -oo.  The rules
that combine the parts (A, F being the algebraic and flat parts of an argument):

- sums: (A1 + F1) + (A2 + F2) = (A1 + A2) + flat;
- products: (A1 + F1)(A2 + F2) = A1 A2 + flat, because A1, A2 (series) are bounded by
  powers of 1/t and F1, F2 tend to 0;
- powers with an exponent free of t: (A + F)^q = A^q (1 + F/A)^q = A^q + flat when A has a
  nonzero leading term c t^e (|A| >= |c| t^e / 2, so F/A is flat; q an integer or c > 0),
  and F^q is flat for q > 0 when A = 0;
- |A + F| = s (A + F) with s the sign of A's leading term;
- g(A + F) = g(A) + flat for g in :data:`SMOOTH` when A tends to a finite a0 where g and
  g' are finite (mean value theorem: g' is bounded near a0);
- g(A + F) = L + flat for the (g, direction) pairs of :data:`TAILS` when A tends to +-oo.

Anything else (an exponentially growing term, oscillation, a logarithm at infinity) raises
:class:`~gemsym.series.NotExpandable`, and the caller falls back to SymPy's ``limit``.
"""

from __future__ import annotations

import sympy as sp

from ..series import NotExpandable, SeriesEngine, Series, is_zero

__all__ = ["SMOOTH", "TAILS", "algebraic_part"]

#: Functions that are C^1 wherever they and their derivative are finite.
SMOOTH = (sp.exp, sp.log, sp.tanh, sp.sinh, sp.cosh, sp.sech, sp.sin, sp.cos, sp.atan,
          sp.asinh, sp.erf, sp.erfc)

#: g(u) -> L with a flat remainder as u -> +oo (key +1) or -oo (key -1) like a power of x.
TAILS: dict[tuple[type, int], sp.Expr] = {
    (sp.tanh, 1): sp.S.One, (sp.tanh, -1): -sp.S.One,            # 1 - tanh u <= 2 e^{-2u}
    (sp.sech, 1): sp.S.Zero, (sp.sech, -1): sp.S.Zero,            # sech u <= 2 e^{-|u|}
    (sp.erf, 1): sp.S.One, (sp.erf, -1): -sp.S.One,              # erfc u <= e^{-u^2}, u > 0
    (sp.erfc, 1): sp.S.Zero, (sp.erfc, -1): sp.Integer(2),       # erfc(-u) = 2 - erfc u
    (sp.exp, -1): sp.S.Zero,
}


class _Splitter:
    """Memoised (A, has flat part) of subexpressions of one expression in t."""

    def __init__(self, t: sp.Symbol):
        self.t = t
        self.engine = SeriesEngine(t)
        self._leads: dict[sp.Expr, tuple[sp.Expr, sp.Expr] | None] = {}

    def lead(self, a: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
        """(e, c): a = c t^e + higher terms, c != 0; None when a is identically zero.
        Raises NotExpandable when a has no such series (so it may not be bounded by a
        power of 1/t)."""
        if a not in self._leads:
            if is_zero(a):
                self._leads[a] = None
            else:
                s: Series = self.engine.leading_expansion(a, sp.S.One)
                e = self.engine.low(s)
                self._leads[a] = (e, s.terms[e])
        return self._leads[a]

    def direction(self, a: sp.Expr) -> tuple[int, sp.Expr]:
        """(+1 / -1, 0) when a tends to +-oo like a power of 1/t, else (0, lim a)."""
        lead = self.lead(a)
        if lead is None:
            return 0, sp.S.Zero
        e, c = lead
        if self.engine.lt(e, 0):
            return self.engine.sign(c), sp.S.Zero
        return 0, (c if self.engine.le(e, 0) else sp.S.Zero)

    def split(self, g: sp.Expr) -> tuple[sp.Expr, bool]:
        t = self.t
        if not g.has(t) or g == t:
            return g, False
        if g.is_Add or g.is_Mul:
            parts = [self.split(a) for a in g.args]
            flat = any(f for _, f in parts)
            if flat and g.is_Mul:
                for a, _ in parts:
                    self.lead(a)  # every algebraic factor is bounded by a power of 1/t
            return g.func(*(a for a, _ in parts)), flat
        if g.is_Pow:
            return self._power(*g.args)
        if isinstance(g, sp.Abs):
            a, flat = self.split(g.args[0])
            if not flat:
                return g, False
            lead = self.lead(a)
            return (sp.S.Zero if lead is None else self.engine.sign(lead[1]) * a), True
        if isinstance(g, SMOOTH) and len(g.args) == 1:
            return self._function(g.func, g.args[0])
        raise NotExpandable(f"no rule splits a flat part off {g}")

    def _power(self, base: sp.Expr, q: sp.Expr) -> tuple[sp.Expr, bool]:
        if q.has(self.t):
            if base.has(self.t) or not base.is_positive:
                raise NotExpandable(f"{base}**{q}: a variable exponent")
            return self._function(sp.exp, q * sp.log(base))
        a, flat = self.split(base)
        if not flat:
            return a**q, False
        lead = self.lead(a)
        if lead is None:
            if q.is_positive:
                return sp.S.Zero, True
            raise NotExpandable(f"a flat base to the power {q}")
        if not (q.is_integer or self.engine.sign(lead[1]) > 0):
            raise NotExpandable(f"a non-integer power {q} of a base that may be negative")
        return a**q, True

    def _function(self, func, arg: sp.Expr) -> tuple[sp.Expr, bool]:
        a, flat = self.split(arg)
        way, a0 = self.direction(a)
        if way:
            tail = TAILS.get((func, way))
            if tail is None:
                raise NotExpandable(f"{func}(u) as u -> {'+' if way > 0 else '-'}oo")
            return tail, True
        if flat:
            y = sp.Dummy("y")
            value, slope = func(a0), sp.diff(func(y), y).subs(y, a0)
            if not all(v.is_finite and v.is_extended_real for v in (value, slope)):
                raise NotExpandable(f"{func} is not real and C^1 at {a0}")
        return func(a), flat


def algebraic_part(g: sp.Expr, t: sp.Symbol) -> sp.Expr:
    """A with g - A = o(t^n) for every n as t -> 0+ and A a generalized power series in t
    (checked by the caller when it expands A).  Raises NotExpandable (or Undecidable, a
    sign that depends on the parameters) when no rule applies or g has no flat part."""
    a, flat = _Splitter(t).split(g)
    if not flat:
        raise NotExpandable(f"{g} has no flat part to split off")
    return a
