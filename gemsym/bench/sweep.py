"""Size sweeps: the benchmark run at each of several input sizes, and the table of each
case's time as a multiple of its anchor's (``torch.relu`` for the GEM family and the naive
formulas of it, ``F.silu`` for Sqish) against the size.

Each size is one :func:`~gemsym.bench.runner.run_bench` in the same process: the cases of a
size are timed in interleaved rounds, so a ratio compares calls made in the same minutes.
The records are the runner's, one set per size, each with ``anchor`` and
``ratio_vs_anchor`` added.
"""

from __future__ import annotations

import os
import platform
from dataclasses import replace
from typing import Any, Callable

from .report import PASSES
from .runner import BenchConfig, run_bench

__all__ = ["DEFAULT_SIZES", "SWEEP_OPS", "SWEEP_IMPLS", "SWEEP_BUDGET_S", "parse_sizes",
           "run_sweep", "sweep_table", "anchor_of", "conditions"]

#: 2^10 ... 2^24 elements
DEFAULT_SIZES = tuple(1 << e for e in range(10, 25))
#: what a sweep times unless told otherwise: eager paths and their anchors
SWEEP_OPS = ("gem", "e-gem", "se-gem", "sqish", "relu", "silu")
SWEEP_IMPLS = ("torch_bridge", "naive", "torch")
#: seconds of timed calls aimed at per case, pass and size (at least 5 rounds each)
SWEEP_BUDGET_S = 0.3
#: CPU: a timed sample repeats a call until it lasts about this long
SWEEP_SAMPLE_S = 0.002
#: a number up to this is an exponent (2^k elements), above it an element count
_MAX_EXPONENT = 40


def parse_sizes(text: str, max_numel: int) -> tuple[int, ...]:
    """The element counts of ``--sizes``: a comma-separated list whose items are exponents
    (``10`` = 2^10 elements; items <= 40) or element counts (items > 40), each giving 1 ..
    ``max_numel`` elements, duplicates dropped, in increasing order.  ``ValueError`` naming
    the item otherwise."""
    items = [s.strip() for s in str(text).split(",")]
    if not items or any(not s for s in items):
        raise ValueError(f"--sizes must be a comma-separated list of exponents (10 = 2^10 "
                         f"elements) or element counts (got {text!r})")
    sizes = set()
    for s in items:
        if len(s) > 20 or not s.isdigit():
            raise ValueError(f"--sizes item {s[:40]!r} is not a non-negative integer; allowed: "
                             f"exponents 0..{_MAX_EXPONENT} or element counts up to {max_numel}")
        v = int(s)
        n = 1 << v if v <= _MAX_EXPONENT else v
        if not 1 <= n <= max_numel:
            raise ValueError(f"--sizes item {s!r} means {n} elements; allowed: 1..{max_numel} "
                             f"(exponents 0..{max_numel.bit_length() - 1})")
        sizes.add(n)
    return tuple(sorted(sizes))


def anchor_of(op: str) -> str:
    """The activation an op's times are divided by: SiLU for Sqish (a gated SiLU), ReLU for
    the rest (the GEM family approximates it; SiLU itself is shown against ReLU)."""
    return "silu" if op == "sqish" else "relu"


def conditions() -> dict[str, Any]:
    """What the sweep's times depend on besides the code: glibc's version and the
    ``MALLOC_*`` settings in the environment (large buffers are fresh mmaps, zero-filled on
    first touch, unless freed memory is kept for reuse)."""
    lib, version = platform.libc_ver()
    malloc = {k: v for k, v in sorted(os.environ.items()) if k.startswith("MALLOC_")}
    return {"libc": f"{lib} {version}".strip() or "unknown", "malloc_env": malloc,
            "ld_preload": os.environ.get("LD_PRELOAD", "")}


