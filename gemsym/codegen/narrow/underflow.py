"""Narrow bodies near x = 0, where a power of x is no longer a normal float64 number.

A narrow body (see :mod:`.narrow`) drops the underflow guard of a power x^k when x^k stays
a normal float64 number for the smallest nonzero narrow input, 2^-149: k <= 6.  For larger
k, x^k underflows in float64 for |x| below 2^(-969/k) (it keeps fewer than 53 bits there,
or becomes a zero).  Such inputs are float32 subnormals or tiny normals, and where the
body's true value is tiny there too (GEM's f ~ x^{2N+1} near 0), both the exact value and
its float64 evaluation round to a zero of the same sign in every narrow dtype: the guard
is not needed either.  :func:`rounds_to_zero_near_zero` proves that with interval
arithmetic over the inputs in [2^-149, 2^(-969/k)] (and their negatives) and every real
parameter's narrow value:

- an enclosure of the float64 evaluation, each operation widened by its rounding
  (relative 2^-53 per rounding, and an absolute 2^-1074, the subnormal spacing, times the
  largest factor that error can be multiplied by later), so that underflowed intermediates
  are covered whatever the order of a product's factors;
- the sign bit of that evaluation, zeros included (IEEE: a product's or quotient's sign is
  the exclusive or of its operands' signs even when it underflows; a sum's is its value's
  when its enclosure excludes 0, or its terms' common sign);
- the exact value's enclosure, which must exclude 0 and have that sign.

Both must lie within 2^-151 of 0: below half the smallest float32 subnormal, so float32,
bfloat16 and float16 round them to the zero of their sign.  Any other operation (a
selection, an exponential, a guard left in the body) is not enclosed here: no claim.
"""

from __future__ import annotations

import math

import mpmath
import sympy as sp

from ..stable import IPow
from ..tails import Opaque

__all__ = ["rounds_to_zero_near_zero"]

#: float64's relative rounding error (round to nearest) and its subnormal spacing
_REL = mpmath.mpf(2) ** -53
_ABS = mpmath.mpf(2) ** -1074
#: a value this small (exact or evaluated) rounds to a zero in every narrow dtype
_ZERO_BELOW = mpmath.mpf(2) ** -151
#: the smallest nonzero narrow input (float32's smallest subnormal) is 2^-_SMALLEST
_SMALLEST = 149
#: span of the input intervals, in powers of two (as ``clamp._nonzero``)
_SPAN = 8


class _NoClaim(Exception):
    pass


def _widen(v, roundings: int, scale):
    """``v`` (an mpmath interval) widened by ``roundings`` float64 roundings, each relative
    (2^-53) plus an absolute 2^-1074 multiplied by ``scale`` (>= 1)."""
    if roundings <= 0:
        return v
    a, b = mpmath.mpf(v.a), mpmath.mpf(v.b)
    # exact value u: the evaluation is u (1 + d) + h, |d| <= (1 + 2^-53)^r - 1 <= 2 r
    # 2^-53 for any r used here, |h| <= r 2^-1074 scale; twice that for safety
    rel, pad = 4 * roundings * _REL, 4 * roundings * _ABS * scale
    return mpmath.iv.mpf([a - abs(a) * rel - pad, b + abs(b) * rel + pad])


def _mag(v):
    """The largest magnitude in the interval v, as an mpf."""
    return max(abs(mpmath.mpf(v.a)), abs(mpmath.mpf(v.b)))


def _sign_of(v) -> int | None:
    if v.a > 0:
        return 1
    if v.b < 0:
        return -1
    return None


