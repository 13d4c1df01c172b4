"""Exact rewrites of products whose plain evaluation overflows into inf * 0 = NaN (or inf)
in the tails although their value is finite.

Applied by :func:`gemsym.codegen.derive` to every expression that is printed (f and its
derivatives, after :func:`gemsym.codegen.rules.to_primitives`).  Each rule replaces one
product by an equal expression whose intermediates stay finite where the product is:

* ``Softplus(k x) k^-m`` (k > 0) -> ``(max(x, 0) + log1p(e^{-|k x|})/k) k^-(m-1)``: k x
  overflows long before Softplus(k x)/k = x does (Softplus_beta at x = 1e307);
* ``x^m h^-n`` with h = hypot(a x, c) (h ~ |a x|) -> ``(x/h)^j x^(m-j) h^-(n-j)``,
  j = min(m, n): x^m and h^n overflow together, x/h stays near 1/a (ISRLU's d/dalpha =
  -x^3 / (2 h^3) tends to 1/(2 alpha^{3/2}));
* ``x^m e^u`` (m >= 2, u -> -oo at +-oo) -> ``XTimes(e^u, x, m)``, the vanishing
  exponential applied before the powers of x (GELU_beta's d/dbeta ~ x^2 e^{-x^2 beta^2/2}:
  x^2 overflows where e^u is already 0), and where u < -80 ``XTimes(e^{u/2}, x, m) e^{u/2}``
  so that a normal x^m e^u is not lost to a subnormal e^u;
* ``e^a (1 - tanh(z)^2)`` -> ``4 e^a sigma(2z) sigma(-2z)`` (no cancellation), and where
  that product is not finite ``4 e^{a - Softplus(2z) - Softplus(-2z)}`` (log sech^2 z =
  log 4 - Softplus(2z) - Softplus(-2z)), which rounds more often but stays finite
  (TanhExp's d/dx: x e^x sech^2(e^x) once e^x overflows); ``sigma(s) (1 - tanh(z)^2)`` ->
  ``4 sigma(s) sigma(2z) sigma(-2z)`` likewise (Mish's d/dx);
* ``b^-k`` (k >= 2, b a hypot or linear in x) -> ``(1/b)^k`` where b^k overflows (the
  value is a subnormal number there, not 0);
* ``c v`` with a factor v = g e^u that vanishes (e^u, sigma(s), erfc(t), Softplus(s), and
  tanh or log1p of one; :func:`vanishing_factors`): where e^u is below the normal range the
  PyTorch printer's ``exact`` path evaluates it as sign(c) exp(u + log|c g|), u as hi + lo,
  instead of rounding e^u into the subnormal range and multiplying that by c (Mish at
  x = -735 was 1030 subnormal ULP off).  Decided when printing, after ``sp.cse``.
"""

from __future__ import annotations

import mpmath
import sympy as sp
from sympy.codegen.cfunctions import hypot, log1p

from .rules import Erfc, Softplus
from .stable import IPow, PowTimes, Sigmoid, SigmoidLinear, SmallestNormal, TailTimes, XTimes

__all__ = ["Erfcx", "Opaque", "common_power_first", "exp_factor", "product_factors",
           "reciprocal_tails", "tail_safe", "vanishing_factors"]


