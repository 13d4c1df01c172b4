"""sin and cos of the Triton kernels in float32 over the whole float32 range (Payne and
Hanek's reduction modulo pi/2), also of a product carried with its rounding error.

Built from + - * / and bit operations only (no libdevice).  Copied verbatim into the
generated package, whose ``_kernels.py`` imports it.
"""

import triton
import triton.language as tl

from ._triton_arith import _prod_dd, _two_prod


@triton.jit
def _mod4_add(s, c, v):
    """(s, c) + (v mod 4), s reduced mod 4, as a float32 pair (two-sum); the residues are
    taken in [-2, 2] (v - 4 round(v/4)), which is exact for every float32 v (a residue
    in [0, 4) is not: -2^-30 would round to 4)."""
    v = v - 4.0 * tl.floor(v * 0.25 + 0.5)
    t = s + v
    bv = t - s
    c = c + ((s - (t - bv)) + (v - bv))
    # kept in [-2, 2] (exactly), so that its rounding errors stay near 2^-23 * 2^-24
    return t - 4.0 * tl.floor(t * 0.25 + 0.5), c


@triton.jit
def _sincos_parts(t):
    """(k, r_hi, r_lo) with t = k pi/2 + r_hi + r_lo, k in 0..3, |r| <= pi/4 (about 2^-46
    absolute): t 2/pi mod 4 from the exact products of t 2^-64 with 2/pi 2^64 cut into eight
    24-bit float32 pieces (Payne and Hanek's reduction with the bits of 2/pi that matter
    for each exponent; pieces above the result's units vanish mod 4)."""
    h = t * 5.421010862427522e-20  # 2^-64: the products stay below float32's largest
    s = h * 0.0
    c = h * 0.0
    p, e = _two_prod(h, 1.1743561539368518e+19)
    s, c = _mod4_add(s, c, p)
    s, c = _mod4_add(s, c, e)
    p, e = _two_prod(h, 473759481856.0)
    s, c = _mod4_add(s, c, p)
    s, c = _mod4_add(s, c, e)
    p, e = _two_prod(h, 5417.98486328125)
    s, c = _mod4_add(s, c, p)
    s, c = _mod4_add(s, c, e)
    p, e = _two_prod(h, 0.00011204601469216868)
    s, c = _mod4_add(s, c, p)
    s, c = _mod4_add(s, c, e)
    p, e = _two_prod(h, -2.540665594574776e-12)
    s, c = _mod4_add(s, c, p)
    s, c = _mod4_add(s, c, e)
    p, e = _two_prod(h, 4.645660223834331e-20)
    s, c = _mod4_add(s, c, p)
    s, c = _mod4_add(s, c, e)
    p, e = _two_prod(h, -1.297071543382524e-27)
    s, c = _mod4_add(s, c, p)
    s, c = _mod4_add(s, c, e)
    s, c = _mod4_add(s, c, h * 1.2231000066220744e-35)
    k = tl.floor(s + 0.5)
    f_hi = (s - k) + c
    f_lo = c - (f_hi - (s - k))
    kq = k - 4.0 * tl.floor(k * 0.25)
    # r = f pi/2, pi/2 = 1.5707963705062866 - 4.371138828673793e-08 (float32 pair)
    r_hi, r_lo = _two_prod(f_hi, 1.5707963705062866)
    r_lo = r_lo + (f_hi * -4.371138828673793e-08 + f_lo * 1.5707963705062866)
    small = tl.abs(t) <= 0.7853981633974483
    kq = tl.where(small, 0.0, kq)
    r_hi2 = tl.where(small, t, r_hi + r_lo)
    r_lo2 = tl.where(small, 0.0, r_lo - ((r_hi + r_lo) - r_hi))
    return kq, r_hi2, r_lo2


@triton.jit
def _sin_cos_poly(r):
    """(sin r, cos r) for |r| <= pi/4 by their Maclaurin series to r^13 / r^14 (truncation
    below 2^-30 relative)."""
    z = r * r
    ps = -1.6059043836821613e-10
    ps = ps * z + 2.505210838544172e-08
    ps = ps * z - 2.7557319223985893e-06
    ps = ps * z + 0.0001984126984126984
    ps = ps * z - 0.008333333333333333
    ps = ps * z + 0.16666666666666666
    sn = r - r * (z * ps)
    pc = 1.1470745597729725e-11
    pc = pc * z - 2.08767569878681e-09
    pc = pc * z + 2.755731922398589e-07
    pc = pc * z - 2.48015873015873e-05
    pc = pc * z + 0.001388888888888889
    pc = pc * z - 0.041666666666666664
    cs = 1.0 - z * (0.5 + z * pc)
    return sn, cs


@triton.jit
def _sincos(hi, lo):
    """(sin, cos) of hi + lo (lo: a rounding error of the argument, |lo| << |hi|) in
    float32 over the whole range: reduction ``_sincos_parts``, series on [-pi/4, pi/4],
    first-order correction by the low part, the quadrant by selection (no libdevice)."""
    k, r, rl = _sincos_parts(hi)
    rl = rl + lo
    sn, cs = _sin_cos_poly(r)
    s1 = sn + cs * rl
    c1 = cs - sn * rl
    sin_v = tl.where(k == 0.0, s1, tl.where(k == 1.0, c1, tl.where(k == 2.0, -s1, -c1)))
    cos_v = tl.where(k == 0.0, c1, tl.where(k == 1.0, -s1, tl.where(k == 2.0, -c1, s1)))
    ok = tl.abs(hi) < float("inf")
    return tl.where(ok, sin_v, hi - hi), tl.where(ok, cos_v, hi - hi)


@triton.jit
def _sin(t, PRECISE: tl.constexpr):
    s, _ = _sincos(t, t * 0.0)
    return tl.where(t == 0.0, t, s)  # -0 stays -0


@triton.jit
def _cos(t, PRECISE: tl.constexpr):
    _, c = _sincos(t, t * 0.0)
    return c


@triton.jit
def _sin_prod(c_hi, c_lo, a, b, PRECISE: tl.constexpr):
    """sin(c a b) with the product's rounding error carried (as ``_erfc_prod``)."""
    hi, lo = _prod_dd(c_hi, c_lo, a, b, 1.0, 1.0)
    s, _ = _sincos(hi, lo)
    return s


@triton.jit
def _cos_prod(c_hi, c_lo, a, b, PRECISE: tl.constexpr):
    """cos(c a b) with the product's rounding error carried."""
    hi, lo = _prod_dd(c_hi, c_lo, a, b, 1.0, 1.0)
    _, c = _sincos(hi, lo)
    return c
