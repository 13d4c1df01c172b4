"""Closed forms of ||f - limit||_p that reduce to zeta/polylog, Beta-type or erf integrals,
for families written here as a user would: Softplus_beta, SiLU_beta, Squareplus, GELU_beta
(SmeLU: tests/test_parameter_junctions.py; Sqish, E-GEM: tests/test_lp_distance.py).

Each is checked against a value derived by hand (the substitution stated) and against an
mpmath quadrature of |f - limit|^p written here."""

from __future__ import annotations

import mpmath
import sympy as sp

from gemsym.activation import X, Activation, Limit
from gemsym.families import relu
from gemsym.lp import P, lp_distance
from gemsym.parameters import positive_real


def _beta_family(name: str, expr) -> Activation:
    b = positive_real("beta", 1, "sharpness")
    return Activation.from_branches(name, [expr(b.symbol)], parameters=(b,),
                                    limit=Limit("beta", sp.oo, relu()))


def softplus_beta() -> Activation:
    return _beta_family("softplus-beta", lambda b: sp.log(1 + sp.exp(b * X)) / b)


def silu_beta() -> Activation:
    return _beta_family("silu-beta", lambda b: X / (1 + sp.exp(-b * X)))


def gelu_beta() -> Activation:
    return _beta_family("gelu-beta", lambda b: X * (1 + sp.erf(b * X / sp.sqrt(2))) / 2)


def squareplus() -> Activation:
    b = positive_real("b", 4, "smoothing")
    return Activation.from_branches("squareplus", [(X + sp.sqrt(X**2 + b.symbol)) / 2],
                                    parameters=(b,), limit=Limit("b", sp.S.Zero, relu()))


def quad_norm(d, p, pts):
    with mpmath.workdps(30):
        return mpmath.quad(lambda t: abs(d(t)) ** p, pts) ** (mpmath.mpf(1) / p)


def _beta():
    return sp.Symbol("beta", positive=True)


def test_softplus_l1_is_pi2_over_6_beta2():
    # |f - relu| = log(1 + e^{-beta|x|})/beta on both sides; w = e^{-beta u}:
    # \int_0^oo log(1 + e^{-beta u}) du = eta(2)/beta = pi^2/(12 beta)  ->  2 * pi^2/(12 beta^2)
    r = lp_distance(softplus_beta().bind(beta="symbolic"), 1)
    assert sp.simplify(r.closed_form - sp.pi**2 / (6 * _beta() ** 2)) == 0 and r.rate == -2
    c = lp_distance(softplus_beta().bind(beta=2), 1, check=False, dps=20, unbound=softplus_beta())
    ref = quad_norm(lambda t: mpmath.log1p(mpmath.exp(-2 * abs(t))) / 2, 1, [-mpmath.inf, 0, mpmath.inf])
    assert c.closed_form == sp.pi**2 / 24 and abs(c.value.value - ref) < mpmath.mpf(10) ** -18


def test_softplus_l2_is_zeta3():
    # w = e^{-beta u}: \int_0^oo log^2(1 + e^{-beta u}) du = (1/beta) \int_0^1 log^2(1+w)/w dw
    # = zeta(3)/(4 beta) (the classical value of that integral); both sides and the 1/beta^2
    # of |f - relu|^2 give ||.||_2^2 = zeta(3)/(2 beta^3)
    r = lp_distance(softplus_beta().bind(beta="symbolic"), 2)
    assert sp.simplify(r.closed_form**2 - sp.zeta(3) / (2 * _beta() ** 3)) == 0
    assert r.rate == sp.Rational(-3, 2)
    c = lp_distance(softplus_beta().bind(beta=2), 2, check=False, dps=20, unbound=softplus_beta())
    ref = quad_norm(lambda t: mpmath.log1p(mpmath.exp(-2 * abs(t))) / 2, 2, [-mpmath.inf, 0, mpmath.inf])
    assert abs(c.value.value - ref) < mpmath.mpf(10) ** -18


def _softplus_relu_quad(beta: int, p: int) -> mpmath.mpf:
    """||softplus_beta - relu||_p by tanh-sinh on the original branches, log(1 + e^{beta x})/beta
    minus max(x, 0), at 80 digits (the difference cancels for x > 0; beyond |x| = 60 the
    integrand is below e^{-180})."""
    with mpmath.workdps(80):
        def d(t):
            return mpmath.log(1 + mpmath.exp(beta * t)) / beta - max(t, 0)
        return mpmath.quad(lambda t: abs(d(t)) ** p, [-60, -10, 0, 10, 60]) ** (mpmath.mpf(1) / p)


