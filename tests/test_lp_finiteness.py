"""Finiteness of ||f - limit||_p decided for the tails activations have: a nonzero constant
(ELU as alpha -> 0), Gaussian (x Phi(beta x) -> ReLU), bounded oscillation (Snake-like),
and "unknown" only with its reason, exit status 3 and no rate.

Families are written here as a user would; references are integrals by hand or mpmath."""

from __future__ import annotations

import json

import mpmath
import sympy as sp

from gemsym.activation import X, Activation, Limit
from gemsym.families import relu
from gemsym.lp import lp_distance
from gemsym.parameters import positive_real


def elu() -> Activation:
    """alpha (e^x - 1) for x < 0, x for x >= 0; -> ReLU as alpha -> 0."""
    a = positive_real("alpha", 1, "negative saturation")
    return Activation.from_branches("elu", [a.symbol * (sp.exp(X) - 1), X], [0], parameters=(a,),
                                    limit=Limit("alpha", sp.S.Zero, relu()))


def gelu_beta() -> Activation:
    """x Phi(beta x) = x (1 + erf(beta x / sqrt 2)) / 2 -> ReLU as beta -> oo."""
    b = positive_real("beta", 1, "sharpness")
    return Activation.from_branches(
        "gelu-beta", [X * (1 + sp.erf(b.symbol * X / sp.sqrt(2))) / 2], parameters=(b,),
        limit=Limit("beta", sp.oo, relu()))


def identity() -> Activation:
    return Activation.from_branches("identity", [X])


def snake() -> Activation:
    """x + sin^2(a x)/a -> x as a -> oo (bounded oscillation)."""
    a = positive_real("a", 1, "frequency")
    return Activation.from_branches("snake", [X + sp.sin(a.symbol * X) ** 2 / a.symbol], parameters=(a,),
                                    limit=Limit("a", sp.oo, identity()))


def test_elu_tends_to_a_nonzero_constant():
    # alpha (e^x - 1) -> -alpha at -oo: |f - relu|^p is integrable for no finite p
    for p in (1, 2, "7/2"):
        r = lp_distance(elu().bind(alpha="1/10"), p, check=False, dps=20)
        assert r.converges is False and r.value is None and r.rate is None and r.undecided is None
        assert "tends to -alpha" in r.reason
    r = lp_distance(elu().bind(alpha="symbolic"), "symbolic")
    assert r.converges is False and r.condition == sp.false
    # p = oo: sup_{x<0} alpha (1 - e^x) = alpha (by hand; approached at -oo), rate 1
    r = lp_distance(elu().bind(alpha="1/10"), "inf", check=False, dps=20)
    assert r.converges is True and r.rate == 1 and r.value.digits >= 15
    assert r.closed_form == sp.Rational(1, 10)
    assert abs(r.value.value - mpmath.mpf("0.1")) < mpmath.mpf(10) ** -15


def test_gaussian_tail_is_finite_for_every_p():
    # |f - relu| = |x| erfc(beta |x| / sqrt 2)/2 on both sides.  By hand (parts):
    # \int_0^oo x erfc(a x) dx = 1/(4 a^2), so ||f - relu||_1 = 2 * 1/2 * 1/(2 beta^2) = 1/(2 beta^2).
    r = lp_distance(gelu_beta().bind(beta=2), 1, check=False, dps=20, unbound=gelu_beta())
    assert r.converges is True and r.condition == sp.true and r.rate == -2
    assert "faster than every power" in r.reason
    assert abs(r.value.value - mpmath.mpf(1) / 8) < mpmath.mpf(10) ** -15
    r = lp_distance(gelu_beta().bind(beta=2), 2, check=False, dps=20, unbound=gelu_beta())
    with mpmath.workdps(30):
        ref = mpmath.sqrt(2 * mpmath.quad(lambda t: (t * mpmath.erfc(2 * t / mpmath.sqrt(2)) / 2) ** 2,
                                          [0, 1, 4, mpmath.inf]))
    assert r.rate == sp.Rational(-3, 2) and abs(r.value.value - ref) < mpmath.mpf(10) ** -15 * ref


def test_bounded_oscillation_is_finite_only_for_p_inf():
    r = lp_distance(snake().bind(a=3), 1, check=False, dps=20, unbound=snake())
    assert r.converges is False and r.rate is None and "oscillates" in r.reason
    r = lp_distance(snake().bind(a=3), "inf", check=False, dps=20, unbound=snake())
    # sup sin^2(a x)/a = 1/a, attained at a x = pi/2
    assert r.converges is True and abs(r.value.value - mpmath.mpf(1) / 3) < mpmath.mpf(10) ** -15


def test_unknown_tail_gives_its_reason_exit_3_and_no_rate(tmp_path, monkeypatch, capsys):
    (tmp_path / "userfam.py").write_text(
        "import sympy as sp\n"
        "from gemsym.activation import X, Activation, Limit\n"
        "from gemsym.parameters import positive_real\n"
        "def wobble():\n"
        "    c = positive_real('c', 1, 'decay')\n"
        "    ident = Activation.from_branches('identity', [X])\n"
        "    return Activation.from_branches('wobble', [X + sp.sin(X) / (1 + X**2) ** (c.symbol / 2)],\n"
        "                                    parameters=(c,), limit=Limit('c', sp.oo, ident))\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    from gemsym.cli import main

    assert main(["lp-distance", "--family", "userfam:wobble", "--param", "c=3", "--p", "1",
                 "--dps", "20", "--json"]) == 3
    out, err = capsys.readouterr()
    rec = json.loads(out)
    assert rec["converges"] is None and rec["rate"] is None and rec["value"] is None
    assert "x -> +oo: behaviour of |f - limit| not determined" in rec["undecided"]
    assert err.count("\n") == 1 and "cannot decide" in err
