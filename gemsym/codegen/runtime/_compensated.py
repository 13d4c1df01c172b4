"""Double-double arithmetic for the formulas' ``exact`` path (copied verbatim from
``gemsym/codegen/runtime/_compensated.py``; the decisions are in
:mod:`gemsym.codegen.compensated`).

When the compute dtype is the output dtype, a rounding error of 2^-53 relative in the
argument t of exp(t) is |t| 2^-53 relative in the result (t = -x^2/2 ~ -700 for GELU near
x = -37: hundreds of ULP).  The argument is then evaluated as an unevaluated sum hi + lo
(exact products by Veltkamp/Dekker splitting -- PyTorch has no FMA -- exact sums by Knuth's
two-sum, constants given as hi + lo of their exact value) and the function is corrected to
first order, g(hi + lo) = g(hi) + g'(hi) lo (the neglected g''(hi) lo^2 / 2 is below 2^-100
relative).  A value is a pair ``(hi, lo)``; ``lo`` is ``None`` when ``hi`` is exact.
"""

from __future__ import annotations

import math
import struct

import torch

from ._runtime import direct

__all__ = ["_ddc", "_dd_add", "_dd_mul", "_dd_sq", "_dd_pow", "_dd_recip", "_dd_scale",
           "_dd_abs", "_dd_neg", "_dd_value", "_exp_dd", "_sigmoid_dd", "_erfc_dd",
           "_exp_tail"]

#: Veltkamp's splitting constants 2^ceil(p/2) + 1 (p = 53 and 24 significand bits).
_SPLIT = {torch.float64: 134217729.0, torch.float32: 4097.0}
#: exp(t) is finite for t below these (float64, float32).
_EXP_MAX = {torch.float64: 709.78, torch.float32: 88.72}
_TWO_OVER_SQRT_PI = 1.1283791670955126
#: A low part at least this large is not a rounding error (an overflowed split, or an
#: argument whose heads cancelled far beyond what its evaluation can carry): no correction.
_SMALL = 2.0 ** -10


def _round32(v: float) -> float:
    try:
        return struct.unpack("f", struct.pack("f", v))[0]
    except OverflowError:
        return math.copysign(math.inf, v)


def _ddc(hi: float, lo: float, like: torch.Tensor):
    """The constant hi + lo (hi the double nearest its exact value) in ``like``'s dtype."""
    if like.dtype == torch.float64:
        return hi, lo
    h = _round32(hi)
    return h, _round32((hi - h) + lo)


def _split(a, dtype):
    """a = hi + lo, each with half the significand (products of halves are exact)."""
    if isinstance(a, torch.Tensor):
        c = a * _SPLIT.get(a.dtype, _SPLIT[torch.float64])
        hi = c - (c - a)
        return hi, a - hi
    if dtype == torch.float32:
        c = _round32(a * 4097.0)
        hi = _round32(c - _round32(c - a))
        return hi, _round32(a - hi)
    c = a * 134217729.0
    hi = c - (c - a)
    return hi, a - hi


def _dtype(*values) -> torch.dtype:
    for v in values:
        if isinstance(v, torch.Tensor):
            return v.dtype
    return torch.float64


def _two_prod(a, b):
    """(p, e) with p = fl(a b) and p + e = a b exactly (Dekker) when no split overflows
    (|a| > 2^996: then e is not finite and the final correction is dropped)."""
    p = a * b
    dtype = _dtype(a, b)
    ah, al = _split(a, dtype)
    bh, bl = (ah, al) if b is a else _split(b, dtype)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _dd_mul(a, b):
    """(ah + al)(bh + bl) to about 2^-104 relative (al bl neglected)."""
    (ah, al), (bh, bl) = a, b
    p, e = _two_prod(ah, bh)
    if bl is not None:
        e = e + ah * bl
    if al is not None:
        e = e + al * bh
    return p, e


def _dd_sq(a):
    ah, al = a
    p, e = _two_prod(ah, ah)
    if al is not None:
        e = e + 2.0 * (ah * al)
    return p, e


def _dd_pow(a, k: int):
    """a^k for a Python int k >= 1 by binary powering."""
    result, base = None, a
    while k:
        if k & 1:
            result = base if result is None else _dd_mul(result, base)
        k >>= 1
        if k:
            base = _dd_sq(base)
    return result


