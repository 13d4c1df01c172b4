"""Tests of ``gemsym bench --sizes``: the size list, the sweep's records and table, and the
CLI on tiny sizes (JSON keys, --load of a sweep).  Never asserts on times."""

from __future__ import annotations

import json

import pytest

from gemsym.bench import RECORD_KEYS, BenchConfig
from gemsym.bench.sweep import DEFAULT_SIZES, anchor_of, parse_sizes, run_sweep, sweep_table
from gemsym.bench.timing import Timer
from gemsym.cli import main

torch = pytest.importorskip("torch")


def test_parse_sizes_exponents_and_counts():
    assert parse_sizes("10,12, 14", 2**31) == (1024, 4096, 16384)
    assert parse_sizes("1000,10,1024", 2**31) == (1000, 1024)  # 10 means 2^10 = 1024
    assert DEFAULT_SIZES[0] == 2**10 and DEFAULT_SIZES[-1] == 2**24 and len(DEFAULT_SIZES) == 15


@pytest.mark.parametrize("text", ["", "10,,12", "x", "-3", "1.5", "32", str(2**31 + 1)])
def test_parse_sizes_rejects(text):
    with pytest.raises(ValueError, match="--sizes"):
        parse_sizes(text, 2**31)


def test_anchor_is_silu_for_sqish_only():
    assert anchor_of("sqish") == "silu"
    assert {anchor_of(o) for o in ("gem", "e-gem", "se-gem", "silu", "relu")} == {"relu"}


def test_cpu_clock_and_repeated_calls():
    prepared, calls = iter(range(100)), []
    t = Timer("cpu", "cpu").time(lambda: next(prepared), calls.append, calls=7)
    assert calls == list(range(7)) and t >= 0.0  # each call gets its own prepare()
    with pytest.raises(ValueError, match="clock"):
        Timer("cpu", "gpu")


def test_run_sweep_records_and_table():
    config = BenchConfig(repeat=1, ops=("gem", "sqish"), impls=("naive", "torch"), threads=1,
                         clock="cpu", min_sample_s=1e-4)
    records, skipped, failed = run_sweep(config, (16, 64))
    assert not failed and not skipped
    assert {r["numel"] for r in records} == {16, 64}
    assert all(set(RECORD_KEYS) <= set(r) and {"anchor", "ratio_vs_anchor"} <= set(r) for r in records)
    sq = [r for r in records if r["op"] == "sqish"]
    silu = {(r["numel"], r["pass"]): r["median_ms"] for r in records if r["op"] == "silu"}
    assert sq and all(r["anchor"] == "silu" for r in sq)
    for r in sq:  # the ratio is the sqish median over silu's of the same size and pass
        assert r["ratio_vs_anchor"] == pytest.approx(r["median_ms"] / silu[(r["numel"], r["pass"])], rel=6e-3)  # ratios keep 3 significant digits
    text = sweep_table(records)
    assert "2^4" in text and "2^6" in text and "threads" in text and "allocator" in text
    assert text.count("[fwd]") == 1 and "sqish" in text and "MALLOC" in text
    md = sweep_table(records, markdown=True)
    assert md.count("| case | impl | vs | 2^4 | 2^6 |") == 3


def test_cli_sizes_json_and_load(tmp_path, capsys):
    argv = ["bench", "--sizes", "4,5", "--only", "e-gem", "--impl", "naive", "torch",
            "--repeat", "1", "--threads", "1", "--clock", "cpu", "--json"]
    assert main(argv) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["numel"] for r in records} == {16, 32}
    assert {(r["op"], r["impl"]) for r in records} == {("e-gem", "naive"), ("relu", "torch")}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(records))
    assert main(["bench", "--load", str(path)]) == 0
    assert "| " not in capsys.readouterr().out
    assert main(["bench", "--sizes", "4", "--numel", "8"]) == 2
    assert "exclude" in capsys.readouterr().err


def test_size_sweep_figure_data_and_plot(tmp_path):
    from gemsym.figures import FIGURES, measured, plots
    from gemsym.figures.style import STYLES, use

    assert measured.size_sweep(tmp_path) is None  # no sweep file: the figure is skipped
    config = BenchConfig(repeat=1, ops=("sqish",), impls=("naive", "torch"), threads=1, clock="cpu")
    records, _, failed = run_sweep(config, (8, 32))
    assert not failed
    (tmp_path / "sweep_float32.json").write_text(json.dumps(records))
    data = measured.size_sweep(tmp_path)
    rows = data.main.where(op="sqish", impl="naive", **{"pass": "fwd"}).rows
    assert sorted(r[5] for r in rows) == [8, 32] and all(r[6] == "silu" for r in rows)
    assert "benchmark_sizes" in FIGURES
    style = next(iter(STYLES.values()))
    with use(style):
        fig = plots.plot_size_sweep(data, style)
    assert len(fig.axes) == 3


# ---------------------------------------------------------------- compiled cases, targets
def _record(op, impl, p, numel, ms, **params):
    return {"op": op, "impl": impl, "params": params, "pass": p, "numel": numel, "median_ms": ms,
            "device": "cpu", "device_name": "test cpu", "dtype": "float32", "threads": 1,
            "torch_version": "0", "allocator": "glibc default"}


def _recorded():
    """Two sizes, one pass each of fwd and fwd+bwd: eager and compiled relu/silu anchors,
    compiled GEM N=1 and Sqish, eager GEM and its naive formula; medians chosen so that
    every ratio is exact in 3 digits."""
    out = []
    for n, k in ((2**14, 1.0), (2**20, 10.0)):
        for p in ("fwd", "fwd+bwd"):
            out += [_record("relu", "torch", p, n, 1.0 * k), _record("relu", "torch+compile", p, n, 2.0 * k),
                    _record("silu", "torch", p, n, 4.0 * k), _record("silu", "torch+compile", p, n, 5.0 * k),
                    _record("gem", "torch_bridge+compile", p, n, (2.5 if n == 2**14 else 1.25) * k, N=1),
                    _record("sqish", "torch_bridge+compile", p, n, 5.0 * k, a=0.0, learnable=True),
                    _record("gem", "torch_bridge", p, n, 1.5 * k, N=1),
                    _record("gem", "naive", p, n, 3.0 * k, N=1)]
    return out


