r"""The L^p distance between a family and its declared limit.

For an activation f with ``f.limit = Limit(param, value, g)`` this module computes

    \|f - g\|_p = ( \int_{-\infty}^{\infty} |f(x) - g(x)|^p dx )^{1/p}   (1 <= p < oo),
    \|f - g\|_\infty = \sup_x |f(x) - g(x)|,

branch by branch (never on a ``Piecewise``): the real line is cut at the junctions of f
and of g, and on every interval the difference d = f - g is one expression (intervals where
the branches coincide contribute 0).  Then

* **finiteness** comes from the leading behaviour of d at +-oo and at the junctions
  (a power c x^e or an exponential decay), read off by the one-sided series engine or by
  SymPy's Gruntz limits: |d|^p ~ x^{pe} integrates at oo iff p e < -1;
* **the rate** comes from a scaling symmetry found by SymPy: if
  alpha x d_x + lambda d_lambda = beta d identically, then d(lambda^alpha u; lambda) =
  lambda^beta d(u; 1), so \|d\|_p = lambda^{beta + alpha/p} \|d(.; 1)\|_p;
* **the closed form** comes from reducing \int_0^oo |h|^p du to the Mellin integral
  \int_0^oo y^{s-1} (1 + y)^{-c} dy (evaluated by SymPy once, with its convergence
  condition) when |h|^p = K u^A (c0 + c1 u^B)^{-C}, from a polylog series when
  |h|^p = u^m R(e^{-k u}) with R rational (integer p), and from the critical points of h
  for p = oo;
* **the value** is the closed form evaluated by mpmath, or a quadrature of d where no closed
  form was found, always checked by an independent mpmath quadrature of |f - g|^p built
  from the branches of f and g themselves (cancellation-aware).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import mpmath
import sympy as sp

from .activation import Activation
from .parameters import SYMBOLIC, ParameterError, parse_value
from .series import NotExpandable, SeriesEngine, Undecidable, is_zero

__all__ = ["LpDistance", "P", "parse_p", "lp_distance", "lp_table"]

#: The exponent p when it is kept symbolic (p >= 1 is imposed by the analysis).
P = sp.Symbol("p", positive=True)
_T = sp.Symbol("t", positive=True)
_U = sp.Symbol("u", positive=True)


@dataclass(frozen=True)
class LpDistance:
    """The distance ||f - limit||_p for one bound family and one p (see the module docstring)."""

    activation: Activation
    limit: Activation
    parameter: str
    p: sp.Expr
    converges: bool | None
    condition: sp.Basic
    closed_form: sp.Expr | None
    rate: sp.Expr | None
    value: object | None
    check: dict | None
    reason: str


def parse_p(p) -> sp.Expr:
    """p as an exact number >= 1, ``oo`` for 'inf', or the positive symbol :data:`P`."""
    if p is sp.oo or (isinstance(p, float) and p == math.inf):
        return sp.oo
    if isinstance(p, str):
        text = p.strip().lower()
        if text in {"inf", "+inf", "oo", "infinity"}:
            return sp.oo
        if text == SYMBOLIC:
            return P
    if isinstance(p, sp.Symbol):
        if p.is_positive:
            return p
        raise ParameterError(f"p must be a positive symbol (got {p!r})")
    allowed = "allowed: a real number >= 1, 'inf' or 'symbolic'"
    try:
        value = parse_value("p", p)
    except ParameterError:
        raise ParameterError(f"p must be a number (got {p!r}); {allowed}") from None
    if not value.is_real or value < 1:
        raise ParameterError(f"p must be >= 1 (got {p!r}); {allowed}")
    return value


# --------------------------------------------------------------------- pieces of f - g
@dataclass(frozen=True)
class _Piece:
    lower: sp.Expr
    upper: sp.Expr
    diff: sp.Expr      # simplified f - g on (lower, upper)
    f_expr: sp.Expr    # the branch of f, as given
    g_expr: sp.Expr    # the branch of the limit, as given


def _interior(lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    if lo == -sp.oo and hi == sp.oo:
        return sp.S.Zero
    if lo == -sp.oo:
        return hi - 1
    if hi == sp.oo:
        return lo + 1
    return (lo + hi) / 2


def _simplify(e: sp.Expr) -> sp.Expr:
    try:
        return sp.cancel(sp.together(sp.powsimp(e)))
    except (sp.PolynomialError, NotImplementedError, TypeError):
        return e


def _pieces(f: Activation, g: Activation) -> list[_Piece]:
    """f - g on every interval between the junctions of f and g (zero pieces dropped)."""
    points = set(f.junctions) | set(g.junctions)
    if any(not c.is_number for c in points):
        raise ValueError(f"{f.name}: junctions must be numbers for the L^p distance (got {sorted(map(str, points))})")
    bounds = [-sp.oo, *sorted(points, key=float), sp.oo]
    out = []
    for lo, hi in zip(bounds, bounds[1:]):
        m = _interior(lo, hi)
        fe = f.branches[f.branch_index(m)].expr
        ge = g.branches[g.branch_index(m)].expr.subs(g.x, f.x)
        d = _simplify(fe - ge)
        if not _vanishes(d, f.x, m):
            out.append(_Piece(lo, hi, d, fe, ge))
    return out


def _vanishes(d: sp.Expr, x: sp.Symbol, m: sp.Expr) -> bool:
    """d == 0 identically; a clearly nonzero value at a sample point settles 'no' cheaply."""
    sample = {s: (2 if s.is_integer else sp.Rational(3, 7)) for s in d.free_symbols if s != x}
    for t in (m + sp.Rational(1, 3), m - sp.Rational(1, 3)):
        try:
            value = complex(sp.N(d.subs(sample).subs(x, t), 20))
        except (TypeError, ValueError):
            continue
        if abs(value) > 1e-12:
            return False
    return is_zero(d)


def _reparametrisation(act: Activation) -> tuple[dict, dict]:
    """Positive stand-ins for symbolic parameters bounded on one side (a < 1 -> a = 1 - A,
    A > 0), so that SymPy's assumptions know their signs.  Returns (forward, back)."""
    forward, back = {}, {}
    free = act.free_symbols
    for param in act.parameters:
        s = param.symbol
        if s not in free or s.is_positive or param.integer:
            continue
        lo, hi = param.domain.inf, param.domain.sup
        stand_in = sp.Dummy(f"{param.name}_", positive=True)
        if lo == -sp.oo and hi != sp.oo:
            forward[s], back[stand_in] = hi - stand_in, hi - s
        elif hi == sp.oo and lo != -sp.oo:
            forward[s], back[stand_in] = lo + stand_in, s - lo
    return forward, back


