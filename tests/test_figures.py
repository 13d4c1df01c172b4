"""gemsym figures: committed CSVs regenerate exactly, files are byte-identical run to run,
the CLI rejects bad input, and the numbers agree with independent mpmath computations."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import mpmath as mp
import pytest

from gemsym.cli import main
from gemsym.figures import FIGURES, check_names, generate, owner, parse_formats
from gemsym.figures.writer import STAMP

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "figures"

#: figures whose data take well under a second: regenerated in the fast tests
CHEAP = ("gem", "e_gem", "se_gem", "sqish", "gates", "derivatives")
#: figures whose data come from the slower analyses (L^p, shape properties)
ANALYSES = ("lipschitz", "lp_distance", "lp_region", "sqish_distance")


def _committed_csvs(name: str) -> dict[str, str]:
    files = sorted(COMMITTED.glob(f"{name}*.csv"))
    out = {}
    for f in files:
        if owner(f.name) != name:
            continue  # another figure whose name extends this one (sqish_distance)
        stem = f.name[: -len(".csv")]
        out["" if stem == name else stem[len(name) + 1:]] = f.read_text(encoding="utf-8")
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _check_regenerates(name: str, tmp_path: Path) -> None:
    """The committed CSVs, PNG and PDF of figure ``name`` are the bytes ``gemsym figures``
    writes now (a drawn curve can move by a pixel while its CSV, rounded, stays)."""
    committed = _committed_csvs(name)
    out = tmp_path / "figures"
    written = generate(out, ("pdf", "png"), [name], jobs=1)["written"]
    if name not in written:
        assert not committed, f"{name}: input absent but CSVs committed"
        return
    new = {f.name for f in out.iterdir() if owner(f.name) == name}
    old = {f.name for f in COMMITTED.iterdir() if owner(f.name) == name}
    assert new == old, (name, sorted(new ^ old))
    for f in sorted(new):
        assert (out / f).read_bytes() == (COMMITTED / f).read_bytes(), (
            f"figures/{f} is not what `make figures` writes now")


@pytest.mark.parametrize("name", CHEAP)
def test_committed_csv_regenerates_exactly(name, tmp_path):
    _check_regenerates(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", ANALYSES)
def test_committed_analysis_csv_regenerates_exactly(name, tmp_path):
    _check_regenerates(name, tmp_path)


def test_log_axes_take_the_c_librarys_logarithms():
    """The log scales of the figures map each value by math.log10 / math.log2 and back by
    Python's pow (numpy's float64 log10 and power differ by CPU), clip values <= 0 as
    matplotlib's do, and put their ticks at m b^e exactly."""
    import math

    import numpy as np

    from gemsym.figures.libm_log import LibmLogScale, LibmLogTransform, _exact_tick

    values = [1e-6, 3.0e-5, 0.1, 0.3, 1.0, 7.5, 1e3, 2.0**-60, 5e300]
    for base, log in ((10, math.log10), (2, math.log2)):
        t = LibmLogTransform(base)
        got = t.transform_non_affine(np.array(values + [0.0, -2.0, math.nan]))
        assert got[:-3].tolist() == [log(v) for v in values]
        assert got[-3] == -1000 and got[-2] == -1000 and math.isnan(got[-1])
        back = t.inverted().transform_non_affine(np.array([log(v) for v in values]))
        assert back.tolist() == [float(base) ** log(v) for v in values]
        assert LibmLogScale(None, base=base).get_transform().base == base
    # m b^e as matplotlib's locator forms it (m times the power), the power by libm's pow
    assert [_exact_tick(v, 10.0) for v in (1e-7 * (1 + 2.0**-52), 3e-5, 2.0e12, 0.7, 0.123)] \
        == [10.0**-7, 3 * 10.0**-5, 2 * 10.0**12, 7 * 10.0**-1, 0.123]


@pytest.mark.slow
def test_log_figures_do_not_depend_on_numpys_logarithms(tmp_path, monkeypatch):
    """lp_distance (log-log; a curve one ULP off moved 191 anti-aliased pixels between an
    AVX-512 and an AVX2 machine, whose numpy logarithms differ) is the committed bytes with
    numpy's log10, log2, log and power each made one ULP larger."""
    import numpy as np

    class OneUlpUp:
        def __init__(self, f):
            self._f = f

        def __call__(self, *args, **kwargs):
            return np.nextafter(self._f(*args, **kwargs), np.inf)

        def __getattr__(self, name):  # a ufunc's outer, reduce, ...: as they are
            return getattr(self._f, name)

    for name in ("log10", "log2", "log", "power"):
        monkeypatch.setattr(np, name, OneUlpUp(getattr(np, name)))
    _check_regenerates("lp_distance", tmp_path)


