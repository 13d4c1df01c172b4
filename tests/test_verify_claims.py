"""``verify-smoothness --json`` on a class that depends on a parameter (ELU, SELU: C^1 at
alpha = 1, else C^0): the claim and the cases as data, checked against one-sided
derivatives of ELU at 0 by mpmath at 30 digits."""

from __future__ import annotations

import json
import subprocess
import sys

import mpmath
import pytest


def _verify(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gemsym", "verify-smoothness", *args],
                          capture_output=True, text=True)


def _elu(alpha):
    return lambda x: x if x > 0 else alpha * mpmath.expm1(x)


def _class_at_zero(f, top=4) -> int:
    """The largest k <= top with f^(j)(0-) = f^(j)(0+) for all j <= k (one-sided
    finite differences at 30 digits)."""
    with mpmath.workdps(30):
        for k in range(1, top + 1):
            left = mpmath.diff(f, 0, k, direction=-1)
            right = mpmath.diff(f, 0, k, direction=1)
            if abs(left - right) > mpmath.mpf(10) ** -15:
                return k - 1
    return top


@pytest.mark.parametrize("family", ["elu", "selu"])
def test_parameter_dependent_claim_is_structured(family):
    r = _verify("--family", family, "--json")
    assert r.returncode == 0, r.stderr
    (rec,) = json.loads(r.stdout)
    claimed = rec["claimed"]
    assert "Piecewise" not in json.dumps(rec)
    assert claimed["text"] == "C^1 if alpha = 1, else C^0"
    first, rest = claimed["cases"]
    assert first["condition_data"] == {"lhs": "alpha", "relation": "=", "rhs": "1"}
    assert first["smoothness"] == 1 and first["text"] == "C^1"
    assert rest["condition_data"] == {"otherwise": True} and rest["smoothness"] == 0
    (case,) = rec["cases"]
    assert case["condition_data"] == first["condition_data"] and case["smoothness"] == 1
    assert rec["smoothness"] == 0 and rec["holds"] is True


def test_cases_agree_with_one_sided_derivatives():
    assert _class_at_zero(_elu(1)) == 1
    assert _class_at_zero(_elu(mpmath.mpf(2))) == 0
    (rec,) = json.loads(_verify("--family", "elu", "--json").stdout)
    assert rec["cases"][0]["smoothness"] == _class_at_zero(_elu(1))
    assert rec["smoothness"] == _class_at_zero(_elu(mpmath.mpf(2)))


def test_unconditional_claim_stays_a_number_and_text_reads():
    (rec,) = json.loads(_verify("--family", "elu", "--param", "alpha=1", "--json").stdout)
    assert rec["claimed"] == 1 and rec["smoothness"] == 1
    out = _verify("--family", "elu").stdout
    assert "claimed C^1 if alpha = 1, else C^0: holds" in out
