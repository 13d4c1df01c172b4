"""Float32 arithmetic of the Triton kernels: exact products and float32 pairs, IEEE
division, integer powers, hypot.

A pair (hi, lo) carries a value to about twice float32's precision: ``_two_prod`` gives a
product and its exact rounding error (Veltkamp splitting; the kernels are compiled with
enable_fp_fusion=False), ``_prod_dd``, ``_dd_add`` and ``_dd_value`` carry products and sums
and round them once.  For float32 data (``PRECISE``) division is IEEE's and integer powers
are compensated; 16-bit data take plain arithmetic.  Copied verbatim into the generated
package, whose ``_kernels.py`` imports it.
"""

import triton
import triton.language as tl


@triton.jit
def _two_prod(a, b):
    """(p, e) with p = fl(a*b) and p + e = a*b exactly (Veltkamp splitting; needs
    enable_fp_fusion=False); e = 0 where the splitting would overflow."""
    # a number literal would otherwise be split in double precision at compile time
    a = tl.cast(a, tl.float32)
    b = tl.cast(b, tl.float32)
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
def _prod_dd(c_hi, c_lo, a, b, d, f):
    """(hi, lo) with hi + lo = (c_hi + c_lo) a b d f to about twice float32's precision
    (products carried with their exact rounding errors); lo = 0 where a step overflows."""
    hi, lo = _two_prod(c_hi, a)
    lo = lo + c_lo * a
    p, e = _two_prod(hi, b)
    lo = e + lo * b
    hi = p
    p, e = _two_prod(hi, d)
    lo = e + lo * d
    hi = p
    p, e = _two_prod(hi, f)
    lo = e + lo * f
    hi = p
    lo = tl.where(tl.abs(lo) < float("inf"), lo, 0.0)
    return hi, lo


@triton.jit
def _dd_term(hi, lo, a, b, d, f):
    """The pair (hi, lo) of (hi + lo) a b d f (see ``_prod_dd``) as one tuple."""
    return _prod_dd(hi, lo, a, b, d, f)


@triton.jit
def _dd_add(p, q):
    """p + q for pairs (hi, lo): two-sum of the high parts, low parts added."""
    s = p[0] + q[0]
    bv = s - p[0]
    err = (p[0] - (s - bv)) + (q[0] - bv)
    err = tl.where(tl.abs(err) < float("inf"), err, 0.0)
    lo = err + (p[1] + q[1])
    hi = s + lo
    lo = lo - (hi - s)
    return hi, tl.where(tl.abs(lo) < float("inf"), lo, 0.0)


@triton.jit
def _dd_value(p):
    """hi + lo of a pair, rounded once."""
    return p[0] + p[1]


@triton.jit
def _dd_sq_value(p):
    """(hi + lo)^2 rounded once: hi^2 + 2 hi lo carried as a pair (lo^2 is below it)."""
    return _dd_value(_dd_add(_prod_dd(p[0], p[1], p[0], 1.0, 1.0, 1.0),
                             _prod_dd(p[1], 0.0, p[0], 1.0, 1.0, 1.0)))


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
def _xtimes(c, x, K: tl.constexpr, other):
    """c * x**K as ((c*x)*x)... for a compile-time integer K >= 0 where c is finite, else
    ``other`` (the same value evaluated another way): the powers of x last, so that no
    partial product underflows where the result does not."""
    v = c
    for _ in tl.static_range(K):
        v = v * x
    return tl.where(tl.abs(c) < float("inf"), v, other)


@triton.jit
def _sq(v):
    return v * v


@triton.jit
def _like(x, value):
    """``value`` (a constant branch) as a float32 block shaped like x."""
    return tl.zeros_like(x) + value


@triton.jit
def _isinf(v):
    return tl.abs(v) == float("inf")


@triton.jit
def _isnan(v):
    return v != v


@triton.jit
def _hypot(a, b, PRECISE: tl.constexpr):
    """sqrt(a^2 + b^2) in float32 within about 0.6 ulp: both scaled by the power of 2 of
    the larger (no overflow or underflow of the squares), the squares and their sum as
    float32 pairs, one Newton step on the correctly rounded root of the high part."""
    a = tl.abs(tl.cast(a, tl.float32))
    b = tl.abs(tl.cast(b, tl.float32))
    m = tl.maximum(a, b)
    n = tl.minimum(a, b)
    e = ((m.to(tl.int32, bitcast=True) >> 23) & 255) - 127
    e = tl.minimum(tl.maximum(e, -126), 126)
    down = ((127 - e) << 23).to(tl.float32, bitcast=True)
    up = ((127 + e) << 23).to(tl.float32, bitcast=True)
    ma = m * down
    na = n * down
    p1, e1 = _two_prod(ma, ma)
    p2, e2 = _two_prod(na, na)
    s = p1 + p2
    bv = s - p1
    err = ((p1 - (s - bv)) + (p2 - bv)) + (e1 + e2)
    h0 = tl.sqrt_rn(s)
    hp, he = _two_prod(h0, h0)
    h = h0 + _div((s - hp) - he + err, 2.0 * h0, PRECISE)
    out = tl.where(m == 0.0, m, tl.where(m == float("inf"), m, h * up))
    # NaN in, NaN out ('&' of a scalar and a block fails in the interpreter)
    out = tl.where(a == a, out, a)
    return tl.where(b == b, out, b)
