"""The reference cache of the error benchmarks (benchmarks/_refcache.py) and the vectorised
error measure of benchmarks/measure_errors.py: a second run reads the cache and gives the
same numbers; any change of member, parameters, dtype, inputs, precision or reference code
gives another key; the array measure agrees with the per-input mpmath measure of
tests/numerics_reference.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import numerics_reference as nref  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    """benchmarks/_refcache and measure_errors, imported without leaving TRITON_INTERPRET set."""
    before = os.environ.get("TRITON_INTERPRET")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import _refcache
        import measure_errors
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
        if before is None:
            os.environ.pop("TRITON_INTERPRET", None)
        else:
            os.environ["TRITON_INTERPRET"] = before
    return _refcache, measure_errors


def test_second_call_reads_the_cache(bench, tmp_path, monkeypatch):
    refcache, _ = bench
    xs = nref.samples("float64", 120, seed=5)
    params = {"a": 0.25, "beta": 2.0, "gamma": 0.5}
    lines = []
    first = refcache.references("sqish", params, "float64", xs, tmp_path, log=lines.append)
    assert len(list(tmp_path.glob("*.npz"))) == 1 and "computed" in lines[-1]

    def refuse(*args):
        raise AssertionError("references computed again although cached")

    monkeypatch.setattr(refcache, "_compute", refuse)
    second = refcache.references("sqish", params, "float64", xs, tmp_path, log=lines.append)
    assert "cached" in lines[-1]
    assert set(first) == set(second) == {"f", "d_x", "d_a", "d_beta", "d_gamma"}
    for q in first:
        assert np.array_equal(first[q], second[q])
    # the stored value is the reference itself: hi + lo against mpmath at 50 digits
    i = int(np.argmax(np.abs(xs) > 0.1))
    value = nref.sqish(xs[i], **params)["f"][0]
    assert abs(first["f"][0, i] + first["f"][1, i] - value) <= 1e-30 * abs(value)


def test_key_separates_every_ingredient(bench):
    refcache, _ = bench
    xs = np.array([0.5, -1.0, 3.0])
    base = ("sqish", {"a": 0.0, "beta": 1.0, "gamma": 1.0}, "float32", xs, 50, "c0")
    variants = [
        ("sqish", {"a": -1.0, "beta": 1.0, "gamma": 1.0}, "float32", xs, 50, "c0"),
        ("e-gem", {"a": 0.0, "beta": 1.0, "gamma": 1.0}, "float32", xs, 50, "c0"),
        ("sqish", {"a": 0.0, "beta": 1.0, "gamma": 1.0}, "float64", xs, 50, "c0"),
        ("sqish", {"a": 0.0, "beta": 1.0, "gamma": 1.0}, "float32", xs[::-1].copy(), 50, "c0"),
        ("sqish", {"a": 0.0, "beta": 1.0, "gamma": 1.0}, "float32", xs, 25, "c0"),
        ("sqish", {"a": 0.0, "beta": 1.0, "gamma": 1.0}, "float32", xs, 50, "c1"),
    ]
    keys = {refcache.key(*v) for v in [base, *variants]}
    assert len(keys) == 1 + len(variants)
    assert refcache.key(*base) == refcache.key(*base)
    assert len(refcache.code_hash()) == 16
    with pytest.raises(ValueError, match="jobs"):
        refcache.make_pool(0)


@pytest.mark.parametrize("family, params, dtype", [
    ("sqish", {"a": -1.0, "beta": 1.0, "gamma": 1.0}, "float64"),
    ("sqish", {"a": 0.25, "beta": 2.0, "gamma": 0.5}, "float32"),
    ("se_gem", {"N": 1, "eps": 1.0}, "float64"),
    ("e_gem", {"N": 2, "eps": 2.0 ** -13}, "bfloat16"),
])
def test_array_measure_agrees_with_mpmath_per_input(bench, family, params, dtype, tmp_path):
    """measure_errors.errors (double-double references, numpy) against
    numerics_reference.measure (an mpmath subtraction per input)."""
    refcache, me = bench
    xs = nref.samples(dtype, 150, seed=11)
    rows = refcache.references(me.CATALOGUE_NAME[family], params, dtype, xs, tmp_path, dps=50)
    got = nref.computed_values(family, params, dtype, xs)
    fast = me.errors(family, params, dtype, xs, got, rows)
    slow = nref.measure(family, params, dtype, xs)
    assert set(fast) == set(slow) | {"f rel"}
    for q, (errs, excluded) in slow.items():
        assert np.array_equal(fast[q][1], excluded), q
        assert np.array_equal(np.isinf(fast[q][0]), np.isinf(errs)), q
        fin = np.isfinite(errs)
        # a float64 true value below 2^-969 has a lo part below the smallest normal, stored
        # rounded to a multiple of 2^-1074: there the array measure is exact to half an ULP
        # of the result only (the samples reach down to the smallest normal number)
        sub = (np.abs(rows[q][0]) < 2.0 ** -969) if dtype == "float64" else np.zeros_like(fin)
        tol = np.where(sub, 0.5, 1e-9)
        assert np.all(np.abs(fast[q][0] - errs)[fin] <= (tol + 1e-9 * errs)[fin]), q
    # f rel: the same error in ULPs of |true value| alone, computed per input with mpmath
    rel = [nref.ulp_error(float(v), nref.reference(family, float(x), params)["f"][0], 0.0, dtype)
           for x, v in zip(xs, got["f"])]
    fin = np.isfinite(rel)
    sub = (np.abs(rows["f"][0]) < 2.0 ** -969) if dtype == "float64" else np.zeros_like(fin)
    tol = np.where(sub, 0.5, 1e-9)
    assert np.all(np.abs(fast["f rel"][0] - np.array(rel))[fin] <= (tol + 1e-9 * np.abs(rel))[fin])


def test_script_second_run_is_cached_and_identical(bench, tmp_path, capsys):
    _, me = bench
    out = tmp_path / "ERRORS.md"
    marker = "<!-- catalogue: generated by benchmarks/measure_catalogue_errors.py -- do not edit by hand -->"
    out.write_text("old built-in section\n\n" + marker + "\ncatalogue rows\n", encoding="utf-8")
    argv = ["--samples", "120", "--triton-samples", "0", "--only", "sqish", "--dtype", "float64",
            "--cache", str(tmp_path / "cache"), "--out", str(out)]
    codes, texts, logs = [], [], []
    for _ in range(2):
        codes.append(me.main(argv))
        texts.append(out.read_text(encoding="utf-8"))
        logs.append(capsys.readouterr().err)
    assert codes[0] == codes[1] in (0, 1)
    assert "computed" in logs[0] and "cached" not in logs[0]
    assert "computed" not in logs[1] and logs[1].count("cached") == 3
    table = [[line for line in t.splitlines() if line.startswith("| float64")] for t in texts]
    assert table[0] == table[1] and len(table[0]) == 3 * 6
    assert any("sqish(a=-1, beta=1, gamma=1) | f rel" in line for line in table[0])
    assert texts[1].startswith("<!-- generated by benchmarks/measure_errors.py")
    assert texts[1].endswith(marker + "\ncatalogue rows\n") and "old built-in" not in texts[1]


@pytest.mark.parametrize("x", ["1e-20", "-3e-60", "1e-200", "0.7", "-5", "2e30"])
def test_sqish_negative_a_reference_is_relative(x):
    """Sqish(a = -1, beta = 1) is x tanh(2 gamma x): the reference value keeps its relative
    accuracy where a x and (1 - a) x sigma cancel (|x| < 1e-50 left none of 50 digits)."""
    import mpmath as mp

    value = nref.sqish(mp.mpf(x), -1.0, 1.0, 0.75)["f"][0]
    with mp.workdps(600):
        t = mp.mpf(x) * mp.tanh(mp.mpf(2 * 0.75) * mp.mpf(x))
    assert abs(value - t) <= mp.mpf(10) ** -45 * abs(t)


@pytest.mark.parametrize("argv", [["--jobs", "0"], ["--samples", "5"], ["--package", "/"],
                                  ["--only", "relu"]])
def test_script_refuses_bad_arguments(bench, argv, capsys):
    _, me = bench
    with pytest.raises(SystemExit) as exc:
        me.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("measure_errors.py: error: ") or "error:" in err