@pytest.mark.parametrize("name", ("kernel_errors", "benchmarks", "benchmark_sizes",
                                  "benchmark_sizes_compiled"))
def test_measured_figures_regenerate_or_are_absent(name, tmp_path):
    """Drawn only when their input file exists (benchmarks/); then the CSV is committed."""
    if FIGURES[name].collect() is None and not _committed_csvs(name):
        pytest.skip(f"{name}: no input file and no committed figure")
    _check_regenerates(name, tmp_path)


def test_catalogue_is_complete_and_readme_lists_every_png():
    assert set(CHEAP) | set(ANALYSES) <= set(FIGURES)
    readme = (COMMITTED / "README.md").read_text(encoding="utf-8")
    assert readme.split("\n", 1)[0] == STAMP
    for png in sorted(COMMITTED.glob("*.png")):
        assert f"]({png.name})" in readme
        assert (COMMITTED / png.name.replace(".png", ".pdf")).is_file()


def test_files_are_byte_identical_run_to_run(tmp_path):
    names = ["gates", "derivatives"]
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, "pdf,png,svg", names, jobs=1)
    generate(b, "pdf,png,svg", names, jobs=2)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    assert {f"{n}.{x}" for n in names for x in ("pdf", "png", "svg")} <= set(files)
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    pdf = (a / "gates.pdf").read_bytes()
    assert b"CreationDate" not in pdf and b"Matplotlib" not in pdf
    assert b"Software" not in (a / "gates.png").read_bytes()
    # the same CSVs as the committed folder
    for f in files:
        if f.endswith(".csv"):
            assert (a / f).read_text() == (COMMITTED / f).read_text(), f


