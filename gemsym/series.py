"""One-sided generalized power series with exponents that may depend on parameters.

A branch f near a junction c is expanded from one side as
    f(c + t) = sum_i a_i t^{e_i} + O(t^P),   t -> 0+,
where the exponents e_i may be symbolic (e.g. 2N + 1 for every N >= 1 at once).  SymPy's
``series`` cannot do that, and for concrete N = 50 it is slow; this engine is exact and
only asks the question "is e_1 < e_2 for every admissible parameter value?", which SymPy's
assumption system answers for the linear exponents that occur here.  When the answer depends
on the parameter value, :class:`Undecidable` is raised with the expression whose sign is
unknown, so the caller can split cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import sympy as sp

__all__ = ["Undecidable", "NotExpandable", "Series", "SeriesEngine", "is_zero", "tidy"]


class Undecidable(Exception):
    """The sign of ``expr`` is not the same for every admissible parameter value."""

    def __init__(self, expr: sp.Expr):
        super().__init__(f"the sign of {expr} depends on the parameters")
        self.expr = expr


class NotExpandable(Exception):
    """The expression has no one-sided generalized power series here (log term,
    essential singularity, ...)."""


def _transcendental(z: sp.Expr) -> bool:
    """Whether ``cancel`` alone may miss a zero: functions, or powers with a symbolic
    exponent whose base is not a bare symbol."""
    if z.atoms(sp.Function):
        return True
    return any(not p.exp.is_number and not p.base.is_Symbol for p in z.atoms(sp.Pow))


def tidy(c: sp.Expr) -> sp.Expr:
    """A canonical, cheap-to-get form of a coefficient.  ``simplify`` is avoided: it is
    slow and imports ``sympy.physics.units`` (0.8 s) on first use."""
    c = sp.cancel(sp.together(sp.expand(c)))
    if _transcendental(c):
        c = sp.gammasimp(sp.powsimp(c))
    return c


def is_zero(c: sp.Expr) -> bool:
    """Exact zero test for a coefficient (cheap rewrites first, ``simplify`` last)."""
    if c == 0:
        return True
    z = sp.expand(c)
    if z == 0:
        return True
    if z.is_number:
        # a product of nonzero numbers is decided by the assumptions at once; ``equals``
        # would simplify first (tens of milliseconds per coefficient)
        return z.is_zero is not False and z.equals(0) is True
    z = tidy(z)
    if z == 0:
        return True
    if _transcendental(z):
        return sp.simplify(z) == 0
    return False


@dataclass(frozen=True)
class Series:
    """``sum(coef * t**exp for exp, coef in terms.items()) + O(t**prec)``."""

    terms: dict
    prec: sp.Expr = sp.oo

    @property
    def is_exact(self) -> bool:
        return self.prec == sp.oo


class SeriesEngine:
    """Expand expressions in ``t`` (t -> 0+) to a requested precision."""

    def __init__(self, t: sp.Symbol, max_depth: int = 40):
        self.t = t
        self.max_depth = max_depth

    # ------------------------------------------------------------- ordering
    def sign(self, d: sp.Expr) -> int:
        """Sign of ``d`` valid for every admissible parameter value."""
        if d == sp.oo:
            return 1
        if d == -sp.oo:
            return -1
        d = sp.expand(d)
        if d == 0:
            return 0
        if d.is_positive:
            return 1
        if d.is_negative:
            return -1
        raise Undecidable(d)

    def lt(self, a: sp.Expr, b: sp.Expr) -> bool:
        """a < b for every admissible parameter value (raises if that varies)."""
        if a == sp.oo:
            return False
        if b == sp.oo:
            return True
        d = sp.expand(b - a)
        if d.is_positive:
            return True
        if d.is_nonpositive:
            return False
        raise Undecidable(d)

    def le(self, a: sp.Expr, b: sp.Expr) -> bool:
        """a <= b for every admissible parameter value (raises if that varies)."""
        if b == sp.oo:
            return True
        if a == sp.oo:
            return False
        d = sp.expand(b - a)
        if d.is_nonnegative:
            return True
        if d.is_negative:
            return False
        raise Undecidable(d)

    def min(self, *values: sp.Expr) -> sp.Expr:
        best = values[0]
        for v in values[1:]:
            if self.lt(v, best):
                best = v
        return best

    def sorted_exponents(self, exps: Iterable[sp.Expr]) -> list[sp.Expr]:
        out: list[sp.Expr] = []
        for e in exps:
            i = 0
            while i < len(out) and self.lt(out[i], e):
                i += 1
            out.insert(i, e)
        return out

    # ------------------------------------------------------------- arithmetic
    def _clean(self, terms: dict, prec: sp.Expr) -> Series:
        kept = {}
        for e, c in terms.items():
            if self.lt(e, prec) and not is_zero(c):
                kept[e] = c
        return Series(kept, prec)

    def add(self, parts: list[Series]) -> Series:
        prec = self.min(*[p.prec for p in parts])
        terms: dict = {}
        for p in parts:
            for e, c in p.terms.items():
                key = sp.expand(e)
                terms[key] = terms.get(key, 0) + c
        return self._clean(terms, prec)

    def low(self, s: Series) -> sp.Expr:
        """Leading exponent (the precision when no term is known)."""
        if not s.terms:
            return s.prec
        return self.sorted_exponents(s.terms)[0]

    def mul(self, a: Series, b: Series) -> Series:
        la, lb = self.low(a), self.low(b)
        prec = self.min(a.prec + lb if lb != sp.oo else sp.oo, b.prec + la if la != sp.oo else sp.oo)
        if not a.terms or not b.terms:
            return Series({}, prec)
        terms: dict = {}
        for ea, ca in a.terms.items():
            for eb, cb in b.terms.items():
                key = sp.expand(ea + eb)
                if self.lt(key, prec):
                    terms[key] = terms.get(key, 0) + ca * cb
        return self._clean(terms, prec)

    def split_leading(self, s: Series) -> tuple[sp.Expr, sp.Expr, Series]:
        """s = c t^e (1 + R) with R of positive exponents; returns (c, e, R)."""
        if not s.terms:
            raise NotExpandable("no leading term known")
        e = self.low(s)
        c = s.terms[e]
        rest = {sp.expand(k - e): v / c for k, v in s.terms.items() if k != e}
        return c, e, Series(rest, s.prec - e if s.prec != sp.oo else sp.oo)

    def power_of_one_plus(self, r: Series, q: sp.Expr, target: sp.Expr) -> Series:
        """(1 + R)^q = sum_j binomial(q, j) R^j, kept below ``target``."""
        if not r.terms:
            return Series({sp.S.Zero: sp.S.One}, r.prec)
        if q.is_Integer and q >= 0:
            jmax = int(q)
        else:
            jmax = None
        rl = self.low(r)
        result = Series({sp.S.Zero: sp.S.One}, sp.oo)
        power = Series({sp.S.Zero: sp.S.One}, sp.oo)
        parts = [result]
        j = 0
        while True:
            j += 1
            if jmax is not None and j > jmax:
                break
            if not self.lt(j * rl, target):
                parts.append(Series({}, j * rl))
                break
            power = self.mul(power, r)
            coef = sp.binomial(q, j)
            parts.append(Series({e: coef * c for e, c in power.terms.items()}, power.prec))
            if j > 10_000:
                raise NotExpandable("binomial series needs too many terms")
        return self.add(parts)

    def apply_analytic(self, func, s: Series, target: sp.Expr) -> Series:
        """g(a0 + A1) = sum_j g^{(j)}(a0)/j! A1^j for g analytic at a0."""
        if s.terms and self.lt(self.low(s), 0):
            raise NotExpandable(f"{func} of an argument that diverges")
        a0 = s.terms.get(sp.S.Zero, sp.S.Zero)
        a1 = Series({e: c for e, c in s.terms.items() if e != 0}, s.prec)
        y = sp.Dummy("y")
        g = func(y)
        value = g.subs(y, a0)
        if value.has(sp.zoo, sp.nan) or value in (sp.oo, -sp.oo):
            raise NotExpandable(f"{func} is singular at {a0}")
        parts = [Series({sp.S.Zero: value}, sp.oo)]
        if not a1.terms:
            parts.append(Series({}, a1.prec))
            return self.add(parts)
        rl = self.low(a1)
        power = Series({sp.S.Zero: sp.S.One}, sp.oo)
        deriv = g
        j = 0
        while True:
            j += 1
            if not self.lt(j * rl, target):
                parts.append(Series({}, j * rl))
                break
            deriv = sp.diff(deriv, y)
            power = self.mul(power, a1)
            coef = deriv.subs(y, a0) / sp.factorial(j)
            parts.append(Series({e: coef * c for e, c in power.terms.items()}, power.prec))
        return self.add(parts)

    # ------------------------------------------------------------- expansion
    def expand(self, expr: sp.Expr, target: sp.Expr) -> Series:
        """Series of ``expr`` with every term of exponent < ``target`` known."""
        t = self.t
        if not expr.has(t):
            return Series({sp.S.Zero: expr} if not is_zero(expr) else {}, sp.oo)
        if expr == t:
            return Series({sp.S.One: sp.S.One}, sp.oo)
        if expr.is_Add:
            return self.add([self.expand(a, target) for a in expr.args])
        if expr.is_Mul:
            factors = [self.expand(a, target) for a in expr.args]
            lows = [self.low(f) for f in factors]
            negative = [l for l in lows if l != sp.oo and self.lt(l, 0)]
            if negative:
                shift = sum(negative)
                factors = [self.expand(a, target - shift) for a in expr.args]
            result = factors[0]
            for f in factors[1:]:
                result = self.mul(result, f)
            return result
        if expr.is_Pow:
            base, q = expr.args
            if q.has(t):
                return self.apply_analytic(sp.exp, self.expand(q * sp.log(base), target), target)
            b = self.leading_expansion(base, target)
            c, e, r = self.split_leading(b)
            if r.terms or not r.is_exact:
                # Relative precision needed: target - e*q; refine the base if short.
                need = sp.expand(target - e * q + e)
                if not self.le(need, b.prec):
                    b = self.expand(base, need)
                    c, e, r = self.split_leading(b)
            lead = Series({sp.expand(e * q): c**q}, sp.oo)
            return self.mul(lead, self.power_of_one_plus(r, q, sp.expand(target - e * q)))
        if isinstance(expr, sp.exp):
            return self.apply_analytic(sp.exp, self.expand(expr.args[0], target), target)
        if isinstance(expr, sp.Abs):
            s = self.leading_expansion(expr.args[0], target)
            c = s.terms[self.low(s)]
            sign = self.sign(c) if c.free_symbols else (1 if c > 0 else -1)
            return self.expand(sign * expr.args[0], target)
        if isinstance(expr, sp.Function) and len(expr.args) == 1:
            func = expr.func
            return self.apply_analytic(func, self.expand(expr.args[0], target), target)
        raise NotExpandable(f"cannot expand {expr} one-sidedly")

    def leading_expansion(self, expr: sp.Expr, target: sp.Expr) -> Series:
        """Expansion with at least one nonzero term known (raises if none appears)."""
        s = self.expand(expr, target)
        depth = 0
        while not s.terms:
            depth += 1
            if depth > self.max_depth or s.prec == sp.oo:
                raise NotExpandable(f"{expr} vanishes to every order computed")
            s = self.expand(expr, s.prec + 1)
        return s
