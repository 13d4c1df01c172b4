"""Triton kernels generated from the SymPy derivation (float32 compute, int64 offsets,
scalar parameters loaded and pinned to float32, no atomics: per-block partial sums).

The helpers below are copied verbatim from ``gemsym/codegen/runtime/_kernel_helpers.py``:
float32 exp, log, sigmoid, tanh, sech^2, erfc, sin, cos and hypot within about 1-2 ulp built
from + - * / and bit operations only (no libdevice: the interpreter has none, and the same
code runs on a GPU), functions of a rounding product or sum carried with its rounding error
(``_exp_prod``, ``_erfc_prod``, ``_sin_prod``, ``_sigmoid_dd``), IEEE division and
compensated integer powers for float32 data (``PRECISE``), plain arithmetic for 16-bit
data, integer powers by repeated squaring unrolled at compile time.  The kernels of each
family follow them.
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


@triton.jit
def _erfc(z, PRECISE: tl.constexpr):
    v, _ = _erfc_parts(z, PRECISE)
    return v


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
