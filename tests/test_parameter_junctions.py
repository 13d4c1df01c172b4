"""Junctions that depend on a parameter: SmeLU (0 for x <= -beta, (x + beta)^2/(4 beta) on
|x| <= beta, x for x >= beta) at concrete and symbolic beta -- its construction with
``from_expression``, its smoothness class, its distance to ReLU with the rate.

References: one-sided derivatives by direct differentiation of the branches (not the
series engine), integrals by hand, mpmath quadrature."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from gemsym.activation import X, Activation, Limit, order_points
from gemsym.families import relu
from gemsym.lp import P, lp_distance
from gemsym.parameters import positive_real
from gemsym.smoothness import smoothness


def smelu() -> Activation:
    """SmeLU written as a user would: one Piecewise expression and its junctions."""
    b = positive_real("beta", 1, "half-width of the quadratic part")
    B = b.symbol
    expr = sp.Piecewise((0, X <= -B), ((X + B) ** 2 / (4 * B), X <= B), (X, True))
    return Activation.from_expression("smelu", expr, [B, -B], parameters=(b,),
                                      limit=Limit("beta", sp.S.Zero, relu()))


def test_order_points():
    B = sp.Symbol("beta", positive=True)
    assert order_points([B, 0, -B, B]) == [-B, 0, B]
    assert order_points([2, sp.Rational(1, 3), -1]) == [-1, sp.Rational(1, 3), 2]
    a = sp.Symbol("a", real=True)
    with pytest.raises(ValueError, match="order of"):
        order_points([a, 0])


def test_from_expression_with_parameter_junctions():
    act = smelu()
    B = act.parameter("beta").symbol
    assert act.junctions == (-B, B)
    assert [b.expr for b in act.branches] == [0, (X + B) ** 2 / (4 * B), X]


@pytest.mark.parametrize("beta", ["1/2", "symbolic"])
def test_smelu_is_c1_at_both_junctions(beta):
    act = smelu().bind(beta=beta)
    report = smoothness(act)
    assert [j.smoothness for j in report.junctions] == [1, 1]
    # independent: derivatives of the branch expressions at the junctions
    for j, (left, right) in zip(act.junctions, zip(act.branches, act.branches[1:])):
        d = [[sp.simplify(sp.diff(b.expr, X, k).subs(X, j)) for k in range(3)] for b in (left, right)]
        assert d[0][:2] == d[1][:2] and sp.simplify(d[0][2] - d[1][2]) != 0


def test_smelu_distance_symbolic_closed_form_and_rate():
    r = lp_distance(smelu().bind(beta="symbolic"), "symbolic")
    B = smelu().parameter("beta").symbol
    assert r.converges is True and r.rate == 1 + 1 / P
    # by hand: both pieces give (4 beta)^{-p} beta^{2p+1}/(2p+1)
    by_hand = (2 * B ** (P + 1) / (4**P * (2 * P + 1))) ** (1 / P)
    for p in (1, 2, sp.Rational(7, 3)):
        assert abs(sp.N((r.closed_form - by_hand).subs({B: sp.Rational(3, 7), P: p}), 50)) < 1e-45
    r = lp_distance(smelu().bind(beta="symbolic"), "inf")
    assert r.closed_form == B / 4 and r.rate == 1


def test_smelu_concrete_value_against_quadrature():
    r = lp_distance(smelu().bind(beta="1/2"), 2, unbound=smelu(), check=False, dps=20)
    assert r.closed_form == sp.sqrt(5) / 40 and r.rate == sp.Rational(3, 2)
    with mpmath.workdps(30):
        b = mpmath.mpf(1) / 2
        ref = mpmath.sqrt(mpmath.quad(lambda t: ((t + b) ** 2 / (4 * b) - max(t, 0)) ** 2, [-b, 0, b]))
    assert r.value.digits == 20 and abs(r.value.value - ref) < mpmath.mpf(10) ** -19 * ref


def test_cli_accepts_smelu_at_concrete_beta(tmp_path, monkeypatch, capsys):
    (tmp_path / "usersmelu.py").write_text(
        "import sympy as sp\n"
        "from gemsym.activation import X, Activation, Limit\n"
        "from gemsym.families import relu\n"
        "from gemsym.parameters import positive_real\n"
        "def smelu():\n"
        "    b = positive_real('beta', 1, 'half-width')\n"
        "    B = b.symbol\n"
        "    expr = sp.Piecewise((0, X <= -B), ((X + B)**2/(4*B), X <= B), (X, True))\n"
        "    return Activation.from_expression('smelu', expr, [B, -B], parameters=(b,),\n"
        "                                      limit=Limit('beta', sp.S.Zero, relu()))\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    from gemsym.cli import main

    assert main(["lp-distance", "--family", "usersmelu:smelu", "--param", "beta=1/2", "--p", "1",
                 "--dps", "20", "--no-check"]) == 0
    out = capsys.readouterr().out
    assert "= 1/24" in out and "0.041666666666666666667" in out and "beta^(2)" in out
