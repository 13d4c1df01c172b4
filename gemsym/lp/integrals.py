"""Closed forms of \\int_0^oo |h(u)|^p du and of sup_{u>0} |h(u)| for one half-line piece.

* Mellin-Beta: |h|^p = K u^A (c0 + c1 u^B)^{-C} reduces to \\int_0^oo y^{s-1}(1+y)^{-c} dy,
  which SymPy evaluates once (with its convergence condition);
* polylog series: |h|^p = u^m R(e^{-k u}) with R rational (integer p), term by term;
* log series: h = c log R(e^{-k u}) (Softplus): p = 1 through Li_2, and for R = 1 + a w every
  integer p through zeta(p+1) and Li_j(1/(1+a)), j <= p + 1;
* sup: the critical points of h (SymPy's solve, LambertW included) and the end values.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import sympy as sp

from ..evaluate import certified
from .asymptotics import End
from .gaussian import erfc_square_integral
from ..series import is_zero

__all__ = ["finite_interval_part", "half_line_integral", "half_line_sup", "log_series_integral",
           "sqrt_quadratic_integral", "erf_integral", "beta_integral", "exp_series_integral"]


@lru_cache(maxsize=1)
def mellin_beta() -> tuple[sp.Symbol, sp.Symbol, sp.Expr, sp.Basic]:
    """SymPy's own evaluation of \\int_0^oo y^{s-1} (1+y)^{-c} dy with its condition."""
    y, s, c = sp.symbols("y s c", positive=True)
    result = sp.integrate(y ** (s - 1) * (1 + y) ** (-c), (y, 0, sp.oo), conds="piecewise")
    expr, cond = result.args[0] if isinstance(result, sp.Piecewise) else (result, sp.true)
    return s, c, expr, cond


def constant_sign(h: sp.Expr, u: sp.Symbol) -> int | None:
    """+1 or -1 when h has that sign for every u > 0 by SymPy's assumptions, with erfc of
    a real argument known to be positive (SymPy does not know it); None otherwise."""
    if h.is_positive:
        return 1
    if h.is_negative:
        return -1
    if h.has(sp.erf, sp.erfc):
        e = sp.expand(h.rewrite(sp.erfc))
        e = e.replace(lambda z: isinstance(z, sp.erfc) and z.args[0].is_real,
                      lambda z: sp.Dummy("E", positive=True))
        if e.is_positive:
            return 1
        if e.is_negative:
            return -1
    if h.has(sp.exp):
        # e^a > 1 for a > 0 and e^a < 1 for a < 0, which SymPy's assumptions do not know:
        # e^a = 1 + D or 1/(1 + D) with D > 0
        def bounded(z):
            a = z.args[0]
            d = sp.Dummy("D", positive=True)
            return 1 + d if a.is_positive else (1 / (1 + d) if a.is_negative else z)

        e = sp.factor(sp.together(h.replace(lambda z: isinstance(z, sp.exp), bounded)))
        if e.is_positive:
            return 1
        if e.is_negative:
            return -1
    return None


def beta_integral(h: sp.Expr, u: sp.Symbol, p: sp.Expr) -> sp.Expr | None:
    """\\int_0^oo |h(u)|^p du when |h| = K u^A (c0 + c1 u^B)^{-E} (c0, c1, B > 0): with
    u^B = (c0/c1) y it is K^p (c0/c1)^s c0^{-pE} / B * \\int_0^oo y^{s-1}(1+y)^{-pE} dy,
    s = (pA + 1)/B."""
    sign = constant_sign(h, u)
    if sign is None:
        return None
    for form in (sp.cancel(sign * h), sp.factor(sign * h)):
        K, A, other = sp.S.One, sp.S.Zero, []
        for fac in sp.Mul.make_args(form):
            base, e = fac.as_base_exp()
            if not fac.has(u):
                K *= fac
            elif base == u:
                A += e
            else:
                other.append((base, e))
        if len(other) == 1 and not A.has(u):
            break
    else:
        return None
    base, e = other[0]
    c0, rest = base.as_independent(u, as_Add=True)
    c1, B = rest.as_coeff_exponent(u)
    if c1.has(u) or B.has(u) or not (c0.is_positive and c1.is_positive and B.is_positive):
        return None
    if not (K.is_positive and (-e).is_positive):
        return None
    s_sym, c_sym, expr, _ = mellin_beta()
    s, C = (p * A + 1) / B, -p * e
    mellin = expr.subs({s_sym: s, c_sym: C})
    return K**p * (c0 / c1) ** s * c0 ** (-C) / B * mellin


