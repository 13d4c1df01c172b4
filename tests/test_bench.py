"""Tests of ``gemsym bench``: a smoke run on a tiny size (the JSON parses and has the schema),
the naive formulas it times against mpmath references, the statistics, input validation.
Never asserts on times."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemsym.bench import PASSES, RECORD_KEYS, BenchConfig, markdown_tables, run_bench, target_checks, validate
from gemsym.bench.report import TENSORS_MOVED
from gemsym.bench.timing import quantile, summarize
from gemsym.cli import main
from tests.helpers import gem_ref, se_gem_ref, sqish_ref

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parent.parent
TINY = 1031  # a prime size


# ---- statistics -------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1e3, allow_nan=False), min_size=1, max_size=40), st.floats(0, 1))
def test_quantile_matches_numpy(values, q):
    assert quantile(values, q) == pytest.approx(float(np.quantile(values, q)), rel=1e-12, abs=1e-12)


def test_summarize_in_ms_and_ordered():
    s = summarize([0.003, 0.001, 0.002, 0.005, 0.004])
    assert (s.median_ms, s.runs) == (pytest.approx(3.0), 5)
    assert s.p20_ms <= s.median_ms <= s.p80_ms


def test_quantile_rejects_bad_input():
    with pytest.raises(ValueError, match="empty"):
        quantile([], 0.5)
    with pytest.raises(ValueError, match="q must be"):
        quantile([1.0], 1.5)


# ---- the naive formulas time the right functions ------------------------------------------

def _grid():
    return torch.tensor([-7.5, -2.0, -1.0, -0.3, -1e-3, 0.0, 1e-3, 0.25, 0.9, 1.0, 1.7, 4.0, 11.0],
                        dtype=torch.float64)


@pytest.mark.parametrize("op, params, ref", [
    ("gem", {"N": 1}, gem_ref(1)),
    ("gem", {"N": 2}, gem_ref(2)),
    ("gem", {"N": 4}, gem_ref(4)),
    ("e-gem", {"N": 1, "eps": 1e-4}, gem_ref(1, "1/10000")),
    ("se-gem", {"N": 1, "eps": 1e-4}, se_gem_ref(1, "1/10000")),
    ("sqish", {"a": 0.0, "beta": 1.0, "gamma": 1.0, "learnable": True}, sqish_ref(0, 1, 1)),
    ("sqish", {"a": -0.25, "beta": 2.0, "gamma": 0.5, "learnable": True}, sqish_ref("-1/4", 2, "1/2")),
])
def test_naive_formula_and_gradient_match_mpmath(op, params, ref):
    from gemsym.bench.cases import naive_forward

    fn, learn = naive_forward(op, params, "cpu")
    assert len(learn) == (3 if op == "sqish" else 0)
    x = _grid().requires_grad_(True)
    y = fn(x)
    (gx,) = torch.autograd.grad(y.sum(), (x,))
    mp.mp.dps = 40
    for xi, yi, gi in zip(x.detach().tolist(), y.detach().tolist(), gx.tolist()):
        want = ref(mp.mpf(xi))
        assert yi == pytest.approx(float(want), rel=1e-12, abs=1e-300)
        if xi != 0.0:  # junction: one-sided derivatives may differ there
            dwant = mp.diff(ref, mp.mpf(xi))
            assert gi == pytest.approx(float(dwant), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("op, ref", [("e-gem", gem_ref), ("se-gem", se_gem_ref)])
def test_naive_eps_is_learnable_and_its_gradient_matches_mpmath(op, ref):
    """A learnable module's naive counterpart holds eps as a leaf, as the module does, so
    that a timed backward computes d/deps too."""
    from gemsym.bench.cases import naive_forward

    fn, (eps,) = naive_forward(op, {"N": 1, "eps": 0.5, "learnable": True}, "cpu")
    assert eps.requires_grad and eps.dim() == 0
    x = torch.tensor([-1.3, 0.0, 0.4, 2.2], dtype=torch.float32)
    (got,) = torch.autograd.grad(fn(x).sum(), (eps,))
    mp.mp.dps = 30
    pts = [mp.mpf(float(v)) for v in x.tolist()]
    want = mp.diff(lambda e: sum(ref(1, e)(t) for t in pts), mp.mpf("0.5"))
    assert float(got) == pytest.approx(float(want), rel=1e-5)
    _, none = naive_forward(op, {"N": 1, "eps": 0.5}, "cpu")
    assert none == ()


def test_naive_sqish_parameter_gradients_match_mpmath():
    from gemsym.bench.cases import naive_forward

    fn, (a, beta, gamma) = naive_forward("sqish", {"a": 0.25, "beta": 1.5, "gamma": 0.75, "learnable": True}, "cpu")
    x = torch.tensor([-1.3, 0.4, 2.2], dtype=torch.float32)
    grads = torch.autograd.grad(fn(x).sum(), (a, beta, gamma))
    mp.mp.dps = 30
    pts = [mp.mpf(float(v)) for v in x.tolist()]

    def total(A, B, G):
        return sum(sqish_ref(A, B, G)(t) for t in pts)

    want = [mp.diff(lambda v: total(v, 1.5, 0.75), 0.25), mp.diff(lambda v: total(0.25, v, 0.75), 1.5),
            mp.diff(lambda v: total(0.25, 1.5, v), 0.75)]
    for g, w in zip(grads, want):
        assert float(g) == pytest.approx(float(w), rel=1e-4)


# ---- validation --------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    ({"dtype": "float64"}, "--dtype"),
    ({"device": "tpu"}, "--device"),
    ({"numel": 0}, "--numel"),
    ({"repeat": 0}, "--repeat"),
    ({"ops": ("gem", "tanh")}, "--only"),
    ({"impls": ("jax",)}, "--impl"),
    ({"threads": 0}, "--threads"),
])
def test_validate_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        validate(BenchConfig(**kwargs))


def test_validate_fills_device_defaults():
    cfg = validate(BenchConfig())
    assert (cfg.numel, cfg.repeat) == (2**24, 15)
    assert "relu" in cfg.ops and "torch_bridge+compile" in cfg.impls


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_cuda_unavailable_is_a_value_error(capsys):
    with pytest.raises(ValueError, match="no CUDA device"):
        validate(BenchConfig(device="cuda"))
    assert main(["bench", "--device", "cuda", "--numel", "8"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cuda" in err


@pytest.mark.parametrize("argv", [["--dtype", "float64"], ["--numel", "0"], ["--only", "tanh"]])
def test_cli_bad_input_exits_2_with_one_line(argv, capsys):
    assert main(["bench", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gemsym bench: error:")


# ---- smoke runs (tiny size; times are never asserted) -------------------------------------

def _check_schema(records, ops, impls):
    assert records and all(tuple(r) == RECORD_KEYS for r in records)
    assert {r["pass"] for r in records} == set(PASSES)
    assert {(r["op"], r["impl"]) for r in records} == {(o, i) for o, i in ops}
    for r in records:
        assert r["device"] == "cpu" and r["numel"] == TINY and r["p20_ms"] <= r["median_ms"] <= r["p80_ms"]
        moved = TENSORS_MOVED[r["pass"]] * TINY * {"float32": 4, "bfloat16": 2}[r["dtype"]]
        assert r["gbps"] == pytest.approx(moved / (r["median_ms"] / 1e3) / 1e9, rel=2e-3)
        if (r["op"], r["impl"]) == ("relu", "torch"):
            assert r["ratio_vs_relu"] == 1.0


def test_run_bench_smoke_naive_and_anchors():
    res = run_bench(BenchConfig(numel=TINY, repeat=2, ops=("gem", "sqish", "silu"), impls=("naive", "torch"),
                                dtype="bfloat16"))
    assert not res.failed
    want = {("relu", "torch"), ("silu", "torch"), ("gem", "naive"), ("sqish", "naive")}
    _check_schema(res.records, want, None)
    assert len([r for r in res.records if r["op"] == "gem"]) == 3 * len(PASSES)  # N = 1, 2, 4
    assert all(r["copy_fraction"] is None and r["peak_mem_mib"] is None for r in res.records)


def test_cli_json_smoke_subprocess(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "gemsym", "bench", "--numel", str(TINY), "--repeat", "2",
                           "--only", "e-gem", "se-gem", "--impl", "naive", "torch", "--json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # not a terminal: no progress bar
    records = json.loads(proc.stdout)
    _check_schema(records, {("relu", "torch"), ("e-gem", "naive"), ("se-gem", "naive")}, None)
    path = tmp_path / "r.json"
    path.write_text(proc.stdout)
    again = subprocess.run([sys.executable, "-m", "gemsym", "bench", "--load", str(path), "--markdown"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and again.stdout.count("| relu |") == len(PASSES)


@pytest.mark.slow
def test_compiled_and_torch_bridge_smoke(monkeypatch):
    """torch.compile paths (and torch_bridge when it is importable) run and give records."""
    from gemsym.bench import cases
    from gemsym.bench.cases import load_torch_bridge

    # one parameter set: each further N is two more compilations (~15 s) and no new path
    monkeypatch.setitem(cases.OP_PARAMS, "gem", ({"N": 1},))

    impls = ["naive+compile", "torch+compile"]
    try:
        load_torch_bridge()
        impls += ["torch_bridge", "torch_bridge+compile"]
    except ImportError:
        pass
    res = run_bench(BenchConfig(numel=TINY, repeat=1, ops=("gem",), impls=tuple(impls), warmup=1))
    assert not res.failed, res.failed
    got = {(r["op"], r["impl"]) for r in res.records}
    assert {("relu", "torch"), ("relu", "torch+compile"), ("gem", "naive+compile")} <= got
    assert all(r["ratio_vs_relu_compile"] is not None for r in res.records)


# ---- report ------------------------------------------------------------------------------

def _rec(op, impl, p, ms, **params):
    return {"op": op, "impl": impl, "params": params, "pass": p, "median_ms": ms, "copy_fraction": None,
            "peak_mem_vs_relu": None}


def test_target_checks_compute_ratios_from_medians():
    recs = [_rec("relu", "torch", "fwd", 10.0), _rec("relu", "torch", "fwd+bwd", 20.0),
            _rec("gem", "torch_bridge+compile", "fwd", 12.0, N=1),
            _rec("gem", "torch_bridge", "fwd", 35.0, N=1),
            _rec("gem", "torch_bridge+compile", "fwd+bwd", 29.0, N=1),
            _rec("silu", "torch", "fwd+bwd", 10.0), _rec("sqish", "torch_bridge+compile", "fwd+bwd", 21.0)]
    got = {c["target"]: (c["value"], c["met"]) for c in target_checks(recs)}
    assert got == {
        "GEM N=1 fwd, compiled module / relu": (1.2, True),
        "GEM N=1 fwd, eager module / relu": (3.5, False),
        "GEM N=1 fwd+bwd, compiled module / relu": (1.45, True),
        "Sqish learnable fwd+bwd, compiled module / silu": (2.1, False),
    }


def test_markdown_of_empty_records():
    assert markdown_tables([]) == "no results\n"


def test_auto_rounds_shrink_to_the_minimum_for_slow_cases():
    from gemsym.bench.runner import MIN_ROUNDS

    res = run_bench(BenchConfig(numel=TINY, ops=("relu",), impls=("torch",), budget_s=1e-9))
    assert {r["repeat"] for r in res.records} == {MIN_ROUNDS}
    fixed = run_bench(BenchConfig(numel=TINY, repeat=3, ops=("relu",), impls=("torch",), budget_s=1e-9))
    assert {r["repeat"] for r in fixed.records} == {3}
