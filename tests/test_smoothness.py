"""Smoothness classes vs one-sided mpmath derivatives of hand-written formulas."""

from __future__ import annotations

import math

import mpmath as mp
import pytest
import sympy as sp

from gemsym import Activation, X, get_family, smoothness
from tests.helpers import DPS, close, first_mismatch, gem_ref, se_gem_ref


def assert_matches_numeric(j, ref, kmax):
    found = first_mismatch(ref, 0, kmax)
    assert found is not None, "numerics found no mismatch"
    k, left, right = found
    order, l, r = int(j.first_mismatch_order), sp.N(j.left, DPS), sp.N(j.right, DPS)
    assert order == k
    assert int(j.smoothness) == k - 1
    for sym, num in ((l, left), (r, right)):
        assert close(sym, num), (sym, num)


@pytest.mark.parametrize("N", [1, 2, 3, 4])
@pytest.mark.parametrize("eps", ["1", "1/3", "7/2"])
def test_e_gem_class_matches_one_sided_derivatives(N, eps):
    rep = smoothness(get_family("e-gem").bind(N=N, eps=eps))
    assert_matches_numeric(rep.junctions[0], gem_ref(N, eps), 2 * N + 3)
    assert rep.holds is True


@pytest.mark.parametrize("N", [1, 2, 3])
@pytest.mark.parametrize("eps", ["1", "1/3", "5"])
def test_se_gem_class_matches_one_sided_derivatives(N, eps):
    rep = smoothness(get_family("se-gem").bind(N=N, eps=eps))
    j = rep.junctions[0]
    # At eps = 1 both branches agree to order 4N: the numerics must look that far.
    assert_matches_numeric(j, se_gem_ref(N, eps), 4 * N + 2)


def test_symbolic_eps_lists_the_eps_equal_one_case():
    j = smoothness(get_family("se-gem").bind(N=2)).junctions[0]
    assert j.smoothness == 4
    (case,) = j.cases
    assert case.condition == sp.Eq(get_family("se-gem").parameter("eps").symbol, 1)
    assert case.result.smoothness == 8


@pytest.mark.parametrize("name", ["gem", "e-gem", "se-gem"])
def test_symbolic_N_instantiates_to_the_concrete_runs(name):
    fam = get_family(name)
    N = fam.parameter("N").symbol
    sym = smoothness(fam.bind(N="symbolic")).junctions[0]
    assert sym.smoothness == 2 * N
    for n in range(1, 9):
        conc = smoothness(fam.bind(N=n)).junctions[0]
        assert sym.smoothness.subs(N, n) == conc.smoothness
        assert sym.first_mismatch_order.subs(N, n) == conc.first_mismatch_order
        assert sp.simplify(sym.left.subs(N, n) - conc.left) == 0
        assert sp.simplify(sym.right.subs(N, n) - conc.right) == 0
        for c_sym, c_conc in zip(sym.cases, conc.cases):
            assert c_sym.result.smoothness.subs(N, n) == c_conc.result.smoothness


def test_se_gem_eps_one_symbolic_N_is_4N():
    fam = get_family("se-gem")
    N = fam.parameter("N").symbol
    j = smoothness(fam.bind(N="symbolic", eps=1)).junctions[0]
    assert j.smoothness == 4 * N
    assert j.right == -sp.factorial(4 * N + 1)


def test_large_N_is_exact():
    j = smoothness(get_family("gem").bind(N=50)).junctions[0]
    assert j.smoothness == 100 and j.right == math.factorial(101) and j.left == 0


def test_sqish_and_smooth_baselines_are_C_infinity():
    for name in ("sqish", "gelu", "silu", "softplus"):
        rep = smoothness(get_family(name))
        assert rep.junctions[0].junction is None
        assert rep.junctions[0].smoothness == sp.oo
    assert smoothness(get_family("sqish")).holds is True


def test_relu_elu_leaky():
    j = smoothness(get_family("relu")).junctions[0]
    assert (j.smoothness, j.first_mismatch_order, j.left, j.right) == (0, 1, 0, 1)
    elu = smoothness(get_family("elu")).junctions[0]
    assert elu.smoothness == 0
    assert [c.result.smoothness for c in elu.cases] == [1]
    elu1 = smoothness(get_family("elu").bind(alpha=1)).junctions[0]
    found = first_mismatch(lambda x: mp.exp(x) - 1 if x < 0 else x, 0, 4)
    assert found[0] == elu1.first_mismatch_order == 2


def test_user_defined_safe_pade_unit_is_C0():
    # rational_activations' "safe" Pade unit P(x) / (1 + |b1 x| + |b2| x^2)
    x = X
    expr = (sp.Rational(1, 2) + x + x**2 / 3) / (1 + sp.Abs(sp.Rational(1, 5) * x) + sp.Rational(1, 7) * x**2)
    act = Activation.from_expression("safe-pade", expr, junctions=[0])
    j = smoothness(act).junctions[0]

    def ref(t):
        t = mp.mpf(t)
        return (mp.mpf(1) / 2 + t + t**2 / 3) / (1 + abs(t / 5) + t**2 / 7)

    assert_matches_numeric(j, ref, 3)
    assert j.smoothness == 0


def test_discontinuous_user_function():
    act = Activation.from_branches("step", [sp.S.Zero, 1 + X], [0])
    j = smoothness(act).junctions[0]
    assert j.smoothness == -1 and j.first_mismatch_order == 0


def test_fractional_power_branch():
    act = Activation.from_branches("sqrt", [sp.S.Zero, X ** sp.Rational(5, 2)], [0])
    j = smoothness(act).junctions[0]
    assert j.smoothness == 2 and j.first_mismatch_order == 3 and j.right == sp.zoo


def test_undecidable_exponent_order_splits_on_N():
    # right branch t^(N+3) - t^(2N): which term leads depends on N (N < 3, N = 3, N > 3).
    from gemsym.parameters import positive_integer

    n = positive_integer("N")
    N = n.symbol
    act = Activation.from_branches("split", [sp.S.Zero, X ** (N + 3) + X ** (2 * N)], [0], parameters=(n,))
    j = smoothness(act).junctions[0]
    for k in range(1, 7):
        conc = smoothness(act.bind(N=k)).junctions[0]
        value = j.smoothness.subs(N, k) if not isinstance(j.smoothness, sp.Piecewise) else \
            j.smoothness.subs(N, k)
        assert value == conc.smoothness == min(k + 3, 2 * k) - 1