def exp_series_integral(h: sp.Expr, u: sp.Symbol, p: sp.Expr) -> sp.Expr | None:
    """\\int_0^oo |h(u)|^p du for integer p when |h|^p = u^m R(w), w = e^{-k u}, R rational
    with R(0) = 0: expand R(w) = sum_j a_j w^j by partial fractions, integrate term by term
    (\\int_0^oo u^m e^{-j k u} du = m!/(j k)^{m+1}) and let SymPy sum the series."""
    if not (p.is_Integer and p > 0) or not h.has(sp.exp):
        return None
    sign = constant_sign(h, u)
    if sign is None:
        return None
    g = sp.powsimp(sp.expand_power_exp(sp.expand((sign * h) ** p)))
    rates = {sp.simplify(a.args[0] / u) for a in g.atoms(sp.exp)}
    if any(r.has(u) for r in rates):
        return None
    # w = e^{-k u} with every rate an integer multiple of k (then R is rational in w)
    k = next((abs(c) for c in rates if c.is_nonzero and all((r / c).is_integer for r in rates)), None)
    if k is None or not k.is_positive:
        return None
    w = sp.Dummy("w", positive=True)
    g = g.subs({sp.exp(r * u): w ** (-r / k) for r in rates})
    g = sp.powsimp(sp.expand_power_base(g, force=True), force=True)
    m = sp.S.Zero
    for fac in sp.Mul.make_args(sp.factor(g)):
        base, e = fac.as_base_exp()
        if base == u:
            m += e
    R = sp.cancel(g / u**m)
    if R.has(u) or not (m.is_Integer and m >= 0) or not R.is_rational_function(w):
        return None
    if not is_zero(R.subs(w, 0)):
        return None
    j = sp.Dummy("j", integer=True, positive=True)
    total = sp.S.Zero  # sum_j a_j m!/(j k)^{m+1}, a_j from the partial fractions of R
    for term in sp.Add.make_args(sp.apart(R, w, full=False)):
        num, den = sp.fraction(sp.factor(term))
        if not den.has(w):
            if sp.Poly(term, w).degree() > 0:
                return None  # a polynomial part: R(w) would not vanish like a power series tail
            continue
        factor, power = den.as_independent(w, as_Add=False)
        num = num / factor
        base, n = power.as_base_exp()
        if not (n.is_Integer and sp.Poly(base, w).degree() == 1 and not num.has(w)):
            return None
        c1, c0 = sp.Poly(base, w).all_coeffs()  # num / (c1 w + c0)^n = sum_j a_j w^j
        z = -c1 / c0  # a_j = num/c0^n * binomial(j + n - 1, n - 1) * z^j
        if not (z.is_negative or (abs(z) < 1) is sp.true):
            return None  # a pole of R in (0, 1]: not a convergent power series there
        # binomial(j+n-1, n-1)/j^{m+1} = sum_i b_i j^{i-m-1}; sum_j z^j j^{-s} = Li_s(z),
        # which continues the series analytically to every z < 0 (the integral is analytic).
        poly = sp.Poly(sp.expand_func(sp.binomial(j + n - 1, n - 1)), j)
        for (i,), b in poly.terms():
            total += num / c0**n * b * sp.factorial(m) / k ** (m + 1) * sp.polylog(m + 1 - i, z)
    return sp.expand_func(total)