def _with_anchor(records: list[dict[str, Any]], clock: str) -> list[dict[str, Any]]:
    medians = {(r["op"], r["impl"], r["pass"]): r["median_ms"] for r in records if not r["params"]}
    extra = {**conditions(), "clock": clock}
    out = []
    for r in records:
        anchor = anchor_of(r["op"])
        base = medians.get((anchor, "torch", r["pass"]))
        ratio = None if not base else float(f"{r['median_ms'] / base:.3g}")
        out.append({**r, "anchor": anchor, "ratio_vs_anchor": ratio, "conditions": extra})
    return out


def run_sweep(config: BenchConfig, sizes: tuple[int, ...],
              progress: Callable[[int, int, str], None] | None = None):
    """(records of every size, skipped, failed): ``config`` run at each size in turn
    (``config.numel`` is ignored); the anchors of the chosen ops are always timed."""
    ops = tuple(config.ops) if config.ops else SWEEP_OPS
    ops = tuple(dict.fromkeys(ops + tuple(anchor_of(o) for o in ops)))
    config = replace(config, ops=ops, impls=config.impls or SWEEP_IMPLS,
                     budget_s=SWEEP_BUDGET_S if config.budget_s is None else config.budget_s,
                     min_sample_s=config.min_sample_s or SWEEP_SAMPLE_S)
    records: list[dict[str, Any]] = []
    skipped: list[str] = []
    failed: list[str] = []
    for i, n in enumerate(sizes):
        def step(done: int, total: int, label: str, i=i, n=n) -> None:
            if progress is not None:  # the count of this size's steps, scaled to all sizes
                progress(i * total + done, len(sizes) * total, f"{_size_label(n)} {label}")

        result = run_bench(replace(config, numel=n), progress=step)
        records += _with_anchor(result.records, config.clock)
        skipped += [s for s in result.skipped if s not in skipped]
        failed += [f"numel {n}: {s}" for s in result.failed]
    return records, skipped, failed


def _size_label(n: int) -> str:
    return f"2^{n.bit_length() - 1}" if n & (n - 1) == 0 else str(n)


def sweep_table(records: list[dict[str, Any]], markdown: bool = False) -> str:
    """One table per pass: a row per case, a column per size, each cell the case's median
    time over its anchor's (same size, pass and run); a header with the conditions."""
    if not records:
        return "no results\n"
    r0 = records[0]
    sizes = sorted({r["numel"] for r in records})
    extra = r0.get("conditions") or conditions()
    malloc = " ".join(f"{k}={v}" for k, v in extra["malloc_env"].items()) or "no MALLOC_* set"
    head = (f"{r0['device']} ({r0['device_name']}), {r0['dtype']}, {r0['threads']} threads, "
            f"torch {r0['torch_version']}, {extra['libc']}, allocator: {r0['allocator']} "
            f"({malloc}), {extra.get('clock', 'wall')} clock; each cell: median time / the "
            f"anchor's median at that size (interleaved rounds)")
    out = [head]
    for p in PASSES:
        rows: dict[tuple, dict[int, Any]] = {}
        for r in records:
            if r["pass"] != p or (r["op"], r["impl"]) == ("relu", "torch"):
                continue
            params = ",".join(f"{k}={v}" for k, v in r["params"].items() if k != "learnable")
            key = (f"{r['op']}({params})" if params else r["op"], r["impl"], r.get("anchor", "relu"))
            rows.setdefault(key, {})[r["numel"]] = r.get("ratio_vs_anchor")
        cols = ["case", "impl", "vs"] + [_size_label(n) for n in sizes]
        body = [[k[0], k[1], k[2]] + ["-" if v.get(n) is None else f"{v[n]:.3g}" for n in sizes]
                for k, v in rows.items()]
        if markdown:
            out += ["", f"**{p}**", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            out += ["| " + " | ".join(b) + " |" for b in body]
        else:
            widths = [max(len(x) for x in col) for col in zip(cols, *body)]
            out += ["", f"[{p}]", "  ".join(c.ljust(w) for c, w in zip(cols, widths))]
            out += ["  ".join(c.ljust(w) for c, w in zip(b, widths)) for b in body]
    return "\n".join(out) + "\n"
