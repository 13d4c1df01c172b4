"""Paper-ready figures regenerated from the symbolic results (``gemsym figures``).

Submodules, in the order data flows:
- ``data``: the numbers behind each figure, collected from the families and analyses;
- ``style``: widths (3.25 in / 6.75 in), fonts, the Okabe-Ito palette, timestamp-free saving;
- ``plots``: one drawing function per figure;
- ``writer``: CSV text, README.md and the atomic swap of the output folder.

matplotlib is imported only inside these functions, never by ``import gemsym``.
"""

from __future__ import annotations

import os
import time
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Sequence

from . import data, distances, measured, plots
from .data import FigureData
from .style import STYLES, Style, save, use
from ..output_tree import OutputTree
from .writer import csv_text, readme_text, write_text

__all__ = ["Figure", "FIGURES", "FORMATS", "parse_formats", "check_names", "generate", "owner"]

FORMATS = ("pdf", "png", "svg")


@dataclass(frozen=True)
class Figure:
    """A named figure: ``collect`` gives its data (None: its input is absent, skip it),
    ``draw`` turns the data into a matplotlib figure."""

    name: str
    caption: str
    collect: Callable[[], FigureData | None]
    draw: Callable[[FigureData, Style], object]
    #: rough cost of ``collect`` (seconds on 1 core): the expensive ones start first
    cost: float = 1.0


_FIGS = [
    Figure(
        "gem",
        "GEM_N for N = 1..4 beside ReLU, GELU and SiLU.",
        data.family_curves,
        partial(plots.plot_curves, ylabel="$f(x)$", show=["N"], ncols=4),
    ),
    Figure(
        "e_gem",
        "E-GEM_{1,eps} for several eps: the gate sharpens and the curve tends to ReLU as eps -> 0.",
        data.e_gem_curves,
        partial(plots.plot_curves, ylabel=r"$\mathrm{E\text{-}GEM}_{1,\epsilon}(x)$",
                show=["eps"], ncols=3),
    ),
    Figure(
        "se_gem",
        "SE-GEM_{N,eps}: a bounded negative branch instead of ReLU's dead zone.",
        data.se_gem_curves,
        partial(plots.plot_curves, ylabel=r"$\mathrm{SE\text{-}GEM}_{N,\epsilon}(x)$",
                show=["N", "eps"], ncols=3),
    ),
    Figure(
        "sqish",
        "Sqish_{a,beta,gamma} at the default (0, 1, 1) and varying one parameter; "
        "grey: the gamma -> oo limit max(ax, x) at a = 0.",
        data.sqish_curves,
        partial(plots.plot_curves, ylabel=r"$\mathrm{Sqish}(x)$", show=["a", "beta", "gamma"],
                ncols=2, aspect=0.95),
    ),
    Figure(
        "gates",
        "The GEM gates G_N(x) = x^{2N}/(1 + x^{2N}) (x > 0): log-logistic CDFs of shape 2N.",
        data.gate_curves,
        partial(plots.plot_curves, ylabel="$G_N(x)$", show=["N"], ncols=5, aspect=0.7),
    ),
    Figure(
        "derivatives",
        "GEM_N derivatives of orders 1..2N+1 on each side of the junction x = 0 (N = 1, 2): "
        "the one-sided values agree up to order 2N and jump at order 2N+1.",
        data.derivative_curves,
        plots.plot_derivatives,
    ),
    Figure(
        "lipschitz",
        "Range of f' and the Lipschitz constant sup|f'| against N for GEM_N, E-GEM_{N,eps} and "
        "SE-GEM_{N,eps} (found independent of eps), with the closed form for symbolic N; below: "
        "where f' peaks (eps = 1).",
        data.lipschitz_table,
        plots.plot_lipschitz,
        8.0,
    ),
    Figure(
        "lp_distance",
        "||E-GEM_{N,eps} - ReLU||_p against eps (log-log) for N = 1, 2, 3 and p = 1, 2, oo: "
        "closed forms (lines), independent quadrature (markers), slopes = rates in eps.",
        distances.lp_curves,
        plots.plot_lp,
        9.0,
    ),
    Figure(
        "lp_region",
        "The (N, p) plane: ||E-GEM_{N,eps} - ReLU||_p is infinite in the shaded region "
        "(the exact finiteness condition); markers: verdicts computed at integer points.",
        distances.lp_region,
        plots.plot_region,
        4.0,
    ),
    Figure(
        "sqish_distance",
        "||Sqish_{0,1,gamma} - max(0, x)||_p against gamma (log-log): closed forms (lines), "
        "quadrature (markers), slopes = rates in gamma.",
        distances.sqish_distance,
        plots.plot_sqish_distance,
        20.0,
    ),
    Figure(
        "kernel_errors",
        "Largest measured error (ULP) of the generated torch_bridge kernels against mpmath, "
        "per family, quantity, dtype and path (from benchmarks/ERRORS.md; outlined: above the bound).",
        measured.kernel_errors,
        plots.plot_kernel_errors,
    ),
    Figure(
        "benchmarks",
        "Median time of the generated kernels relative to torch.relu, per pass, device and "
        "dtype (from benchmarks/results.json and, from a GPU run, results_cuda_*.json).",
        measured.benchmark_results,
        plots.plot_benchmarks,
    ),
    Figure(
        "benchmark_sizes",
        "Median time over torch.relu's (F.silu's for Sqish) against the input size, per pass "
        "and dtype, CPU eager (from benchmarks/sweep_<dtype>.json, `gemsym bench --sizes`).",
        measured.size_sweep,
        plots.plot_size_sweep,
    ),
    Figure(
        "benchmark_sizes_compiled",
        "Median time under torch.compile over the eager torch.relu's (F.silu's for Sqish) "
        "against the input size, per pass and dtype, CPU: torch_bridge (solid), the naive "
        "formula (dashed) and the anchors (dotted), each compiled alone (from "
        "benchmarks/sweeps/compiled_<dtype>.json, `gemsym bench --sizes`).",
        measured.compiled_size_sweep,
        plots.plot_size_sweep,
    ),
]

