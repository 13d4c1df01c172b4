"""Smoothness classes of generated piecewise families whose class is known by construction.

Left branch L, right branch L + (x - c)^k * Q / R with Q(c) != 0 and R(c) != 0: the two
branches agree to order k - 1 at the junction c and differ at order k, so the class is
exactly C^(k-1) (k = 0: not continuous), and the jump of the k-th derivative is
k! * Q(c) / R(c).  Nothing here uses the series engine: the expectation follows from the
construction, and the jump is checked against mpmath's one-sided numerical derivatives.
"""

from __future__ import annotations

import mpmath
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gemsym import Activation, X, smoothness

small = st.integers(min_value=-3, max_value=3)
nonzero = small.filter(lambda v: v != 0)


@st.composite
def family(draw):
    c = sp.Rational(draw(st.integers(-4, 4)), draw(st.integers(1, 3)))
    k = draw(st.integers(min_value=0, max_value=5))
    left = sp.Add(*[draw(small) * X**i for i in range(draw(st.integers(1, 4)))])
    q = draw(nonzero) + draw(small) * (X - c) + draw(small) * (X - c) ** 2
    # R > 0 everywhere (no pole anywhere), and rational only when asked for.
    rational = draw(st.booleans())
    r = 1 + draw(st.integers(1, 3)) * (X - c - draw(small)) ** 2 if rational else sp.S.One
    right = left + (X - c) ** k * q / r
    return c, k, left, right


@settings(max_examples=25, deadline=None)
@given(family())
@example((sp.Integer(0), 3, sp.S.Zero, X**3 * (1 + X) / (1 + X**2)))
@example((sp.Rational(1, 2), 0, X, X + 2))
@example((sp.Integer(1), 1, sp.S.Zero, 1 - X))  # right - left = -(x - 1): the jump is -1
def test_class_is_the_construction_order(case):
    c, k, left, right = case
    act = Activation.from_branches("constructed", [left, right], [c])
    junction = smoothness(act).junctions[0]
    assert junction.junction == c
    assert junction.smoothness == k - 1
    assert junction.first_mismatch_order == k
    # The jump of the k-th derivative, by construction and by one-sided numerics.
    # cancel first: SymPy writes (x - c) * (-1) as c - x, which a plain subs turns into 0/0
    expected = sp.factorial(k) * sp.cancel((right - left) / (X - c) ** k).subs(X, c)
    assert sp.simplify(junction.right - junction.left - expected) == 0
    with mpmath.workdps(40):
        fl = sp.lambdify(X, left, "mpmath")
        fr = sp.lambdify(X, right, "mpmath")
        cm = mpmath.mpf(sp.Rational(c).p) / sp.Rational(c).q
        numeric = (mpmath.diff(fr, cm, k, direction=1) - mpmath.diff(fl, cm, k, direction=-1))
        assert abs(numeric - mpmath.mpf(sp.N(expected, 40))) < mpmath.mpf(10) ** -15 * (1 + abs(numeric))
