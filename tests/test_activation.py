"""The family model: parameter domains, binding, user-defined activations."""

from __future__ import annotations

import mpmath as mp
import pytest
import sympy as sp

from gemsym import Activation, ParameterError, X, get_family
from tests.helpers import gem_ref, num, se_gem_ref, sqish_ref


@pytest.mark.parametrize("family,name,value,fragment", [
    ("gem", "N", 0, "N must be a positive integer (got 0)"),
    ("gem", "N", 1.5, "N must be a positive integer"),
    ("e-gem", "eps", 0, "eps must be a real number > 0 (got 0)"),
    ("e-gem", "eps", "abc", "eps must be a number"),
    ("sqish", "a", 1, "a must be a real number < 1 (got 1)"),
    ("sqish", "gamma", -2, "gamma must be a real number > 0"),
    ("sqish", "beta", float("inf"), "beta must be a finite number"),
    ("gem", "eps", 1, "gem has no parameter 'eps'"),
])
def test_out_of_domain_values_raise(family, name, value, fragment):
    with pytest.raises(ParameterError, match=None) as err:
        get_family(family).bind(**{name: value})
    assert fragment in str(err.value)
    assert isinstance(err.value, ValueError)


def test_decimal_values_are_exact():
    act = get_family("e-gem").bind(N=2, eps="1e-4")
    assert act.values["eps"] == sp.Rational(1, 10000)
    assert get_family("e-gem").bind(eps=0.1).values["eps"] == sp.Rational(1, 10)


def test_gem_is_e_gem_at_eps_one():
    a = get_family("gem").bind(N=3).branches[1].expr
    b = get_family("e-gem").bind(N=3, eps=1).branches[1].expr
    assert sp.simplify(a - b) == 0


@pytest.mark.parametrize("name,params,ref", [
    ("e-gem", {"N": 2, "eps": "1/7"}, gem_ref(2, "1/7")),
    ("se-gem", {"N": 1, "eps": "2"}, se_gem_ref(1, 2)),
    ("sqish", {"a": "-1/3", "beta": "1/2", "gamma": "2"}, sqish_ref("-1/3", "1/2", 2)),
])
def test_numeric_evaluation_matches_spec_formula(name, params, ref):
    f = get_family(name).bind(**params).numeric()
    with mp.workdps(40):
        for x0 in ("-2.5", "-0.3", "0.7", "3"):
            assert abs(f(mp.mpf(x0)) - ref(mp.mpf(x0))) < mp.mpf(10) ** -35


def test_gate_times_x_is_f():
    for name in ("gem", "e-gem", "se-gem", "sqish"):
        act = get_family(name)
        for g, b in zip(act.gate, act.branches):
            assert sp.simplify(X * g - b.expr) == 0


def test_se_gem_accepts_another_negative_branch():
    fam = get_family("se-gem")
    N = fam.parameter("N").symbol
    from gemsym import se_gem

    alt = se_gem(lambda x, n: x / (1 - x))  # C^0 only at 0 against x^{2N+1}/(x^{2N}+eps)
    assert alt.branches[0].expr == X / (1 - X)
    assert fam.branches[1].expr == alt.branches[1].expr
    assert N in alt.free_symbols


def test_from_expression_resolves_switches():
    act = Activation.from_expression("leaky", sp.Max(X / 10, X), junctions=[0])
    assert [b.expr for b in act.branches] == [X / 10, X]
    act = Activation.from_expression("abs", X * sp.Heaviside(X - 1) + sp.Abs(X), junctions=[0, 1])
    assert [b.expr for b in act.branches] == [-X, X, 2 * X]


def test_branches_must_cover_the_line():
    with pytest.raises(ValueError, match="junctions"):
        Activation.from_branches("bad", [X, X, X], [0])


def test_num_helper_is_exact():
    with mp.workdps(50):
        assert abs(num("1/10") * 10 - 1) < mp.mpf(10) ** -49
