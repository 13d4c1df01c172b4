"""Where sup |f'| is reached: on a stretch where f' is constant (ReLU on x > 0), at a
point, or only approached towards a junction where f' does not exist (Hardswish at x = 3,
whose one-sided derivatives 3/2 and 1 differ) -- against one-sided numerical derivatives
of f written out here at 30 digits."""

from __future__ import annotations

import json
import subprocess
import sys

import mpmath
import sympy as sp

from gemsym.catalogue.rectifiers import hardswish, relu
from gemsym.shape import shape_properties


def _hardswish(x):
    return x * min(max(x + 3, 0), 6) / 6


def _one_sided(f, x, side):
    """f'(x+) (side = 1) or f'(x-) (side = -1) by mpmath's one-sided differences."""
    return mpmath.diff(f, x, direction=side)


def test_relu_supremum_is_attained_on_the_positive_half_line():
    p = shape_properties(relu().with_defaults())
    assert p.lipschitz == 1 and p.lipschitz_attained and p.lipschitz_side == ""
    assert p.lipschitz_stretch == sp.Interval.open(0, sp.oo)
    assert p.lipschitz_point > 0  # a point of the stretch, never the junction x = 0
    with mpmath.workdps(30):
        f = lambda t: max(t, 0)  # noqa: E731
        assert _one_sided(f, 0, 1) != _one_sided(f, 0, -1)  # f'(0) does not exist


def test_hardswish_supremum_is_approached_at_a_kink():
    p = shape_properties(hardswish().with_defaults())
    assert p.lipschitz == sp.Rational(3, 2)
    assert p.lipschitz_point == 3 and not p.lipschitz_attained and p.lipschitz_side == "-"
    with mpmath.workdps(30):
        left, right = _one_sided(_hardswish, 3, -1), _one_sided(_hardswish, 3, 1)
        assert abs(left - mpmath.mpf(3) / 2) < mpmath.mpf(10) ** -20
        assert abs(right - 1) < mpmath.mpf(10) ** -20
        # |f'| < 3/2 at every sampled point where f is differentiable
        grid = [mpmath.mpf(k) / 16 + mpmath.mpf(1) / 97 for k in range(-80, 81)]
        assert max(abs(mpmath.diff(_hardswish, t)) for t in grid) < mpmath.mpf(3) / 2


def test_cli_text_and_json_say_where_the_supremum_is():
    out = subprocess.run([sys.executable, "-m", "gemsym", "properties", "--family", "relu",
                          "--family", "hardswish"], capture_output=True, text=True, check=True)
    lines = [l for l in out.stdout.splitlines() if "Lipschitz" in l]
    assert lines[0].endswith("(at every x in (0, inf))")
    assert "approached as x -> 3-, not attained: f' does not exist at x = 3" in lines[1]
    out = subprocess.run([sys.executable, "-m", "gemsym", "properties", "--family", "relu",
                          "--json"], capture_output=True, text=True, check=True)
    (rec,) = json.loads(out.stdout)
    assert rec["lipschitz_attained"] is True and rec["lipschitz_stretch"] == ["0", "inf"]
