"""Triton kernels generated from the SymPy derivation (float32 compute, int64 offsets,
scalar parameters loaded and pinned to float32, no atomics: per-block partial sums).

The helpers below are copied verbatim from ``gemsym/codegen/runtime/_kernel_helpers.py``:
float32 ``exp``/sigmoid accurate to about 1 ulp built from + - * / only (no libdevice), IEEE
division and compensated integer powers for float32 data (``PRECISE``), plain arithmetic for
16-bit data, integer powers by repeated squaring unrolled at compile time.  The kernels of
each family follow them.
"""

import triton
import triton.language as tl


@triton.jit
def _two_prod(a, b):
    """(p, e) with p = fl(a*b) and p + e = a*b exactly (Veltkamp splitting; needs
    enable_fp_fusion=False); e = 0 where the splitting would overflow."""
    p = a * b
    sa = a * 4097.0
    ah = sa - (sa - a)
    al = a - ah
    sb = b * 4097.0
    bh = sb - (sb - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    e = tl.where(tl.abs(e) < float("inf"), e, 0.0)
    return p, e


@triton.jit
def _ipow(x, E: tl.constexpr, PRECISE: tl.constexpr):
    """x**E for a compile-time integer E >= 0: left-to-right binary powering carried in
    float32 pairs (value + rounding error), so x**E is within about 0.5 ulp; plain
    binary powering unless PRECISE (16-bit data)."""
    if E == 0:
        return tl.where(x == x, 1.0, 1.0)
    if not PRECISE:
        v = x
        for j in tl.static_range(31):
            if (E >> (31 - j)) > 0:
                v = v * v
                if ((E >> (30 - j)) & 1) == 1:
                    v = v * x
        return v
    hi = x
    lo = x * 0.0
    lo = tl.where(lo == lo, lo, 0.0)
    for j in tl.static_range(31):
        if (E >> (31 - j)) > 0:
            p, e = _two_prod(hi, hi)
            lo = e + 2.0 * hi * lo
            hi = p
            if ((E >> (30 - j)) & 1) == 1:
                p, e = _two_prod(hi, x)
                lo = e + lo * x
                hi = p
    return tl.where(tl.abs(hi) < float("inf"), hi + lo, hi)


@triton.jit
def _sq(v):
    return v * v


@triton.jit
def _isinf(v):
    return tl.abs(v) == float("inf")


@triton.jit
def _isnan(v):
    return v != v


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
def _div(a, b, PRECISE: tl.constexpr):
    """a/b rounded to nearest in float32 when PRECISE: '/' is div.full.f32 on NVIDIA GPUs
    (up to 2 ulp; exact in the interpreter), too coarse for the 4-ulp float32 bounds but
    ample for 16-bit data. Either side may be a compile-time integer such as 2*N."""
    if PRECISE:
        return tl.math.div_rn(tl.cast(a, tl.float32), tl.cast(b, tl.float32))
    else:
        return tl.cast(a, tl.float32) / tl.cast(b, tl.float32)


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
