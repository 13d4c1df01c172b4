"""The far tail of zero isolation is a proof: the dominant-monomial bound of
:mod:`gemsym.shape.tail` starts beyond every zero (zeros and signs checked here with mpmath
at 50 digits), and a sign change far out (2^70, 2^210) is never ruled out by sampling --
the isolation then cannot decide rather than claim."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from gemsym import Activation, X
from gemsym.shape import Undecided, shape_properties
from gemsym.shape.isolate import certified_zeros
from gemsym.shape.signs import CHART_P
from gemsym.shape.tail import dominant_tail

p = CHART_P
E = sp.exp
DPS = 50


def _value(expr: sp.Expr, at) -> mpmath.mpf:
    """expr at p = at by mpmath at DPS digits."""
    with mpmath.workdps(DPS):
        f = sp.lambdify(p, expr, modules="mpmath")
        return f(mpmath.mpf(at))


# (expression, a point before its last zero, where it has the other sign than far out)
WITH_LAST_ZERO = [
    (p**2 * E(p) - 2**20 * p * E(p) + 1, 2**20 - 1),
    (2 * p * E(p) * sp.tanh(sp.log(E(p) + 1)) - p - 2 * E(p) - 2, 1),  # Mish f'' factor
    (E(p) / 2**40 - p**5, 40),
    (p**3 * E(-p) - sp.Rational(1, 10**20), 40),
    (E(-E(p)) * p**20 * E(40 * p) - E(-2 * p), 3),
    (p**10 * E(-p**2) - sp.Rational(1, 10**20), 4),  # z = e^{-u}, u = p^2
]


@pytest.mark.parametrize("expr,before", WITH_LAST_ZERO)
def test_dominant_tail_starts_beyond_the_last_zero(expr, before):
    found = dominant_tail(expr, p, 1, 60)
    assert found is not None
    start = mpmath.mpf(2) ** found.exponent
    # the last sign change lies between `before` and the start of the bound
    assert before < start and mpmath.sign(_value(expr, before)) == -found.sign
    # one sign from the bound on, at points up to 2^(k + 6)
    for j in range(0, 7):
        for frac in ("1", "1.37", "1.93"):
            assert mpmath.sign(_value(expr, start * 2**j * mpmath.mpf(frac))) == found.sign


def test_dominant_tail_of_a_saturating_tanh():
    """tanh(u) - 1 + e^{-u}/2^30 with u = p^3/20 + p (GELU-tanh's argument): negative
    until e^u is about 2^31, positive after; mpmath evaluates it as e^{-u}/2^30 -
    2/(e^{2u} + 1) (tanh(u) - 1 loses every digit there)."""
    u = p**3 / 20 + p
    found = dominant_tail(sp.tanh(u) - 1 + E(-u) / 2**30, p, 1, 60)
    assert found is not None and found.sign == 1
    start = 2**found.exponent
    with mpmath.workdps(DPS):
        def value(at):
            t = mpmath.mpf(at) ** 3 / 20 + at
            return mpmath.exp(-t) / 2**30 - 2 / (mpmath.exp(2 * t) + 1)
        assert value(2) < 0 and mpmath.tanh(mpmath.mpf(2.4)) - 1 + mpmath.exp(-2.4) / 2**30 < 0
        assert all(value(start * 2**j * mpmath.mpf(frac)) > 0
                   for j in range(7) for frac in ("1", "1.37", "1.93"))


def test_dominant_tail_of_saturating_products():
    """TanhExp's p e^p tanh(e^p)^2 - p e^p - tanh(e^p) = -p e^p sech(e^p)^2 - tanh(e^p) < 0
    (two scales: e^{-p} and e^{-e^p})."""
    expr = p * E(p) * sp.tanh(E(p)) ** 2 - p * E(p) - sp.tanh(E(p))
    found = dominant_tail(expr, p, 1, 60)
    assert found is not None and found.sign == -1
    with mpmath.workdps(DPS):
        for at in (2, 7, 30):
            at = mpmath.mpf(at)
            u = mpmath.exp(at)
            assert -at * u * mpmath.sech(u) ** 2 - mpmath.tanh(u) < 0


# a zero (or two) beyond 2^60, each checked by a sign change of the mpmath value
FAR = [
    (E(-p / 2**70) + sp.Rational(-1, 2), [(2**60, 2**72)]),
    ((p - 2**70) * (p - 2**210) + E(-p), [(2**60, 2**71), (2**71, 2**211)]),
    (1 - 2 * E(-(sp.log(p) - 49) ** 2), [(2**60, 2**70), (2**70, 2**80)]),
]


@pytest.mark.parametrize("expr,changes", FAR)
def test_a_sign_change_beyond_2_60_is_not_ruled_out(expr, changes):
    for lo, hi in changes:
        assert mpmath.sign(_value(expr, lo)) != mpmath.sign(_value(expr, hi))
    assert dominant_tail(expr, p, 5, 60) is None
    with pytest.raises(Undecided):
        certified_zeros(expr, p, None)


def test_a_zero_in_the_tail_octaves_is_found():
    expr = E(-p) * (p**2 + 1) - sp.Rational(1, 10**30)
    (root,) = certified_zeros(expr, p, None)
    with mpmath.workdps(DPS):
        f = sp.lambdify(p, expr, modules="mpmath")
        ref = mpmath.findroot(f, mpmath.mpf(77))
        assert 64 < ref < 128
        assert abs(mpmath.mpf(str(root)) - ref) < mpmath.mpf(10) ** -25


def test_family_whose_slope_turns_negative_far_out_is_not_called_monotone():
    """f'(x) = x^2 - (2^70 + 2^210) x + 2^280 + e^{-x} on x > 0 is negative between about
    2^70 and 2^210: f is not monotone, and no sampling up to 2^60 may claim it is."""
    a, b = sp.Integer(2) ** 70, sp.Integer(2) ** 210
    right = X**3 / 3 - (a + b) * X**2 / 2 + a * b * X - sp.exp(-X) + 1
    act = Activation.from_branches("far-dip", [X, right], [0])
    slope = sp.diff(right, X)
    assert mpmath.sign(_value(slope.subs(X, p), 2**100)) < 0
    try:
        props = shape_properties(act)
    except Undecided:
        return
    assert props.monotone is None


def test_a_tiny_oscillation_that_dominates_far_out_is_not_ruled_out():
    """1 + p sin(p)/2^100 is positive up to 2^100 and changes sign infinitely often after."""
    expr = 1 + p * sp.sin(p) / 2**100
    with mpmath.workdps(DPS):
        k = mpmath.floor(mpmath.mpf(2) ** 102 / (2 * mpmath.pi))
        trough = 3 * mpmath.pi / 2 + 2 * mpmath.pi * k  # sin = -1 there
        assert 1 + trough * mpmath.sin(trough) / mpmath.mpf(2) ** 100 < 0
    assert dominant_tail(expr, p, 5, 60) is None
    with pytest.raises(Undecided):
        certified_zeros(expr, p, None)