def test_only_keeps_other_figures_and_full_run_replaces(tmp_path):
    out = tmp_path / "figs"
    generate(out, "png", ["gates"], jobs=1)
    generate(out, "png", ["gem"], jobs=1)
    names = {p.name for p in out.iterdir()}
    assert {"gates.png", "gem.png", "gates.csv", "gem.csv", "README.md"} <= names
    readme = (out / "README.md").read_text()
    assert "(gates.png)" in readme and "(gem.png)" in readme
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    out = str(tmp_path / "f")
    for argv, word in (
        (["figures", "--out", out, "--format", "pdf,jpg"], "--format"),
        (["figures", "--out", out, "--only", "nosuch"], "--only"),
        (["figures", "--out", out, "--style", "poster"], "--style"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and word in err and "Traceback" not in err
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert main(["figures", "--out", str(foreign), "--only", "gates"]) == 2
    assert "--out" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_parse_formats_and_names():
    assert parse_formats("pdf, PNG,pdf") == ("pdf", "png")
    with pytest.raises(ValueError, match="--format"):
        parse_formats("")
    assert check_names(["derivatives", "gem"]) == ["gem", "derivatives"]
    assert check_names(None) == list(FIGURES)


def test_importing_gemsym_does_not_import_matplotlib():
    code = "import sys, gemsym, gemsym.figures, gemsym.cli.figures; print('matplotlib' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    assert res.stdout.strip() == "False"


# ----------------------------------------------------------- independent numerics
def test_e_gem_column_matches_hand_written_formula():
    rows = _rows(COMMITTED / "e_gem.csv")
    with mp.workdps(40):
        for row in rows[::37]:
            x = mp.mpf(row["x"])
            for eps_text, col in (("1/10", "e_gem_N1_eps1/10"), ("1/10000", "e_gem_N1_eps1/10000")):
                eps = mp.mpf(eps_text.split("/")[0]) / mp.mpf(eps_text.split("/")[1])
                want = x ** 3 / (x ** 2 + eps) if x > 0 else mp.mpf(0)
                assert float(row[col]) == float(want), (row["x"], col)


def test_sqish_and_gelu_columns_match_hand_written_formulas():
    with mp.workdps(40):
        for row in _rows(COMMITTED / "sqish.csv")[::41]:
            x = mp.mpf(row["x"])
            a, beta, gamma = mp.mpf(1) / 4, 1, 1
            want = a * x + (1 - a) * x / (1 + beta * mp.exp(-2 * gamma * (1 - a) * x))
            assert float(row["sqish_a1/4_beta1_gamma1"]) == float(want)
        for row in _rows(COMMITTED / "gem.csv")[::53]:
            x = mp.mpf(row["x"])
            assert float(row["gelu"]) == float(x * mp.ncdf(x))


def test_derivative_jump_matches_numerical_one_sided_derivative():
    """The junction table's one-sided values of order 2N+1 vs mpmath numerical
    differentiation of GEM's right branch x^{2N+1}/(1 + x^{2N}) from the right."""
    rows = _rows(COMMITTED / "derivatives_junction.csv")
    with mp.workdps(120):
        for row in rows:
            N, k = int(row["N"]), int(row["order"])
            right = mp.diff(lambda t: t ** (2 * N + 1) / (1 + t ** (2 * N)), mp.mpf(0), k,
                            direction=1, h=mp.mpf(10) ** -20)
            assert abs(float(row["right"]) - right) < 1e-6 * max(1, abs(right))
            assert float(row["left"]) == 0.0
            assert (row["agree"] == "true") == (k <= 2 * N)


@pytest.mark.slow
def test_distance_markers_match_independent_quadrature():
    """N = 2, p = 2, eps = 1/1000: marker and closed-form line vs an mpmath quadrature of
    (ReLU - E-GEM)^2 = (x - x^5/(x^4 + eps))^2 = (eps x/(x^4 + eps))^2 on x > 0 (written
    without the cancellation)."""
    markers = [r for r in _rows(COMMITTED / "lp_distance_quadrature.csv")
               if r["N"] == "2" and r["p"] == "2" and float(r["eps"]) == 1e-3]
    line = [r for r in _rows(COMMITTED / "lp_distance.csv")
            if r["N"] == "2" and r["p"] == "2" and float(r["eps"]) == 1e-3]
    assert len(markers) == 1 and len(line) == 1
    with mp.workdps(30):
        eps = mp.mpf(1) / 1000
        s = eps ** (mp.mpf(1) / 4)
        val = mp.sqrt(mp.quad(lambda x: (eps * x / (x ** 4 + eps)) ** 2, [0, s, 10 * s, mp.inf]))
    assert abs(float(markers[0]["quadrature"]) - val) < 1e-12 * val
    assert abs(float(line[0]["closed_form"]) - val) < 1e-12 * val


@pytest.mark.slow
def test_lipschitz_matches_numerical_maximum_of_derivative():
    rows = [r for r in _rows(COMMITTED / "lipschitz.csv") if r["family"] == "gem"]
    with mp.workdps(30):
        for row in rows[:3]:
            N = int(row["N"])
            df = lambda t: mp.diff(lambda u: u ** (2 * N + 1) / (1 + u ** (2 * N)), t)
            x0 = mp.findroot(lambda t: mp.diff(df, t), float(row["argmax_df"]) * 1.01)
            assert abs(df(x0) - float(row["lipschitz"])) < 1e-10
            assert abs(x0 - float(row["argmax_df"])) < 1e-8


@pytest.mark.slow
def test_region_threshold_matches_tail_exponent():
    """E-GEM - ReLU = eps x/(x^{2N} + eps) ~ eps x^{1-2N} at oo (and is bounded near 0),
    so the p-th power is integrable iff p (2N - 1) > 1: threshold 1/(2N - 1), itself
    infinite."""
    for row in _rows(COMMITTED / "lp_region.csv"):
        N = int(row["N"])
        assert float(row["threshold"]) == 1 / (2 * N - 1)
        assert row["threshold_finite"] == "false"


def test_measured_figures_draw_from_small_input_files(tmp_path):
    """The kernel-error and benchmark figures from hand-made input files in both formats."""
    import io

    from gemsym.figures import measured, plots
    from gemsym.figures.style import STYLES, use

    (tmp_path / "ERRORS.md").write_text(
        "# errors\n\n| dtype | path | family | quantity | samples | max ULP | p99 ULP | ok |\n"
        "|---|---|---|---|---:|---:|---:|---|\n"
        "| float32 | torch | gem(N=1) | f | 10 | 0.50 | 0.40 | yes |\n"
        "| float32 | triton | gem(N=1) | f | 10 | 5.5 | 1.0 | no |\n\ntrailing text\n")
    records = [
        {"op": op, "impl": "torch", "params": {"N": 1} if op == "gem" else {}, "device": "cpu",
         "dtype": dt, "pass": ps, "median_ms": 1.5, "ratio_vs_relu": r}
        for op, r in (("relu", 1.0), ("gem", 2.5)) for dt in ("float32", "float16")
        for ps in ("fwd", "fwd+bwd")
    ]
    import json

    (tmp_path / "results.json").write_text(json.dumps(records))
    errors = measured.kernel_errors(tmp_path)
    assert errors.main.column("max_ulp") == [0.5, 5.5]
    assert errors.main.column("within_bound") == [True, False]
    bench = measured.benchmark_results(tmp_path)
    assert len(bench.main.rows) == 8 and set(bench.main.column("params")) == {"", "N=1"}
    for draw, fd in ((plots.plot_kernel_errors, errors), (plots.plot_benchmarks, bench)):
        with use(STYLES["paper"]):
            fig = draw(fd, STYLES["paper"])
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            assert buf.getvalue().startswith(b"\x89PNG")
    assert measured.kernel_errors(tmp_path / "none") is None
    assert measured.benchmark_results(tmp_path / "none") is None