#: name -> figure, in drawing order.
FIGURES: dict[str, Figure] = {f.name: f for f in _FIGS}


def parse_formats(text: str | Sequence[str]) -> tuple[str, ...]:
    """'pdf,png' -> ('pdf', 'png'); unknown or empty -> ValueError."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out: list[str] = []
    for item in (i.strip().lower() for i in items):
        if item not in FORMATS:
            raise ValueError(f"--format must be a comma-separated list of {', '.join(FORMATS)} "
                             f"(got {item!r})")
        if item not in out:
            out.append(item)
    if not out:
        raise ValueError(f"--format must name at least one of {', '.join(FORMATS)}")
    return tuple(out)


def check_names(names: Sequence[str] | None) -> list[str]:
    """The figures to draw, in catalogue order; an unknown name -> ValueError."""
    if not names:
        return list(FIGURES)
    for n in names:
        if n not in FIGURES:
            raise ValueError(f"--only must name figures among {', '.join(FIGURES)} (got {n!r})")
    return [n for n in FIGURES if n in set(names)]


def _render(fig_def: Figure, fd: FigureData, style: Style, formats, build: Path) -> list[str]:
    import matplotlib.pyplot as plt

    files = []
    for suffix, table in fd.tables.items():
        name = f"{fig_def.name}{'_' + suffix if suffix else ''}.csv"
        write_text(build / name, csv_text(table))
        files.append(name)
    with use(style):
        fig = fig_def.draw(fd, style)
        try:
            for fmt in formats:
                name = f"{fig_def.name}.{fmt}"
                save(fig, str(build / name), fmt)
                files.append(name)
        finally:
            plt.close(fig)
    return files


def _collect(name: str) -> tuple[FigureData | None, float]:
    t0 = time.perf_counter()
    return FIGURES[name].collect(), time.perf_counter() - t0


def _watch_parent(parent: int) -> None:
    """Pool worker set-up: leave Ctrl-C to the parent (which terminates the pool) and exit
    as soon as the parent is gone, even killed by SIGKILL (no orphan keeps computing)."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _collected(names: Sequence[str], jobs: int):
    """Yield (name, data, seconds) in ``names`` order; with jobs > 1 the data are
    collected in worker processes, the most expensive first, while drawing goes on.
    Closing the generator (an error, a signal) terminates the workers."""
    if jobs <= 1 or len(names) <= 1:
        for name in names:
            yield (name, *_collect(name))
        return
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else methods[0])
    # Pool's exit is terminate(): workers stop at once, not after their current figure
    with ctx.Pool(min(jobs, len(names)), initializer=_watch_parent,
                  initargs=(os.getpid(),)) as pool:
        order = sorted(names, key=lambda n: -FIGURES[n].cost)
        results = {n: pool.apply_async(_collect, (n,)) for n in order}
        for name in names:
            yield (name, *results[name].get())