def log_series_integral(h: sp.Expr, u: sp.Symbol, p: sp.Expr) -> sp.Expr | None:
    """\\int_0^oo |h(u)| du (p = 1) when h = log R(w), w = e^{-k u}, R rational with
    R(0) = 1 (Softplus: log(1 + e^{-u})): with R = prod_i (1 - w/r_i)^{m_i},
    \\int_0^oo log(1 - e^{-k u}/r) du = -Li_2(1/r)/k (expand the log in powers of w and
    integrate term by term; the dilogarithm continues the series analytically).  Integer
    p >= 2 with R = 1 + a w: :func:`_log_square_integral`, :func:`_log_power_integral`."""
    if not (p.is_Integer and p >= 1) or not h.has(sp.exp):
        return None
    rates = {sp.simplify(a.args[0] / u) for a in h.atoms(sp.exp)}
    if any(r.has(u) for r in rates) or not rates:
        return None
    k = next((abs(c) for c in rates if c.is_nonzero and all((r / c).is_integer for r in rates)), None)
    if k is None or not k.is_positive:
        return None
    w = sp.Dummy("w", positive=True)
    hw = h.subs({sp.exp(r * u): w ** (-r / k) for r in rates}).subs(u, -sp.log(w) / k)
    # h = coef * log R(w) with R rational: collect the logarithms with integer multiples
    # of one coefficient (log w itself stands for -k u)
    coef, R = None, sp.S.One
    for term in sp.Add.make_args(sp.expand(sp.expand_log(hw, force=True))):
        c, lg = term.as_independent(w, as_Add=False)
        if not isinstance(lg, sp.log):
            return None
        coef = c if coef is None else coef
        m = sp.simplify(c / coef)
        if not m.is_Integer:
            return None
        R *= lg.args[0] ** m
    if coef is None:
        return None
    lg = sp.log(R)
    R = sp.cancel(R)
    if not R.is_rational_function(w) or R.free_symbols != {w} or sp.simplify(R.subs(w, 0) - 1) != 0:
        return None
    # h = coef log R keeps one sign on u > 0 iff R - 1 has no zero for 0 < w < 1
    num, den = sp.fraction(R)
    gap = sp.Poly(num - den, w)
    if gap.is_zero or gap.count_roots(0, 1) - sum(1 for t in (0, 1) if gap.eval(t) == 0) > 0:
        return None
    sign = 1 if certified((coef * lg).subs(w, sp.Rational(1, 2)), 20) > 0 else -1
    if p == 2:
        return _log_square_integral(num, den, w, coef, k)
    if p >= 3:
        return _log_power_integral(num, den, w, sign * coef, k, int(p))
    total = sp.S.Zero
    for poly, s in ((num, 1), (den, -1)):
        P = sp.Poly(poly, w)
        roots = sp.roots(P)
        if sum(roots.values()) != P.degree():
            return None
        for r, m in roots.items():
            total += s * m * (-sp.polylog(2, 1 / r) / k)
    return sp.expand_func(sign * coef * total)


def _softplus_coefficient(num, den, w) -> sp.Expr | None:
    """a when R = num/den is 1 + a w with a > 0 (the Softplus shape), else None."""
    if den != 1 or sp.Poly(num, w).degree() != 1:
        return None
    c1, c0 = sp.Poly(num, w).all_coeffs()
    a = sp.simplify(c1 / c0)
    return a if c0 == 1 and a.is_positive else None