def test_compiled_rows_against_both_anchors():
    from gemsym.bench.sweep import _ratio_rows, _with_anchor

    records = _with_anchor(_recorded(), "cpu")
    gem = next(r for r in records if (r["op"], r["impl"], r["pass"], r["numel"])
               == ("gem", "torch_bridge+compile", "fwd", 2**14))
    assert (gem["ratio_vs_anchor"], gem["ratio_vs_anchor_compiled"]) == (2.5, 1.25)
    sq = next(r for r in records if r["op"] == "sqish" and r["numel"] == 2**20)
    assert (sq["anchor"], sq["ratio_vs_anchor"], sq["ratio_vs_anchor_compiled"]) == ("silu", 1.25, 1.0)
    eager = next(r for r in records if r["impl"] == "torch_bridge")
    assert eager["ratio_vs_anchor_compiled"] is None
    rows = _ratio_rows(records, "fwd")
    assert rows[("gem(N=1)", "torch_bridge+compile", "relu")] == {2**14: 2.5, 2**20: 1.25}
    assert rows[("gem(N=1)", "torch_bridge+compile", "relu+compile")] == {2**14: 1.25, 2**20: 0.625}
    assert rows[("relu", "torch+compile", "relu")] == {2**14: 2.0, 2**20: 2.0}
    assert ("relu", "torch+compile", "relu+compile") not in rows  # not divided by itself
    assert ("relu", "torch", "relu") not in rows
    assert rows[("silu", "torch+compile", "relu+compile")] == {2**14: 2.5, 2**20: 2.5}
    assert ("gem(N=1)", "torch_bridge", "relu+compile") not in rows  # eager: one row


def test_sweep_targets_from_recorded_medians():
    from gemsym.bench.sweep import sweep_targets

    checks = {(c["target"], c["case"], c["pass"]): c for c in sweep_targets(_recorded())}
    c = checks[("compiled <= 1.3x anchor (eager)", "gem(N=1)", "fwd")]
    assert c["ratios"] == {2**14: 2.5, 2**20: 1.25} and c["missed_at"] == [2**14] and not c["met"]
    c = checks[("compiled <= 1.3x anchor (compiled)", "gem(N=1)", "fwd+bwd")]
    assert c["vs"] == "relu+compile" and c["worst"] == 1.25 and c["met"]
    c = checks[("compiled <= 1.3x anchor (compiled)", "sqish(a=0.0)", "fwd")]
    assert c["ratios"] == {2**14: 1.0, 2**20: 1.0} and c["met"]
    c = checks[("eager <= 2x anchor", "gem(N=1)", "fwd")]
    assert c["ratios"] == {2**20: 1.5} and c["met"]  # from 2^16 on only
    c = checks[("eager <= naive", "gem(N=1)", "fwd+bwd")]
    assert c["ratios"] == {2**14: 0.5, 2**20: 0.5} and c["met"]
    text = sweep_table(_recorded())
    assert "[targets]" in text and "MISSED at 2^14" in text
    md = sweep_table(_recorded(), markdown=True)
    assert "| target | case | pass | vs | worst | sizes | result |" in md


def test_run_sweep_times_the_anchors_the_same_way(monkeypatch):
    from gemsym.bench import sweep
    from gemsym.bench.runner import BenchResult

    seen = []

    def fake_run_bench(config, progress=None):
        seen.append(config)
        return BenchResult(config, [])

    monkeypatch.setattr(sweep, "run_bench", fake_run_bench)
    run_sweep(BenchConfig(ops=("sqish",), impls=("torch_bridge+compile",)), (16,))
    assert seen[0].impls == ("torch_bridge+compile", "torch+compile", "torch")
    assert seen[0].ops == ("sqish", "silu")


def test_compiled_size_sweep_figure_data_and_plot(tmp_path):
    from gemsym.bench.sweep import _with_anchor
    from gemsym.figures import FIGURES, measured, plots
    from gemsym.figures.style import STYLES, use

    assert measured.compiled_size_sweep(tmp_path) is None  # no sweep file: the figure is skipped
    (tmp_path / "sweeps").mkdir()
    records = [dict(r, dtype="bfloat16") for r in _with_anchor(_recorded(), "cpu")]
    (tmp_path / "sweeps" / "compiled_bfloat16.json").write_text(json.dumps(records))
    table = measured.compiled_size_sweep(tmp_path).main
    rows = table.where(op="gem", impl="torch_bridge+compile", **{"pass": "fwd"}).rows
    assert sorted((r[5], r[7]) for r in rows) == [(2**14, 2.5), (2**20, 1.25)]  # over eager relu
    assert {r[1] for r in table.rows} == {"torch_bridge+compile", "torch+compile", "torch_bridge", "naive", "torch"}
    assert "benchmark_sizes_compiled" in FIGURES
    style = next(iter(STYLES.values()))
    with use(style):
        fig = plots.plot_size_sweep(measured.compiled_size_sweep(tmp_path), style)
    assert len(fig.axes) == 2  # fwd and fwd+bwd panels, one dtype
    styles = {line.get_label(): line.get_linestyle() for line in fig.axes[0].get_lines()}
    assert styles["gem(N=1) [torch_bridge+compile]"] == styles["gem(N=1) [torch_bridge]"] == "-"
