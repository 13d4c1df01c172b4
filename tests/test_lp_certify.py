"""Never a wrong number: ``gemsym.lp`` prints a value only to the digits that two
independent methods agree on, and refuses (exit status 3) when they do not.

The families are written here exactly as a user would write them; the references are
integrals done by hand (substitutions stated beside them) or mpmath quadratures written
here, never the engine's own formulas."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

import gemsym.lp.distance as lp_distance_module
from gemsym.activation import X, Activation, Limit
from gemsym.families import e_gem, relu
from gemsym.lp import lp_distance
from gemsym.lp.certify import MIN_DIGITS, NotCertified, agreed_digits, certify
from gemsym.lp.quadrature import Estimate
from gemsym.parameters import positive_real


def squareplus() -> Activation:
    """(x + sqrt(x^2 + b))/2 -> ReLU as b -> 0."""
    b = positive_real("b", 4, "smoothing")
    return Activation.from_branches("squareplus", [(X + sp.sqrt(X**2 + b.symbol)) / 2],
                                    parameters=(b,), limit=Limit("b", sp.S.Zero, relu()))


# --------------------------------------------------------------------- the certificate itself
def test_agreed_digits_keeps_a_margin():
    assert agreed_digits(1, 1) >= 10**6
    with mpmath.workdps(30):
        assert agreed_digits(mpmath.mpf("1.0000001"), 1) == 6  # relative 1e-7, one digit of margin
    assert agreed_digits(2, 1) == 0


def test_disagreeing_methods_are_refused():
    good = Estimate(mpmath.mpf("0.25"), 0, "closed form")
    with pytest.raises(NotCertified, match="fewer than"):
        certify(good, [Estimate(mpmath.mpf("0.2501"), 0, "quadrature")], 30)
    with pytest.raises(NotCertified, match="no independent method"):
        certify(good, [], 30)
    with pytest.raises(NotCertified):
        certify(Estimate(mpmath.inf, 0, "quadrature"), [good], 30)
    # an exact value off by 1e-6 is refuted by a check that claims 30 digits
    with pytest.raises(NotCertified, match="disagrees"):
        certify(good, [Estimate(mpmath.mpf("0.25000025"), mpmath.mpf(10) ** -30, "quadrature")], 30,
                exact=True)
    # a large error estimate of the check limits the digits, even when the values agree
    with pytest.raises(NotCertified):
        certify(good, [Estimate(mpmath.mpf("0.25"), mpmath.mpf("0.01"), "quadrature")], 30)


def test_digits_are_those_agreed():
    with mpmath.workdps(40):
        v = certify(Estimate(mpmath.pi, 0, "closed form"),
                    [Estimate(mpmath.pi * (1 + mpmath.mpf(10) ** -12), 0, "quadrature")], 30)
    assert MIN_DIGITS <= v.digits == 11
    assert v.text == "3.1415926536"


# --------------------------------------------------------------------- the reported cases
@pytest.mark.parametrize("closed_form", [True, False])
def test_squareplus_at_one_third_is_right(closed_form, monkeypatch):
    # Was printed as ~10^155521886 with exit 0.  By hand: d = (sqrt(x^2 + b) - |x|)/2 is
    # even; x = sqrt(b) sinh t gives sqrt(x^2+b) - x = sqrt(b) e^{-t}, so
    # \int_0^oo d^2 dx = b^{3/2}/4 \int_0^oo e^{-2t} cosh t dt = b^{3/2}/4 * 2/3, and
    # ||d||_2 = (b^{3/2}/3)^{1/2} = b^{3/4}/sqrt(3).
    if not closed_form:  # the quadrature of the simplified difference, as when it failed
        monkeypatch.setattr(lp_distance_module, "half_line_integral", lambda h, u, p: None)
    r = lp_distance(squareplus().bind(b="1/3"), 2, check=False, dps=20)
    assert r.undecided is None and r.value is not None
    assert (r.value.source == "closed form") == closed_form
    with mpmath.workdps(40):
        ref = (mpmath.mpf(1) / 3) ** mpmath.mpf("0.75") / mpmath.sqrt(3)
        assert abs(r.value.value - ref) <= mpmath.mpf(10) ** (1 - r.value.digits) * ref
    assert r.value.digits >= 15


def test_tiny_eps_is_certified_to_every_digit():
    # Was printed with a check 2.5e-8 off.  \int_0^oo (eps x/(x^2+eps))^2 dx
    # = eps^2 pi/(4 sqrt(eps)) (the standard \int_0^oo x^2/(x^2+a^2)^2 dx = pi/(4a)).
    r = lp_distance(e_gem().bind(N=1, eps="1e-400"), 2, check=False, dps=25)
    assert r.value is not None and r.value.digits == 25
    with mpmath.workdps(40):
        ref = mpmath.sqrt(mpmath.pi) / 2 * mpmath.mpf(10) ** -300
        assert abs(r.value.value - ref) <= mpmath.mpf(10) ** -24 * ref


# --------------------------------------------------------------------- deliberately wrong values
def test_a_wrong_closed_form_is_refused(monkeypatch, capsys):
    real = lp_distance_module.half_line_integral

    def wrong(h, u, p):
        found = real(h, u, p)
        return None if found is None else found * (1 + sp.Rational(1, 10**6))

    monkeypatch.setattr(lp_distance_module, "half_line_integral", wrong)
    r = lp_distance(e_gem().bind(N=2, eps="1/10000"), 1, check=False, dps=20)
    assert r.value is None and r.closed_form is None
    assert "disagrees" in r.undecided
    from gemsym.cli import main

    assert main(["lp-distance", "--N", "2", "--p", "1", "--dps", "20", "--no-check"]) == 3
    out, err = capsys.readouterr()
    assert "value:" not in out and "0.00785" not in out
    assert err.count("\n") == 1 and "cannot decide" in err


def test_a_non_convergent_quadrature_is_refused(monkeypatch):
    # no closed form, and the value's own quadrature returns a huge number with a small
    # error estimate (as the tanh-sinh tail once did): the independent quadrature from the
    # branches refuses it
    monkeypatch.setattr(lp_distance_module, "half_line_integral", lambda h, u, p: None)
    monkeypatch.setattr(lp_distance_module, "norm_by_quadrature",
                        lambda *a, **k: (mpmath.mpf(10) ** 1000, mpmath.mpf(0)))
    r = lp_distance(squareplus().bind(b="1/3"), 2, check=False, dps=20)
    assert r.value is None and r.undecided and "fewer than" in r.undecided


def test_a_family_equal_to_its_limit_has_distance_zero():
    # f - limit vanishes identically: 0, exact, with no quadrature to disagree with it
    a = positive_real("a", 1, "unused")
    f = Activation.from_branches("relu-again", [sp.S.Zero, X], [0], parameters=(a,),
                                 limit=Limit("a", sp.S.Zero, relu()))
    for p in (1, "inf"):
        r = lp_distance(f.bind(a=1), p, dps=15)
        assert r.undecided is None and r.closed_form == 0 and r.value.value == 0 and r.check is None
