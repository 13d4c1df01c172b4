"""L^p distance to the limit: closed forms, finiteness, rates and values of
``gemsym.lp_distance`` against references written here from docs/definitions.md's formulas with
mpmath (quadrature of |f - limit|^p, maximisation of |f - limit|), never from the engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from gemsym.activation import X, Activation, Limit
from gemsym.families import e_gem, relu, se_gem, sqish
from gemsym.lp import P, lp_distance, lp_table
from gemsym.lp.certify import CertifiedValue
from gemsym.parameters import positive_real

DPS = 40
DIGITS = 12  # required agreement with the independent references
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def agree(a, b, digits=DIGITS):
    """a and b agree to ``digits`` significant digits; a certified value must also
    certify at least that many."""
    if isinstance(a, CertifiedValue):
        assert a.digits >= digits, (a.digits, digits)
        a = a.value
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    return abs(a - b) <= mpmath.mpf(10) ** (-digits) * abs(b)


# --------------------------------------------------------------------- references (SPEC)
def egem_minus_relu(N: int, eps):
    """E-GEM_{N,eps}(x) - ReLU(x) straight from the definitions, with the working precision
    raised by the digits that the subtraction x^{2N+1}/(x^{2N}+eps) - x loses."""
    def d(x):
        if x <= 0:
            return mpmath.mpf(0)
        lost = max(0, int(2 * N * mpmath.log10(x) - mpmath.log10(eps))) + 10
        with mpmath.workdps(mpmath.mp.dps + lost):
            return +(x ** (2 * N + 1) / (x ** (2 * N) + eps) - x)
    return d


def sqish_minus_max(a, beta, gamma):
    """Sqish(x) - max(a x, x) from the definitions (precision raised for the cancellation
    of e^{-2 gamma (1-a) x} against 1 on x > 0)."""
    k = 2 * gamma * (1 - a)

    def d(x):
        lost = int(max(0, k * x) / 2.3) + 10
        with mpmath.workdps(mpmath.mp.dps + lost):
            f = a * x + (1 - a) * x / (1 + beta * mpmath.exp(-k * x))
            return +(f - max(a * x, x))
    return d


def norm(d, p, scale, lo=-mpmath.inf, hi=mpmath.inf):
    """(int |d|^p)^{1/p} by tanh-sinh on [lo, hi] split at 0 and at decades of the scale."""
    steps = [mpmath.mpf(k) / 3 for k in (1, 2, 3, 6)] + [mpmath.mpf(10) ** j for j in range(1, 12)]
    right = [0] + [scale * s for s in steps if scale * s < hi] + [hi]
    left = [lo] + [-scale * s for s in reversed(steps) if -scale * s > lo] + [0]
    pts = (left if lo < 0 else []) + (right[1:] if lo < 0 else right)
    p = mpmath.mpf(p)
    return mpmath.quad(lambda t: abs(d(t)) ** p, pts) ** (1 / p)


def sup(d, guess):
    """max |d| on [guess/8, 8 guess] (|d| unimodal there) by golden-section search."""
    a, b = sorted([guess / 8, guess * 8])
    g = (mpmath.sqrt(5) - 1) / 2
    for _ in range(120):  # 0.618^120 ~ 1e-25 in x, so ~1e-50 in the maximum
        c, e = b - g * (b - a), a + g * (b - a)
        if abs(d(c)) > abs(d(e)):
            b = e
        else:
            a = c
    return abs(d((a + b) / 2))


def mp(v):
    return mpmath.mpf(Fraction(str(v)).numerator) / Fraction(str(v)).denominator


# --------------------------------------------------------------------- E-GEM / SE-GEM
@pytest.mark.parametrize("N, eps, p", [
    (1, "1/10000", 2), (2, "1/10000", 1), (2, "1/100", "3/2"), (3, "1/10000", 2),
    (3, "1/3", 1), (1, "1/1000", "5/2"),
])
def test_egem_closed_form_matches_quadrature(N, eps, p):
    r = lp_distance(e_gem().bind(N=N, eps=eps), p, check=False, dps=20)
    assert r.converges is True and r.closed_form is not None and r.closed_form.is_number
    with mpmath.workdps(DPS):
        e = mp(eps)
        ref = norm(egem_minus_relu(N, e), mp(p), e ** (mpmath.mpf(1) / (2 * N)), lo=0)
        assert agree(sp.N(r.closed_form, 30), ref)
        assert agree(r.value, ref)


@pytest.mark.parametrize("N, eps", [(1, "1/10000"), (2, "1/10000"), (3, "1/50")])
def test_egem_sup_matches_maximisation(N, eps):
    r = lp_distance(e_gem().bind(N=N, eps=eps), "inf", check=False, dps=20)
    assert r.converges is True and r.closed_form is not None
    with mpmath.workdps(DPS):
        e = mp(eps)
        ref = sup(egem_minus_relu(N, e), e ** (mpmath.mpf(1) / (2 * N)))
        assert agree(sp.N(r.closed_form, 30), ref) and agree(r.value, ref)
    assert r.rate == sp.Rational(1, 2 * N)


def test_se_gem_negative_branches_coincide():
    # SE-GEM's limit keeps the negative branch: only x > 0 contributes, as for E-GEM.
    r = lp_distance(se_gem().bind(N=2, eps="1/10000"), 2, check=False, dps=20)
    e = lp_distance(e_gem().bind(N=2, eps="1/10000"), 2, check=False, dps=20)
    assert sp.simplify(r.closed_form - e.closed_form) == 0
    assert r.check.rel_diff < mpmath.mpf(10) ** (-DIGITS)
    with mpmath.workdps(DPS):
        pos = egem_minus_relu(2, mp("1/10000"))

        def d(x):  # SE-GEM_{2,eps} - its eps -> 0 limit, both branches from SPEC
            if x < 0:
                return x ** 5 / (1 - x ** 5) - x ** 5 / (1 - x ** 5)
            return pos(x)
        assert agree(r.value, norm(d, 2, mpmath.mpf("0.1")))


def test_check_is_reported_and_small():
    r = lp_distance(e_gem().bind(N=2, eps="1/10000"), 1)
    assert "tanh-sinh" in r.check.method and r.check.digits == 30 == r.value.digits
    assert r.check.rel_diff < mpmath.mpf(10) ** -25
    assert r.value.text.startswith("0.00785398163397448309")
    assert len(r.value.text) == len("0.00") + 30  # exactly the certified digits


# --------------------------------------------------------------------- finiteness
def test_boundary_case_diverges_and_just_above_converges():
    r = lp_distance(e_gem().bind(N=1, eps="1/10000"), 1)
    assert r.converges is False and r.value is None and r.closed_form is None
    assert r.condition == (P > 1)
    assert "infinite" in r.reason and "x -> +oo" in r.reason
    above = lp_distance(e_gem().bind(N=1, eps="1/10000"), "11/10", check=False, dps=20)
    assert above.converges is True
    with mpmath.workdps(DPS):
        # |d|^p decays like x^{-1.1}: quadrature on [0, R], then the tail from
        # |d|^p = eps^p x^{-p} (1 - p eps/x^2 + O(x^-4)) integrated by hand.
        e, p, R = mp("1/10000"), mp("1.1"), mpmath.mpf(1000)
        head = norm(egem_minus_relu(1, e), p, mpmath.mpf("0.01"), lo=0, hi=R) ** p
        tail = e ** p * R ** (1 - p) / (p - 1) - p * e ** (p + 1) * R ** (-1 - p) / (p + 1)
        assert agree(above.value, (head + tail) ** (1 / p))
    assert lp_distance(e_gem().bind(N=1, eps="1/10000"), "inf", check=False, dps=20).converges is True


def test_finiteness_condition_symbolic():
    r = lp_distance(e_gem().bind(N="symbolic", eps="symbolic"), "symbolic")
    N = e_gem().parameter("N").symbol
    assert r.converges is None
    assert sp.simplify(r.condition.lhs - r.condition.rhs - (P * (2 * N - 1) - 1)) == 0
    assert lp_distance(e_gem().bind(N=2, eps="symbolic"), "symbolic").condition == sp.true
    assert lp_distance(e_gem().bind(N="symbolic", eps="symbolic"), 1).converges is None
    assert lp_distance(e_gem().bind(N="symbolic", eps="symbolic"), 2).converges is True


# --------------------------------------------------------------------- Sqish
@pytest.mark.parametrize("a, beta, gamma, p", [
    (0, 1, 1, 1), (0, 1, 1, 2), ("-1/2", 2, 3, 1), ("1/2", "1/2", 2, 2), (-1, 2, 5, 2),
    (0, 1, 1, "3/2"),
])
def test_sqish_matches_quadrature(a, beta, gamma, p):
    r = lp_distance(sqish().bind(a=a, beta=beta, gamma=gamma), p, check=False, dps=20)
    assert r.converges is True
    # integer p: the polylog series gives a closed form; p = 3/2: numerical value only
    assert (r.closed_form is not None) == isinstance(p, int)
    with mpmath.workdps(DPS):
        A, B, G = mp(a), mp(beta), mp(gamma)
        width = 60 / (G * (1 - A))  # beyond it |d| < e^{-120}
        ref = norm(sqish_minus_max(A, B, G), mp(p), 1 / G, lo=-width, hi=width)
        assert agree(r.value, ref)
        if r.closed_form is not None:
            assert agree(sp.N(r.closed_form, 30), ref)
    assert sp.nsimplify(r.rate) == -(sp.Rational(str(p)) + 1) / sp.Rational(str(p))


def test_sqish_p1_has_a_closed_form_for_every_beta():
    r = lp_distance(sqish().bind(a="symbolic", beta="symbolic", gamma="symbolic"), 1)
    assert r.closed_form is not None and r.closed_form.has(sp.polylog)
    syms = {s.name: s for s in r.closed_form.free_symbols}
    concrete = lp_distance(sqish().bind(a="-1/2", beta=2, gamma=3), 1, check=False)
    value = r.closed_form.subs({syms["a"]: sp.Rational(-1, 2), syms["beta"]: 2, syms["gamma"]: 3})
    assert agree(sp.N(value, 30), concrete.value.value, 25)


@pytest.mark.parametrize("a, beta, gamma", [(0, 1, 1), ("1/4", 3, "1/2")])
def test_sqish_sup_matches_maximisation(a, beta, gamma):
    r = lp_distance(sqish().bind(a=a, beta=beta, gamma=gamma), "inf", check=False, dps=20)
    with mpmath.workdps(DPS):
        A, B, G = mp(a), mp(beta), mp(gamma)
        d = sqish_minus_max(A, B, G)
        ref = max(sup(d, 1 / G), sup(d, -1 / G))
        assert agree(r.value, ref)
    assert r.rate == -1


# --------------------------------------------------------------------- rates
def test_rate_egem_from_two_eps():
    N, p = 2, 2
    r = lp_distance(e_gem().bind(N=N, eps="symbolic"), p)
    with mpmath.workdps(DPS):
        e1, e2 = mpmath.mpf(10) ** -6, mpmath.mpf(10) ** -8
        n1 = norm(egem_minus_relu(N, e1), p, e1 ** (mpmath.mpf(1) / (2 * N)), lo=0)
        n2 = norm(egem_minus_relu(N, e2), p, e2 ** (mpmath.mpf(1) / (2 * N)), lo=0)
        slope = mpmath.log(n1 / n2) / mpmath.log(e1 / e2)
        assert agree(slope, sp.N(r.rate, 30))
    assert r.rate == sp.Rational(3, 8)


def test_rate_sqish_from_two_gamma():
    r = lp_distance(sqish().bind(a=0, beta=1, gamma="symbolic"), 1)
    with mpmath.workdps(DPS):
        vals = []
        for g in (10, 40):
            G = mpmath.mpf(g)
            vals.append(norm(sqish_minus_max(0, 1, G), 1, 1 / G, lo=-60 / G, hi=60 / G))
        slope = mpmath.log(vals[0] / vals[1]) / mpmath.log(mpmath.mpf(10) / 40)
        assert agree(slope, sp.N(r.rate, 30))
    assert r.rate == -2


# --------------------------------------------------------------------- symbolic instantiation
def test_symbolic_closed_form_instantiates_to_the_concrete_run():
    r = lp_distance(e_gem().bind(N="symbolic", eps="symbolic"), "symbolic")
    N, eps = e_gem().parameter("N").symbol, e_gem().parameter("eps").symbol
    assert r.rate.subs({N: 2, P: 3}) == sp.Rational(1, 3)
    for n, p in [(2, sp.Rational(3, 2)), (3, 1)]:
        concrete = lp_distance(e_gem().bind(N=n, eps="1/10000"), p, check=False)
        inst = r.closed_form.subs({N: n, eps: sp.Rational(1, 10000), P: p})
        assert agree(sp.N(inst, 40), concrete.value.value, 28)


# --------------------------------------------------------------------- user-defined family
def soft_relu() -> Activation:
    """log(1 + e^{k x})/k -> ReLU as k -> oo (no closed form for p = 1, 2 in the engine)."""
    k = positive_real("k", 1, "sharpness")
    return Activation.from_branches(
        "soft-relu", [sp.log(1 + sp.exp(k.symbol * X)) / k.symbol], parameters=(k,),
        limit=Limit("k", sp.oo, relu()))


def test_user_family_gets_rate_and_value():
    r = lp_distance(soft_relu().bind(k=3), 1, unbound=soft_relu(), check=False, dps=20)
    assert r.converges is True and r.rate == -2
    with mpmath.workdps(DPS):
        def d(x):
            with mpmath.workdps(mpmath.mp.dps + int(3 * max(x, 0) / 2.3) + 10):
                return +(mpmath.log(1 + mpmath.exp(3 * x)) / 3 - max(x, 0))
        ref = norm(d, 1, mpmath.mpf(1) / 3, lo=-40, hi=40)
        assert agree(r.value, ref)
        assert agree(r.value, mpmath.pi ** 2 / 54)  # 2 * (pi^2/12) / k^2
    assert r.check.rel_diff < mpmath.mpf(10) ** -DIGITS


# --------------------------------------------------------------------- errors
@pytest.mark.parametrize("p", [0.5, "-1", "0", "abc", None])
def test_bad_p_raises(p):
    with pytest.raises(ValueError, match="p must"):
        lp_distance(e_gem().bind(N=2, eps="1/10000"), p)


def test_family_without_limit_raises():
    with pytest.raises(ValueError, match="declares no limit.*e-gem"):
        lp_distance(relu(), 2)


# --------------------------------------------------------------------- CLI
def cli(*args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "gemsym", "lp-distance", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_cli_json():
    out = cli("--family", "e-gem", "--N", "2", "--eps", "1e-4", "--p", "1", "--json")
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    for key in ("family", "N", "params", "p", "converges", "value", "closed_form", "rate",
                "condition", "check", "reason"):
        assert key in rec
    assert rec["family"] == "e-gem" and rec["N"] == 2 and rec["converges"] is True
    assert len(rec["value"].replace("0.", "", 1).lstrip("0")) >= 15
    assert agree(rec["value"], mpmath.pi / 400, 18)
    assert rec["digits"] == 30 and rec["undecided"] is None
    assert all(set(c) == {"method", "rel_diff", "digits"} for c in rec["check"])
    assert rec["rate"] == "1/2"


def test_cli_divergent_json_and_text(capsys):
    out = cli("--N", "1", "--eps", "1e-4", "--p", "1", "--json")
    rec = json.loads(out.stdout)
    assert rec["converges"] is False and rec["value"] is None and rec["check"] is None
    from gemsym.cli import main

    assert main(["lp-distance", "--N", "1", "--p", "1"]) == 0
    text = capsys.readouterr().out
    assert "infinity" in text and "finite iff p > 1" in text and "0." not in text


@pytest.mark.parametrize("args", [
    ["--p", "0.5"], ["--p", "-1"], ["--eps", "0"], ["--family", "sqish", "--gamma", "0"],
    ["--family", "sqish", "--a", "1"],
])
def test_cli_bad_input_exit_2(args):
    out = cli(*args)
    assert out.returncode == 2
    assert out.stdout == "" and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_table():
    text = lp_table(Ns=(1, 2), ps=(1,))
    lines = text.splitlines()
    assert any("e-gem(N=1" in l and "infinite" in l for l in lines)
    assert any("e-gem(N=2" in l and "pi/400" in l for l in lines)
    assert any(l.startswith("sqish") and "pi**2/24" in l for l in lines)