# --------------------------------------------------------------------- behaviour at ends
@dataclass(frozen=True)
class _End:
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


def _end(d: sp.Expr, x: sp.Symbol, point: sp.Expr, side: int) -> _End:
    infinite = point in (sp.oo, -sp.oo)
    if infinite:
        e = d.subs(x, sp.sign(point) / _T)
    else:
        e = d.subs(x, point + side * _T)
    try:
        s = SeriesEngine(_T).leading_expansion(e, sp.S.One)
        k = SeriesEngine(_T).low(s)
        return _End(point, side, "power", -k if infinite else k, s.terms[k])
    except (NotExpandable, Undecidable, RecursionError, TypeError, ValueError, KeyError):
        pass
    if infinite:
        try:
            rate = sp.limit(sp.log(d**2) / (2 * x), x, point)
            if (rate * sp.sign(point)).is_negative:
                return _End(point, side, "decay")
            if (rate * sp.sign(point)).is_positive:
                return _End(point, side, "power", sp.oo)
        except (NotImplementedError, ValueError, TypeError):
            pass
    return _End(point, side, "unknown")


def _end_condition(end: _End, p: sp.Expr) -> sp.Basic:
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


def _decide(cond: sp.Basic, act: Activation) -> bool | None:
    """Truth of ``cond`` for every p >= 1 and every admissible parameter value."""
    if cond in (sp.true, sp.false):
        return bool(cond)
    if isinstance(cond, sp.And):
        parts = [_decide(c, act) for c in cond.args]
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


