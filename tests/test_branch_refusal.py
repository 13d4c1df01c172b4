"""verify-smoothness (and lp-distance) refuse branches that are not real functions -- a
complex branch (sqrt(x) for x < 0), NaN or zoo -- with exit status 2 naming the branch,
and answer "cannot decide" (exit 3, no traceback) for singular or essential branches at a
junction and for x**p with p a symbolic real."""

from __future__ import annotations

import pytest
import sympy as sp

from gemsym.activation import X, Activation, BranchError, check_real_branches
from gemsym.parameters import real_parameter

MODULE = '''
import sympy as sp
from gemsym.activation import X, Activation
from gemsym.parameters import real_parameter
def cplx(): return Activation.from_branches("cplx", [sp.sqrt(X), X], [0])
def nanb(): return Activation.from_branches("nanb", [sp.nan, X], [0])
def zoob(): return Activation.from_branches("zoob", [sp.zoo, X], [0])
def logj(): return Activation.from_branches("logj", [sp.log(-X), X], [0])
def gammaj(): return Activation.from_branches("gammaj", [sp.S.Zero, sp.gamma(X)], [0])
def ess(): return Activation.from_branches("ess", [sp.S.Zero, sp.exp(1/X)], [0])
def xp():
    p = real_parameter("p", 2)
    return Activation.from_branches("xp", [sp.S.Zero, X**p.symbol], [0], parameters=(p,))
'''


def test_complex_nan_zoo_branches_raise():
    for pieces, what in [([sp.sqrt(X), X], "not real at x = -1/7"), ([sp.nan, X], "NaN"),
                         ([sp.zoo, X], "NaN or infinite"), ([X, sp.log(X - 2)], "branch 2")]:
        with pytest.raises(BranchError, match="branch") as info:
            check_real_branches(Activation.from_branches("bad", pieces, [0]))
        assert what in str(info.value)
    check_real_branches(Activation.from_branches("ok", [sp.sqrt(-X), sp.log(1 + X)], [0]))
    p = real_parameter("p", 2)
    check_real_branches(Activation.from_branches("xp", [sp.S.Zero, X**p.symbol], [0], parameters=(p,)))


@pytest.mark.parametrize("name, status", [("cplx", 2), ("nanb", 2), ("zoob", 2), ("logj", 3),
                                          ("gammaj", 3), ("ess", 3), ("xp", 3)])
def test_verify_smoothness_refuses(name, status, tmp_path, monkeypatch, capsys):
    (tmp_path / "badfams.py").write_text(MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    from gemsym.cli import main

    assert main(["verify-smoothness", "--family", f"badfams:{name}"]) == status
    out, err = capsys.readouterr()
    assert "holds" not in out and "C^0" not in out
    assert err.count("\n") == 1 and "Traceback" not in err
    if status == 2:
        assert f"branch 1 of {name}" in err
