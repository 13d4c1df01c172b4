"""Sigmoid polynomials printed without degree-elevated terms: where two terms of one power of
x have the same coefficient, c x^p sigma^(j+1) sigma(-t)^m + c x^p sigma^j sigma(-t)^(m+1),
``stable._sigmoid_form`` prints the one term c x^p sigma^j sigma(-t)^m (sigma + sigma(-t) =
1), two products and a sum fewer, each rounded (``stable._pairs_merged``).

Checked here: the merge is an identity of the polynomials (SymPy, s + (1 - s) = 1); it is
refused where the coefficients differ or the merged term's place is taken; and the forms it
gives (Sqish's d/da, SiLU's d/dx) against ``mpmath.diff`` of their definitions at 50 digits
(an independent reading of the printer's vocabulary, as tests/test_numerics_sigmoid_ends.py)."""

from __future__ import annotations

import mpmath as mp
import sympy as sp

from gemsym.codegen.derive import derive
from gemsym.codegen.stable import SigmoidLinear, TailTimes, _pairs_merged
from gemsym.catalogue.gated import silu
from gemsym.families import sqish
from tests.test_numerics_sigmoid_ends import _elementary

X = sp.Symbol("x", real=True)


def _polynomial(terms, n: int | None = None) -> sp.Expr:
    """sum C(n, k) b_k s^k (1 - s)^(n - k) for Bernstein coefficients (n given), or
    sum b s^j (1 - s)^m for merged terms [(j, m, b)]."""
    s = sp.Symbol("s")
    if n is not None:
        return sp.expand(sum(sp.binomial(n, k) * b * s**k * (1 - s) ** (n - k)
                             for k, b in enumerate(terms)))
    return sp.expand(sum(b * s**j * (1 - s) ** m for j, m, b in terms))


def test_merge_is_an_identity_and_only_for_equal_coefficients():
    t = sp.Symbol("t")
    # x (1 - s) + t x^2 s (1 - s) in degree 2: x (1-s)^2 + (x + t x^2) s (1 - s)
    coeffs = [X, (X + t * X**2) / 2, sp.S.Zero]
    merged = _pairs_merged(coeffs, 0, X)
    assert sorted((j, m, sp.expand(b)) for j, m, b in merged) == \
        sorted([(0, 1, X), (1, 1, t * X**2)], key=str)
    assert sp.expand(_polynomial(merged) - _polynomial(coeffs, 2)) == 0
    # the coefficients of x differ (2 against 1): nothing merges
    assert _pairs_merged([2 * X, (X + t * X**2) / 2, sp.S.Zero], 0, X) is None
    # c s + c (1 - s) is c; in degree 3, 3 (s + (1 - s))^3 keeps its ends (3 against 9)
    merged = _pairs_merged([sp.Integer(3)] * 2, 0, X)
    assert [(j, m, sp.expand(b)) for j, m, b in merged] == [(0, 0, 3)]
    merged = _pairs_merged([sp.Integer(3)] * 4, 0, X)
    assert sorted((j, m, b) for j, m, b in merged) == [(0, 3, 3), (1, 1, 9), (3, 0, 3)]
    assert sp.expand(_polynomial(merged) - _polynomial([sp.Integer(3)] * 4, 3)) == 0
    # 2 x s (1 - s) + x s^2: coefficients 2 and 1 of the same power, nothing merges
    assert _pairs_merged([sp.S.Zero, X, X], 0, X) is None
    # with j0 (the inner polynomial of _sigmoid_form, times s (1 - s)): x s (1-s)^2 +
    # x s^2 (1 - s) is x s (1 - s)
    merged = _pairs_merged([X, X + X**2], 1, X)
    assert sp.expand(_polynomial(merged) - _polynomial([X, X + X**2], 1)
                     * sp.Symbol("s") * (1 - sp.Symbol("s"))) == 0
    assert (1, 1, X) in [(j, m, sp.expand(b)) for j, m, b in merged]


def _sigmoid_powers(expr: sp.Expr) -> list[sp.Expr]:
    return [p for p in expr.atoms(sp.Pow) if isinstance(p.base, SigmoidLinear)]


def test_sqish_d_a_has_two_terms_and_its_value():
    """Sqish's d/da = x sigma(-t) + (1 - a) 2 gamma ... x^2 sigma(t) sigma(-t): two tail
    products (the Bernstein form of degree 2 printed three, one of them x sigma(-t)^2)."""
    fc = derive(sqish())
    i = fc.first_names.index("d_a")
    (form,) = fc.first[i]
    assert len(form.small.atoms(TailTimes)) == 2 and not _sigmoid_powers(form.small)
    a, beta, gamma = (fc.symbols[n] for n in ("a", "beta", "gamma"))
    mp.mp.dps = 50

    def sqish_at(A, B, G, v):
        return A * v + (1 - A) * v / (1 + B * mp.exp(-2 * G * (1 - A) * v))

    for av, bv, gv in ((0.0, 1.0, 1.0), (0.25, 2.0, 0.5), (-0.75, 0.5, 3.0)):
        for xv in (-6.5, -1.3, -0.02, 0.4, 3.0, 17.0):
            want = mp.diff(lambda A: sqish_at(A, mp.mpf(bv), mp.mpf(gv), mp.mpf(xv)),
                           mp.mpf(av))
            got = _elementary(form.small).xreplace(
                {a: sp.Float(av, 60), beta: sp.Float(bv, 60), gamma: sp.Float(gv, 60),
                 fc.x: sp.Float(xv, 60)})
            assert abs(mp.mpf(str(sp.N(got, 50))) - want) < mp.mpf(10) ** -40, (av, xv)


def test_silu_d_x_is_sigma_plus_x_sigma_sigma_neg():
    """SiLU's d/dx = sigma(x) + x sigma(x) sigma(-x): one sigmoid power each, where the
    degree-2 Bernstein form printed sigma^2 + sigma sigma(-x) + x sigma sigma(-x)."""
    fc = derive(silu())
    (form,) = fc.first[0]
    assert not _sigmoid_powers(form.small)
    mp.mp.dps = 50
    for xv in (-30.0, -4.2, -0.5, 0.0, 0.7, 9.0):
        want = mp.diff(lambda v: v / (1 + mp.exp(-v)), mp.mpf(xv))
        got = _elementary(form.small).xreplace({fc.x: sp.Float(xv, 60)})
        assert abs(mp.mpf(str(sp.N(got, 50))) - want) < mp.mpf(10) ** -40, xv