def _describe(end: _End, x: sp.Symbol) -> str:
    if end.kind == "decay":
        return f"{end.where}: |f - limit| decays exponentially"
    if end.kind == "unknown":
        return f"{end.where}: behaviour of |f - limit| not determined"
    if end.exponent == sp.oo:
        return f"{end.where}: |f - limit| grows exponentially"
    r = f"|{x}|" if end.point in (sp.oo, -sp.oo) or end.point == 0 else f"|{x - end.point}|"
    return f"{end.where}: |f - limit| ~ {sp.Abs(end.coef)} * {r}^({end.exponent})"


# --------------------------------------------------------------------- scaling and rate
def _scaling(d: sp.Expr, x: sp.Symbol, lam: sp.Symbol, side: int = 1) -> tuple[sp.Expr, sp.Expr] | None:
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


# --------------------------------------------------------------------- closed forms
@lru_cache(maxsize=1)
def _mellin_beta() -> tuple[sp.Symbol, sp.Symbol, sp.Expr, sp.Basic]:
    """SymPy's own evaluation of \\int_0^oo y^{s-1} (1+y)^{-c} dy with its condition."""
    y, s, c = sp.symbols("y s c", positive=True)
    result = sp.integrate(y ** (s - 1) * (1 + y) ** (-c), (y, 0, sp.oo), conds="piecewise")
    expr, cond = result.args[0] if isinstance(result, sp.Piecewise) else (result, sp.true)
    return s, c, expr, cond


def _sign(h: sp.Expr, u: sp.Symbol) -> int | None:
    if h.is_positive:
        return 1
    if h.is_negative:
        return -1
    return None


def _beta_integral(h: sp.Expr, u: sp.Symbol, p: sp.Expr) -> sp.Expr | None:
    """\\int_0^oo |h(u)|^p du when |h| = K u^A (c0 + c1 u^B)^{-E} (c0, c1, B > 0): with
    u^B = (c0/c1) y it is K^p (c0/c1)^s c0^{-pE} / B * \\int_0^oo y^{s-1}(1+y)^{-pE} dy,
    s = (pA + 1)/B."""
    sign = _sign(h, u)
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
    s_sym, c_sym, expr, _ = _mellin_beta()
    s, C = (p * A + 1) / B, -p * e
    mellin = expr.subs({s_sym: s, c_sym: C})
    return K**p * (c0 / c1) ** s * c0 ** (-C) / B * mellin


def _exp_series_integral(h: sp.Expr, u: sp.Symbol, p: sp.Expr) -> sp.Expr | None:
    """\\int_0^oo |h(u)|^p du for integer p when |h|^p = u^m R(w), w = e^{-k u}, R rational
    with R(0) = 0: expand R(w) = sum_j a_j w^j by partial fractions, integrate term by term
    (\\int_0^oo u^m e^{-j k u} du = m!/(j k)^{m+1}) and let SymPy sum the series."""
    if not (p.is_Integer and p > 0) or not h.has(sp.exp):
        return None
    sign = _sign(h, u)
    if sign is None:
        return None
    g = sp.powsimp(sp.expand_power_exp(sp.expand((sign * h) ** p)))
    rates = {sp.simplify(a.args[0] / u) for a in g.atoms(sp.exp)}
    if any(r.has(u) for r in rates):
        return None
    k = next((r for r in rates if r.is_negative), None)
    k = -k if k is not None else next(iter(rates), None)
    if k is None or not k.is_positive or not all((r / k).is_rational for r in rates):
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
        base, n = den.as_base_exp()
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


def _integral(h: sp.Expr, u: sp.Symbol, p: sp.Expr) -> sp.Expr | None:
    for method in (_beta_integral, _exp_series_integral):
        result = method(h, u, p)
        if result is not None:
            return result
    return None


def _is_positive(r: sp.Expr) -> bool:
    """r > 0, knowing that LambertW is positive at positive arguments."""
    if r.is_positive:
        return True
    marked = r.replace(lambda e: isinstance(e, sp.LambertW) and len(e.args) == 1 and e.args[0].is_positive,
                       lambda e: sp.Dummy("W", positive=True))
    return bool(marked.is_positive)


def _sup(h: sp.Expr, u: sp.Symbol, ends: Sequence[_End]) -> sp.Expr | None:
    """sup_{u > 0} |h(u)| from the critical points of h and the end values."""
    sign = _sign(h, u)
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
        if not _is_positive(r):
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


