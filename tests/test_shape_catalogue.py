"""Shape properties of the gated catalogue members whose tails saturate doubly
exponentially or through tanh (GELU-tanh, TanhExp, Mish): the minimum found by
``shape_properties`` against mpmath's ``findroot`` on f' written out by hand here, at 40
digits; the range of f' against a dense mpmath sample."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from gemsym.catalogue.gated import gelu_tanh, mish, tanhexp
from gemsym.shape import shape_properties

def _c():
    return mpmath.mpf(44715) / 10**6  # at the working precision, not the import-time one


def _gelu_tanh(x):
    return x * (1 + mpmath.tanh(mpmath.sqrt(2 / mpmath.pi) * (x + _c() * x**3))) / 2


def _gelu_tanh_d(x):
    u = mpmath.sqrt(2 / mpmath.pi) * (x + _c() * x**3)
    du = mpmath.sqrt(2 / mpmath.pi) * (1 + 3 * _c() * x**2)
    return (1 + mpmath.tanh(u)) / 2 + x * mpmath.sech(u) ** 2 * du / 2


def _tanhexp(x):
    return x * mpmath.tanh(mpmath.exp(x))


def _tanhexp_d(x):
    return mpmath.tanh(mpmath.exp(x)) + x * mpmath.exp(x) * mpmath.sech(mpmath.exp(x)) ** 2


def _mish(x):
    return x * mpmath.tanh(mpmath.log1p(mpmath.exp(x)))


def _mish_d(x):
    s = mpmath.log1p(mpmath.exp(x))
    return mpmath.tanh(s) + x * mpmath.sech(s) ** 2 * mpmath.exp(x) / (1 + mpmath.exp(x))


CASES = [
    (gelu_tanh, _gelu_tanh, _gelu_tanh_d, -0.75, "-0.7522", "-0.1700"),
    (tanhexp, _tanhexp, _tanhexp_d, -1.08, "-1.0788", "-0.3532"),
    (mish, _mish, _mish_d, -1.19, "-1.1924", "-0.3088"),
]


@pytest.mark.parametrize("make, f, df, guess, x_pub, f_pub", CASES,
                         ids=[c[0].__name__ for c in CASES])
def test_single_minimum_matches_findroot(make, f, df, guess, x_pub, f_pub):
    with mpmath.workdps(40):
        x_ref = mpmath.findroot(df, guess)
        f_ref = f(x_ref)
    props = shape_properties(make())
    ((where, value),) = props.minima
    with mpmath.workdps(40):
        assert abs(mpmath.mpf(str(sp.N(where, 30))) - x_ref) < mpmath.mpf(10) ** -25
        assert abs(mpmath.mpf(str(sp.N(value, 30))) - f_ref) < mpmath.mpf(10) ** -25
    # the rounded values quoted for these functions agree with the reference
    assert abs(x_ref - mpmath.mpf(x_pub)) < 5e-4
    assert abs(f_ref - mpmath.mpf(f_pub)) < 1e-4
    # decreasing then increasing; the global minimum is the local one, attained
    assert [label for _, label in props.monotonicity] == ["decreasing", "increasing"]
    assert props.bounds[0] == value and props.bounds_attained[0]
    assert props.bounds[1] == sp.oo
    # range of f' encloses a dense sample of f' (and is not wider than the sample shows)
    lo, hi = (mpmath.mpf(str(sp.N(v, 30))) for v in props.derivative_range)
    sample = [df(mpmath.mpf(t) / 50) for t in range(-500, 501)]
    assert lo <= min(sample) + mpmath.mpf(10) ** -20
    assert hi >= max(sample) - mpmath.mpf(10) ** -20
    assert min(sample) - lo < 1e-3 and hi - max(sample) < 1e-3