def _dd_sqrt(a):
    """sqrt(ah + al): r = fl(sqrt(ah)) and the residual (ah - r^2 + al)/(2 r), r^2 exact by
    ``_two_prod`` (lo not finite at 0 and inf: ``_dd_value`` then keeps r)."""
    ah, al = a
    r = torch.sqrt(torch.as_tensor(ah, dtype=torch.float64) if not isinstance(ah, torch.Tensor)
                   else ah)
    p, e = _two_prod(r, r)
    res = (ah - p) - e
    if al is not None:
        res = res + al
    return r, res / (2.0 * r)


def _dd_hypot(a, b):
    """hypot(a, b): h = fl(hypot(ah, bh)) (no overflow) and the residual
    (a^2 + b^2 - h^2)/(2 h) in double-double, on a, b and h scaled by a power of two where
    h > 2^500 or < 2^-500 (2^60 in float32: the squares would overflow or underflow; the
    part of the smaller one that the scaling flushes is far below 2^-106 of h^2)."""
    ah, bh = a[0], b[0]
    if not isinstance(ah, torch.Tensor):
        ah = torch.full_like(bh, ah)
    if not isinstance(bh, torch.Tensor):
        bh = torch.full_like(ah, bh)
    h = torch.hypot(ah, bh)
    t, k = (500, 600) if h.dtype == torch.float64 else (60, 70)  # float32 on CUDA
    one = torch.ones_like(h)
    c = torch.where(h > 2.0 ** t, one * 2.0 ** -k, torch.where(h < 2.0 ** -t, one * 2.0 ** k, one))

    def scaled(v, vh):
        return vh * c, (None if v[1] is None else v[1] * c)

    sh, sl = _dd_add(_dd_sq(scaled(a, ah)), _dd_sq(scaled(b, bh)))
    hc = h * c
    p, e = _two_prod(hc, hc)
    return h, ((((sh - p) - e) + sl) / (2.0 * hc)) / c


def _dd_add(a, b):
    """(ah + al) + (bh + bl): Knuth's two-sum of the heads, the tails added to its error.
    Not renormalised: the heads stay the plain evaluation (so a tail that is not finite
    never reaches a head), and the neglected products of two tails are below 2^-100 of
    the value even after a cancellation, far below what the result needs."""
    (ah, al), (bh, bl) = a, b
    s = ah + bh
    bb = s - ah
    e = (ah - (s - bb)) + (bh - bb)
    if al is not None:
        e = e + al
    if bl is not None:
        e = e + bl
    return s, e


def _dd_recip(a):
    """1/(ah + al): q = fl(1/ah) and the residual 1 - (ah + al) q, exact by ``_two_prod``."""
    ah, al = a
    q = 1.0 / ah
    p, e = _two_prod(ah, q)
    r = (1.0 - p) - e
    if al is not None:
        r = r - al * q
    return q, r * q


def _dd_div(a, b):
    """(ah + al)/(bh + bl): q = fl(ah/bh) and the residual (ah - q bh + al - q bl)/bh, q bh
    exact by ``_two_prod``.  Unlike a (1/b), no subnormal 1/bh where |bh| > 2^1022 (there
    the split overflows, the residual is not finite and ``_dd_value`` keeps q, correctly
    rounded)."""
    (ah, al), (bh, bl) = a, b
    q = ah / bh
    p, e = _two_prod(q, bh)
    r = (ah - p) - e
    if al is not None:
        r = r + al
    if bl is not None:
        r = r - q * bl
    return q, r / bh


def _dd_scale(a, c: float):
    """a c for a power of two c (exact)."""
    ah, al = a
    return ah * c, (None if al is None else al * c)


def _dd_neg(a):
    ah, al = a
    return -ah, (None if al is None else -al)


def _dd_abs(a):
    ah, al = a
    if al is None:
        return torch.abs(ah), None
    return torch.abs(ah), torch.where(ah < 0, -al, al)


def _dd_value(a):
    """hi + lo rounded once (hi where lo is not finite)."""
    ah, al = a
    return ah if al is None else torch.where(torch.abs(al) < math.inf, ah + al, ah)


def _tail(a):
    """The correction lo, 0 where it is not finite or not small (see ``_SMALL``)."""
    ah, al = a
    return torch.where(torch.abs(al) < _SMALL, al, 0.0)


def _exp_dd(a):
    """exp(hi + lo) = e^hi (1 + lo); e^hi kept where it overflows."""
    ah, al = a
    y = torch.exp(ah)
    if al is None:
        return y
    ok = (torch.abs(al) < _SMALL) & (ah < _EXP_MAX.get(ah.dtype, 709.78))
    return torch.where(ok, y + y * al, y)