def _log_square_integral(num, den, w, coef, k) -> sp.Expr | None:
    """\\int_0^oo (coef log(1 + a e^{-k u}))^2 du for R = 1 + a w, a > 0 (Softplus):
    with t = a e^{-k u} it is coef^2/k \\int_0^a log^2(1 + t)/t dt, and (integrating
    log^2(1+t)/t through t = 1/s - 1, then the trilogarithm's inversion)
        \\int_0^a log^2(1+t)/t dt = log(a) L^2 - 2 L^3/3 - 2 L Li_2(1/(1+a))
                                    - 2 Li_3(1/(1+a)) + 2 zeta(3),   L = log(1 + a)
    (a = 1: zeta(3)/4).  Other R: None."""
    a = _softplus_coefficient(num, den, w)
    if a is None:
        return None
    L = sp.log(1 + a)
    z = 1 / (1 + a)
    F = (sp.log(a) * L**2 - sp.Rational(2, 3) * L**3 - 2 * L * sp.polylog(2, z)
         - 2 * sp.polylog(3, z) + 2 * sp.zeta(3))
    # Landen's value Li_3(1/2) = 7 zeta(3)/8 - pi^2 log(2)/12 + log(2)^3/6 (Lewin,
    # Polylogarithms and associated functions, 1981, eq. 6.12), which SymPy does not know
    li3_half = sp.Rational(7, 8) * sp.zeta(3) - sp.pi**2 * sp.log(2) / 12 + sp.log(2) ** 3 / 6
    F = sp.expand(sp.expand_func(F).subs(sp.polylog(3, sp.Rational(1, 2)), li3_half))
    return sp.expand(coef**2 * F / k)


#: The largest p whose Softplus-type closed form is built: its coefficients grow like p!, and
#: certifying the form at p = 64 took 20 s of CPU against 4 s for the certified quadrature
#: alone, which then gives the value.
MAX_LOG_POWER = 16


def _log_power_integral(num, den, w, coef, k, n: int) -> sp.Expr | None:
    """\\int_0^oo (coef log(1 + a e^{-k u}))^n du for R = 1 + a w, a > 0, coef > 0 and an
    integer n >= 1 (Softplus for every integer p): with t = a e^{-k u} it is
    coef^n/k I_n(a), I_n(a) = \\int_0^a log^n(1+t)/t dt, and
        I_n(a) = n! zeta(n+1) + L^(n+1)/(n+1) - sum_{j=0}^{n} n!/(n-j)! L^(n-j) Li_{j+1}(z),
    L = log(1 + a), z = 1/(1 + a) (a = 1, n = 1: pi^2/12).  Derivation: s = 1/(1+t) gives
    dt/t = -ds/(s(1-s)) = -(1/s + 1/(1-s)) ds and log(1+t) = -log s, so
    I_n(a) = \\int_z^1 (-log s)^n/s ds + \\int_z^1 (-log s)^n/(1-s) ds.  The first is
    L^(n+1)/(n+1) (v = -log s).  The second is \\int_0^1 - \\int_0^z: the whole one is
    n! zeta(n+1) (expand 1/(1-s) = sum s^m, \\int_0^1 s^m (-log s)^n ds = n!/(m+1)^(n+1)); on
    (0, z) write 1/(1-s) ds = dLi_1(s) and integrate by parts n times with
    dLi_{j+1}(s) = Li_j(s) ds/s: each step leaves the boundary term
    n!/(n-j)! L^(n-j) Li_{j+1}(z) (the terms at s = 0 vanish).  Other R: None."""
    a = _softplus_coefficient(num, den, w)
    if n > MAX_LOG_POWER or a is None or not coef.is_positive:
        return None
    L = sp.log(1 + a)
    z = 1 / (1 + a)
    F = (sp.factorial(n) * sp.zeta(n + 1) + L ** (n + 1) / (n + 1)
         - sum(sp.factorial(n) / sp.factorial(n - j) * L ** (n - j) * sp.polylog(j + 1, z)
               for j in range(n + 1)))
    # Landen's Li_3(1/2) (Lewin 1981, eq. 6.12) as in _log_square_integral; SymPy itself
    # gives Li_1(1/2) = log 2 and Li_2(1/2) = pi^2/12 - log(2)^2/2
    li3_half = sp.Rational(7, 8) * sp.zeta(3) - sp.pi**2 * sp.log(2) / 12 + sp.log(2) ** 3 / 6
    F = sp.expand(sp.expand_func(F).subs(sp.polylog(3, sp.Rational(1, 2)), li3_half))
    return sp.expand(coef**n * F / k)


