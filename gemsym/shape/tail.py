"""The sign of a concrete expression g(p) on a whole tail [X, oo), with a proof
(the far end of :mod:`gemsym.shape.isolate`'s zero isolation).

g is written exactly as N/D with N, D polynomials in p^(1/n), z = e^{-u(p)/q} and
y = e^{-e^{m p}/r}: hyperbolic functions by exponentials, exp(d + c u + s e^{m p}) =
e^d z^{-c q} y^{-s r} for rational c, s, where u = sum c_j p^{e_j} has positive
coefficients (u = p when there is a y).  Each polynomial P = sum_i c_i p^{a_i} z^{b_i} y^{c_i}
is dominated on the tail by its monomial of least (y, z) powers and then greatest power of
p: every other monomial divided by it is rho(p) = p^alpha e^{-beta u - gamma e^{m p}},
which decreases on [X, oo) once max(alpha, 0)/X - beta u'(X) - gamma m e^{m X} <= 0
(u' is nondecreasing) and is there at most rho(X).  When
    sum_i |c_i / c| rho_i(X) < 1
(evaluated in interval arithmetic) P has the sign of c at every p >= X, so g = N/D has one
sign there and no zero.  A sum with one square root, A + c sqrt(B), is tried as
(A^2 - c^2 B)/(A - c sqrt(B)) too, and a numerator or denominator that SymPy's assumptions
call positive (or negative) for every p, z, y > 0 needs no bound.  Expressions of another kind (exp(e^p), erf, log of an exponential
sum, sin) get no certificate: the caller then needs another proof or says it cannot decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
import math

import mpmath
import sympy as sp

__all__ = ["TailSign", "dominant_tail"]

_HYPERBOLIC = (sp.tanh, sp.sinh, sp.cosh, sp.sech, sp.csch, sp.coth)


@dataclass(frozen=True)
class TailSign:
    """g has sign ``sign`` (+1/-1) at every p >= 2^``exponent``."""

    sign: int
    exponent: int


@dataclass(frozen=True)
class _Monomial:
    coeff: mpmath.mpf  # a point value to 50 digits (enclosed with a relative pad below)
    a: sp.Rational     # power of p
    b: sp.Integer      # power of z = e^{-u(p)/q}
    c: sp.Integer      # power of y = e^{-e^{m p}/r}


@dataclass(frozen=True)
class _Form:
    """g = expr(p, z, y) exactly, z = e^{-u(p)/q}, y = e^{-e^{m p}/r} (m = 0: no y), where
    u = sum c_j p^{e_j} has every c_j >= 0 (so u' is positive and nondecreasing)."""

    expr: sp.Expr
    z: sp.Symbol
    y: sp.Symbol
    q: int
    m: sp.Rational
    r: int
    u: tuple[tuple[sp.Expr, sp.Rational], ...] = ((sp.S.One, sp.S.One),)


def _nonnegative_terms(u: sp.Expr, p: sp.Symbol) -> tuple | None:
    """u as ((c_j, e_j), ...) = sum c_j p^{e_j}, e_j > 0, every c_j >= 0, or None."""
    out = []
    for term in sp.Add.make_args(sp.expand(u)):
        c, rest = term.as_independent(p, as_Add=False)
        e = sp.S.One if rest == p else (rest.exp if rest.is_Pow and rest.base == p else None)
        if e is None or not (e.is_Rational and e > 0) or c.free_symbols or not c.is_positive:
            return None
        out.append((c, e))
    return tuple(out)


def _lcm(values) -> int:
    return reduce(math.lcm, (int(v.q) for v in values), 1)


def _exponential_form(g: sp.Expr, p: sp.Symbol) -> _Form | None:
    """g as a rational expression in p, z and y (see :class:`_Form`), or None."""
    if g.has(sp.sin, sp.cos, sp.tan):
        return None
    if g.has(*_HYPERBOLIC):
        g = g.rewrite(sp.exp)
    z, y = sp.Dummy("z", positive=True), sp.Dummy("y", positive=True)
    outer: dict = {}  # exp(d + c p + s e^{m p}) with s != 0 -> (d, c, s, m)
    for e in g.atoms(sp.exp):
        arg = sp.expand(e.args[0])
        inner = [t for t in arg.atoms(sp.exp) if t.has(p)]
        if inner:
            if len(inner) != 1:
                return None
            (w,) = inner
            d, cp = arg.xreplace({w: sp.S.Zero}).as_independent(p, as_Add=True)
            s = sp.expand(arg - d - cp).coeff(w)
            m = sp.cancel(sp.expand(w.args[0]) / p)
            if sp.expand(arg - d - cp - s * w) != 0 or not (s.is_Rational and s != 0
                                                          and m.is_Rational and m > 0):
                return None
            outer[e] = (d, sp.cancel(cp / p), s, m)
    ms = {v[3] for v in outer.values()}
    if len(ms) > 1:
        return None
    m = ms.pop() if ms else sp.S.Zero
    r = _lcm(v[2] for v in outer.values())
    g = g.xreplace({e: sp.exp(d + c * p) * y ** (-s * r) for e, (d, c, s, _) in outer.items()})
    # every other exponential is exp(d + c u(p)) for one u (p itself when there is a y)
    slopes, u = {}, (p if outer else None)
    for e in sorted(g.atoms(sp.exp), key=sp.default_sort_key):
        d, cu = sp.expand(e.args[0]).as_independent(p, as_Add=True)
        if u is None:
            terms = _nonnegative_terms(cu, p) or _nonnegative_terms(-cu, p)
            if terms is None:
                return None
            u = sum((c * p**k for c, k in terms), sp.S.Zero)
        c = sp.cancel(cu / u)
        if not c.is_Rational or c == 0:
            return None
        slopes[e] = (c, d)
    q = _lcm([c for c, _ in slopes.values()] + [m])
    g = g.xreplace({e: sp.exp(d) * z ** (-c * q) for e, (c, d) in slopes.items()})
    if any(f.has(p, z, y) for f in g.atoms(sp.Function)):
        return None
    terms = _nonnegative_terms(u, p) if u is not None else None
    return _Form(g, z, y, q, m, r, terms or ((sp.S.One, sp.S.One),))


def _monomials(poly: sp.Expr, p: sp.Symbol, form: _Form) -> list[_Monomial] | None:
    """The monomials of an expanded polynomial in p^(1/n), z and y, like powers merged."""
    z, y = form.z, form.y
    merged: dict[tuple, sp.Expr] = {}
    for term in sp.Add.make_args(sp.expand(poly)):
        c, rest = term.as_independent(p, z, y, as_Add=False)
        powers = rest.as_powers_dict() if rest != 1 else {}
        if set(powers) - {p, z, y}:
            return None
        key = tuple(sp.sympify(powers.get(v, 0)) for v in (p, z, y))
        if not (key[0].is_Rational and all(k.is_Integer and k >= 0 for k in key[1:])):
            return None
        merged[key] = merged.get(key, sp.S.Zero) + c
    out = []
    for (a, b, cy), c in merged.items():
        c = sp.expand(c)
        if c == 0:
            continue
        if c.free_symbols:
            return None
        v = sp.N(c, 50)
        if not (v.is_real and v.is_finite) or abs(v) < sp.Float("1e-40"):
            return None  # a coefficient that may be zero: nothing to rank
        out.append(_Monomial(mpmath.mpf(str(v)), a, b, cy))
    return out


def _polynomial_exponent(monos: list[_Monomial], form: _Form, lo: int, hi: int) -> TailSign | None:
    """The least k in [lo, hi] such that the dominant monomial fixes the sign on [2^k, oo).

    Each other monomial over the dominant one is rho(p) = p^alpha e^{-beta u - gamma e^{m p}}
    with (gamma, beta, -alpha) > 0 lexicographically; (log rho)' = alpha/p - beta u' -
    gamma m e^{m p} <= max(alpha, 0)/X - beta u'(X) - gamma m e^{m X} on [X, oo) (u' >= u'(X)
    where beta > 0; u = p where beta may be negative, i.e. where there is a y), so where
    that is <= 0, rho decreases there and rho(X) bounds it."""
    if not monos:
        return None
    lead = min(monos, key=lambda mo: (mo.c, mo.b, -mo.a))
    iv = mpmath.iv

    def num(v):
        return iv.mpf(mpmath.mpf(sp.N(v, 50)))

    rest = [(num(mo.a - lead.a), num(sp.Rational(mo.b - lead.b, form.q)),
             num(sp.Rational(mo.c - lead.c, form.r)), iv.mpf(abs(mo.coeff / lead.coeff)))
            for mo in monos if mo is not lead]
    m = num(form.m)
    u_terms = [(num(c), num(e)) for c, e in form.u]
    pad = iv.mpf([1 - mpmath.mpf(10) ** -40, 1 + mpmath.mpf(10) ** -40])
    with mpmath.workdps(50):
        saved, iv.prec = iv.prec, 180
        try:
            for k in range(lo, hi + 1):
                x = iv.mpf(mpmath.mpf(2) ** k)
                u_x = sum((c * iv.exp(e * iv.log(x)) for c, e in u_terms), iv.mpf(0))
                du_x = sum((c * e * iv.exp((e - 1) * iv.log(x)) for c, e in u_terms), iv.mpf(0))
                total = iv.mpf(0)
                for alpha, beta, gamma, ratio in rest:
                    # a lower bound of e^{m X} (clamped: exp(-e^{2^60}) would need ln 2
                    # to 10^18 bits) keeps both the slope and the bound valid
                    grow = iv.exp(iv.mpf(min(m.a * x.a, 1024))) if gamma.b > 0 else iv.mpf(0)
                    slope = (alpha if alpha.a > 0 else iv.mpf(0)) / x - beta * du_x - gamma * m * grow
                    if not slope.b <= 0:
                        break  # rho may still increase beyond X
                    total += ratio * pad * iv.exp(alpha * iv.log(x) - beta * u_x
                                                          - gamma * grow)
                else:
                    if total.b < 1:
                        return TailSign(1 if lead.coeff > 0 else -1, k)
        finally:
            iv.prec = saved
    return None


def _conjugate(g: sp.Expr, p: sp.Symbol) -> sp.Expr | None:
    """g = A + c sqrt(B) as (A^2 - c^2 B)/(A - c sqrt(B)), whose numerator has no
    cancellation where A and the root grow alike (p - sqrt(p^2 + 4) = -4/(p + sqrt(p^2 + 4)));
    None when g is not of that shape."""
    terms = sp.Add.make_args(sp.expand(g))
    roots = [t for t in terms
             if any(a.exp == sp.S.Half and a.base.has(p) for a in t.atoms(sp.Pow))]
    if len(roots) != 1:
        return None
    bases = {a.base for a in roots[0].atoms(sp.Pow) if a.exp == sp.S.Half and a.base.has(p)}
    if len(bases) != 1:
        return None
    (b,) = bases
    c = sp.cancel(roots[0] / sp.sqrt(b))
    a = sp.Add(*[t for t in terms if t is not roots[0]])
    if c.has(sp.sqrt(b)) or a.has(sp.sqrt(b)):
        return None
    return sp.expand(a**2 - c**2 * b) / (a - c * sp.sqrt(b))


def dominant_tail(g: sp.Expr, p: sp.Symbol, lo: int, hi: int) -> TailSign | None:
    """A proof that the concrete g(p) has one sign on [2^k, oo) for the least k in
    [lo, hi] the dominant-monomial bound allows (see the module docstring), or None."""
    for form in (g, _conjugate(g, p)):
        found = _dominant(form, p, lo, hi) if form is not None else None
        if found is not None:
            return found
    return None


def _dominant(g: sp.Expr, p: sp.Symbol, lo: int, hi: int) -> TailSign | None:
    form = _exponential_form(g, p)
    if form is None:
        return None
    num, den = sp.fraction(sp.together(form.expr))
    signs, k = 1, lo
    for part in (num, den):
        if part.is_positive or part.is_negative:  # for every p > 0, z > 0, y > 0
            signs *= 1 if part.is_positive else -1
            continue
        monos = _monomials(part, p, form)
        if monos is None:
            return None
        found = _polynomial_exponent(monos, form, lo, hi)
        if found is None:
            return None
        signs *= found.sign
        k = max(k, found.exponent)
    return TailSign(signs, k)
