"""exp and log of the Triton kernels in float32 within about 1 ulp, and the functions
built on exp: sigmoid, tanh, sech^2, exp of a product carried with its rounding error.

Built from + - * / and bit operations only (no libdevice: the interpreter has none, and
the same code runs on a GPU).  Copied verbatim into the generated package, whose
``_kernels.py`` imports it.
"""

import triton
import triton.language as tl

from ._triton_arith import _div, _prod_dd, _two_prod


@triton.jit
def _exp(t):
    """e**t in float32 within about 1 ulp: t = k ln2 + r (Cody-Waite, |r| <= ln2/2),
    degree-7 Taylor polynomial for e**r, 2**k assembled from exponent bits in two halves."""
    ok = t == t
    u = tl.where(ok, t, 0.0)
    u = tl.where(u < -104.0, -104.0, u)
    u = tl.where(u > 89.0, 89.0, u)
    k = tl.floor(u * 1.4426950408889634 + 0.5)
    r = u - k * 0.693145751953125
    r = r - k * 1.4286067653301870e-06
    p = 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    ki = k.to(tl.int32)
    h = ki >> 1
    s1 = ((h + 127) << 23).to(tl.float32, bitcast=True)
    s2 = ((ki - h + 127) << 23).to(tl.float32, bitcast=True)
    return tl.where(ok, p * s1 * s2, t)


@triton.jit
def _exp_prod(c_hi, c_lo, a, b, d, f, PRECISE: tl.constexpr):
    """exp(c a b d f) with c = c_hi + c_lo: the product's rounding error, which exp turns
    into a relative error of |c a b d f| 2^-24 (50 ulp at exp(-100)), enters as the first-
    order factor 1 + lo when PRECISE."""
    if PRECISE:
        hi, lo = _prod_dd(c_hi, c_lo, a, b, d, f)
        v = _exp(hi)
        return tl.where(tl.abs(v) < float("inf"), v + v * lo, v)
    else:
        return _exp(c_hi * a * b * d * f)


@triton.jit
def _log(x, PRECISE: tl.constexpr):
    """log(x) in float32 within about 1 ulp (no libdevice): x = 2^k (1 + f) with 1 + f in
    [sqrt(1/2), sqrt(2)) from the exponent bits (subnormals scaled by 2^23 first), then
    log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f/(2 + f), R(z) = 2z/3 + 2z^2/5 + ...
    + 2z^6/13 (the series of 2 atanh(s) - 2s; truncation below 2^-40 for s^2 <= 0.0295),
    k ln 2 with the Cody-Waite pair of ``_exp``; log(0) = -inf, log(x < 0) = NaN."""
    sub = x < 1.1754943508222875e-38
    xs = tl.where(sub, x * 8388608.0, x)
    bits = xs.to(tl.int32, bitcast=True)
    k = ((bits >> 23) & 255) - 127
    m = ((bits & 8388607) | 1065353216).to(tl.float32, bitcast=True)
    high = m > 1.4142135623730951
    m = tl.where(high, m * 0.5, m)
    k = k + tl.where(high, 1, 0) - tl.where(sub, 23, 0)
    f = m - 1.0
    s = _div(f, 2.0 + f, PRECISE)
    z = s * s
    r = 0.15384615384615385
    r = r * z + 0.18181818181818182
    r = r * z + 0.2222222222222222
    r = r * z + 0.2857142857142857
    r = r * z + 0.4
    r = r * z + 0.6666666666666666
    r = r * z
    hfsq = 0.5 * f * f
    dk = k.to(tl.float32)
    out = s * (hfsq + r) + dk * 1.4286067653301870e-06 - hfsq + f + dk * 0.693145751953125
    out = tl.where(x == 0.0, float("-inf"), out)
    out = tl.where(x < 0.0, float("nan"), out)
    return tl.where(x < float("inf"), out, x)