def _evaluated(e: sp.Expr, env: dict) -> tuple:
    """(enclosure of the float64 evaluation of ``e``, the sign bit of that evaluation as
    +1 / -1, or None where unknown) for the symbols' intervals in ``env`` (x of one sign)."""
    iv = mpmath.iv
    if e.is_Rational:
        v = iv.mpf(int(e.p)) / iv.mpf(int(e.q))
        exact = int(e.q) & (int(e.q) - 1) == 0 and abs(int(e.p)) < 2 ** 53
        return (v if exact else _widen(v, 1, 1)), (1 if e >= 0 else -1)
    if e.is_Float:
        v = iv.mpf(mpmath.mpf(e))
        return _widen(v, 1, 1), (1 if e >= 0 else -1)
    if isinstance(e, sp.Symbol):
        if e not in env:
            raise _NoClaim(e)
        v = env[e]
        return v, _sign_of(v)
    if isinstance(e, Opaque):
        return _evaluated(e.args[0], env)
    if isinstance(e, sp.Abs):
        v, _ = _evaluated(e.args[0], env)
        return abs(v), 1
    if isinstance(e, IPow) or (isinstance(e, sp.Pow) and e.exp.is_Integer):
        base, k = (e.args[0], e.args[1]) if isinstance(e, IPow) else (e.base, e.exp)
        if not k.is_Integer or k == 0:
            raise _NoClaim(e)
        k = int(k)
        b, sb = _evaluated(base, env)
        top = max(mpmath.mpf(1), _mag(b))
        # binary powering: at most 2 bit_length(k) products, each error multiplied later
        # by at most max(1, |b|)^(k - 1)
        power = _widen(b ** abs(k), 2 * abs(k).bit_length(), top ** abs(k))
        sign = None if sb is None else sb ** abs(k)
        if k > 0:
            return power, sign
        if power.a <= 0 <= power.b:
            raise _NoClaim(e)
        return _widen(1 / power, 1, 1), sign
    if isinstance(e, sp.Mul):
        parts = [_evaluated(a, env) for a in e.args]
        v, scale, sign = iv.mpf(1), mpmath.mpf(1), 1
        for p, s in parts:
            v = v * p
            scale *= max(mpmath.mpf(1), _mag(p))
            sign = None if sign is None or s is None else sign * s
        return _widen(v, len(parts) - 1, scale), sign
    if isinstance(e, sp.Add):
        parts = [_evaluated(a, env) for a in e.args]
        v = iv.mpf(0)
        for p, _ in parts:
            v = v + p
        v = _widen(v, len(parts) - 1, 1)
        signs = {s for _, s in parts}
        sign = _sign_of(v)
        if sign is None and len(signs) == 1:
            sign = signs.pop()  # -0 + -0 = -0, +0 + +0 = +0, same-sign sums keep it
        return v, sign
    raise _NoClaim(e)


def rounds_to_zero_near_zero(body: sp.Expr, x: sp.Symbol, params: dict, k: int) -> bool:
    """Whether, for every nonzero narrow input x with |x| < 2^(-969/k) (where x^k is not a
    normal float64 number) and every value of the real parameters in ``params`` (symbol:
    mpmath interval), the exact value of ``body`` and its float64 evaluation round to the
    same zero (sign included) in float32, bfloat16 and float16 (see the module docstring).
    ``body`` is a narrow body without guards (powers, products, sums, quotients,
    absolute values)."""
    # forms calls this module: its helpers are imported when a claim is checked
    from .forms import _interval, _plain, _Unsupported

    top = -969.0 / k
    if top <= -_SMALLEST:
        return True  # no narrow input there
    lo_exp = -_SMALLEST
    for side in (1, -1):
        e = lo_exp
        while e < top:
            hi = min(e + _SPAN, top)
            # the last span up to the next power of two above 2^top (a wider region)
            a, b = mpmath.mpf(2) ** e, mpmath.mpf(2) ** (math.ceil(hi) if hi == top else hi)
            span = mpmath.iv.mpf(sorted((side * a, side * b)))
            env = {**params, x: span}
            try:
                computed, sign = _evaluated(body, env)
                exact = _interval(_plain(body, x), env)  # the same operations, exactly
            except (_NoClaim, _Unsupported, ZeroDivisionError):
                return False
            true_sign = _sign_of(exact)
            if sign is None or true_sign != sign:
                return False
            if max(_mag(computed), _mag(exact)) > _ZERO_BELOW:
                return False
            e = hi
    return True
