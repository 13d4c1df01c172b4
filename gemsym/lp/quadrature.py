"""Numerical side of the L^p distance: quadrature and maximisation with mpmath.

The value where no closed form exists comes from the simplified difference; the independent
check (:func:`independent_check`) evaluates f and the limit from their own branches and
subtracts them with enough working precision (they agree to many digits far out), then
integrates |f - g|^p by tanh-sinh quadrature split at the junctions and at the scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import mpmath
import sympy as sp

from ..activation import Activation, order_points

__all__ = ["NotConverged", "norm_by_quadrature", "sup_by_critical_point", "independent_check", "Estimate", "branch_differences", "stable",
           "size_at_scale", "piecewise_numeric", "interior_point", "to_mpf"]


class NotConverged(ArithmeticError):
    """A numerical method did not reach the accuracy it needs (an evaluation still
    loses every digit at the highest working precision allowed, or a quadrature's error
    estimate is not small): its result must not be used."""


def interior_point(lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    if lo == -sp.oo and hi == sp.oo:
        return sp.S.Zero
    if lo == -sp.oo:
        return hi - 1
    if hi == sp.oo:
        return lo + 1
    return (lo + hi) / 2


def split_points(lo: sp.Expr, hi: sp.Expr, scale) -> list:
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


def mp_bound(c: sp.Expr):
    return mpmath.inf if c == sp.oo else (-mpmath.inf if c == -sp.oo else mpmath.mpf(sp.Float(c, 60)))


def piecewise_numeric(parts) -> Callable:
    """t -> the function of the interval holding t (parts: (lower, upper, function))."""
    table = [(mp_bound(lo), mp_bound(hi), fn) for lo, hi, fn in parts]

    def evaluate(t):
        for lo, hi, fn in table:
            if lo <= t <= hi:
                return fn(t)
        return mpmath.mpf(0)

    return evaluate


def cancellation_safe_difference(fe: sp.Expr, ge: sp.Expr, x: sp.Symbol, size, scale) -> Callable:
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
            if a == b == 0 or big - mpmath.mp.prec - extra <= tol:
                return +r
            if extra > 12000:
                raise NotConverged(f"f - limit at x = {mpmath.nstr(t, 5)} loses every digit "
                                   "at 12000 extra bits")
            if r == 0:
                extra = 2 * extra + mpmath.mp.prec
                continue
            lost = big - mpmath.mag(r)
            if lost <= extra + _SPARE_BITS:
                return +r
            extra = lost + 32

    return d


def stable(fn: Callable, size, scale) -> Callable:
    """x -> fn(x), re-evaluated with more working precision until two precisions agree
    (an expression may still subtract nearly equal numbers far out), or until its absolute
    error is below 2^-prec * size * min(1, (scale/x)^2) (see :func:`cancellation_safe_difference`)."""
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
        raise NotConverged(f"f - limit at x = {mpmath.nstr(t, 5)}: two working precisions "
                           "still disagree at 12000 extra bits")

    return evaluate


def size_at_scale(d: Callable, intervals, scale):
    """A typical |d| at the scale: the largest of |d| at +-scale/2, +-scale, +-2 scale."""
    values = [mpmath.mpf(0)]
    for lo, hi in intervals:
        lo, hi = mp_bound(lo), mp_bound(hi)
        for k in (mpmath.mpf(1) / 2, 1, 2):
            for t in (scale * k, -scale * k):
                if lo < t < hi:
                    values.append(abs(d(t)))
    return max(values)


def norm_by_quadrature(d: Callable, intervals, p: sp.Expr, scale, stretch=1):
    """((\\int |d|^p)^{1/p}, its relative error estimate) over the intervals by tanh-sinh
    quadrature, split at the junctions and at ``stretch`` times the multiples of the
    scale; an infinite end is integrated in s = log|x - c| (c the finite end, or 0), where
    a power-law tail x^{-q} becomes the exponential e^{-(q-1) s}.  The error estimate is
    mpmath's (the difference of the last two tanh-sinh levels) summed over the parts;
    a result that is not finite raises :class:`NotConverged`."""
    pm = int(p) if p.is_Integer else mpmath.mpf(sp.Float(p, mpmath.mp.dps + 10))

    # mpmath.quad stops when its error estimate is below 2^-prec in absolute terms: the
    # integrand is normalised to |d|^p * scale ~ 1 so that this means relative accuracy.
    size = size_at_scale(d, intervals, scale)
    unit = 1 / (size ** pm * scale) if size > 0 else mpmath.mpf(1)

    def g(t):
        return abs(d(t)) ** pm * unit

    total, error = mpmath.mpf(0), mpmath.mpf(0)

    def quad(fn, pts):
        nonlocal total, error
        value, err = mpmath.quad(fn, pts, error=True)
        total += value
        error += err

    for lo, hi in intervals:
        pts = split_points(lo, hi, scale * stretch)
        finite = [t for t in pts if mpmath.isfinite(t)]
        if len(finite) > 1:
            quad(g, finite)
        tails = []
        if pts[-1] == mpmath.inf:
            tails.append((mp_bound(lo) if lo != -sp.oo else mpmath.mpf(0), finite[-1], 1))
        if pts[0] == -mpmath.inf:
            tails.append((mp_bound(hi) if hi != sp.oo else mpmath.mpf(0), finite[0], -1))
        for c, a, sign in tails:
            # |d|^p at the last break point a (10^8 scales out) times |a - c| bounds a
            # power-law tail; an exponentially decaying one is below the precision there.
            if g(a) * abs(a - c) <= abs(total) * mpmath.mpf(2) ** (-mpmath.mp.prec - 8):
                continue
            # out to 2^prec times |a - c|, then the rest from the power law measured there
            s0 = mpmath.log(abs(a - c))
            s1 = s0 + mpmath.mp.prec * mpmath.ln2
            quad(lambda s: g(c + sign * mpmath.exp(s)) * mpmath.exp(s), [s0, s0 + 10, s1])
            rest, rest_err = _power_tail(g, c, sign * mpmath.exp(s1), total)
            total += rest
            error += rest_err
    if not (mpmath.isfinite(total) and mpmath.isfinite(error)) or total <= 0:
        raise NotConverged(f"the quadrature of |f - limit|^p gave {mpmath.nstr(total, 5)}")
    return (total / unit) ** (1 / mpmath.mpf(pm)), error / total / pm


def _power_tail(g: Callable, c, r, total):
    """\\int_{|x - c| > |r|} g on the side of r for g ~ C |x - c|^{-q} (q > 1), with q
    measured from g at r/4, r/2, r; the error estimate is the change of the measured
    exponent.  A tail below 2^-prec of ``total`` (the integral so far) counts as error
    only (g is then below the accuracy its evaluation promises); otherwise an exponent
    <= 1 there means the tail is not integrable numerically."""
    g4 = g(c + r)
    if g4 * abs(r) <= abs(total) * mpmath.eps:
        return mpmath.mpf(0), g4 * abs(r)
    g1, g2 = g(c + r / 4), g(c + r / 2)
    if g1 == 0 or g2 == 0:
        raise NotConverged("|f - limit|^p is zero then nonzero far out: no power-law tail")
    q1, q2 = mpmath.log(g1 / g2, 2), mpmath.log(g2 / g4, 2)
    if q2 <= 1:
        raise NotConverged(f"|f - limit|^p decays like |x|^-{mpmath.nstr(q2, 3)} far out: not integrable")
    rest = g4 * abs(r) / (q2 - 1)
    return rest, rest * abs(q1 - q2) / (q2 - 1)


def golden_max(phi: Callable, a, b):
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


def sup_numeric(d: Callable, intervals, scale):
    """sup |d| over the intervals: a log-spaced grid, then golden section around the best."""
    best = mpmath.mpf(0)
    for lo, hi in intervals:
        pts = split_points(lo, hi, scale)
        pts = [t for t in pts if mpmath.isfinite(t)]
        grid = []
        for a, b in zip(pts, pts[1:]):
            grid += [a + (b - a) * k / 16 for k in range(16)]
        grid.append(pts[-1])
        values = [abs(d(t)) for t in grid]
        i = max(range(len(grid)), key=lambda k: values[k])
        a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        best = max(best, values[i], golden_max(lambda t: abs(d(t)), a, b))
    return best


def sup_by_critical_point(raw, x, intervals, scale, d: Callable):
    """sup |d|: the best point of a grid, refined by solving d'(x) = 0 with findroot."""
    best = mpmath.mpf(0)
    for pc in raw:
        deriv = sp.lambdify(x, sp.diff(pc.diff, x), "mpmath")
        pts = [t for t in split_points(pc.lower, pc.upper, scale) if mpmath.isfinite(t)]
        grid = [a + (b - a) * k / 16 for a, b in zip(pts, pts[1:]) for k in range(16)] + [pts[-1]]
        t0 = max(grid, key=lambda t: abs(d(t)))
        best = max(best, abs(d(t0)))
        try:
            t1 = mpmath.findroot(deriv, t0)
            if mp_bound(pc.lower) <= t1 <= mp_bound(pc.upper):
                best = max(best, abs(d(t1)))
        except (ValueError, ZeroDivisionError):
            pass
    return best