# --------------------------------------------------------------------- numerics
def _split_points(lo: sp.Expr, hi: sp.Expr, scale) -> list:
    """Quadrature break points: the ends and lo + scale*{1/4, 1/2, 1, 2, 5, 10, ..., 1e8}."""
    steps = [mpmath.mpf(1) / 4, mpmath.mpf(1) / 2, 1, 2, 5] + [mpmath.mpf(10) ** k for k in range(1, 9)]
    if lo != -sp.oo and hi != sp.oo:
        a, b = mpmath.mpf(sp.Float(lo, 40)), mpmath.mpf(sp.Float(hi, 40))
        return [a + (b - a) * k / 8 for k in range(9)]
    if lo != -sp.oo:
        a = mpmath.mpf(sp.Float(lo, 40))
        return [a] + [a + scale * k for k in steps] + [mpmath.inf]
    if hi != sp.oo:
        b = mpmath.mpf(sp.Float(hi, 40))
        return [-mpmath.inf] + [b - scale * k for k in reversed(steps)] + [b]
    return [-mpmath.inf] + [-scale * k for k in reversed(steps)] + [0] + [scale * k for k in steps] + [mpmath.inf]


#: bits the working precision (dps + 10 digits) may lose in a subtraction
_SPARE_BITS = 24


def _mp_bound(c: sp.Expr):
    return mpmath.inf if c == sp.oo else (-mpmath.inf if c == -sp.oo else mpmath.mpf(sp.Float(c, 60)))


def _piecewise_numeric(parts) -> Callable:
    """t -> the function of the interval holding t (parts: (lower, upper, function))."""
    table = [(_mp_bound(lo), _mp_bound(hi), fn) for lo, hi, fn in parts]

    def evaluate(t):
        for lo, hi, fn in table:
            if lo <= t <= hi:
                return fn(t)
        return mpmath.mpf(0)

    return evaluate


def _difference(fe: sp.Expr, ge: sp.Expr, x: sp.Symbol, size, scale) -> Callable:
    """x -> f(x) - g(x) evaluated from the two branches, with the working precision raised
    until the subtraction keeps the full relative precision (f and g agree to many digits
    far out) or its absolute error is below 2^-prec * size * min(1, (scale/x)^2), which
    makes the error's integral negligible next to a norm of order ``size``."""
    F, G = sp.lambdify(x, fe, "mpmath"), sp.lambdify(x, ge, "mpmath")
    floor = mpmath.mag(size) - mpmath.mp.prec - 8

    def d(t):
        extra = 0
        tol = floor - 2 * max(0, mpmath.mag(t) - mpmath.mag(scale))
        while True:
            with mpmath.extraprec(extra):
                a, b = mpmath.mpf(F(t)), mpmath.mpf(G(t))
                r = a - b
            big = mpmath.mag(max(abs(a), abs(b)))
            if a == b == 0 or extra > 12000 or big - mpmath.mp.prec - extra <= tol:
                return +r
            if r == 0:
                extra = 2 * extra + mpmath.mp.prec
                continue
            lost = big - mpmath.mag(r)
            if lost <= extra + _SPARE_BITS:
                return +r
            extra = lost + 32

    return d


def _stable(fn: Callable, size, scale) -> Callable:
    """x -> fn(x), re-evaluated with more working precision until two precisions agree
    (an expression may still subtract nearly equal numbers far out), or until its absolute
    error is below 2^-prec * size * min(1, (scale/x)^2) (see :func:`_difference`)."""
    floor = mpmath.mag(size) - mpmath.mp.prec - 8

    def evaluate(t):
        tol = floor - 2 * max(0, mpmath.mag(t) - mpmath.mag(scale))
        with mpmath.extraprec(_SPARE_BITS):
            a = mpmath.mpf(fn(t))
        extra = 2 * _SPARE_BITS
        while extra < 12000:
            with mpmath.extraprec(extra):
                b = mpmath.mpf(fn(t))
            gap = abs(a - b)
            if gap == 0 or mpmath.mag(gap) <= max(mpmath.mag(b) - mpmath.mp.prec - 4, tol):
                return +b
            a, extra = b, 2 * extra
        return +a

    return evaluate