def tail_safe(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """``expr`` with the product rules of this module applied (an equal expression)."""
    return expr.replace(lambda e: e.is_Mul and e.has(x), lambda e: _rewrite_mul(e, x))


def reciprocal_tails(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """``expr`` (a stable form's expression) with b^-k, k >= 2, b a hypot or linear in x,
    evaluated as (1/b)^k where b^k overflows (an equal expression)."""
    return expr.replace(lambda e: _growing_reciprocal(e, x), _reciprocal_power)


def common_power_first(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """``expr`` = x^k S^-m R (S a sum with a term x^j, k - j a non-negative integer, j the
    largest such) evaluated as x^(k-j) (x^j/S) S^-(m-1) R where |x^k| < 2^-100 (an equal
    expression): x^k underflows where the quotient is still a number (E-GEM(eps=2^-40)'s
    x^3/(x^2 + eps) at x = 3.5e-16 in float32), x^j/S does so much later.  Above 2^-100
    the expression is left as it is, bits included (not at 2^-126, where x^k is still
    normal in float32: E-GEM's d/dx = x^2 (S + 2 eps)/S^2 underflows in x^2 (S + 2 eps)
    first, bfloat16 over 1 ULP 281 with 2^-100 against 467 with 2^-126).  Where x^j
    itself is below the compute dtype's normal range and c = R S^-m below 2^1000, it is
    evaluated as c x^k with the powers of x applied last (``PowTimes``)."""
    if not expr.is_Mul:
        return expr
    factors = list(sp.Mul.make_args(expr))
    powers = [(i, f, _power_of(f, x)) for i, f in enumerate(factors)]
    powers = [(i, f, k) for i, f, k in powers if k is not None]
    if len(powers) != 1:
        return expr
    at, xk, k = powers[0]
    best = None
    for i, f in enumerate(factors):
        if not (f.is_Pow and f.base.is_Add and f.exp.is_Integer and f.exp < 0):
            continue
        for term in f.base.args:
            j = _power_of(term, x)
            if j is None or not all(not t.has(x) for t in f.base.args if t is not term):
                continue
            d = sp.expand(k - j)
            if d.is_Integer and d >= 0 and (best is None or d < best[2]):
                best = (i, term, d)
    if best is None:
        return expr
    i, xj, d = best
    s, m = factors[i].base, -int(factors[i].exp)
    rest = [f for n, f in enumerate(factors) if n not in (at, i)]
    lead = x ** int(d) if d else sp.Integer(1)
    # Opaque: a quotient of its own, not the 1/S of the plain expression (sp.cse would
    # share it and turn the plain x^k/S into x^k (1/S), one rounding more)
    new = sp.Mul(*rest, lead, Opaque(Opaque(xj) / Opaque(s)), s ** -(m - 1))
    # where x^j itself is below the normal range it has lost its relative precision
    # (E-GEM(eps=2^-40)'s d/dx = 3 x^2/eps at x = 1.2e-158 in float64: x^2 = 1.4e-316 is
    # 1.6e-8 off, and 0 below 1.5e-162 where d/dx is 7.6e-312); then c x^k with
    # c = R S^-m, the powers of x applied last (PowTimes), unless c overflows (S tiny too);
    # its factors Opaque twice: sp.cse would otherwise share R S^-m or 1/S with the other
    # forms and change their rounding order (c used once: no temporary of its own, so a
    # target that skips this piece computes nothing of it)
    c = Opaque(sp.Mul(*[Opaque(Opaque(f)) for f in rest]) * Opaque(Opaque(s)) ** -m)
    return sp.Piecewise((expr, sp.Abs(Opaque(xk)) >= sp.Float(2.0 ** -100)),
                        (PowTimes(c, x, k, new), sp.Abs(Opaque(xj)) < SmallestNormal()),
                        (new, True))


def _power_of(f: sp.Expr, x: sp.Symbol):
    """k for f = x^k (an IPow of x, or a positive integer power of x), else None."""
    if f == x:
        return sp.Integer(1)
    if isinstance(f, IPow) and f.args[0] == x:
        return f.args[1]
    if f.is_Pow and f.base == x and f.exp.is_Integer and f.exp > 0:
        return f.exp
    return None


def _rewrite_mul(e: sp.Mul, x: sp.Symbol) -> sp.Expr:
    for rule in (_softplus_over_k, _power_over_hypot, _power_times_vanishing_exp,
                 _exp_times_sech2, _sigmoid_times_sech2):
        out = rule(e, x)
        if out is not None:
            return out
    return e


def _softplus_over_k(e: sp.Mul, x: sp.Symbol):
    powers = e.as_powers_dict()
    for f in sp.Mul.make_args(e):
        if not isinstance(f, Softplus):
            continue
        k = sp.cancel(f.args[0] / x)
        if k.has(x) or not k.is_positive or not k.is_Symbol:
            continue
        if powers.get(k, 0) > -1:
            continue
        tail = sp.Max(x, 0) + log1p(sp.exp(-sp.Abs(k * x))) / k
        return sp.Mul(*[g for g in sp.Mul.make_args(e) if g is not f]) * k * tail
    return None


def _growing_reciprocal(e: sp.Expr, x: sp.Symbol) -> bool:
    """e = b^-k, k >= 2, with b a hypot of a x or linear in x (|b| grows like |x|)."""
    if not (e.is_Pow and e.exp.is_Integer and e.exp <= -2 and e.base.has(x)):
        return False
    b = e.base
    if isinstance(b, hypot):
        return True
    try:
        return sp.Poly(b, x).degree() == 1
    except sp.PolynomialError:
        return False


def _reciprocal_power(e: sp.Pow) -> sp.Expr:
    """b^-k as 1/b^k, and as (1/b)^k where b^k overflows: the value may still be a
    (subnormal) number (ISRLU's d/dx = h^-3 at x = -7.3e102 is 2.6e-309, Softsign's
    (1 + |x|)^-2 at 1.6e154 is 4.1e-309)."""
    b, k = e.base, int(-e.exp)
    power = IPow(b, k)  # printed as one (compensated) power, shared with the condition
    # 1/Opaque(b): a 1/b of its own, so that sp.cse does not turn x/b elsewhere (ISRLU's
    # d/dalpha = -(x/h)^3/2) into x * (1/b), one rounding more
    return sp.Piecewise((1 / power, sp.Abs(Opaque(power)) < sp.Float(_FLOAT64_MAX)),
                        (IPow(1 / Opaque(b), k), True))


def _x_power(e: sp.Mul, x: sp.Symbol) -> tuple[int, list[sp.Expr]]:
    """(m, the other factors) for e = x^m * others, m a non-negative integer."""
    m, rest = 0, []
    for f in sp.Mul.make_args(e):
        if f == x:
            m += 1
        elif f.is_Pow and f.base == x and f.exp.is_Integer and f.exp > 0:
            m += int(f.exp)
        else:
            rest.append(f)
    return m, rest


def _power_over_hypot(e: sp.Mul, x: sp.Symbol):
    m, rest = _x_power(e, x)
    if m == 0:
        return None
    for i, f in enumerate(rest):
        if not (f.is_Pow and isinstance(f.base, hypot) and f.exp.is_Integer and f.exp < 0):
            continue
        a, c = f.base.args
        if c.has(x):
            a, c = c, a
        if c.has(x) or sp.cancel(a / x).has(x):
            continue
        n = int(-f.exp)
        j = min(m, n)
        others = rest[:i] + rest[i + 1:]
        return (sp.Mul(*others) * IPow(x / f.base, j) * x ** (m - j)
                * f.base ** (-(n - j)))
    return None


def _tends_to_minus_infinity(u: sp.Expr, x: sp.Symbol) -> bool:
    """u is a polynomial in x that tends to -oo at +oo or at -oo (the sign of its leading
    coefficient decided by the parameters' assumptions)."""
    try:
        poly = sp.Poly(u, x)
    except sp.PolynomialError:
        return False
    if poly.degree() < 1:
        return False
    lc = poly.LC()
    return bool(lc.is_negative) or (poly.degree() % 2 == 1 and bool(lc.is_nonzero))


def _power_times_vanishing_exp(e: sp.Mul, x: sp.Symbol):
    m, rest = _x_power(e, x)
    if m < 2:
        return None  # x e^u with x finite is never inf * 0
    g = next((f for f in rest if isinstance(f, sp.exp) and _tends_to_minus_infinity(f.args[0], x)),
             None)
    if g is None:
        return None
    # where u < -80 (e^u near or below float32's underflow, or float64's for u < -708),
    # e^u as e^{u/2} twice, one of them after the powers of x: the product x^m e^u need
    # not underflow where e^u does (GELU_beta's d/dbeta at x = -37.8 is 4.4e-308, e^u
    # 2e-310); elsewhere e^u once (two exponentials double its error: 4.1 ULP at x = 3.6)
    half = sp.exp(g.args[0] / 2)
    others = [f for f in rest if f is not g]
    return sp.Piecewise((XTimes(sp.Mul(*others) * half, x, m) * half, g.args[0] < -80),
                        (XTimes(sp.Mul(*rest), x, m), True))


def _sech2_argument(f: sp.Expr):
    """z when f is 1 - tanh(z)^2, else None."""
    if not f.is_Add:
        return None
    for t in f.atoms(sp.tanh):
        if sp.expand(f + t**2) == 1:
            return t.args[0]
    return None


def _exp_times_sech2(e: sp.Mul, x: sp.Symbol):
    factors = sp.Mul.make_args(e)
    exps = [f for f in factors if isinstance(f, sp.exp) and f.args[0].has(x)]
    sech = [(f, _sech2_argument(f)) for f in factors]
    sech = [(f, z) for f, z in sech if z is not None and z.has(x)]
    if not exps or not sech:
        return None
    (g, a), (s, z) = (exps[0], exps[0].args[0]), sech[0]
    m, others = _x_power(sp.Mul(*[f for f in factors if f is not g and f is not s]), x)
    # the exponential (0 where e^a overflowed) first, then the powers of x (4 x overflows
    # for x near the largest float)
    merged = XTimes(4 * sp.exp(a - Softplus(2 * z) - Softplus(-2 * z)) * sp.Mul(*others), x, m)
    # sech^2 z as 4 sigma(2z) sigma(-2z): 1 - tanh(z)^2 loses its relative accuracy once
    # tanh(z) is near 1, and e^a multiplies that absolute error (TanhExp d/dx 26 ULP at x = 2)
    direct = e.xreplace({s: 4 * Sigmoid(2 * z) * Sigmoid(-2 * z)})
    # |direct| < the largest float64 (not oo, which SymPy decides True for a real value):
    # false for inf and NaN in every compute dtype (float32 rounds the bound to inf)
    return sp.Piecewise((direct, sp.Abs(Opaque(direct)) < sp.Float(_FLOAT64_MAX)), (merged, True))


def _sigmoid_times_sech2(e: sp.Mul, x: sp.Symbol):
    """sigma(s) (1 - tanh(z)^2) -> 4 sigma(s) sigma(2z) sigma(-2z) (equal; bounded factors,
    so no overflow): Mish's d/dx = tanh(sp) + x sech^2(sp) sigma(x), whose 1 - tanh(sp)^2
    is all rounding once tanh(sp) is near 1 (9 ULP at x = 19 in float64)."""
    factors = sp.Mul.make_args(e)
    if not any(isinstance(f, Sigmoid) and f.args[0].has(x) for f in factors):
        return None
    for f in factors:
        z = _sech2_argument(f)
        if z is not None and z.has(x):
            m, others = _x_power(sp.Mul(*[g for g in factors if g is not f]), x)
            # the bounded factors first, then x (4 x overflows near the largest float,
            # and inf times a sigma that underflowed is NaN)
            return XTimes(4 * Sigmoid(2 * z) * Sigmoid(-2 * z) * sp.Mul(*others), x, m)
    return None


_FLOAT64_MAX = 1.7976931348623157e308


class Opaque(sp.Function):
    """Opaque(v) = v, printed as v: SymPy does not move factors out of it, so that a
    condition |Opaque(v)| < M tests v as the code evaluates it (|4 y| < M would become
    |y| < M/4, true where 4 y overflows)."""

    nargs = 1

    def _eval_evalf(self, prec):
        # the value of v: numeric checks of the forms (tests, certificates) see through it
        return self.args[0].evalf(mpmath.libmp.prec_to_dps(prec))


# ---- products with a vanishing exponential ---------------------------------------------
def exp_factor(v: sp.Expr, x: sp.Symbol):
    """(u, g) with v = g e^u wherever e^u is below 2^-126 (g None stands for 1), or None
    when v is none of the vanishing factors below or u cannot tend to -oo.

    * e^u: g = 1;
    * sigma(s) = e^s sigma(-s): u = s, sigma(-s) = 1 - e^s rounds to 1 (|e^s| < 2^-126);
      sigma(s) sigma(-s) = e^{-|s|} sigma(|s|)^2: u = -|s| (see :func:`vanishing_factors`);
    * Softplus(s) = log(1 + e^s) = e^s (1 - e^s/2 + ...): u = s, g = 1;
    * tanh(w), log1p(w) with w = g e^u vanishing: w (1 + O(w)), the same (u, g);
    * erfc(t) = erfcx(t) e^{-t^2} for t > 0: u = -t|t| (for t < 0, u > 0 never vanishes),
      g = erfcx(t).
    """
    if isinstance(v, sp.exp):
        u, g = v.args[0], None
    elif isinstance(v, Sigmoid):
        u, g = v.args[0], None
    elif isinstance(v, SigmoidLinear):
        c, var, d = v.args
        u, g = c * var + d, None
    elif isinstance(v, Softplus):
        u, g = v.args[0], None
    elif isinstance(v, (sp.tanh, log1p)):
        return exp_factor(v.args[0], x)
    elif isinstance(v, (Erfc, sp.erfc)):
        t = v.args[0]
        u, g = -t * sp.Abs(t), Erfcx(t)
    else:
        return None
    if not u.has(x):
        return None
    # Softplus as log(1 + e^t), so that SymPy sees Softplus(t) > 0 (Mish's sigma(2 Softplus))
    probe = u.replace(lambda e: isinstance(e, Softplus), lambda e: sp.log(1 + sp.exp(e.args[0])))
    if probe.is_nonnegative:
        return None
    return u, g


class Erfcx(sp.Function):
    """erfcx(t) = e^{t^2} erfc(t), the scaled complementary error function (the factor g of
    erfc(t) = g e^{-t^2}; printed as ``torch.special.erfcx``)."""

    nargs = 1

    def _eval_rewrite_as_erfc(self, t, **kwargs):
        return sp.exp(t**2) * sp.erfc(t)


def product_factors(e: sp.Expr) -> tuple[list[sp.Expr], list[sp.Expr], int]:
    """(factors outside any XTimes, factors of the XTimes value, k) for e = outside *
    XTimes(value, x, k) (k = 0 and no value factors when there is no XTimes)."""
    outside, inner, k = [], [], 0
    for f in (sp.Mul.make_args(e) if e.is_Mul else (e,)):
        if type(f) is XTimes and not inner and not k:
            inner, k = list(sp.Mul.make_args(f.args[0])), int(f.args[2])
        else:
            outside.append(f)
    return outside, inner, k


def vanishing_factors(factors: list[sp.Expr],
                      x: sp.Symbol) -> list[tuple[set[int], sp.Expr, sp.Expr]]:
    """(indices into ``factors``, u, g) per exponent u of the vanishing factors v = g e^u:
    factors with the same u count once with their multiplicity n as n u and the product of
    their g (GELU_beta's d/dbeta XTimes(c e^{u/2}, x, 2) e^{u/2} is c x^2 e^u; TanhExp's
    e^x tanh(e^x) is e^{2x}); sigma(s) and sigma(-s) together are
    sigma(s) sigma(-s) = e^{-|s|} (1 + O(e^{-|s|})) (one tail instead of two: only one of
    them vanishes at a time)."""
    groups: dict[sp.Expr, list] = {}  # u -> [indices, n, g, only sigmoids]
    for i, f in enumerate(factors):
        base, n = (f.base, int(f.exp)) if f.is_Pow and f.exp.is_Integer and f.exp > 0 else (f, 1)
        ug = exp_factor(base, x)
        if ug is None:
            continue
        entry = groups.setdefault(ug[0], [set(), 0, sp.S.One, True])
        entry[0].add(i)
        entry[1] += n
        entry[2] *= sp.S.One if ug[1] is None else ug[1] ** n
        entry[3] = entry[3] and isinstance(base, Sigmoid) and n == 1
    out, used = [], set()
    for u, (idx, n, g, sig) in groups.items():
        if u in used:
            continue
        other = groups.get(sp.expand(-u))
        if sig and n == 1 and other is not None and other[3] and other[1] == 1:
            used.add(sp.expand(-u))
            out.append((idx | other[0], -sp.Abs(u), sp.S.One))
            continue
        out.append((idx, n * u, g))
    return out
