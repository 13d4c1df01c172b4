"""Shape properties of branches that are not smooth rectifiers: jumps, poles, kinks written
with Abs inside a branch, oscillation, non-real branches.  Each family is written as a user
would write it; the expected facts are elementary and checked with mpmath here."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import mpmath
import pytest
import sympy as sp

from gemsym import Activation, X
from gemsym.shape import Undecided, shape_properties
from gemsym.shape.isolate import certified_zeros
from gemsym.shape.signs import CHART_P

x = X


def test_jump_has_no_lipschitz_constant_and_keeps_its_intervals_apart():
    act = Activation.from_branches("jump-down", [x + 1, x], [0])  # f jumps from 1 to 0 at 0
    p = shape_properties(act)
    assert p.lipschitz is None and "discontinuous at x = 0" in p.lipschitz_reason
    assert p.lipschitz_point is None
    (bp,) = p.breakpoints
    assert (bp.kind, bp.left, bp.right) == ("jump", 1, 0)
    # increasing on both sides but not across the jump down: not monotone
    assert [label for _, label in p.monotonicity] == ["increasing", "increasing"]
    assert p.monotonicity[0][0].right_open
    assert p.monotone is None
    assert p.minima == ((0, 0),)  # f(0) = 0 (right branch) is below f near 0 from the left
    f = act.numeric()
    assert f(mpmath.mpf(0)) == 0 and f(mpmath.mpf("-1e-9")) > mpmath.mpf("0.99")


def test_jump_up_is_monotone_and_its_left_limit_is_not_attained():
    act = Activation.from_branches("step", [sp.S.Zero, sp.S.One], [0])
    p = shape_properties(act)
    assert p.monotone == "non-decreasing" and p.lipschitz is None
    assert p.bounds == (0, 1) and p.bounds_attained == (True, True)
    act = Activation.from_branches("sign-plus", [x + sp.sign(x)])  # sign inside one branch
    p = shape_properties(act)
    assert p.monotone == "increasing" and p.lipschitz is None
    assert [(bp.point, bp.kind) for bp in p.breakpoints] == [(0, "jump")]


def test_interior_pole():
    act = Activation.from_branches("pole", [sp.S.Zero, x / (x - 1)], [0])
    p = shape_properties(act)
    assert [(bp.point, bp.kind) for bp in p.breakpoints] == [(0, "continuous"), (1, "pole")]
    assert p.lipschitz is None and "unbounded near x = 1" in p.lipschitz_reason
    assert p.bounds == (-sp.oo, sp.oo) and p.bounds_attained == (False, False)
    assert p.monotone is None
    # x/(x - 1) decreases on (0, 1) and on (1, oo): f' = -1/(x - 1)^2
    assert [label for _, label in p.monotonicity] == ["constant", "decreasing", "decreasing"]
    assert p.monotonicity[1][0] == sp.Interval.Ropen(0, 1)


def test_single_pole_is_not_a_zero_lipschitz_constant():
    p = shape_properties(Activation.from_branches("recip", [1 / (x - 2)]))
    assert p.lipschitz is None and p.derivative_range == (-sp.oo, 0)


def test_abs_inside_a_branch_is_split_not_differentiated():
    """x^2 log(|x - 1| + 1): a kink at 1 (f' jumps from -1 to 1), minima 0 at 0 and 1,
    a local maximum between them where f' = 0 (found here by mpmath.findroot)."""
    act = Activation.from_branches("log-abs", [x**2 * sp.log(sp.Abs(x - 1) + 1)])
    p = shape_properties(act)
    assert [(bp.point, bp.kind) for bp in p.breakpoints] == [(1, "continuous")]
    assert p.lipschitz is None and "unbounded" in p.lipschitz_reason  # f' ~ 2x log|x| at oo
    assert p.minima == ((0, 0), (1, 0))
    f = lambda t: t**2 * mpmath.log(abs(t - 1) + 1)  # noqa: E731
    with mpmath.workdps(30):
        top = mpmath.findroot(lambda t: mpmath.diff(f, t), 0.7)
        peak = mpmath.mpf(sp.N(p.monotonicity[1][0].sup, 30))
        assert abs(peak - top) < mpmath.mpf(10) ** -25


def test_oscillation_is_undecided_not_a_traceback():
    # x + sin(x)^2 is decided (Snake: f' = 1 + sin 2x >= 0, tests/test_shape_periodic.py);
    # f' = 1 + 2 sin 2x changes sign in every period, and x sin x is not periodic
    with pytest.raises(Undecided, match="infinitely many intervals"):
        shape_properties(Activation.from_branches("osc", [x + 2 * sp.sin(x) ** 2]))
    with pytest.raises(Undecided, match="limit"):
        shape_properties(Activation.from_branches("grow", [x * sp.sin(x)]))


def test_non_real_branch_is_bad_input():
    with pytest.raises(ValueError, match="not real") as info:
        shape_properties(Activation.from_branches("root", [sp.sqrt(x)]))
    assert not isinstance(info.value, Undecided)


def test_unbounded_derivative_at_a_junction():
    p = shape_properties(Activation.from_branches("sqrt-relu", [sp.S.Zero, sp.sqrt(x)], [0]))
    assert p.lipschitz is None and p.derivative_range == (0, sp.oo)
    assert p.monotone == "non-decreasing"


@pytest.mark.parametrize("expr,width,expected", [
    (sp.cos(CHART_P) - sp.Rational(1, 2), 10,
     lambda: [mpmath.pi / 3, 5 * mpmath.pi / 3, 7 * mpmath.pi / 3]),
    # p e^-p = 1/10: the two real branches of Lambert W
    (CHART_P * sp.exp(-CHART_P) - sp.Rational(1, 10), None,
     lambda: [-mpmath.lambertw(-mpmath.mpf(1) / 10), -mpmath.lambertw(-mpmath.mpf(1) / 10, -1)]),
    (sp.erfc(CHART_P) - sp.Rational(1, 2), None, lambda: [mpmath.erfinv(mpmath.mpf(1) / 2)]),
    (sp.exp(-CHART_P) - sp.Rational(1, 10**30), None, lambda: [30 * mpmath.log(10)]),
    (CHART_P - sp.sqrt(CHART_P**2 + 4), None, lambda: []),
])
def test_certified_zeros_against_mpmath(expr, width, expected):
    with mpmath.workdps(40):
        want = sorted(mpmath.re(v) for v in expected())
        found = certified_zeros(expr, CHART_P, width)
        assert len(found) == len(want)
        for z, e in zip(found, want):
            assert abs(mpmath.mpf(sp.N(z, 35)) - e) < mpmath.mpf(10) ** -25


def test_certified_zeros_refuse_a_double_zero():
    with pytest.raises(Undecided):
        certified_zeros((CHART_P - 2) ** 2 * (CHART_P + 1), CHART_P, 5)


# ------------------------------------------------------------------------------ CLI
def _cli(tmp_path, body: str, *args):
    (tmp_path / "hardfam.py").write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, "-m", "gemsym", "properties", *args],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)


HEADER = "import sympy as sp\nfrom gemsym import Activation, X as x\n"


def test_cli_exit_statuses(tmp_path):
    out = _cli(tmp_path, HEADER + "jump = Activation.from_branches('jump', [x, x + 1], [0])\n",
               "--family", "hardfam:jump")
    assert out.returncode == 0, out.stderr
    assert "Lipschitz   none: f is discontinuous at x = 0" in out.stdout
    assert "jump        at x = 0" in out.stdout
    out = _cli(tmp_path, HEADER + "osc = Activation.from_branches('osc', [x + 2*sp.sin(x)**2])\n",
               "--family", "hardfam:osc")
    assert out.returncode == 3 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "cannot decide" in out.stderr
    out = _cli(tmp_path, HEADER + "root = Activation.from_branches('root', [sp.sqrt(x)])\n",
               "--family", "hardfam:root", "--json")
    assert out.returncode == 2 and "not real" in out.stderr and "Traceback" not in out.stderr
