"""`gemsym figures --family NAME` for families outside the registry: the figure
``family_<identifier>`` with its CSV (f, f', f'' at the defaults and the declared limit),
checked against mpmath evaluation of a definition written independently here."""

from __future__ import annotations

import csv
import math
import sys
import textwrap

import mpmath
import pytest

from gemsym.cli import main

USER = textwrap.dedent("""
    import sympy as sp
    from gemsym import Activation, X
    from gemsym.activation import Limit
    from gemsym.families import relu
    from gemsym.parameters import positive_real

    def softclip():
        beta = positive_real("beta", sp.Rational(3, 2), "sharpness")
        b = beta.symbol
        return Activation.from_branches(
            "soft-clip", [sp.log(1 + sp.exp(b * X)) / b, X + sp.exp(-X) / b], [1],
            parameters=(beta,), limit=Limit("beta", sp.oo, relu()))
""")


def reference(x, k):
    """The user family at beta = 3/2, and its derivatives, from the formula above."""
    beta = mpmath.mpf(3) / 2
    if x < 1:
        f = lambda t: mpmath.log(1 + mpmath.exp(beta * t)) / beta  # noqa: E731
    else:
        f = lambda t: t + mpmath.exp(-t) / beta  # noqa: E731
    return mpmath.diff(f, x, k)


def read(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], [[float(v) for v in r] for r in rows[1:]]


@pytest.fixture()
def user_family(tmp_path, monkeypatch):
    (tmp_path / "h10fig.py").write_text(USER)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    return tmp_path


def test_user_family_csv_matches_mpmath(user_family):
    out = user_family / "figs"
    code = main(["figures", "--quiet", "--family", "h10fig:softclip", "--out", str(out),
                 "--format", "png", "--jobs", "1"])
    assert code == 0
    header, rows = read(out / "family_soft_clip.csv")
    assert header == ["x", "soft_clip", "soft_clip_d1", "soft_clip_d2", "limit"]
    assert (out / "family_soft_clip.png").stat().st_size > 1000
    assert any(r[0] == 1.0 for r in rows)  # the junction is on the grid
    with mpmath.workdps(30):
        for x, *vals in rows[::7]:
            for k, v in enumerate(vals[:3]):
                ref = reference(mpmath.mpf(x), k)
                assert math.isclose(v, float(ref), rel_tol=1e-12, abs_tol=1e-13), (x, k, v, ref)
            assert vals[3] == max(x, 0.0)
    readme = (out / "README.md").read_text()
    assert "family_soft_clip.png" in readme and "--family h10fig:softclip" in readme


def test_family_figure_keeps_other_figures(user_family):
    out = user_family / "figs"
    assert main(["figures", "--quiet", "--family", "smelu", "--out", str(out),
                 "--format", "png", "--jobs", "1"]) == 0
    assert main(["figures", "--quiet", "--family", "elu", "--out", str(out),
                 "--format", "svg", "--jobs", "1"]) == 0
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["README.md", "family_elu.csv", "family_elu.svg",
                     "family_smelu.csv", "family_smelu.png"]
    readme = (out / "README.md").read_text()
    assert "family_smelu.png" in readme and "family_elu.svg" in readme
    # SmeLU at beta = 1: f'' is 1/2 strictly between the junctions, 0 outside
    header, rows = read(out / "family_smelu.csv")
    d2 = header.index("smelu_d2")
    assert all(r[d2] == (0.5 if -1 < r[0] < 1 else 0.0) for r in rows if abs(abs(r[0]) - 1) > 1e-9)
