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
