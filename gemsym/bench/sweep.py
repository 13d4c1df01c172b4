"""Size sweeps: the benchmark run at each of several input sizes, and the table of each
case's time as a multiple of its anchor's (``torch.relu`` for the GEM family and the naive
formulas of it, ``F.silu`` for Sqish) against the size.

Each size is one :func:`~gemsym.bench.runner.run_bench` in the same process: the cases of a
size are timed in interleaved rounds, so a ratio compares calls made in the same minutes.
The records are the runner's, one set per size, each with ``anchor`` and
``ratio_vs_anchor`` added, and for a case under ``torch.compile`` also
``ratio_vs_anchor_compiled``: its time over the anchor's compiled the same way.
"""

from __future__ import annotations

import os
import platform
from dataclasses import replace
from typing import Any, Callable

from .report import PASSES
from .runner import BenchConfig, run_bench

__all__ = ["DEFAULT_SIZES", "SWEEP_OPS", "SWEEP_IMPLS", "SWEEP_BUDGET_S", "SWEEP_TARGETS",
           "parse_sizes", "run_sweep", "sweep_table", "sweep_targets", "targets_table",
           "anchor_of", "anchor_impl_of", "conditions"]

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


def anchor_impl_of(impl: str) -> str:
    """How the anchor is run for a case of ``impl`` "the same way": under ``torch.compile``
    for a compiled case, eager otherwise."""
    return "torch+compile" if impl.endswith("+compile") else "torch"


def conditions() -> dict[str, Any]:
    """What the sweep's times depend on besides the code: glibc's version and the
    ``MALLOC_*`` settings in the environment (large buffers are fresh mmaps, zero-filled on
    first touch, unless freed memory is kept for reuse)."""
    lib, version = platform.libc_ver()
    malloc = {k: v for k, v in sorted(os.environ.items()) if k.startswith("MALLOC_")}
    return {"libc": f"{lib} {version}".strip() or "unknown", "malloc_env": malloc,
            "ld_preload": os.environ.get("LD_PRELOAD", "")}


def _ratio(num: float | None, den: float | None) -> float | None:
    """num / den to 3 significant digits (None when either is missing or den is 0)."""
    return None if not num or not den else float(f"{num / den:.3g}")


def _anchor_medians(records: list[dict[str, Any]]) -> dict[tuple, float]:
    """(numel, op, impl, pass) -> median ms of the parameterless cases (the anchors)."""
    return {(r["numel"], r["op"], r["impl"], r["pass"]): r["median_ms"]
            for r in records if not r["params"]}


def _with_anchor(records: list[dict[str, Any]], clock: str) -> list[dict[str, Any]]:
    medians = _anchor_medians(records)
    extra = {**conditions(), "clock": clock}
    out = []
    for r in records:
        anchor = anchor_of(r["op"])
        key = (r["numel"], anchor)
        compiled = None
        if r["impl"].endswith("+compile"):
            compiled = _ratio(r["median_ms"], medians.get((*key, "torch+compile", r["pass"])))
        out.append({**r, "anchor": anchor,
                    "ratio_vs_anchor": _ratio(r["median_ms"], medians.get((*key, "torch", r["pass"]))),
                    "ratio_vs_anchor_compiled": compiled, "conditions": extra})
    return out


