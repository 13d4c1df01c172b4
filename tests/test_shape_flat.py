"""Limits at +-oo through a split g = A + (flat part) (gemsym.shape.flat): the algebraic
part A is checked against g evaluated by mpmath at 50 digits (g - A must shrink faster
than any power), and the limits and signs of end_limit/end_sign against mpmath values far
out on the line.  The branches are written here in mpmath, not taken from gemsym."""

from __future__ import annotations

import mpmath as mp
import pytest
import sympy as sp

from gemsym.series import NotExpandable
from gemsym.shape.flat import algebraic_part
from gemsym.shape.signs import SERIES_T, Undecided, end_limit, end_sign

x = sp.Symbol("x", real=True)
t = SERIES_T
beta = sp.Symbol("beta", positive=True)
_K = sp.sqrt(2 / sp.pi)
_C = sp.Rational(44715, 10**6)
GELU_TANH = x * (1 + sp.tanh(_K * (x + _C * x**3))) / 2


def _gelu_tanh(v):
    return v * (1 + mp.tanh(mp.sqrt(2 / mp.pi) * (v + mp.mpf(44715) / 10**6 * v**3))) / 2


def _gelu_tanh_d(v):
    k = mp.sqrt(2 / mp.pi)
    u = k * (v + mp.mpf(44715) / 10**6 * v**3)
    return (1 + mp.tanh(u)) / 2 + v * mp.sech(u) ** 2 * k * (1 + 3 * mp.mpf(44715) / 10**6 * v**2) / 2


@pytest.mark.parametrize("expr, ref, point, expected", [
    (GELU_TANH, _gelu_tanh, -sp.oo, 0),
    (GELU_TANH, _gelu_tanh, sp.oo, sp.oo),
    (sp.diff(GELU_TANH, x), _gelu_tanh_d, -sp.oo, 0),
    (sp.diff(GELU_TANH, x), _gelu_tanh_d, sp.oo, 1),
    (GELU_TANH - x, lambda v: _gelu_tanh(v) - v, sp.oo, 0),
    (GELU_TANH / x + 3, lambda v: _gelu_tanh(v) / v + 3, -sp.oo, 3),
    (x / (1 + sp.exp(-x)) - x + 2, lambda v: v / (1 + mp.exp(-v)) - v + 2, sp.oo, 2),
    (sp.erfc(x) * x**5 - 1, lambda v: mp.erfc(v) * v**5 - 1, sp.oo, -1),
])
def test_limits_at_infinity_agree_with_mpmath(expr, ref, point, expected):
    value = end_limit(expr, x, point, point == -sp.oo)
    assert value == expected
    with mp.workdps(50):
        far = [ref(mp.mpf(60) * (1 if point == sp.oo else -1) * k) for k in (1, 2)]
        if expected == sp.oo:
            assert far[1] > far[0] > 30
        else:
            assert all(abs(v - expected) < mp.mpf(10) ** -20 for v in far)


@pytest.mark.parametrize("g, a", [
    (GELU_TANH.subs(x, -1 / t), sp.S.Zero),
    (GELU_TANH.subs(x, 1 / t), 1 / t),
    ((x * (1 + sp.erf(beta * x / sp.sqrt(2))) / 2).subs(x, -1 / t), sp.S.Zero),
    ((x / (1 + sp.exp(-x))).subs(x, 1 / t), 1 / t),
    ((sp.log(1 + sp.exp(x)) + sp.exp(x / (1 + x**2))).subs(x, -1 / t), sp.exp(-t / (1 + t**2))),
    (sp.Abs(x - sp.tanh(x) ** 3).subs(x, -1 / t), 1 / t - 1),
])
def test_algebraic_part(g, a):
    """g - A vanishes faster than any power of t: below t^10 at t = 1/60 and 1/120 (beta = 1)."""
    got = algebraic_part(g, t)
    assert sp.simplify(got - a) == 0
    for tv in (sp.Rational(1, 60), sp.Rational(1, 120)):
        diff = sp.N((g - got).subs({t: tv, beta: 1}), 50)
        assert abs(diff) < tv**10


@pytest.mark.parametrize("g", [
    sp.exp(1 / t),                       # grows exponentially
    sp.sin(1 / t) + sp.tanh(-1 / t),     # oscillates
    sp.atan(1 / t) + sp.exp(-1 / t),     # pi/2 - atan(x) ~ 1/x is not flat
    sp.log(1 / t) * sp.exp(-1 / t),      # a logarithm at infinity
    sp.log(sp.exp(-1 / t) - 2),          # not real
    sp.tanh(-1 / t) + 1,                 # A = 0: sign of the flat part unknown here ...
])
def test_no_rule_means_no_claim(g):
    if g == sp.tanh(-1 / t) + 1:         # ... but the limit itself is decided
        assert algebraic_part(g, t) == 0
        return
    with pytest.raises(NotExpandable):
        algebraic_part(g, t)


def test_signs_at_infinity():
    # A != 0: the sign of its leading term; A = 0: the exponential rewriting still decides
    assert end_sign(x - 3 * sp.tanh(x), x, sp.oo, False) == 1
    assert end_sign(sp.tanh(x) - sp.Rational(1, 2), x, -sp.oo, True) == -1
    with mp.workdps(30):
        assert mp.mpf(60) - 3 * mp.tanh(60) > 0 and mp.tanh(-60) - mp.mpf(1) / 2 < 0
    # A = 0 at -oo: the sign of the flat part alone is not claimed
    with pytest.raises(Undecided):
        end_sign(GELU_TANH, x, -sp.oo, True)


def test_gelu_tanh_limits_need_no_gruntz(monkeypatch):
    """The ends of GELU-tanh and of its derivative are decided by the split alone."""
    def refuse(*args, **kwargs):
        raise AssertionError("sympy.limit called")

    monkeypatch.setattr(sp, "limit", refuse)
    d1 = sp.diff(GELU_TANH, x)
    got = [end_limit(e, x, pt, pt == -sp.oo) for e in (GELU_TANH, d1) for pt in (-sp.oo, sp.oo)]
    assert got == [0, sp.oo, 0, 1]