def sqrt_quadratic_integral(h: sp.Expr, u: sp.Symbol, p: sp.Expr) -> sp.Expr | None:
    """\\int_0^oo |h(u)|^p du when h is rational in u and s = sqrt(u^2 + c), c > 0
    (Squareplus): Euler's substitution u = (c - y^2)/(2y), s = (c + y^2)/(2y),
    du = -(c + y^2)/(2 y^2) dy (y from sqrt(c) down to 0) makes the integrand algebraic in
    y, integrated by SymPy (for symbolic p with p > 1, the condition of finiteness)."""
    roots = [a for a in h.atoms(sp.Pow) if a.exp == sp.Rational(1, 2) and a.base.has(u)]
    if len(roots) != 1:
        return None
    c, rest = roots[0].base.as_independent(u, as_Add=True)
    if rest != u**2 or not c.is_positive:
        return None
    y = sp.Dummy("y", positive=True)
    hy = sp.factor(sp.cancel(sp.together(h.subs(roots[0], (c + y**2) / (2 * y))
                                         .subs(u, (c - y**2) / (2 * y)))))
    # the sign of h: that of the constant factor once every other factor has a positive base
    const, dep = hy.as_independent(y, as_Add=False)
    if not const.is_nonzero or not all(f.as_base_exp()[0].is_positive for f in sp.Mul.make_args(dep)):
        return None
    if const.is_negative:
        hy = -hy
    elif not const.is_positive:
        return None
    q = sp.Dummy("q", positive=True)
    pp = p if p.is_number else 1 + q  # finite only for p > 1 where symbolic: integrate there
    integrand = sp.expand(sp.powdenest(sp.expand_power_base(hy**pp, force=True), force=True)
                          * (c + y**2) / (2 * y**2))
    try:
        result = sp.integrate(integrand, (y, 0, sp.sqrt(c)), conds="none")
    except (NotImplementedError, ValueError, TypeError):
        return None
    if result.has(sp.Integral, sp.Piecewise, sp.oo, -sp.oo, sp.zoo, sp.sign, sp.nan):
        return None
    return sp.simplify(result.subs(q, p - 1))


def erf_integral(h: sp.Expr, u: sp.Symbol, p: sp.Expr) -> sp.Expr | None:
    """\\int_0^oo |h(u)|^p du for h built from erf/erfc (GELU: u erfc(u/sqrt 2)/2): for
    p = 1 by SymPy's integrate after rewriting erf through erfc; for p = 2 and h = A(u)
    erfc(a u) by parts (:mod:`gemsym.lp.gaussian`: SymPy takes minutes on erfc^2); other p
    are left alone."""
    if p == 2 and h.has(sp.erf, sp.erfc):
        return erfc_square_integral(h, u)
    if p != 1 or not h.has(sp.erf, sp.erfc):
        return None
    sign = constant_sign(h, u)
    if sign is None:
        h2 = sp.expand(h.rewrite(sp.erfc))
        sign = constant_sign(h2, u)
        if sign is None:
            return None
        h = h2
    try:
        result = sp.integrate(sp.expand(sign * h.rewrite(sp.erfc)), (u, 0, sp.oo), conds="none")
    except (NotImplementedError, ValueError, TypeError):
        return None
    if result.has(sp.Integral, sp.Piecewise, sp.oo, -sp.oo, sp.zoo, sp.nan):
        return None
    return sp.simplify(result)


def half_line_integral(h: sp.Expr, u: sp.Symbol, p: sp.Expr) -> sp.Expr | None:
    for method in (beta_integral, exp_series_integral, log_series_integral, sqrt_quadratic_integral,
                   erf_integral):
        result = method(h, u, p)
        if result is not None:
            return result
    return None


