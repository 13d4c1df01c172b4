"""Closed forms vs mpmath numerics of hand-written formulas (>= 30 digits)."""

from __future__ import annotations

import random

import mpmath as mp
import pytest
import sympy as sp

from gemsym import X, get_family
from gemsym.closed_forms import asymptotic, derivatives, expansion_expr, taylor_at_junction
from tests.helpers import DPS, close, gem_ref, one_sided_derivatives, se_gem_ref, sqish_ref

CASES = [
    ("gem", {"N": 1}, gem_ref(1)),
    ("gem", {"N": 3}, gem_ref(3)),
    ("e-gem", {"N": 2, "eps": "1/10"}, gem_ref(2, "1/10")),
    ("se-gem", {"N": 2, "eps": "3"}, se_gem_ref(2, 3)),
    ("sqish", {"a": "1/5", "beta": "2", "gamma": "3/2"}, sqish_ref("1/5", 2, "3/2")),
]


@pytest.mark.parametrize("name,params,ref", CASES)
def test_derivatives_match_mpmath(name, params, ref):
    act = get_family(name).bind(**params)
    rng = random.Random(7)
    for k in (1, 2, 3):
        funcs = [sp.lambdify(X, e, "mpmath") for e in derivatives(act, k)]
        for _ in range(6):
            x0 = mp.mpf(rng.uniform(-3, 3))
            if abs(x0) < 0.05:
                continue
            branch = act.branch_index(sp.Float(float(x0)))
            with mp.workdps(DPS):
                expected = mp.diff(ref, x0, k)
                got = funcs[branch](x0)
            assert close(got, expected), (k, x0, got, expected)


@pytest.mark.parametrize("name,params,ref", [c for c in CASES if c[0] != "sqish"])
def test_taylor_at_junction_matches_one_sided_derivatives(name, params, ref):
    act = get_family(name).bind(**params)
    left, right = taylor_at_junction(act, 0, terms=3)
    kmax = 12
    for exp, direction in ((left, -1), (right, +1)):
        numeric = one_sided_derivatives(ref, 0, kmax, direction)
        poly = sp.Poly(expansion_expr(exp, X), X) if exp.terms else None
        limit = min(kmax, int(exp.prec) - 1) if exp.prec != sp.oo else kmax
        for k in range(limit + 1):
            coef = poly.coeff_monomial(X**k) if poly is not None else 0
            assert close(sp.N(coef * sp.factorial(k), 50), numeric[k], mp.mpf(10) ** -30), (exp.side, k)


def test_symbolic_taylor_instantiates():
    fam = get_family("se-gem")
    N = fam.parameter("N").symbol
    left, right = taylor_at_junction(fam.bind(N="symbolic", eps="1/2"), 0, terms=3)
    for n in (1, 2, 3):
        conc_l, conc_r = taylor_at_junction(fam.bind(N=n, eps="1/2"), 0, terms=3)
        for sym, conc in ((left, conc_l), (right, conc_r)):
            a = expansion_expr(sym, X).subs(N, n)
            assert sp.simplify(a - expansion_expr(conc, X)) == 0


@pytest.mark.parametrize("name,params,ref", CASES[:4])
def test_asymptotics_error_shrinks_like_the_remainder(name, params, ref):
    act = get_family(name).bind(**params)
    for side, sign in (("+", 1), ("-", -1)):
        exp = asymptotic(act, side, terms=3)
        approx = sp.lambdify(X, expansion_expr(exp, X), "mpmath")
        with mp.workdps(200):  # the remainders reach 1e-100
            errs = [abs(ref(sign * big) - approx(sign * big)) for big in (mp.mpf(10) ** 3, mp.mpf(10) ** 4)]
        if exp.prec == -sp.oo:
            assert max(errs) < mp.mpf(10) ** -40
        else:
            # remainder ~ C x^prec: a tenfold x shrinks it 10^-prec times
            assert abs(errs[0] / errs[1] / mp.mpf(10) ** (-int(exp.prec)) - 1) < 0.01


def test_sqish_asymptote_lines():
    act = get_family("sqish").bind(a="1/4", beta=3, gamma=2)
    ref = sqish_ref("1/4", 3, 2)
    plus, minus = asymptotic(act, "+"), asymptotic(act, "-")
    with mp.workdps(DPS):
        for exp, x0 in ((plus, mp.mpf(40)), (minus, mp.mpf(-40))):
            line = sp.lambdify(X, expansion_expr(exp, X), "mpmath")
            assert abs(ref(x0) - line(x0)) < mp.mpf(10) ** -20
