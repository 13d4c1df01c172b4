"""erfc of the Triton kernels in float32 within a few ulp (after fdlibm), also of a
product carried with its rounding error.

Built from + - * / and bit operations only (no libdevice).  Copied verbatim into the
generated package, whose ``_kernels.py`` imports it.
"""

import triton
import triton.language as tl

from ._triton_arith import _div, _prod_dd
from ._triton_exp import _exp


@triton.jit
def _erfc_parts(z, PRECISE: tl.constexpr):
    """(erfc(z), g) in float32, g = 2 exp(-z^2) / (sqrt(pi) erfc(z)) (the minus logarithmic
    derivative), after fdlibm's s_erf.c (Sun Microsystems 1993, coefficients as in its float
    version s_erff.c): on |z| < 0.84375 erf(z) = z + z P(z^2)/Q(z^2); on [0.84375, 1.25)
    erfc = 1 - erx - P(s)/Q(s), s = |z| - 1; on [1.25, 28) erfc(|z|) = exp(-w^2 - 0.5625)
    exp((w - |z|)(w + |z|) + R(1/z^2)/S(1/z^2)) / |z| with w = |z| cut to 11 significant
    bits, so w^2 is exact and the tail keeps its relative accuracy (R/S on [1.25, 1/0.35)
    and [1/0.35, 28) separately; fdlibm states each rational approximation within 2^-57 of
    its target, far below float32's rounding); erfc(-|z|) = 2 - erfc(|z|)."""
    a = tl.abs(z)
    # |z| < 0.84375
    zz = z * z
    r = -2.3763017452e-05
    r = r * zz - 5.7702702470e-03
    r = r * zz - 2.8481749818e-02
    r = r * zz - 3.2504209876e-01
    r = r * zz + 1.2837916613e-01
    s = -3.9602282413e-06
    s = s * zz + 1.3249473704e-04
    s = s * zz + 5.0813062117e-03
    s = s * zz + 6.5022252500e-02
    s = s * zz + 3.9791721106e-01
    s = s * zz + 1.0
    y = _div(r, s, PRECISE)
    near0 = tl.where(z < 0.25, 1.0 - (z + z * y), 0.5 - ((z - 0.5) + z * y))
    # 0.84375 <= |z| < 1.25
    sm = a - 1.0
    pn = -2.1663755178e-03
    pn = pn * sm + 3.5478305072e-02
    pn = pn * sm - 1.1089469492e-01
    pn = pn * sm + 3.1834661961e-01
    pn = pn * sm - 3.7220788002e-01
    pn = pn * sm + 4.1485610604e-01
    pn = pn * sm - 2.3621185683e-03
    qd = 1.1984500103e-02
    qd = qd * sm + 1.3637083583e-02
    qd = qd * sm + 1.2617121637e-01
    qd = qd * sm + 7.1828655899e-02
    qd = qd * sm + 5.4039794207e-01
    qd = qd * sm + 1.0642088205e-01
    qd = qd * sm + 1.0
    pq = _div(pn, qd, PRECISE)
    # erx = 0.845062911510467529297 (a float32 number), erf(1) to 2^-24; 1 - erx is exact
    mid = tl.where(z > 0, (1.0 - 0.845062911510467529297) - pq,
                   1.0 + (0.845062911510467529297 + pq))
    # 1.25 <= |z| < 28
    u = _div(1.0, a * a, PRECISE)
    ra = -9.8143291473e+00
    ra = ra * u - 8.1287437439e+01
    ra = ra * u - 1.8460508728e+02
    ra = ra * u - 1.6239666748e+02
    ra = ra * u - 6.2375331879e+01
    ra = ra * u - 1.0558626175e+01
    ra = ra * u - 6.9385856390e-01
    ra = ra * u - 9.8649440333e-03
    sa = -6.0424413532e-02
    sa = sa * u + 6.5702495575e+00
    sa = sa * u + 1.0863500214e+02
    sa = sa * u + 4.2900814819e+02
    sa = sa * u + 6.4538726807e+02
    sa = sa * u + 4.3456588745e+02
    sa = sa * u + 1.3765776062e+02
    sa = sa * u + 1.9651271820e+01
    sa = sa * u + 1.0
    rb = -4.8351919556e+02
    rb = rb * u - 1.0250950928e+03
    rb = rb * u - 6.3756646729e+02
    rb = rb * u - 1.6063638306e+02
    rb = rb * u - 1.7757955551e+01
    rb = rb * u - 7.9928326607e-01
    rb = rb * u - 9.8649431020e-03
    sb = -2.2440952301e+01
    sb = sb * u + 4.7452853394e+02
    sb = sb * u + 2.5530502930e+03
    sb = sb * u + 3.1998581543e+03
    sb = sb * u + 1.5367296143e+03
    sb = sb * u + 3.2579251099e+02
    sb = sb * u + 3.0338060379e+01
    sb = sb * u + 1.0
    rs = tl.where(a < 2.857142857142857, _div(ra, sa, PRECISE), _div(rb, sb, PRECISE))
    w = (a.to(tl.int32, bitcast=True) & -8192).to(tl.float32, bitcast=True)
    tail_w = _exp(-w * w - 0.5625) * _exp((w - a) * (w + a) + rs)
    tail = _div(tail_w, a, PRECISE)
    tail = tl.where(a < 28.0, tail, 0.0)
    # exp(-z^2)/erfc(|z|) = |z| exp(0.5625 - R/S) on the tail, without underflow
    ratio = a * _exp(0.5625 - rs)
    far = tl.where(z > 0, tail, 2.0 - tail)
    out = tl.where(a < 0.84375, near0, tl.where(a < 1.25, mid, far))
    g_tail = tl.where(z > 0, ratio, _div(tail, 2.0 - tail, PRECISE) * ratio)
    g_near = _div(_exp(-zz), out, PRECISE)
    g = 1.1283791670955126 * tl.where(a < 1.25, g_near, g_tail)
    out = tl.where(z == z, out, z)
    return out, g


@triton.jit
def _erfc(z, PRECISE: tl.constexpr):
    v, _ = _erfc_parts(z, PRECISE)
    return v


@triton.jit
def _erfc_prod(c_hi, c_lo, a, b, PRECISE: tl.constexpr):
    """erfc(c a b) with c = c_hi + c_lo: erfc(hi + lo) = erfc(hi) (1 - g lo) to first order
    (g from ``_erfc_parts``), so the rounding of the argument (relative error 2 z^2 2^-24 in
    the tail) does not reach the result when PRECISE."""
    if PRECISE:
        hi, lo = _prod_dd(c_hi, c_lo, a, b, 1.0, 1.0)
        v, g = _erfc_parts(hi, PRECISE)
        return tl.where(v > 0, v - v * (g * lo), v)
    else:
        v, _ = _erfc_parts(c_hi * a * b, PRECISE)
        return v
