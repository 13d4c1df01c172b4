"""Shape properties where f' is periodic (Snake, x + sin(x)/2, a periodic branch on a
half-line) against mpmath: f' sampled densely at 30 digits (by numerical differentiation of
f written out here, not of the analysed expression), its zeros located by ``findroot``."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from gemsym.activation import X, Activation
from gemsym.catalogue.periodic import snake
from gemsym.shape import Undecided, shape_properties

DPS = 30


def _snake(a):
    return lambda x: x + mpmath.sin(a * x) ** 2 / a


def _sampled_range(f, lo, hi, n=400):
    """(min, max) of f' over n + 1 points of [lo, hi], by mpmath.diff."""
    values = [mpmath.diff(f, lo + (hi - lo) * k / n) for k in range(n + 1)]
    return min(values), max(values)


@pytest.mark.parametrize("a", [1, 3])
def test_snake_is_strictly_increasing_with_isolated_critical_points(a):
    props = shape_properties(snake().bind(a=a))
    assert props.monotone == "increasing"
    assert [label for _, label in props.monotonicity] == ["increasing"]
    assert props.minima == ()
    assert props.derivative_range == (0, 2)
    assert props.lipschitz == 2
    assert props.bounds == (-sp.oo, sp.oo) and props.bounds_attained == (False, False)
    assert props.asymptotes == {}  # x + a bounded non-constant periodic term
    tol = mpmath.mpf(10) ** (-DPS + 5)
    with mpmath.workdps(DPS):
        f = _snake(mpmath.mpf(a))
        # one period of f' is pi / a: sampled over three, the minimum 0 and maximum 2
        lo, hi = _sampled_range(f, -mpmath.pi / a, 2 * mpmath.pi / a)
        assert lo > -tol and abs(lo) < mpmath.mpf(10) ** -3 and abs(hi - 2) < mpmath.mpf(10) ** -3
        # f'(x) = 0 at x = -pi/(4a) + k pi/a: a double zero (f'' = 0 too), so findroot on f''
        for k in (-1, 0, 2):
            guess = (-mpmath.pi / 4 + k * mpmath.pi + mpmath.mpf(1) / 10) / a
            z = mpmath.findroot(lambda t: mpmath.diff(f, t, 2), guess)
            assert abs(z - (-mpmath.pi / 4 + k * mpmath.pi) / a) < tol
            assert abs(mpmath.diff(f, z)) < tol
            h = mpmath.mpf(10) ** -4
            assert f(z - h) < f(z) < f(z + h)  # increasing through the zero of f'
        where = mpmath.mpf(sp.N(props.lipschitz_point, DPS))
        assert abs(mpmath.diff(f, where) - 2) < tol  # the supremum is attained there


def test_bounded_oscillating_derivative_bounded_away_from_zero():
    props = shape_properties(Activation.from_branches("wavy", [X + sp.sin(X) / 2]))
    assert props.monotone == "increasing"
    assert props.derivative_range == (sp.Rational(1, 2), sp.Rational(3, 2))
    with mpmath.workdps(DPS):
        lo, hi = _sampled_range(lambda t: t + mpmath.sin(t) / 2, 0, 2 * mpmath.pi)
    assert abs(lo - 0.5) < 1e-4 and abs(hi - 1.5) < 1e-4


def test_periodic_branch_on_a_half_line():
    act = Activation.from_branches("half", [sp.S.Zero, X + sp.sin(X) ** 2], [0])
    props = shape_properties(act)
    assert props.monotone == "non-decreasing"
    assert props.derivative_range == (0, 2) and props.lipschitz == 2
    point = props.lipschitz_point
    assert point > 0  # attained inside the periodic branch
    with mpmath.workdps(DPS):
        slope = mpmath.diff(lambda t: t + mpmath.sin(t) ** 2, mpmath.mpf(sp.N(point, DPS)))
    assert abs(slope - 2) < mpmath.mpf(10) ** (-DPS + 5)


def test_sign_changing_periodic_derivative_is_refused():
    # f' = 1 + 2 sin(2x) takes every value in [-1, 3]: infinitely many monotone pieces
    with pytest.raises(Undecided, match="infinitely many intervals"):
        shape_properties(Activation.from_branches("osc", [X + 2 * sp.sin(X) ** 2]))
