"""L^2 closed forms through \\int_0^oo (A(u) erfc(a u))^2 du (:mod:`gemsym.lp.gaussian`):
GELU_beta -> ReLU, ||.||_2^2 = (4 sqrt 2 - 5)/(6 sqrt(pi) beta^3), and a few other A, a,
each against mpmath's tanh-sinh quadrature at 30 digits of the integrand written here."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from gemsym.catalogue.gated import gelu_beta
from gemsym.lp import lp_distance
from gemsym.lp.gaussian import erfc_square_integral

U = sp.Symbol("u", positive=True)
DPS = 30


def _gelu_l2_squared(beta):
    """\\int (x Phi(beta x) - max(x, 0))^2 dx by quadrature, Phi = mpmath.ncdf."""
    d = lambda t: t * mpmath.ncdf(beta * t) - max(t, 0)  # noqa: E731
    return mpmath.quad(lambda t: d(t) ** 2, [-mpmath.inf, 0, mpmath.inf])


def test_gelu_beta_l2_closed_form():
    act = gelu_beta()
    beta = act.parameter("beta").symbol
    r = lp_distance(act.bind(beta="symbolic"), 2)
    expected = (4 * sp.sqrt(2) - 5) / (6 * sp.sqrt(sp.pi) * beta**3)
    assert sp.simplify(r.closed_form**2 - expected) == 0
    assert r.rate == sp.Rational(-3, 2)
    with mpmath.workdps(DPS):
        for b in (1, 3):
            ref = _gelu_l2_squared(mpmath.mpf(b))
            exact = mpmath.mpf(sp.N(expected.subs(beta, b), DPS + 5))
            assert abs(exact - ref) < abs(ref) * mpmath.mpf(10) ** (-DPS + 3)


@pytest.mark.parametrize("A, a", [
    (U / 2, 1 / sp.sqrt(2)),
    (U**2 + 1, sp.Integer(3)),
    (U**3 - U, sp.Rational(1, 2)),
    (sp.Integer(1), sp.Integer(1)),
])
def test_erfc_square_integral_against_quadrature(A, a):
    exact = erfc_square_integral(A * sp.erfc(a * U), U)
    assert exact is not None and not exact.has(sp.Integral, sp.erfc)
    f = sp.lambdify(U, A, "mpmath")
    with mpmath.workdps(DPS):
        am = mpmath.mpf(sp.N(a, DPS + 5))
        ref = mpmath.quad(lambda t: (f(t) * mpmath.erfc(am * t)) ** 2, [0, 1, mpmath.inf])
        assert abs(mpmath.mpf(sp.N(exact, DPS + 5)) - ref) < abs(ref) * mpmath.mpf(10) ** (-DPS + 3)


def test_other_shapes_are_left_alone():
    assert erfc_square_integral(sp.erfc(U) ** 2, U) is None
    assert erfc_square_integral(sp.exp(U) * sp.erfc(U), U) is None
    assert erfc_square_integral(U * sp.erfc(-U), U) is None  # a < 0: not square-integrable