def _size(d: Callable, intervals, scale):
    """A typical |d| at the scale: the largest of |d| at +-scale/2, +-scale, +-2 scale."""
    values = [mpmath.mpf(0)]
    for lo, hi in intervals:
        lo, hi = _mp_bound(lo), _mp_bound(hi)
        for k in (mpmath.mpf(1) / 2, 1, 2):
            for t in (scale * k, -scale * k):
                if lo < t < hi:
                    values.append(abs(d(t)))
    return max(values)


def _norm_by_quadrature(d: Callable, intervals, p: sp.Expr, scale, stretch=1):
    """(\\int |d|^p)^{1/p} over the intervals by tanh-sinh quadrature, split at the
    junctions and at ``stretch`` times the multiples of the scale."""
    pm = int(p) if p.is_Integer else mpmath.mpf(sp.Float(p, mpmath.mp.dps + 10))
    total = mpmath.mpf(0)
    for lo, hi in intervals:
        total += mpmath.quad(lambda t: abs(d(t)) ** pm, _split_points(lo, hi, scale * stretch))
    return total ** (1 / mpmath.mpf(pm))


def _golden_max(phi: Callable, a, b):
    """max of a unimodal phi on [a, b] by golden-section search."""
    ratio = (mpmath.sqrt(5) - 1) / 2
    c, e = b - ratio * (b - a), a + ratio * (b - a)
    fc, fe = phi(c), phi(e)
    tol = mpmath.mpf(2) ** (-mpmath.mp.prec // 2 - 4)
    while abs(b - a) > tol * (abs(a) + abs(b) + tol):
        if fc > fe:
            b, e, fe = e, c, fc
            c = b - ratio * (b - a)
            fc = phi(c)
        else:
            a, c, fc = c, e, fe
            e = a + ratio * (b - a)
            fe = phi(e)
    return max(fc, fe)


def _sup_numeric(d: Callable, intervals, scale):
    """sup |d| over the intervals: a log-spaced grid, then golden section around the best."""
    best = mpmath.mpf(0)
    for lo, hi in intervals:
        pts = _split_points(lo, hi, scale)
        pts = [t for t in pts if mpmath.isfinite(t)]
        grid = []
        for a, b in zip(pts, pts[1:]):
            grid += [a + (b - a) * k / 16 for k in range(16)]
        grid.append(pts[-1])
        values = [abs(d(t)) for t in grid]
        i = max(range(len(grid)), key=lambda k: values[k])
        a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        best = max(best, values[i], _golden_max(lambda t: abs(d(t)), a, b))
    return best


def _sup_by_critical_point(raw, x, intervals, scale, d: Callable):
    """sup |d|: the best point of a grid, refined by solving d'(x) = 0 with findroot."""
    best = mpmath.mpf(0)
    for pc in raw:
        deriv = sp.lambdify(x, sp.diff(pc.diff, x), "mpmath")
        pts = [t for t in _split_points(pc.lower, pc.upper, scale) if mpmath.isfinite(t)]
        grid = [a + (b - a) * k / 16 for a, b in zip(pts, pts[1:]) for k in range(16)] + [pts[-1]]
        t0 = max(grid, key=lambda t: abs(d(t)))
        best = max(best, abs(d(t0)))
        try:
            t1 = mpmath.findroot(deriv, t0)
            if _mp_bound(pc.lower) <= t1 <= _mp_bound(pc.upper):
                best = max(best, abs(d(t1)))
        except (ValueError, ZeroDivisionError):
            pass
    return best


def _to_mpf(e: sp.Expr, dps: int):
    value = sp.N(e, dps + 10)
    if value.has(sp.I):
        value = sp.re(value)
    return mpmath.mpf(str(value))


# --------------------------------------------------------------------- the analysis
def _with_symbolic_limit_parameter(act: Activation, unbound: Activation | None):
    """(the family with the limiting parameter symbolic and the others as in ``act``,
    the value of the limiting parameter in ``act`` or None)."""
    name = act.limit.parameter
    sym = act.parameter(name).symbol
    value = act.values.get(name, sym)
    if value == sym:
        return act, None
    candidates = [unbound] if unbound is not None else []
    from .families import FAMILIES  # the registry rebuilds a built-in family unbound

    if act.name in FAMILIES:
        candidates.append(FAMILIES[act.name]())
    others = {k: v for k, v in act.values.items() if k != name}
    for cand in candidates:
        try:
            rebuilt = cand.bind(**others)
            again = rebuilt.bind(**{name: value})
        except (ValueError, TypeError):
            continue
        same = [b.expr for b in again.branches] == [b.expr for b in act.branches] and [
            b.expr for b in again.limit.function.branches
        ] == [b.expr for b in act.limit.function.branches]
        if same:
            return rebuilt, value
    return None, value


def _families_with_limit() -> str:
    from .families import FAMILIES

    return ", ".join(n for n, make in FAMILIES.items() if make().limit is not None)


def lp_distance(act: Activation, p, *, dps: int = 30, check: bool = True,
                unbound: Activation | None = None) -> LpDistance:
    """\\|f - limit\\|_p for the family ``act`` (parameters concrete or symbolic) and
    p >= 1, 'inf' or 'symbolic': finiteness condition, closed form, rate in the limiting
    parameter, value and an independent quadrature check.  ``unbound`` is the same
    family before binding (needed for the rate of a user family whose limiting parameter
    is bound; built-in families are rebuilt from the registry)."""
    p = parse_p(p)
    if act.limit is None:
        raise ValueError(
            f"family {act.name!r} declares no limit; families with one: {_families_with_limit()}"
        )
    if not isinstance(dps, int) or dps < 15:
        raise ValueError(f"dps must be an integer >= 15 (got {dps!r})")
    name, x = act.limit.parameter, act.x
    lam = act.parameter(name).symbol
    work, lam_value = _with_symbolic_limit_parameter(act, unbound)
    notes: list[str] = []
    if work is None:
        work = act
        notes.append(f"the rate needs {name} symbolic: this family could not be rebuilt unbound")
    forward, back = _reparametrisation(work)
    pieces = _pieces(work, work.limit.function)
    diffs = [_simplify(pc.diff.subs(forward)) for pc in pieces]

    def finish(e):
        if e is None:
            return None
        e = e.subs(back)
        if lam_value is not None:
            e = e.subs(lam, lam_value)
        return e

    # finiteness ------------------------------------------------------------------
    ends = []
    for pc, d in zip(pieces, diffs):
        ends += [_end(d, x, pc.lower, +1), _end(d, x, pc.upper, -1)]
    p_general = sp.oo if p == sp.oo else P
    general = [finish(_end_condition(e, p_general)) for e in ends]
    kept = [c for c in general if _decide(c, work) is not True]
    condition = sp.And(*kept) if kept else sp.true
    actual = [c.subs(P, p) if p != sp.oo else c for c in general]
    verdicts = [_decide(c, work) for c in actual]
    converges = False if False in verdicts else (True if all(verdicts) else None)
    behaviour = "; ".join(_describe(e, x) for e in ends)
    lines = [f"f - limit is nonzero on {len(pieces)} interval(s); {behaviour}" if pieces
             else "f coincides with its limit"]
    if converges is False:
        bad = [_describe(e, x) for e, v in zip(ends, verdicts) if v is False]
        what = "unbounded" if p == sp.oo else f"|f - limit|^{p} is not integrable"
        lines.append(f"infinite: {what} there ({'; '.join(bad)}); finite iff {condition}")
    elif converges is None:
        lines.append(f"finite iff {condition}")

    # scaling and rate -------------------------------------------------------------
    rate, scaling = None, None
    if lam in work.free_symbols and act.limit.value in (0, sp.oo) and pieces:
        found = [_scaling(d, x, lam, -1 if pc.upper == 0 else 1) for pc, d in zip(pieces, diffs)]
        if all(found) and len(set(found)) == 1 and all(
            pc.lower in (0, -sp.oo) and pc.upper in (0, sp.oo) for pc in pieces
        ):
            scaling = found[0]
            alpha, beta = scaling
            rate = finish(beta if p == sp.oo else beta + alpha / p)
            if converges is not False:
                lines.append(f"scaling: x = {lam}**({finish(alpha)})*u gives f - limit = "
                             f"{lam}**({finish(beta)})*h(u), so the distance ~ C*{lam}**({rate})")
        else:
            notes.append(f"no scaling x = {lam}^alpha u found: no rate")
    elif not pieces:
        rate = None

    # closed form ------------------------------------------------------------------
    closed = None
    if converges is not False and pieces:
        closed = _closed_form(pieces, diffs, ends, x, lam, p, scaling, notes)
        closed = finish(closed)
        if closed is not None:
            closed = _tidy(closed)
    elif not pieces:
        closed = sp.S.Zero

    # value and check ----------------------------------------------------------------
    value, check_result = None, None
    concrete = act.is_concrete and act.limit.function.is_concrete and p != P
    if converges and concrete:
        with mpmath.workdps(dps + 10):
            scale = mpmath.mpf(1)
            if scaling is not None and lam_value is not None:
                scale = _to_mpf(sp.Pow(lam_value, scaling[0]), dps)
            raw = _pieces(act, act.limit.function)
            intervals = [(pc.lower, pc.upper) for pc in raw]
            if closed is not None and not closed.free_symbols:
                value = _to_mpf(closed, dps)
                source = "closed form"
            else:
                fast = _piecewise_numeric(
                    [(pc.lower, pc.upper, sp.lambdify(x, pc.diff, "mpmath")) for pc in raw])
                simplified = _stable(fast, _size(fast, intervals, scale), scale)

                if p == sp.oo:
                    value = _sup_by_critical_point(raw, x, intervals, scale, simplified)
                    source = "critical point of the simplified f - limit (mpmath.findroot)"
                else:
                    value = _norm_by_quadrature(simplified, intervals, p, scale, 1)
                    source = "tanh-sinh quadrature of the simplified |f - limit|^p"
            if check:
                check_result = _check(act, p, scale, value, dps)
            lines.append(f"value from the {source}")
        if value is not None:
            with mpmath.workdps(dps):
                value = +value  # rounded to dps digits (kept at that precision)
    elif converges and not concrete:
        lines.append("no numerical value: some parameter or p is symbolic")
    reason = "; ".join(lines + notes)
    return LpDistance(
        activation=act,
        limit=act.limit.function,
        parameter=name,
        p=p,
        converges=converges,
        condition=condition,
        closed_form=closed if converges is not False else None,
        rate=rate if converges is not False else None,
        value=value,
        check=check_result,
        reason=reason,
    )


def _tidy(e: sp.Expr) -> sp.Expr:
    try:
        return sp.powsimp(e.rewrite(sp.zeta) if e.has(sp.dirichlet_eta) else e)
    except (TypeError, ValueError, NotImplementedError):
        return e


def _closed_form(pieces, diffs, ends, x, lam, p, scaling, notes) -> sp.Expr | None:
    """Sum over the pieces of \\int |d|^p (resp. max of sup |d|), each mapped to u > 0
    (``ends``: the behaviour at the lower and upper end of every piece, in order)."""
    parts = []
    for i, (pc, d) in enumerate(zip(pieces, diffs)):
        lower, upper = ends[2 * i], ends[2 * i + 1]
        if scaling is not None:
            d = d.subs(lam, 1)
        if pc.lower != -sp.oo and pc.upper == sp.oo:
            h = d.subs(x, pc.lower + _U)
            near, far = lower, upper
        elif pc.lower == -sp.oo and pc.upper != sp.oo:
            h = d.subs(x, pc.upper - _U)
            near, far = upper, lower
        else:
            notes.append(f"no closed form on ({pc.lower}, {pc.upper}): only half-lines are reduced")
            return None
        h = _simplify(h)
        if p == sp.oo:
            at_lam_1 = {lam: 1} if scaling is not None else {}
            u_ends = [_End(sp.S.Zero, +1, near.kind, near.exponent,
                           None if near.coef is None else near.coef.subs(at_lam_1)),
                      _End(sp.oo, -1, far.kind, far.exponent,
                           None if far.coef is None else far.coef.subs(at_lam_1))]
            part = _sup(h, _U, u_ends)
        else:
            part = _integral(h, _U, p)
        if part is None:
            what = "sup" if p == sp.oo else "integral"
            notes.append(f"no closed form found for the {what} on ({pc.lower}, {pc.upper}) "
                         f"of |{h}|{'' if p == sp.oo else f'^{p}'} (u = |x - junction|)")
            return None
        parts.append(part)
    if p == sp.oo:
        total = parts[0] if len(parts) == 1 else sp.Max(*parts)
        return total if scaling is None else lam ** scaling[1] * total
    total = sp.Add(*parts)
    if scaling is None:
        return total ** (1 / p)
    alpha, beta = scaling
    return lam ** (beta + alpha / p) * total ** (1 / p)


def _check(act: Activation, p: sp.Expr, scale, value, dps: int) -> dict:
    """Independent evaluation from the branches of f and of the limit (not from the
    simplified difference): tanh-sinh quadrature of |f - g|^p, or a maximisation for p = oo."""
    f, g, x = act, act.limit.function, act.x
    points = sorted(set(f.junctions) | set(g.junctions), key=float)
    bounds = [-sp.oo, *points, sp.oo]
    funcs = []
    for lo, hi in zip(bounds, bounds[1:]):
        m = _interior(lo, hi)
        fe = f.branches[f.branch_index(m)].expr
        ge = g.branches[g.branch_index(m)].expr.subs(g.x, x)
        size = value if p == sp.oo or value == 0 else value / scale ** (1 / mpmath.mpf(sp.Float(p, 30)))
        funcs.append((lo, hi, _difference(fe, ge, x, size, scale)))
    total = mpmath.mpf(0)
    if p == sp.oo:
        found = max(_sup_numeric(fn, [(lo, hi)], scale) for lo, hi, fn in funcs)
        method = "golden-section maximisation of |f - limit| from the branches of f and limit"
    else:
        pieces = [(lo, hi) for lo, hi, _ in funcs]
        raw = _piecewise_numeric(funcs)

        # break points at 3/4 of those of the value's quadrature: a different rule
        found = _norm_by_quadrature(raw, pieces, p, scale, mpmath.mpf(3) / 4)
        method = (f"mpmath.quad (tanh-sinh, dps={dps + 10}) of |f - limit|^p from the branches "
                  "of f and limit, split at the junctions and at the scale")
    rel = abs(found - value) / abs(value) if value != 0 else abs(found)
    return {"method": method, "value": +found, "rel_diff": +rel}


# --------------------------------------------------------------------- table for `make run`
def lp_table(Ns: Sequence[int] = (1, 2, 3), ps: Sequence = (1, 2, "inf"), eps="1/10000",
             dps: int = 30) -> str:
    """The E-GEM table \\|E-GEM_{N,eps} - ReLU\\|_p for N in ``Ns`` and p in ``ps`` at the
    given eps, then Sqish at its defaults (a=0, beta=1, gamma=1) vs max(a x, x)."""
    from .families import e_gem, sqish

    acts = [e_gem().bind(N=N, eps=eps) for N in Ns] + [sqish().with_defaults()]
    rows = []
    for act in acts:
        for p in ps:
            r = lp_distance(act, p, dps=dps)
            rows.append(_table_row(r))
    head = ("family", "p", "||f - limit||_p", "closed form", "rate", "check rel diff")
    widths = [max(len(row[i]) for row in rows + [head]) for i in range(len(head))]
    widths[3] = min(widths[3], 44)
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = list(row)
        if len(cells[3]) > 44:
            cells[3] = cells[3][:41] + "..."
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
    return "\n".join(lines)


def _table_row(r: LpDistance) -> tuple[str, ...]:
    p = "inf" if r.p == sp.oo else str(r.p)
    rate = "-" if r.rate is None else f"{r.parameter}^({r.rate})"
    if r.converges is False:
        return (r.activation.label, p, "infinite", f"finite iff {r.condition}", "-", "-")
    value = "-" if r.value is None else mpmath.nstr(r.value, 16)
    closed = "(numerical)" if r.closed_form is None else str(r.closed_form)
    rel = "-" if r.check is None else mpmath.nstr(r.check["rel_diff"], 2)
    return (r.activation.label, p, value, closed, rate, rel)