def run_sweep(config: BenchConfig, sizes: tuple[int, ...],
              progress: Callable[[int, int, str], None] | None = None):
    """(records of every size, skipped, failed): ``config`` run at each size in turn
    (``config.numel`` is ignored); the anchors of the chosen ops are always timed."""
    ops = tuple(config.ops) if config.ops else SWEEP_OPS
    ops = tuple(dict.fromkeys(ops + tuple(anchor_of(o) for o in ops)))
    impls = tuple(config.impls or SWEEP_IMPLS)
    # every ratio's denominator: the eager anchor, and the compiled one for compiled cases
    impls = tuple(dict.fromkeys(impls + tuple(anchor_impl_of(i) for i in impls) + ("torch",)))
    config = replace(config, ops=ops, impls=impls,
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


def _case_name(r: dict[str, Any]) -> str:
    params = ",".join(f"{k}={v}" for k, v in r["params"].items() if k != "learnable")
    return f"{r['op']}({params})" if params else r["op"]


def _ratio_rows(records: list[dict[str, Any]], p: str) -> dict[tuple, dict[int, float | None]]:
    """(case, impl, anchor label) -> {numel: median over the anchor's median} for pass ``p``,
    computed from the records' medians (the same arithmetic for a loaded file as for a
    run).  A compiled case has two rows: against the eager anchor and against the anchor
    compiled the same way (label ``<anchor>+compile``); an anchor is not divided by
    itself."""
    medians = _anchor_medians(records)
    rows: dict[tuple, dict[int, float | None]] = {}
    for r in records:
        if r["pass"] != p:
            continue
        anchor = r.get("anchor") or anchor_of(r["op"])
        for impl in dict.fromkeys(("torch", anchor_impl_of(r["impl"]))):
            if (r["op"], r["impl"]) == (anchor, impl):
                continue
            label = anchor if impl == "torch" else f"{anchor}+compile"
            den = medians.get((r["numel"], anchor, impl, p))
            rows.setdefault((_case_name(r), r["impl"], label), {})[r["numel"]] = _ratio(r["median_ms"], den)
    return rows


def sweep_table(records: list[dict[str, Any]], markdown: bool = False) -> str:
    """One table per pass: a row per case, a column per size, each cell the case's median
    time over its anchor's (same size, pass and run; a compiled case also over the anchor
    compiled the same way); a header with the conditions; then the targets (see
    ``sweep_targets``) that the records can decide."""
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
        rows = _ratio_rows(records, p)
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
    targets = targets_table(sweep_targets(records), markdown)
    return "\n".join(out) + "\n" + ("\n" + targets if targets else "")


#: the speed targets a sweep decides: (name, impl, denominator impl, passes, limit, smallest size)
SWEEP_TARGETS = (
    ("compiled <= 1.3x anchor (eager)", "torch_bridge+compile", "torch", ("fwd", "fwd+bwd"), 1.3, 2**14),
    ("compiled <= 1.3x anchor (compiled)", "torch_bridge+compile", "torch+compile",
     ("fwd", "fwd+bwd"), 1.3, 2**14),
    ("eager <= 2x anchor", "torch_bridge", "torch", ("fwd", "fwd+bwd"), 2.0, 2**16),
    ("eager <= naive", "torch_bridge", "naive", ("fwd", "fwd+bwd"), 1.0, 1),
)


def sweep_targets(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target of ``SWEEP_TARGETS`` for each generated case the records hold: the sizes
    it applies to, the ratio at each (median over the anchor's median, or over the naive
    formula's with the same parameters; same size and pass), the worst, and whether every
    one is at most the limit.  A size whose denominator was not timed is left out."""
    medians = _anchor_medians(records)
    naive = {(r["numel"], _case_name(r), r["pass"]): r["median_ms"]
             for r in records if r["impl"] == "naive"}
    out: list[dict[str, Any]] = []
    for name, impl, den_impl, passes, limit, smallest in SWEEP_TARGETS:
        groups: dict[tuple, dict[int, float]] = {}
        for r in records:
            if r["impl"] != impl or r["pass"] not in passes or r["numel"] < smallest:
                continue
            anchor = r.get("anchor") or anchor_of(r["op"])
            if den_impl == "naive":
                den, vs = naive.get((r["numel"], _case_name(r), r["pass"])), "naive"
            else:
                den = medians.get((r["numel"], anchor, den_impl, r["pass"]))
                vs = anchor if den_impl == "torch" else f"{anchor}+compile"
            ratio = _ratio(r["median_ms"], den)
            if ratio is not None:
                groups.setdefault((_case_name(r), r["pass"], vs), {})[r["numel"]] = ratio
        for (case, p, vs), ratios in groups.items():
            missed = sorted(n for n, v in ratios.items() if v > limit)
            out.append({"target": name, "case": case, "impl": impl, "pass": p, "vs": vs,
                        "limit": limit, "ratios": dict(sorted(ratios.items())),
                        "worst": max(ratios.values()), "missed_at": missed, "met": not missed})
    return out


def targets_table(checks: list[dict[str, Any]], markdown: bool = False) -> str:
    """The checks of ``sweep_targets``, one line each: met, or the sizes it is missed at."""
    if not checks:
        return ""
    lines = []
    for c in checks:
        sizes = f"{_size_label(min(c['ratios']))}..{_size_label(max(c['ratios']))}"
        where = "met" if c["met"] else "MISSED at " + ", ".join(_size_label(n) for n in c["missed_at"])
        lines.append((c["target"], c["case"], c["pass"], c["vs"], f"{c['worst']:.3g}", sizes, where))
    head = ("target", "case", "pass", "vs", "worst", "sizes", "result")
    if markdown:
        return "\n".join(["**targets**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                         + ["| " + " | ".join(x) + " |" for x in lines]) + "\n"
    widths = [max(len(x) for x in col) for col in zip(head, *lines)]
    return "\n".join(["[targets]", "  ".join(h.ljust(w) for h, w in zip(head, widths))]
                     + ["  ".join(c.ljust(w) for c, w in zip(x, widths)) for x in lines]) + "\n"