@triton.jit
def _sigmoid(t, PRECISE: tl.constexpr):
    return _div(1.0, 1.0 + _exp(-t), PRECISE)


@triton.jit
def _sigmoid_lin(c, x, d, NEG: tl.constexpr, PRECISE: tl.constexpr):
    """sigma(c x + d), or sigma(-(c x + d)) when NEG, with (when PRECISE) the rounding error
    of c*x + d corrected (exact product by Veltkamp splitting, two-sum), as in the PyTorch
    path. Both come from one e = exp(-|s|): sigma(|s|) = 1/(1+e), sigma(-|s|) = e/(1+e)."""
    c = c + tl.zeros_like(x)
    p = c * x
    s = p + d
    e = _exp(-tl.abs(s))
    big = _div(1.0, 1.0 + e, PRECISE)
    if PRECISE:
        # e/(1+e) by its own division: e * big would add big's rounding error to
        # sigma(-|s|) (measured: Sqish d_x 4.4 ulp against 3.7 with independent sigmoids)
        small = _div(e, 1.0 + e, PRECISE)
    else:
        small = e * big
    pos = tl.where(s >= 0, big, small)
    neg = tl.where(s >= 0, small, big)
    if PRECISE:
        _, err = _two_prod(c, x)
        bp = s - p
        err = err + ((p - (s - bp)) + (d - bp))
        err = tl.where(tl.abs(err) < float("inf"), err, 0.0)
        w = pos * neg * err
        if NEG:
            return neg - w
        else:
            return pos + w
    else:
        if NEG:
            return neg
        else:
            return pos


@triton.jit
def _sigmoid_dd(p, PRECISE: tl.constexpr):
    """sigma(hi + lo) = sigma(hi) + sigma(hi) sigma(-hi) lo to first order: the argument's
    rounding error (relative error |t| 2^-24 of sigma(t) for t << 0) does not reach it."""
    e = _exp(-tl.abs(p[0]))
    big = _div(1.0, 1.0 + e, PRECISE)
    small = _div(e, 1.0 + e, PRECISE)
    v = tl.where(p[0] >= 0, big, small)
    if PRECISE:
        return v + big * small * p[1]
    else:
        return v


@triton.jit
def _tanh(t, PRECISE: tl.constexpr):
    """tanh(t) in float32 within about 2 ulp (relative, also near 0), from the kernels' exp:
    |t| >= 0.55: sign(t) (1 - e)/(1 + e) with e = exp(-2|t|) <= 1/3 (no cancellation);
    |t| < 0.55: the Maclaurin series t + sum c_n t^(2n-1), c_n = 2^2n (2^2n - 1) B_2n / (2n)!
    (Abramowitz & Stegun 4.5.64) to t^19, truncation below 1e-9 relative."""
    a = tl.abs(t)
    e = _exp(-2.0 * a)
    big = _div(1.0 - e, 1.0 + e, PRECISE)
    z = t * t
    p = -0.00023912911424355248
    p = p * z + 0.000590027440945586
    p = p * z - 0.0014558343870513183
    p = p * z + 0.003592128036572481
    p = p * z - 0.008863235529902197
    p = p * z + 0.021869488536155203
    p = p * z - 0.05396825396825397
    p = p * z + 0.13333333333333333
    p = p * z - 0.3333333333333333
    small = t + t * (p * z)
    out = tl.where(a < 0.55, small, tl.where(t < 0, -big, big))
    # t itself at +-0 (t + t*(p z) is +0 at t = -0) and NaN
    return tl.where((t == t) & (t != 0.0), out, t)


@triton.jit
def _sech2(u, PRECISE: tl.constexpr):
    """sech(u)^2 = 4 e/(1 + e)^2 with e = exp(-2|u|), within a few ulp relative (no
    cancellation, unlike 1 - tanh(u)^2 once tanh(u) rounds near 1)."""
    e = _exp(-2.0 * tl.abs(u))
    d = 1.0 + e
    return _div(4.0 * e, d * d, PRECISE)
