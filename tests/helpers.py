"""Tolerances and hand-written reference formulas shared by the tests.

The reference functions are written from docs/definitions.md directly in mpmath, never from gemsym's
expressions, so that a test compares two independent computations.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath as mp

#: Working precision of the mpmath references.
DPS = 60
#: Relative tolerance tied to that precision (mpmath test_quad style: 10**(-dps+k)).
REL = mp.mpf(10) ** (-30)


def close(a, b, rel=REL) -> bool:
    """|a - b| <= rel * max(1, |a|, |b|), compared at the references' precision."""
    with mp.workdps(DPS):
        a, b = mp.mpf(a), mp.mpf(b)
        return abs(a - b) <= rel * max(1, abs(a), abs(b))


def num(value):
    """An exact rational (int, str '1/10', Fraction) as an mpf at the current precision:
    parameters must not be rounded at import time's 15 digits."""
    q = Fraction(str(value))
    return mp.mpf(q.numerator) / q.denominator


def gem_ref(N, eps=1):
    """GEM / E-GEM from docs/definitions.md: x^{2N+1}/(x^{2N}+eps) for x > 0, else 0."""
    return lambda x: mp.mpf(0) if x <= 0 else x ** (2 * N + 1) / (x ** (2 * N) + num(eps))


def se_gem_ref(N, eps=1):
    """SE-GEM from docs/definitions.md, negative branch -|x|^{2N+1}/(1+|x|^{2N+1})."""

    def f(x):
        if x < 0:
            return -abs(x) ** (2 * N + 1) / (1 + abs(x) ** (2 * N + 1))
        return x ** (2 * N + 1) / (x ** (2 * N) + num(eps))

    return f


def sqish_ref(a=0, beta=1, gamma=1):
    """Sqish from the paper: a x + (1-a) x / (1 + beta exp(-2 gamma (1-a) x))."""

    def f(x):
        A, B, G = num(a), num(beta), num(gamma)
        return A * x + (1 - A) * x / (1 + B * mp.exp(-2 * G * (1 - A) * x))

    return f


def one_sided_derivatives(f, x0, kmax, direction):
    """f^{(k)}(x0 +- 0) for k = 0..kmax by mpmath's one-sided finite differences."""
    with mp.workdps(3 * DPS):
        return [mp.diff(f, x0, k, direction=direction) for k in range(kmax + 1)]


def first_mismatch(f, x0, kmax, rel=mp.mpf(10) ** -20):
    """(k, left, right) of the first order whose one-sided derivatives differ."""
    left = one_sided_derivatives(f, x0, kmax, -1)
    right = one_sided_derivatives(f, x0, kmax, +1)
    for k, (l, r) in enumerate(zip(left, right)):
        if abs(l - r) > rel * max(1, abs(l), abs(r)):
            return k, l, r
    return None