def test_softplus_integer_p_polylog_closed_forms():
    # ||.||_p^p = (2/beta^(p+1)) \int_0^1 log^p(1+t)/t dt, a zeta/polylog-at-1/2 combination
    # for every integer p (gemsym.lp.integrals._log_power_integral); checked here against a
    # quadrature of |f - relu|^p itself, not the t-integral
    for p in (3, 4, 5):
        for beta in (1, 2):
            c = lp_distance(softplus_beta().bind(beta=beta), p, check=False, dps=30,
                            unbound=softplus_beta())
            assert c.closed_form is not None and c.closed_form.has(sp.zeta)
            assert not c.closed_form.has(sp.Integral)
            got = sp.N(c.closed_form, 40)
            ref = _softplus_relu_quad(beta, p)
            with mpmath.workdps(40):
                assert abs(mpmath.mpf(str(got)) / ref - 1) < mpmath.mpf(10) ** -29, (p, beta)
    # p = 3 at beta = 1, by hand from the identity with Li_1, Li_2, Li_3 at 1/2 known:
    # I_3 = pi^4/15 - 21 log2 zeta(3)/4 + pi^2 log^2 2/4 - log^4 2/4 - 6 Li_4(1/2)
    l2 = sp.log(2)
    i3 = sp.pi**4 / 15 - sp.Rational(21, 4) * l2 * sp.zeta(3) + sp.pi**2 * l2**2 / 4 - l2**4 / 4 \
        - 6 * sp.polylog(4, sp.Rational(1, 2))
    c = lp_distance(softplus_beta().bind(beta=1), 3, check=False, unbound=softplus_beta())
    assert sp.expand(c.closed_form**3 - 2 * i3) == 0


def test_cli_softplus_p3_prints_the_closed_form(capsys):
    from gemsym.cli import main

    assert main(["lp-distance", "--family", "softplus", "--p", "3"]) == 0
    text = capsys.readouterr().out
    line = next(s for s in text.splitlines() if "closed form:" in s)
    assert "polylog(4, 1/2)" in line and "zeta(3)" in line and "none found" not in text
    assert "value from the closed form, certified to 30 digits" in text
    assert "0.658106291799529345619946104760" in text


def test_silu_l1_and_l2():
    # x>0: x/(1+e^{-bx}) - x = -x e^{-bx}/(1+e^{-bx}); \int_0^oo u e^{-u}/(1+e^{-u}) du = eta(2)
    r = lp_distance(silu_beta().bind(beta="symbolic"), 1)
    assert sp.simplify(r.closed_form - sp.pi**2 / (6 * _beta() ** 2)) == 0
    # p = 2: \int_0^oo u^2 e^{-2u}/(1+e^{-u})^2 du = sum_j (-1)^j (j-1) 2/j^3 = 3 zeta(3)/2 - pi^2/6
    # (both sides: twice that), so ||.||_2 = sqrt(3 zeta(3) - pi^2/3) at beta = 1
    c = lp_distance(silu_beta().bind(beta=1), 2, check=False, dps=20, unbound=silu_beta())
    assert abs(sp.N(c.closed_form, 30) - sp.sqrt(3 * sp.zeta(3) - sp.pi**2 / 3).evalf(30)) < 1e-25
    ref = quad_norm(lambda t: t / (1 + mpmath.exp(-t)) - max(t, 0), 2, [-mpmath.inf, -5, 0, 5, mpmath.inf])
    assert abs(c.value.value - ref) < mpmath.mpf(10) ** -18


def test_squareplus_every_p():
    # x = sqrt(b) sinh t (equivalently Euler's substitution): sqrt(x^2+b) - |x| = sqrt(b) e^{-t},
    # \int_0^oo ((sqrt(x^2+b) - x)/2)^p dx = b^{(p+1)/2} 2^{-p} \int_0^oo e^{-pt} cosh t dt
    #   = b^{(p+1)/2} 2^{-p} p/(p^2 - 1)   (p > 1), twice that for both sides.
    r = lp_distance(squareplus().bind(b="symbolic"), "symbolic")
    b = sp.Symbol("b", positive=True)
    by_hand = (2 * b ** ((P + 1) / 2) * P / (2**P * (P**2 - 1))) ** (1 / P)
    assert r.condition == (P > 1) and sp.simplify(r.rate - (P + 1) / (2 * P)) == 0
    for p in (2, 3, sp.Rational(5, 2)):
        v = (r.closed_form - by_hand).subs({b: sp.Rational(1, 3), P: p})
        assert abs(sp.N(v, 40)) < 1e-35
    c = lp_distance(squareplus().bind(b="1/3"), 2, check=False, dps=20, unbound=squareplus())
    ref = quad_norm(lambda t: (mpmath.sqrt(t * t + mpmath.mpf(1) / 3) - abs(t)) / 2, 2,
                    [-mpmath.inf, -1, 0, 1, mpmath.inf])
    assert c.value.digits >= 15 and abs(c.value.value - ref) < mpmath.mpf(10) ** -15 * ref


def test_gelu_l1_is_one_over_2_beta2():
    # |f - relu| = |x| erfc(beta|x|/sqrt 2)/2; \int_0^oo u erfc(a u) du = 1/(4 a^2) (parts)
    r = lp_distance(gelu_beta().bind(beta="symbolic"), 1)
    assert sp.simplify(r.closed_form - 1 / (2 * _beta() ** 2)) == 0 and r.rate == -2