def to_mpf(e: sp.Expr, dps: int):
    """The real constant ``e`` at ``dps`` + 10 digits, certified
    (:func:`gemsym.evaluate.certified`; a closed form with a spurious imaginary part is
    evaluated as its real part)."""
    from ..evaluate import certified, strict

    try:
        value = certified(e, dps + 10)
    except ValueError:  # complex: polylogarithms of real arguments beyond 1, say
        value = strict(e, dps + 10).as_real_imag()[0]
    return mpmath.mpf(str(value))



@dataclass(frozen=True)
class Estimate:
    """A numerical value with its relative error estimate (0 where the method gives
    none) and how it was obtained."""

    value: object
    rel_error: object
    method: str


def branch_differences(act: Activation, scale, size=None) -> list:
    """[(lower, upper, x -> f(x) - g(x))] on every interval between the junctions of f and
    its limit g, each evaluated from the two branches as given (cancellation-safe).  The
    tolerance of the difference is relative to ``size``, the typical |f - g| at the
    scale; when it is not given it is measured first, from the branches too."""
    f, g, x = act, act.limit.function, act.x
    bounds = [-sp.oo, *order_points([*f.junctions, *g.junctions]), sp.oo]
    if size is None:
        rough = branch_differences(act, scale, mpmath.mpf(1))
        size = size_at_scale(piecewise_numeric(rough), [(lo, hi) for lo, hi, _ in rough], scale)
        if size == 0:
            size = mpmath.mpf(1)
    funcs = []
    for lo, hi in zip(bounds, bounds[1:]):
        m = interior_point(lo, hi)
        fe = f.branches[f.branch_index(m)].expr
        ge = g.branches[g.branch_index(m)].expr.subs(g.x, x)
        funcs.append((lo, hi, cancellation_safe_difference(fe, ge, x, size, scale)))
    return funcs


def independent_check(act: Activation, p: sp.Expr, scale, dps: int, stretch=mpmath.mpf(3) / 4) -> Estimate:
    """Independent evaluation from the branches of f and of the limit (not from the
    simplified difference, nor from the value it checks): tanh-sinh quadrature of
    |f - g|^p with break points at ``stretch`` times those of the value's quadrature (a
    different rule), or a golden-section maximisation for p = oo.
    Raises :class:`NotConverged` when the quadrature does not converge."""
    funcs = branch_differences(act, scale)
    if p == sp.oo:
        found = max(sup_numeric(fn, [(lo, hi)], scale) for lo, hi, fn in funcs)
        return Estimate(+found, mpmath.mpf(0),
                        "golden-section maximisation of |f - limit| from the branches of f and limit")
    pieces = [(lo, hi) for lo, hi, _ in funcs]
    found, err = norm_by_quadrature(piecewise_numeric(funcs), pieces, p, scale, stretch)
    return Estimate(+found, +err, f"mpmath.quad (tanh-sinh, dps={mpmath.mp.dps}) of |f - limit|^p "
                    "from the branches of f and limit, split at the junctions and at the scale")
