"""Measured results, when their files exist: the kernel error table written by
``benchmarks/measure_errors.py`` (``benchmarks/ERRORS.md``, or ``kernel_errors.json`` as a
list of row objects with the same columns) and the records of ``gemsym bench --json``
saved as ``benchmarks/results.json``.  A figure whose file is absent is skipped."""

from __future__ import annotations

import json
from pathlib import Path

from .data import FigureData, Table

__all__ = ["BENCHMARKS", "kernel_errors", "benchmark_results", "size_sweep", "compiled_size_sweep"]

#: where the measured files live: the ``benchmarks`` folder of the repository
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

_ERROR_COLUMNS = ("dtype", "path", "family", "quantity", "samples", "max ULP", "p99 ULP", "ok")


def _markdown_rows(text: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table whose header names the error columns."""
    header, rows = None, []
    for line in text.splitlines():
        if not line.startswith("|"):
            if header is not None and rows:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            if set(_ERROR_COLUMNS) <= set(cells):
                header = cells
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        rows.append(dict(zip(header, cells)))
    return rows


def _number(text) -> float:
    text = str(text).strip()
    return float("nan") if text in ("", "-", "None", "null") else float(text)


def kernel_errors(folder: Path | None = None) -> FigureData | None:
    """Max and 99th-percentile error (ULP) per dtype, path, family and quantity."""
    folder = BENCHMARKS if folder is None else folder
    js, md = folder / "kernel_errors.json", folder / "ERRORS.md"
    if js.is_file():
        rows = json.loads(js.read_text(encoding="utf-8"))
    elif md.is_file():
        rows = _markdown_rows(md.read_text(encoding="utf-8"))
    else:
        return None
    if not rows:
        return None
    out = []
    for r in rows:
        missing = [c for c in _ERROR_COLUMNS if c not in r]
        if missing:
            raise ValueError(f"kernel error rows must have the columns {', '.join(_ERROR_COLUMNS)} "
                             f"(missing {', '.join(missing)})")
        out.append((r["dtype"], r["path"], r["family"], r["quantity"], int(_number(r["samples"])),
                    _number(r["max ULP"]), _number(r["p99 ULP"]), str(r["ok"]).lower() in ("yes", "true")))
    return FigureData({"": Table(("dtype", "path", "family", "quantity", "samples", "max_ulp",
                                  "p99_ulp", "within_bound"), tuple(out))})


def benchmark_results(folder: Path | None = None) -> FigureData | None:
    """Median time and ratio to ``torch.relu`` per op, implementation, dtype and pass, from
    ``results.json`` (this machine) and any ``results_cuda_<dtype>.json`` (a GPU run)."""
    folder = BENCHMARKS if folder is None else folder
    paths = [p for p in [folder / "results.json", *sorted(folder.glob("results_cuda_*.json"))]
             if p.is_file()]
    if not paths:
        return None
    records = [r for p in paths for r in json.loads(p.read_text(encoding="utf-8"))]
    rows = []
    for r in records:
        params = ",".join(f"{k}={v}" for k, v in sorted((r.get("params") or {}).items()))
        rows.append((r["op"], r["impl"], params, r["device"], r["dtype"], r["pass"],
                     _number(r["median_ms"]), _number(r.get("ratio_vs_relu"))))
    if not rows:
        return None
    return FigureData({"": Table(("op", "impl", "params", "device", "dtype", "pass", "median_ms",
                                  "ratio_vs_relu"), tuple(rows))})


def size_sweep(folder: Path | None = None) -> FigureData | None:
    """Each case's median time over its anchor's (``torch.relu``; ``F.silu`` for Sqish) at
    every input size, per dtype and pass, from the records of ``gemsym bench --sizes
    --json`` saved as ``sweep_<dtype>.json``."""
    folder = BENCHMARKS if folder is None else folder
    return _sweep_data(sorted(folder.glob("sweep_*.json")))


def compiled_size_sweep(folder: Path | None = None) -> FigureData | None:
    """As ``size_sweep`` for the compiled sweep, ``sweeps/compiled_<dtype>.json``: each case
    under ``torch.compile`` (and the anchors compiled) over the eager anchor's median."""
    folder = BENCHMARKS if folder is None else folder
    return _sweep_data(sorted((folder / "sweeps").glob("compiled_*.json")))


def _sweep_data(paths: list[Path]) -> FigureData | None:
    records = [r for p in paths for r in json.loads(p.read_text(encoding="utf-8"))]
    rows = []
    for r in records:
        if r.get("ratio_vs_anchor") is None or (r["op"], r["impl"]) == ("relu", "torch"):
            continue
        params = ",".join(f"{k}={v}" for k, v in sorted((r.get("params") or {}).items())
                          if k != "learnable")
        rows.append((r["op"], r["impl"], params, r["dtype"], r["pass"], int(r["numel"]),
                     r["anchor"], _number(r["ratio_vs_anchor"])))
    if not rows:
        return None
    return FigureData({"": Table(("op", "impl", "params", "dtype", "pass", "numel", "anchor",
                                  "ratio_vs_anchor"), tuple(rows))})
