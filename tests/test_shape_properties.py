"""Shape properties checked against independent numerics: the SPEC formulas written by
hand below, derivatives by mpmath.diff, extrema by grid search + findroot refinement."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import lru_cache

import mpmath
import pytest
import sympy as sp

from gemsym import e_gem, gem, se_gem, silu, sqish
from gemsym.shape import monotonicity_and_minima, shape_properties

TOL = mpmath.mpf(10) ** -12


@pytest.fixture(autouse=True)
def _precision():
    with mpmath.workdps(30):
        yield


# ---------------------------------------------------------- SPEC formulas, by hand
def egem_f(N, eps):
    return lambda x: x ** (2 * N + 1) / (x ** (2 * N) + eps) if x > 0 else mpmath.mpf(0)


def segem_f(N, eps):
    def f(x):
        if x >= 0:
            return x ** (2 * N + 1) / (x ** (2 * N) + eps)
        return -abs(x) ** (2 * N + 1) / (1 + abs(x) ** (2 * N + 1))
    return f


def sqish_f(a, beta, gamma):
    return lambda x: a * x + (1 - a) * x / (1 + beta * mpmath.exp(-2 * gamma * (1 - a) * x))


def numeric_extremum(f, k, lo, hi, largest=True, n=400):
    """Extremum of f^{(k)} (mpmath.diff) on [lo, hi]: best grid point, then the zero of
    f^{(k+1)} bracketed by its two grid neighbours (illinois)."""
    g = (lambda x: mpmath.diff(f, x, k)) if k else f
    xs = [lo + (hi - lo) * mpmath.mpf(i) / n for i in range(n + 1)]
    vals = [g(x) for x in xs]
    i = max(range(len(xs)), key=lambda j: vals[j] if largest else -vals[j])
    if 0 < i < n:
        h = lambda x: mpmath.diff(f, x, k + 1)  # noqa: E731
        x1 = mpmath.findroot(h, (xs[i - 1], xs[i + 1]), solver="illinois")
        return x1, g(x1)
    return xs[i], vals[i]


def dnum(f):
    return lambda x: mpmath.diff(f, x)


def close(a, b, tol=TOL):
    a, b = mpmath.mpf(sp.N(a, 30)) if not isinstance(a, mpmath.mpf) else a, mpmath.mpf(b)
    return abs(a - b) <= tol * max(1, abs(b))


@lru_cache(maxsize=None)
def props(name, **kw):
    factory = {"gem": gem, "e-gem": e_gem, "se-gem": se_gem, "sqish": sqish, "silu": silu}[name]
    return shape_properties(factory().bind(**kw))


def props_kw(name, kw):
    return props(name, **dict(kw))


# ------------------------------------------------------------------------ Lipschitz
@pytest.mark.parametrize("N,eps", [(1, "1"), (2, "1e-4"), (3, "10"), (4, "1e-4"), (1, "1e-6")])
def test_egem_lipschitz_matches_numeric_maximum(N, eps):
    p = props_kw("e-gem", (("N", N), ("eps", eps)))
    e = mpmath.mpf(sp.Rational(eps))
    f = egem_f(N, e)
    scale = e ** (mpmath.mpf(1) / (2 * N))  # the maximiser scales like eps^(1/2N)
    x, value = numeric_extremum(f, 1, scale / 100, 5 * scale)
    assert close(p.lipschitz, value)
    assert close(p.lipschitz_point, x, 1e-8)
    assert p.lipschitz.is_Rational  # an exact algebraic (here rational) number
    assert p.derivative_range[0] == 0


def test_symbolic_lipschitz_closed_form_agrees_for_each_N():
    sym = props("e-gem")
    N = e_gem().parameter("N").symbol
    eps = e_gem().parameter("eps").symbol
    assert not sym.lipschitz.has(eps)  # the substitution u = x^{2N}/eps removes eps
    for n in range(1, 7):
        f = egem_f(n, mpmath.mpf(1))
        _, value = numeric_extremum(f, 1, mpmath.mpf("0.01"), 5)
        assert close(sym.lipschitz.subs(N, n), value)
    assert sp.simplify(sym.lipschitz - props("gem").lipschitz) == 0


@pytest.mark.parametrize("N,eps", [(1, "1e-4"), (2, "1"), (3, "0.5")])
def test_segem_lipschitz_is_max_over_both_branches(N, eps):
    p = props_kw("se-gem", (("N", N), ("eps", eps)))
    e = mpmath.mpf(sp.Rational(eps))
    f = segem_f(N, e)
    scale = e ** (mpmath.mpf(1) / (2 * N))
    _, right = numeric_extremum(f, 1, scale / 100, 5 * scale)
    _, left = numeric_extremum(f, 1, mpmath.mpf(-5), mpmath.mpf("-0.01"))
    assert left < right  # the positive branch wins for these N
    assert close(p.lipschitz, max(left, right))
    sym = props("se-gem")
    Nsym = se_gem().parameter("N").symbol
    assert close(sym.lipschitz.subs(Nsym, N), max(left, right))


def test_segem_bounds_and_asymptotes():
    p = props("se-gem", N=2, eps=sp.Rational(1, 10))
    f = segem_f(2, mpmath.mpf("0.1"))
    assert p.bounds == (-1, sp.oo) and p.bounds_attained == (False, False)
    assert -1 < f(mpmath.mpf(-1e6)) < -1 + 1e-10
    assert p.monotonicity == ((sp.Interval(-sp.oo, sp.oo), "increasing"),)
    assert p.minima == ()
    assert p.asymptotes["-oo"] == -1
    x = sp.Symbol("x", real=True)
    line = sp.lambdify(x, p.asymptotes["+oo"], "mpmath")
    assert abs(f(mpmath.mpf(1e5)) - line(mpmath.mpf(1e5))) < 1e-8


def test_egem_minimum_is_the_flat_half_line():
    p = props("e-gem", N=1, eps=sp.Rational(1, 100))
    assert p.minima == ((sp.Interval(-sp.oo, 0), 0),)
    assert p.monotonicity == ((sp.Interval(-sp.oo, 0), "constant"), (sp.Interval(0, sp.oo), "increasing"))
    assert p.bounds == (0, sp.oo)


# --------------------------------------------------------------------------- Sqish
@pytest.mark.parametrize("beta,gamma", [(1, 1), ("0.3", 3)])
def test_sqish_a0_minimum_lambert_w(beta, gamma):
    p = props_kw("sqish", (("a", 0), ("beta", beta), ("gamma", gamma)))
    (loc, value), = p.minima
    assert loc.has(sp.LambertW) and value.has(sp.LambertW)
    b, g = mpmath.mpf(sp.Rational(beta)), mpmath.mpf(sp.Rational(gamma))
    f = sqish_f(0, b, g)
    x0 = mpmath.findroot(dnum(f), -1 / g)
    assert close(loc, x0) and close(value, f(x0))
    assert close(p.bounds[0], f(x0)) and p.bounds_attained[0]


def test_sqish_a0_minimum_symbolic_beta_gamma():
    mono, minima, _ = monotonicity_and_minima(sqish().bind(a=0))
    (loc, value), = minima
    s = sqish()
    B, G = s.parameter("beta").symbol, s.parameter("gamma").symbol
    for b, g in [(mpmath.mpf(2), mpmath.mpf(3)), (mpmath.mpf("0.1"), mpmath.mpf("0.7"))]:
        f = sqish_f(0, b, g)
        x0 = mpmath.findroot(dnum(f), -1 / g)
        assert close(loc.subs({B: b, G: g}), x0)
        assert close(value.subs({B: b, G: g}), f(x0))
    assert [label for _, label in mono] == ["decreasing", "increasing"]


@pytest.mark.parametrize("a,beta,gamma", [("-0.5", 3, 2), ("0.25", 1, 1), ("0", 1, 1)])
def test_sqish_derivative_range_and_monotonicity(a, beta, gamma):
    p = props_kw("sqish", (("a", a), ("beta", beta), ("gamma", gamma)))
    A, b, g = (mpmath.mpf(sp.Rational(v)) for v in (a, beta, gamma))
    f = sqish_f(A, b, g)
    d = dnum(f)
    _, top = numeric_extremum(f, 1, mpmath.mpf(-10), mpmath.mpf(10), True)
    _, bottom = numeric_extremum(f, 1, mpmath.mpf(-10), mpmath.mpf(10), False)
    bottom = min(bottom, A)  # f' -> a as x -> -oo
    assert close(p.derivative_range[1], top, 1e-10)
    assert close(p.derivative_range[0], bottom, 1e-10)
    assert close(p.lipschitz, max(top, -bottom), 1e-10)
    for interval, label in p.monotonicity:
        lo = interval.inf if interval.inf != -sp.oo else min(interval.sup, 0) - 3
        hi = interval.sup if interval.sup != sp.oo else max(lo, 0) + 3
        for k in (1, 2, 3):
            x = mpmath.mpf(sp.N(lo + (hi - lo) * k / 4, 30))
            assert (d(x) > 0) == (label == "increasing")


def test_silu_minimum_known_value():
    (loc, value), = props("silu").minima
    f = lambda x: x / (1 + mpmath.exp(-x))  # noqa: E731
    x0 = mpmath.findroot(dnum(f), -1.3)
    assert close(loc, x0) and close(value, f(x0))


# ------------------------------------------------------------------------------ CLI
def _cli(*args):
    return subprocess.run([sys.executable, "-m", "gemsym", "properties", *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_json_and_errors():
    out = _cli("--family", "gem", "--N", "2", "--json")
    assert out.returncode == 0, out.stderr
    (rec,) = json.loads(out.stdout)
    assert rec["lipschitz"] == "25/16" and rec["lipschitz_numeric"].startswith("1.5625")
    assert rec["monotonicity"][1]["behaviour"] == "increasing"
    bad = _cli("--family", "e-gem", "--eps", "0")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    bad = _cli("--family", "sqish", "--a", "1")
    assert bad.returncode == 2 and "a must be" in bad.stderr


def test_user_negative_branch_is_analysed_too():
    """SE-GEM with a user-supplied negative branch tanh(x): sup f' compares 1 (tanh' at 0-)
    with (2N+1)^2/(8N) for every N; numerics from the formulas written here."""
    act = se_gem(negative_branch=lambda x, N: sp.tanh(x))
    p = shape_properties(act)
    Nsym = act.parameter("N").symbol
    assert p.bounds == (-1, sp.oo) and p.asymptotes["-oo"] == -1
    for n, eps in [(1, mpmath.mpf(1)), (2, mpmath.mpf("0.1"))]:
        f = lambda x, n=n, eps=eps: (x ** (2 * n + 1) / (x ** (2 * n) + eps)) if x >= 0 else mpmath.tanh(x)  # noqa: E731
        scale = eps ** (mpmath.mpf(1) / (2 * n))
        _, right = numeric_extremum(f, 1, scale / 100, 5 * scale)
        left = max(mpmath.diff(f, -mpmath.mpf(10) ** -k) for k in range(3, 8))
        assert close(p.lipschitz.subs(Nsym, n), max(left, right))
