"""``gemsym compare`` and the table renderers: every format carries the same cells, the
LaTeX is a booktabs table that compiles (pdflatex, when installed) or at least parses,
and the numbers agree with independent mpmath computations."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from functools import lru_cache

import mpmath
import pytest

from gemsym import e_gem, relu, silu
from gemsym.cli.compare import COLUMNS, compare_table
from gemsym.tables import MISSING, Cell, Column, Table, render

KEYS = [c.key for c in COLUMNS]


@lru_cache(maxsize=None)
def table() -> Table:
    acts = [relu(), silu(), e_gem().bind(N=2, eps="1/100").with_defaults()]
    t, decided = compare_table(acts, distances=True)
    assert decided
    return t


def cells(name: str) -> dict:
    for row in table().rows:
        if row[0].value == name:
            return dict(zip(KEYS, row))
    raise KeyError(name)


def test_silu_minimum_and_lipschitz_against_mpmath():
    """x* = -1 - W(1/e) = -1.2784645427610738, f(x*) = -W(1/e) = -0.27846454276107380
    (W the Lambert function); sup |f'| by maximising mpmath's f' on a fine grid."""
    row = cells("silu")
    x_star, f_star = row["minimum"].value
    with mpmath.workdps(30):
        w = mpmath.lambertw(1 / mpmath.e)
        assert mpmath.mpf(x_star) == mpmath.mpf(mpmath.nstr(-1 - w, 6))
        assert mpmath.mpf(f_star) == mpmath.mpf(mpmath.nstr(-w, 6))
        f = lambda t: t / (1 + mpmath.exp(-t))  # noqa: E731
        top = mpmath.findroot(lambda t: mpmath.diff(f, t, 2), 2.4)
        assert row["lipschitz"].text == mpmath.nstr(mpmath.diff(f, top), 6)
    assert row["monotone"].text == "no" and row["bounded_below"].value is True
    assert row["f0"].text == "0" and row["df0"].text == "1/2"
    assert "no declared limit" in row["L2"].note


def test_relu_and_egem_rows():
    r = cells("relu")
    assert r["smoothness"].text == "C^0 at 0" and r["df0"].text == "undefined"
    assert "0 from the left, 1 from the right" in r["df0"].note
    g = cells("e-gem(N=2, eps=1/100)")
    assert g["smoothness"].text == "C^4 at 0"
    # ||E-GEM_{2,eps} - ReLU||_1 = pi eps^(3/4) / 4 (the quarter-period integral of
    # x eps/(x^4 + eps)), by mpmath quadrature here
    with mpmath.workdps(30):
        eps = mpmath.mpf(1) / 100
        l1 = mpmath.quad(lambda t: t * eps / (t**4 + eps), [0, 1, mpmath.inf])
        linf = max(t * eps / (t**4 + eps) for t in mpmath.linspace(0.01, 1, 2000))
    assert g["L1"].text == mpmath.nstr(l1, 6)
    assert abs(mpmath.mpf(g["Linf"].text) - linf) < 1e-4
    assert g["lipschitz"].text == "25/16"  # (2N+1)^2/(8N) at N = 2


def test_json_schema():
    data = json.loads(render(table(), "json"))
    assert [c["key"] for c in data["columns"]] == KEYS
    for rec in data["rows"]:
        assert set(rec) == set(KEYS) | {"notes"}
        assert isinstance(rec["notes"], dict) and set(rec["notes"]) <= set(KEYS)
        assert isinstance(rec["bounded_below"], bool)
        assert isinstance(rec["smoothness"], list)
    assert data["rows"][0]["df0"] is None and "df0" in data["rows"][0]["notes"]


def test_csv_columns():
    rows = list(csv.reader(io.StringIO(render(table(), "csv"))))
    assert rows[0] == KEYS + ["notes"]
    assert len(rows) == 1 + len(table().rows)
    assert all(len(r) == len(KEYS) + 1 for r in rows)
    silu_row = dict(zip(rows[0], rows[2]))
    assert silu_row["family"] == "silu" and silu_row["monotone"] == "no"


def test_markdown_shape():
    lines = render(table(), "markdown").splitlines()
    grid = [line for line in lines if line.startswith("|")]
    assert len(grid) == 2 + len(table().rows)
    assert set(grid[1].replace("|", " ").split()) == {"---"}
    for line in grid:
        cells_ = re.split(r"(?<!\\)\|", line)[1:-1]
        assert len(cells_) == len(KEYS)
    assert any(line.startswith("(1) ") for line in lines)  # the notes of the dashes


def _latex_checks(tex: str, ncols: int) -> None:
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    for rule in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabular}", r"\end{table}"):
        assert rule in tex
    spec = re.search(r"\\begin\{tabular\}\{([lcr]+)\}", tex).group(1)
    assert len(spec) == ncols
    body = tex[tex.index(r"\toprule"):tex.index(r"\bottomrule")]
    for line in body.splitlines():
        if line.endswith(r"\\"):
            assert len(re.split(r"(?<!\\)&", line)) == ncols, line
    text_only = re.sub(r"\$[^$]*\$", "", "\n".join(
        line for line in tex.splitlines() if not line.startswith("%")))
    assert not re.search(r"(?<!\\)[_%#]", text_only.replace(r"\%", ""))


def test_latex_parses_and_compiles(tmp_path):
    special = Table((Column("a", "a_b"), Column("b", "50%")),
                    ((Cell("x_1 & y"), Cell.missing("why: #1 ~ {2}")),))
    for t in (table(), special):
        tex = render(t, "latex")
        _latex_checks(tex, len(t.columns))
        if shutil.which("pdflatex") is None:
            continue
        doc = tmp_path / "t.tex"
        doc.write_text("\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage{amsmath}\n"
                       "\\begin{document}\n" + tex + "\n\\end{document}\n")
        out = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout[-2000:]
    assert MISSING not in render(special, "latex")


def test_unknown_format_is_bad_input():
    with pytest.raises(ValueError, match="--format must be one of"):
        render(table(), "html")


def test_cli_formats_and_exit_status():
    run = lambda *a: subprocess.run([sys.executable, "-m", "gemsym", "compare", *a],  # noqa: E731
                                    capture_output=True, text=True, timeout=300)
    out = run("--family", "relu", "--family", "leaky-relu", "--no-distances", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [r["family"] for r in data["rows"]] == ["relu", "leaky-relu(alpha=1/100)"]
    bad = run("--family", "relu", "--format", "html")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