def is_positive(r: sp.Expr) -> bool:
    """r > 0, knowing that LambertW is positive at positive arguments."""
    if r.is_positive:
        return True
    marked = r.replace(lambda e: isinstance(e, sp.LambertW) and len(e.args) == 1 and e.args[0].is_positive,
                       lambda e: sp.Dummy("W", positive=True))
    return bool(marked.is_positive)


def half_line_sup(h: sp.Expr, u: sp.Symbol, ends: Sequence[End]) -> sp.Expr | None:
    """sup_{u > 0} |h(u)| from the critical points of h and the end values."""
    sign = constant_sign(h, u)
    if sign is None:
        return None
    hp = sign * h
    numerator = sp.numer(sp.together(sp.diff(hp, u)))
    try:
        roots = sp.solve(numerator, u)
    except (NotImplementedError, TypeError, ValueError):
        return None
    values = []
    for r in roots:
        if not is_positive(r):
            continue
        if not r.free_symbols and abs(sp.N(numerator.subs(u, r), 30)) > 1e-20 * (1 + abs(sp.N(r))):
            continue  # a spurious root of solve (e.g. the other LambertW branch)
        value = hp.subs(u, r)
        value = sp.together(value) if value.has(sp.exp, sp.LambertW) else sp.simplify(value)
        if value not in values:
            values.append(value)
    for end in ends:
        if end.kind == "power":
            # toward oo |h| ~ r^e with r -> oo; toward a finite end r -> 0
            e = end.exponent if end.point in (sp.oo, -sp.oo) else -end.exponent
            if e == 0:
                values.append(sp.Abs(end.coef))
            elif not e.is_negative:
                return None
        elif end.kind != "decay":
            return None
    if not values:
        return None
    return values[0] if len(values) == 1 else sp.Max(*values)


def finite_interval_part(d: sp.Expr, x: sp.Symbol, lo: sp.Expr, hi: sp.Expr, u: sp.Symbol,
                         p: sp.Expr) -> sp.Expr | None:
    """\\int_lo^hi |d|^p dx (resp. sup |d| there for p = oo) on a bounded interval, by
    SymPy's integrate after x = lo + u or x = hi - u (0 < u < hi - lo) has made d of
    constant sign with a positive base (SmeLU's (x + beta)^2/(4 beta) pieces).  Returns None
    when d's sign is not constant or SymPy leaves an integral or a case split."""
    length = sp.simplify(hi - lo)
    for h in (d.subs(x, lo + u), d.subs(x, hi - u)):
        h = sp.factor(sp.simplify(h))
        # every factor depending on u must have a base positive for u > 0 (then the
        # powers below split safely, and the sign of h is that of the constant factor)
        const, dep = h.as_independent(u, as_Add=False)
        if not all(f.as_base_exp()[0].is_positive for f in sp.Mul.make_args(dep)):
            continue
        sign = 1 if const.is_positive else (-1 if const.is_negative else None)
        if sign is None:
            continue
        g = sp.powdenest(sp.expand_power_base(sign * h, force=True), force=True)
        if p == sp.oo:
            try:
                crit = [r for r in sp.solve(sp.diff(g, u), u) if (r > 0) == sp.true and (r < length) == sp.true]
            except (NotImplementedError, TypeError):
                continue
            values = [sp.simplify(g.subs(u, v)) for v in (sp.S.Zero, length, *crit)]
            return values[0] if len(values) == 1 else sp.Max(*values)
        try:
            result = sp.integrate(g ** p, (u, 0, length))
        except (NotImplementedError, ValueError, TypeError):
            continue
        if not result.has(sp.Integral, sp.Piecewise):
            # sin(pi p) cos(pi p)/sin(2 pi p) = 1/2 is left by integrate for symbolic p
            return sp.simplify(sp.trigsimp(result) if result.has(sp.sin, sp.cos) else result)
    return None