def _sigmoid_dd(a):
    """sigma(hi + lo) = sigma(hi) + sigma(hi) sigma(-hi) lo, sigma(+-hi) from one
    e = exp(-|hi|) as 1/(1 + e) and e/(1 + e): ``torch.sigmoid``'s float64 result depends
    on the tensor's size (its vectorised and scalar kernels round differently: 6 of 4096
    values), ``torch.exp``'s does not; and e/(1 + e) keeps the subnormal values below
    hi = -709 that ``torch.sigmoid`` flushes to 0."""
    ah, al = a
    e = torch.exp(-torch.abs(ah))
    one = 1.0 + e
    # the rounding of 1 + e (Fast2Sum, e <= 1) applied to first order: ~0.5 ULP less
    c = (e - (one - 1.0)) / one
    big, small = 1.0 / one, e / one
    big, small = big - big * c, small - small * c
    pos = ah >= 0
    s = torch.where(pos, big, small)
    if al is None:
        return s
    return s + s * torch.where(pos, small, big) * _tail(a)


def _erfc_dd(a):
    """erfc(hi + lo) = erfc(hi) - 2/sqrt(pi) e^{-hi^2} lo (e^{-hi^2} >= erfc(hi) for
    hi >= 0: no underflow of the correction before the value's)."""
    ah, al = a
    y = torch.special.erfc(ah)
    if al is None:
        return y
    return y - _TWO_OVER_SQRT_PI * torch.exp(-(ah * ah)) * _tail(a)


#: log of the smallest normal number (float64, float32): below it e^u is subnormal or 0.
_EXP_SUBNORMAL = {torch.float64: -708.3964185322641, torch.float32: -87.33654475055310}
#: ln 2 as hi + lo with hi short enough that e hi is exact for every exponent e of the
#: dtype (fdlibm's split: 32 bits for float64, 16 for float32).
_LN2 = {torch.float64: (6.93147180369123816490e-01, 1.90821492927058770002e-10),
        torch.float32: (0.693145751953125, 1.4286068202862268e-06)}


def _exp_tail(p, c, u, g=None):
    """The product p = c g e^u (as evaluated) where g e^u is normal; where it is below the
    normal range, sign(c) exp(u + log|c g|) with the exponent as hi + lo: e^u rounded
    into the subnormal range keeps a few bits only and c would multiply their error.
    log|c g| = e ln 2 + log|m| (frexp: m in [1/2, 1), |log m| < 0.7, so its rounding is
    below 2^-54 absolute; e ln 2 exact as hi + lo), summed by Fast2Sum (|e ln 2| >= 0.69
    > |log m| unless e = 0), then added to u by Fast2Sum too (|u| > 708 >= |log|c g||
    in the tail unless |c g| > 2^1021): the exponent's absolute error is ~2^-54 plus c's
    relative error, as the result rounds straight into the subnormal range (or, with
    |c| > 1, to a normal number).  Where c g is 0, inf or NaN the result is not finite
    or is 0 times NaN: p is kept there.  About 25 elementwise ops (``exact`` path only)."""
    uh = u[0]
    # v = g e^u is subnormal where u + log g is below the threshold (erfc(t) = erfcx(t)
    # e^{-t^2} with erfcx(t) ~ 1/(t sqrt(pi)): from u = -704.5 in float64, -84.5 in float32)
    lv = uh if g is None else uh + torch.log(g)
    tail = lv < _EXP_SUBNORMAL.get(uh.dtype, _EXP_SUBNORMAL[torch.float64])
    if uh.is_cpu and not torch.compiler.is_compiling() and direct(uh) and not bool(tail.any()):
        return p  # a plain eager CPU call without a tail input: skip ~20 ops (same values)
    if not isinstance(c, torch.Tensor):
        c = torch.full_like(uh, c)
    cg = c if g is None else c * g
    m = torch.frexp(cg)[0]
    # the exponent as a float: log2 of the power of two cg/m (exact); torch.compile's CPU
    # code cannot convert frexp's int32 exponent to double (no vectorised convert)
    e = torch.log2(cg / m)
    hi2, lo2 = _LN2.get(uh.dtype, _LN2[torch.float64])
    eh = e * hi2
    lm = torch.log(torch.abs(m))
    lh = eh + lm
    sh = uh + lh
    sl = ((uh - sh) + lh) + (((eh - lh) + lm) + e * lo2)
    if u[1] is not None:
        sl = sl + u[1]
    y = torch.exp(sh)
    y = y + y * sl
    tail = tail & (y < math.inf)
    return torch.where(tail, torch.copysign(y, c), p)
