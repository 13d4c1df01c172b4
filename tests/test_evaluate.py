"""Certified evaluation of closed-form constants (:mod:`gemsym.evaluate`) where plain
``sympy.N`` returns noise: GELU's branch at x = -40 is -20 + 20 erf(20 sqrt 2), about
-1.46e-348, against mpmath's erfc (no cancellation) at 60 digits; the sign decisions of
:mod:`gemsym.shape` and the f(0) cell of ``compare`` built on it."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from gemsym.activation import X, Activation
from gemsym.catalogue.gated import gelu
from gemsym.cli.compare import COLUMNS, compare_table
from gemsym.evaluate import Imprecise, certified, certified_float, certified_mpf
from gemsym.shape.signs import greater, sign


def _gelu_at_minus_40() -> sp.Expr:
    act = gelu().with_defaults()
    return act.branches[0].expr.subs(act.x, -40)


def _reference():
    """GELU(-40) = -40 * erfc(40/sqrt 2)/2, by mpmath's erfc: no cancellation."""
    with mpmath.workdps(60):
        return -40 * mpmath.erfc(40 / mpmath.sqrt(2)) / 2


def test_gelu_branch_far_left_to_30_digits():
    value = _gelu_at_minus_40()
    assert not value.is_Float  # an exact expression whose terms cancel
    ref = _reference()
    with mpmath.workdps(60):
        got = certified_mpf(value, 30)
        assert abs(got - ref) <= abs(ref) * mpmath.mpf(10) ** -29
    assert certified_float(value) == float(ref)


def test_exact_zero_in_disguise_and_complex_are_refused():
    with pytest.raises(Imprecise):
        certified(sp.sin(1) ** 2 + sp.cos(1) ** 2 - 1)
    with pytest.raises(ValueError):
        certified(sp.sqrt(-2))
    assert certified(sp.S.Zero) == 0 and certified(sp.oo) == sp.oo


def test_sign_decisions_on_the_cancelling_value():
    value = _gelu_at_minus_40()
    assert sign(value) == -1
    assert greater(0, value, []) and not greater(value, 0, [])


def test_compare_prints_f0_of_a_line_offset_by_gelu_at_minus_40():
    act = Activation.from_branches("offset-line", [X + _gelu_at_minus_40()])
    table, _ = compare_table([act], distances=False)
    cell = dict(zip([c.key for c in COLUMNS], table.rows[0]))["f0"]
    with mpmath.workdps(30):
        assert cell.text == mpmath.nstr(_reference(), 6)