def generate(out: str | Path, formats: Sequence[str] = ("pdf", "png"), only: Sequence[str] | None = None,
             style: str = "paper", command: str | None = None, jobs: int | None = None,
             progress: Callable[[int, int, str], None] | None = None,
             extra: Sequence[Figure] = ()) -> dict:
    """Write the figures (all, or ``only`` those) with their CSVs and README.md to ``out``.

    The folder is written through :class:`~gemsym.output_tree.OutputTree` (missing, empty or
    written by ``gemsym figures``; swapped in atomically).  Without ``only`` it is replaced
    as a whole; with it the named figures' files are replaced, the other figures' files kept
    and README.md rewritten for every figure present.  ``jobs`` worker
    processes collect the data (default: the number of CPUs, at most 4).  ``progress``, if
    given, is called as ``progress(done, len(names), name)`` after each figure.  Returns
    {'written': [...], 'skipped': [...], 'seconds': {name: s}}.

    ``extra`` figures (of any family, :func:`gemsym.figures.family.family_figure`) are
    drawn after ``only``'s (``only=[]``: none of the registry's) and, like ``only``,
    keep every other figure already in ``out``."""
    from .. import __version__

    if style not in STYLES:
        raise ValueError(f"--style must be one of {', '.join(STYLES)} (got {style!r})")
    formats = parse_formats(formats)
    names = check_names(only) if only != [] else []
    extra = [f for f in extra if f.name not in FIGURES]
    partial_run = bool(only) or only == [] or bool(extra)
    if command is None:
        command = "gemsym figures --out figures/"
        if formats != ("pdf", "png"):
            command += f" --format {','.join(formats)}"
        if style != "paper":
            command += f" --style {style}"
    tree = OutputTree(out, "gemsym figures")  # checks the path; touches nothing yet
    if jobs is None:
        jobs = min(os.cpu_count() or 1, 4)
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"--jobs must be a positive integer (got {jobs!r})")
    written, skipped, seconds, files = [], [], {}, []
    with tree, closing(_collected(names, jobs)) as collected:
        for done, (name, fd, spent) in enumerate(collected, 1):
            if fd is None:
                skipped.append(name)
            else:
                t0 = time.perf_counter()
                files += _render(FIGURES[name], fd, STYLES[style], formats, tree.build)
                written.append(name)
                seconds[name] = spent + time.perf_counter() - t0
            if progress is not None:
                progress(done, len(names) + len(extra), name)
        for done, fig in enumerate(extra, len(names) + 1):
            t0 = time.perf_counter()
            files += _render(fig, fig.collect(), STYLES[style], formats, tree.build)
            written.append(fig.name)
            seconds[fig.name] = time.perf_counter() - t0
            if progress is not None:
                progress(done, len(names) + len(extra), fig.name)
        kept = []
        drawn = {f.name for f in extra}
        if partial_run and tree.previous is not None:
            # the figures not redrawn keep their files (a figure redrawn loses its old formats)
            kept = tree.keep(f for f in tree.previous.files
                             if f != "README.md" and owner(f) not in written
                             and f.rsplit(".", 1)[0] not in drawn
                             and not any(f.startswith(d + "_") for d in drawn))
        present = set(files) | set(kept)
        entries = []
        for name, f in FIGURES.items():
            image = next((f"{name}.{x}" for x in ("png", "svg", "pdf") if f"{name}.{x}" in present), None)
            if image is not None:
                csvs = sorted(p for p in present if p.endswith(".csv") and owner(p) == name)
                entries.append((name, f.caption, image, csvs))
        # family figures: those drawn now, then those an earlier run drew (kept)
        captions = {f.name: f.caption for f in extra}
        stems = sorted({p.rsplit(".", 1)[0] for p in present if owner(p) is None
                        and p.rsplit(".", 1)[0].startswith("family_")})
        for stem in sorted(captions) + [s for s in stems if s not in captions]:
            image = next((f"{stem}.{x}" for x in ("png", "svg", "pdf") if f"{stem}.{x}" in present), None)
            if image is not None:
                csvs = [f"{stem}.csv"] if f"{stem}.csv" in present else []
                entries.append((stem, captions.get(stem, "drawn by an earlier "
                                "`gemsym figures --family` run into this folder."), image, csvs))
        tree.write_text("README.md", readme_text(entries, __version__, command))
        tree.commit()
    return {"written": written, "skipped": skipped, "seconds": seconds}


def owner(filename: str) -> str | None:
    """The figure a file belongs to (the longest figure name it starts with)."""
    stem = filename.rsplit(".", 1)[0]
    best = None
    for name in FIGURES:
        if stem == name or stem.startswith(name + "_"):
            if best is None or len(name) > len(best):
                best = name
    return best
