"""Drawing: one function per figure, from the collected tables to a matplotlib figure.

Every function takes the :class:`~gemsym.figures.data.FigureData` of its figure and a
:class:`~gemsym.figures.style.Style`, and returns the figure; legends go outside the axes
(above them) so that they never cover data.  matplotlib is imported here only, never when
``gemsym`` is imported.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Sequence

from .data import FigureData, Table
from .style import PALETTE, Style, series_style

__all__ = ["number_tex", "curve_label", "plot_curves", "plot_derivatives"]

_NAMES = {"relu": "ReLU", "gelu": "GELU", "silu": "SiLU", "gem": "GEM", "e-gem": "E-GEM",
          "se-gem": "SE-GEM", "sqish": "Sqish", "max-ax-x": r"$\max(ax, x)$"}
_SYMBOLS = {"eps": r"\epsilon", "beta": r"\beta", "gamma": r"\gamma", "N": "N", "a": "a"}


def number_tex(text: str) -> str:
    """Mathtext for an exact number: powers of ten as 10^{k}, fractions as p/q."""
    q = Fraction(text)
    if q > 0 and q != 1:
        k = round(math.log10(q))
        if Fraction(10) ** k == q and abs(k) >= 2:
            return f"10^{{{k}}}"
    if q.denominator == 1:
        return str(q.numerator)
    return f"{q.numerator}/{q.denominator}"


def curve_label(params: dict[str, str], show: Sequence[str] | None = None) -> str:
    """Legend text from a curve's family and parameter values."""
    family = params.get("family", "")
    names = [k for k in params if k != "family" and (show is None or k in show)]
    inner = r",\ ".join(f"{_SYMBOLS.get(k, k)}={number_tex(params[k])}" for k in names)
    head = _NAMES.get(family, family)
    if family == "gem" and list(params) == ["family", "N"]:
        return rf"$\mathrm{{GEM}}_{{{params['N']}}}$"
    if not inner:
        return head
    return f"${inner}$" if show is not None else f"{head}, ${inner}$"


def _new(style: Style, width: str, aspect: float):
    """A figure ``width`` ('single'/'double') wide and ``aspect`` times as high."""
    import matplotlib.pyplot as plt

    w = style.width(width)
    return plt.figure(figsize=(w, w * aspect))


def _legend(fig, ax, ncols: int, handles=None) -> None:
    """Legend above the axes, with at most ``ncols`` columns and no wider than the figure
    (``handles``: given artists instead of the axes' labelled ones)."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    else:
        labels = [h.get_label() for h in handles]
    renderer = fig.canvas.get_renderer()
    for n in range(min(ncols, len(labels)), 0, -1):
        leg = fig.legend(handles, labels, loc="outside upper center", ncols=n)
        if leg.get_window_extent(renderer).width <= 0.98 * fig.bbox.width or n == 1:
            return
        leg.remove()


def plot_curves(data: FigureData, style: Style, *, ylabel: str, show: Sequence[str] | None = None,
                ncols: int = 3, reference: Sequence[str] = ("limit", "limit_a0"),
                aspect: float = 0.8, ylim: tuple[float, float] | None = None):
    """f(x) for every column of the main table; columns named in ``reference`` are drawn
    thin and grey (the limit the family tends to)."""
    table = data.main
    fig = _new(style, "single", aspect)
    ax = fig.add_subplot()
    x = table.column("x")
    i = 0
    for name in table.columns[1:]:
        params = data.params.get(name, {})
        if name in reference:
            label = curve_label(params) + " (limit)"
            ax.plot(x, table.column(name), color="0.55", linewidth=2.4, alpha=0.6,
                    linestyle="-", label=label, zorder=1)
            continue
        ax.plot(x, table.column(name), label=curve_label(params, show), zorder=2,
                **series_style(i))
        i += 1
    ax.set_xlabel("$x$")
    ax.set_ylabel(ylabel)
    ax.set_xlim(min(x), max(x))
    if ylim is not None:
        ax.set_ylim(*ylim)
    _legend(fig, ax, ncols)
    return fig


def plot_derivatives(data: FigureData, style: Style):
    """Small multiples: row N, column k, f^{(k)} left (solid) and right (dashed) of the
    junction, with the one-sided values there; the last column of a row is the first
    order where they differ."""
    main, junction = data.main, data.tables["junction"]
    Ns = sorted(set(main.column("N")))
    kmax = max(junction.column("order"))
    fig = _new(style, "double", 0.21 * len(Ns))
    grid = fig.add_gridspec(len(Ns), kmax)
    for r, n in enumerate(Ns):
        rows = junction.where(N=n)
        orders = rows.column("order")
        for k in orders:
            ax = fig.add_subplot(grid[r, k - 1])
            for side, st in (("left", series_style(4)), ("right", series_style(5))):
                part = main.where(N=n, order=k, side=side)
                ax.plot(part.column("x"), part.column("value"), label=f"{side} branch", **st)
            row = rows.where(order=k).rows[0]
            _, _, lval, rval, agree = row
            ax.plot([0], [lval], "o", color=PALETTE[4], markersize=4.5, zorder=3,
                    label=r"$f^{(k)}(0^-)$")
            ax.plot([0], [rval], "s", markerfacecolor="none", color=PALETTE[5], markersize=6,
                    markeredgewidth=1.0, zorder=4, label=r"$f^{(k)}(0^+)$")
            verdict = "agree" if agree else f"jump ${lval:g}\\to{rval:g}$"
            ax.set_title(f"$f^{{({k})}}$: {verdict}", fontsize="small")
            ax.set_xlabel("$x$")
            if k == 1:
                ax.set_ylabel(f"GEM, $N={n}$")
            if r == 0 and k == 1:
                handles, labels = ax.get_legend_handles_labels()
        if len(orders) < kmax:
            ax = fig.add_subplot(grid[r, len(orders):])
            ax.axis("off")
            ax.legend(handles, labels, loc="center", ncols=2)
            ax.text(0.5, 0.0, _class_text(junction), ha="center", va="bottom",
                    transform=ax.transAxes, fontsize="small")
    return fig


def _class_text(junction: Table) -> str:
    """One line per N: the orders that agree at the junction and the one that jumps."""
    lines = []
    for n in sorted(set(junction.column("N"))):
        rows = junction.where(N=n)
        agree = [k for k, ok in zip(rows.column("order"), rows.column("agree")) if ok]
        jump = [k for k, ok in zip(rows.column("order"), rows.column("agree")) if not ok]
        lines.append(f"$N={n}$: orders {min(agree)}..{max(agree)} agree, order {jump[0]} jumps"
                     f" ($C^{{{jump[0] - 1}}}$)")
    return "\n".join(lines)


def plot_lipschitz(data: FigureData, style: Style):
    """Top: the range [inf f', sup f'] against N (bars), sup f' = Lipschitz constant as
    markers per family and the symbolic-N closed form as a line.  Bottom: where f' is
    largest (eps = 1)."""
    main, closed = data.main, data.tables["closed_form"]
    fig = _new(style, "single", 1.15)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    formula = closed.column("formula")[0]
    top.plot(closed.column("N"), closed.column("lipschitz"), color="0.55", linewidth=2.4,
             alpha=0.6, label=f"closed form ${_tex(formula)}$ (real $N$)", zorder=1)
    families = list(dict.fromkeys(main.column("family")))
    for i, fam in enumerate(families):
        part = main.where(family=fam)
        shift = (i - (len(families) - 1) / 2) * 0.12
        Ns = [n + shift for n in part.column("N")]
        st = series_style(i + 4, marker=True)
        top.vlines(Ns, part.column("inf_df"), part.column("sup_df"), color=st["color"],
                   linewidth=0.8, alpha=0.7)
        top.plot(Ns, part.column("lipschitz"), linestyle="none", marker=st["marker"],
                 color=st["color"], markerfacecolor="none" if i else st["color"],
                 label=f"{_NAMES.get(fam, fam)}: $[\\inf f', \\sup f']$")
        bottom.plot(part.column("N"), part.column("argmax_df"), linestyle=st["linestyle"],
                    marker=st["marker"], color=st["color"], markerfacecolor="none" if i else st["color"],
                    label=_NAMES.get(fam, fam))
    top.set_ylabel(r"$f'(x)$ range; $L=\sup|f'|$")
    bottom.set_ylabel(r"$\arg\max f'$ ($\epsilon=1$)")
    bottom.set_xlabel("$N$")
    bottom.set_xticks(sorted(set(main.column("N"))))
    _legend(fig, top, 1)
    return fig


def _tex(formula: str) -> str:
    """Mathtext of a SymPy expression given as text (N as a symbol, not sympy.N)."""
    import sympy as sp

    return sp.latex(sp.sympify(formula, locals={"N": sp.Symbol("N")}))


def _p_tex(p: str) -> str:
    return r"\infty" if p == "inf" else p


def _slopes(ax, status: Table, key: str, p: str, where: str, color_of) -> None:
    """The rate of each curve (from the analysis) as a text block in an empty corner."""
    rows = status.where(p=p)
    y = 0.04
    for k, finite, rate in reversed(list(zip(rows.column(key), rows.column("finite"),
                                             rows.column("rate")))):
        what = f"slope ${_tex(rate)}$" if finite else r"$\infty$ (diverges)"
        x = 0.97 if where == "right" else 0.03
        ax.text(x, y, f"${key}={number_tex(str(k))}$: {what}", transform=ax.transAxes,
                ha=where, va="bottom", fontsize="small", color=color_of(k))
        y += 0.09


def _log_axes(ax, x: bool = False, y: bool = False, x_base: int = 10) -> None:
    """Log scales on ``ax`` whose logarithms are the C library's (:mod:`.libm_log`: numpy's
    differ by CPU, which moved anti-aliased pixels between machines)."""
    from .libm_log import LibmLogScale

    if x:
        ax.set_xscale(LibmLogScale(ax.xaxis, base=x_base))
    if y:
        ax.set_yscale(LibmLogScale(ax.yaxis))


def plot_lp(data: FigureData, style: Style):
    """One log-log panel per p: ||E-GEM_{N,eps} - ReLU||_p against eps, closed form as
    lines, quadrature checks as markers, slopes from the rate in eps."""
    lines, quad, status = data.main, data.tables["quadrature"], data.tables["status"]
    ps = list(dict.fromkeys(status.column("p")))
    Ns = list(dict.fromkeys(status.column("N")))
    fig = _new(style, "double", 0.36)
    axes = fig.subplots(1, len(ps), sharey=True)
    color = {n: series_style(i)["color"] for i, n in enumerate(Ns)}
    for ax, p in zip(axes, ps):
        for i, n in enumerate(Ns):
            st = series_style(i, marker=True)
            part = lines.where(N=n, p=p)
            ax.plot(part.column("eps"), part.column("closed_form"), color=st["color"],
                    linestyle=st["linestyle"], label=f"$N={n}$: closed form")
            mk = quad.where(N=n, p=p)
            ax.plot(mk.column("eps"), mk.column("quadrature"), linestyle="none",
                    marker=st["marker"], color=st["color"], markerfacecolor="none",
                    markersize=5, label=f"$N={n}$: quadrature")
        _log_axes(ax, x=True, y=True)
        ax.set_title(f"$p={_p_tex(p)}$")
        ax.set_xlabel(r"$\epsilon$")
        _slopes(ax, status, "N", p, "right", color.get)
    axes[0].set_ylabel(r"$\|\mathrm{E\text{-}GEM}_{N,\epsilon}-\mathrm{ReLU}\|_p$")
    _proxy_legend(fig, [(f"$N={n}$", series_style(i, marker=True)) for i, n in enumerate(Ns)])
    return fig


def _proxy_legend(fig, series) -> None:
    """One legend entry per series (its line and marker), then 'closed form' (line) and
    'quadrature' (marker) in grey."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=st["color"], linestyle=st["linestyle"], marker=st["marker"],
                      markerfacecolor="none", label=label) for label, st in series]
    handles += [Line2D([], [], color="0.4", label="closed form"),
                Line2D([], [], color="0.4", linestyle="none", marker="o", markerfacecolor="none",
                       label="quadrature check")]
    _legend(fig, None, len(handles), handles)


def plot_sqish_distance(data: FigureData, style: Style):
    """log-log ||Sqish_{a,1,gamma} - max(ax, x)||_p against gamma, one line per p."""
    lines, quad, status = data.main, data.tables["quadrature"], data.tables["status"]
    fig = _new(style, "single", 0.8)
    ax = fig.add_subplot()
    ps = list(dict.fromkeys(status.column("p")))
    a_values = list(dict.fromkeys(status.column("a")))
    i = 0
    for a in a_values:
        for p in ps:
            st = series_style(i, marker=True)
            part = lines.where(a=a, p=p)
            tag = f"$p={_p_tex(p)}$" + (f", $a={number_tex(a)}$" if len(a_values) > 1 else "")
            ax.plot(part.column("gamma"), part.column("closed_form"), color=st["color"],
                    linestyle=st["linestyle"], label=tag)
            mk = quad.where(a=a, p=p)
            ax.plot(mk.column("gamma"), mk.column("quadrature"), linestyle="none",
                    marker=st["marker"], color=st["color"], markerfacecolor="none", markersize=5)
            rate = status.where(a=a, p=p).column("rate")[0]
            ax.text(0.03, 0.04 + 0.09 * (len(ps) * len(a_values) - 1 - i),
                    f"{tag}: slope ${_tex(rate)}$", transform=ax.transAxes, ha="left",
                    va="bottom", fontsize="small", color=st["color"])
            i += 1
    _log_axes(ax, x=True, y=True)
    ax.set_xlabel(r"$\gamma$")
    ax.set_ylabel(r"$\|\mathrm{Sqish}_{a,1,\gamma}-\max(ax,x)\|_p$")
    series = [(f"$p={_p_tex(p)}$", series_style(i, marker=True)) for i, p in enumerate(ps)]
    if len(a_values) == 1:
        ax.set_title(f"$a={number_tex(a_values[0])},\\ \\beta=1$", fontsize="small")
        _proxy_legend(fig, series)
    else:
        _legend(fig, ax, 3)
    return fig


def plot_region(data: FigureData, style: Style):
    """The (N, p) plane: for each integer N the p where ||E-GEM - ReLU||_p is infinite
    (shaded bar up to the exact threshold), p < 1 (not a norm) hatched, and the
    verdicts computed at chosen (N, p)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    main, verdicts = data.main, data.tables["verdicts"]
    condition = data.tables["condition"].column("condition")[0]
    Ns = main.column("N")
    top = max(max(verdicts.column("p")), max(main.column("threshold"))) * 1.25
    fig = _new(style, "single", 0.8)
    ax = fig.add_subplot()
    ax.axhspan(0, 1, facecolor="none", edgecolor="0.65", hatch="////", linewidth=0, zorder=0)
    bad = PALETTE[5]
    for n, low, exact, closed in main.rows:
        ax.bar(n, low, width=0.6, bottom=0, color=bad, alpha=0.45, zorder=1)
        ax.plot([n - 0.3, n + 0.3], [low, low], color=bad, linewidth=1.4, zorder=2)
        ax.text(n - 0.28, low, f"${number_tex(exact)}$", ha="left", va="bottom", fontsize="small")
    for fin, st in ((True, dict(marker="o", color=PALETTE[3])), (False, dict(marker="X", color=bad))):
        part = verdicts.where(finite=fin)
        ax.plot(part.column("N"), part.column("p"), linestyle="none", markersize=5,
                markeredgecolor="white", markeredgewidth=0.5, zorder=3, **st)
    handles = [
        Patch(color=bad, alpha=0.45, label=r"infinite ($p \leq$ threshold)"),
        Patch(facecolor="none", edgecolor="0.65", hatch="////", label="$p<1$: not a norm"),
        Line2D([], [], linestyle="none", marker="o", color=PALETTE[3], label="computed: finite"),
        Line2D([], [], linestyle="none", marker="X", color=bad, label="computed: infinite"),
    ]
    fig.legend(handles=handles, loc="outside upper center", ncols=2)
    ax.text(0.97, 0.96, f"finite iff ${_tex(condition)}$", transform=ax.transAxes,
            ha="right", va="top", fontsize="small")
    ax.set_xlim(min(Ns) - 0.5, max(Ns) + 0.5)
    ax.set_ylim(0, top)
    ax.set_xticks(Ns)
    ax.set_xlabel("$N$")
    ax.set_ylabel("$p$")
    ax.grid(False)
    return fig


def plot_kernel_errors(data: FigureData, style: Style):
    """Heat map of the largest measured error (ULP, log colour scale) per family and
    quantity (rows) and dtype/path (columns); cells outside the bound are outlined."""
    import numpy as np
    from matplotlib.patches import Rectangle

    from .libm_log import LibmLogNorm

    t = data.main
    cols = list(dict.fromkeys(f"{d}\n{p}" for d, p in zip(t.column("dtype"), t.column("path"))))
    rows = list(dict.fromkeys(f"{f}: {q}" for f, q in zip(t.column("family"), t.column("quantity"))))
    Z = np.full((len(rows), len(cols)), np.nan)
    bad = []
    for d, p, f, q, _, mx, _, ok in t.rows:
        i, j = rows.index(f"{f}: {q}"), cols.index(f"{d}\n{p}")
        Z[i, j] = max(mx, 0.25)
        if not ok:
            bad.append((i, j))
    fig = _new(style, "double", 0.12 + 0.028 * len(rows))
    ax = fig.add_subplot()
    img = ax.imshow(Z, aspect="auto", cmap="cividis",
                    norm=LibmLogNorm(vmin=0.25, vmax=max(8.0, np.nanmax(Z))))
    for i in range(len(rows)):
        for j in range(len(cols)):
            if not np.isnan(Z[i, j]):
                ax.text(j, i, f"{Z[i, j]:.3g}", ha="center", va="center", fontsize=5.5,
                        color="white" if Z[i, j] < 1.5 else "black")
    for i, j in bad:
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=PALETTE[5],
                               linewidth=1.5))
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows, fontsize=5.5)
    ax.grid(False)
    bar = fig.colorbar(img, ax=ax, label="max error (ULP); outlined: above the bound")
    ticks = [v for v in (0.25, 0.5, 1, 2, 4, 8, 16, 32, 64) if v <= img.norm.vmax]
    bar.set_ticks(ticks, labels=[f"{v:g}" for v in ticks])
    bar.minorticks_off()
    return fig


def plot_benchmarks(data: FigureData, style: Style):
    """Median time relative to torch.relu per op/implementation, one panel per pass,
    one bar per (device,) dtype."""
    t = data.main
    passes = list(dict.fromkeys(t.column("pass")))
    many = len(set(t.column("device"))) > 1
    groups = list(dict.fromkeys(zip(t.column("device"), t.column("dtype"))))

    def label(o, i, p):
        return f"{o} [{i}]" + (f" {p}" if p else "")

    labels = list(dict.fromkeys(label(o, i, p) for o, i, p in
                                zip(t.column("op"), t.column("impl"), t.column("params"))))
    fig = _new(style, "double", 0.12 + 0.03 * len(labels))
    axes = fig.subplots(1, len(passes), sharey=True, squeeze=False)[0]
    h = 0.8 / max(1, len(groups))
    for ax, ps in zip(axes, passes):
        for k, (dev, dt) in enumerate(groups):
            part = t.where(device=dev, dtype=dt, **{"pass": ps})
            ys = [labels.index(label(o, i, p)) + (k - (len(groups) - 1) / 2) * h
                  for o, i, p, *_ in part.rows]
            ax.barh(ys, part.column("ratio_vs_relu"), height=h, color=PALETTE[(k + 1) % len(PALETTE)],
                    label=f"{dev} {dt}" if many else dt, hatch=("", "//", "..", "xx")[k % 4],
                    edgecolor="white", linewidth=0.3)
        ax.axvline(1, color="0.3", linewidth=0.6)
        if max(t.column("ratio_vs_relu")) > 20:
            _log_axes(ax, x=True)
        ax.set_title(ps)
        ax.set_xlabel("time / torch.relu")
    axes[0].set_yticks(range(len(labels)), labels, fontsize="small")
    axes[0].invert_yaxis()
    _legend(fig, axes[0], len(groups))
    return fig


def plot_size_sweep(data: FigureData, style: Style):
    """Time over the anchor's against the number of elements (log-log): a row of panels per
    dtype, a panel per pass, a line per case (colour: op and parameters; solid:
    torch_bridge, dashed: the naive formula, dotted: the ``torch`` anchor rows; each eager
    or under ``torch.compile`` alike)."""
    t = data.main
    passes = list(dict.fromkeys(t.column("pass")))
    dtypes = list(dict.fromkeys(t.column("dtype")))
    cases = list(dict.fromkeys(zip(t.column("op"), t.column("params"))))
    impls = list(dict.fromkeys(t.column("impl")))
    fig = _new(style, "double", 0.12 + 0.28 * len(dtypes))
    axes = fig.subplots(len(dtypes), len(passes), sharex=True, sharey=True, squeeze=False)
    # the same line style for an implementation eager and compiled (a figure shows one)
    dashes = {"torch_bridge": "-", "naive": "--", "torch": ":"}
    dashes.update({f"{k}+compile": v for k, v in list(dashes.items())})
    for row, dt in zip(axes, dtypes):
        for ax, ps in zip(row, passes):
            for k, (op, params) in enumerate(cases):
                for impl in impls:
                    part = t.where(op=op, params=params, impl=impl, dtype=dt, **{"pass": ps})
                    if not part.rows:
                        continue
                    pts = sorted(zip(part.column("numel"), part.column("ratio_vs_anchor")))
                    name = f"{op}({params})" if params else op
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], dashes.get(impl, "-."),
                            marker="o", markersize=2, linewidth=0.9,
                            color=PALETTE[k % len(PALETTE)], label=f"{name} [{impl}]")
            ax.axhline(1, color="0.3", linewidth=0.6)
            _log_axes(ax, x=True, y=True, x_base=2)
            ax.set_title(f"{ps}, {dt}", fontsize="small")
        row[0].set_ylabel("time / anchor")
    for ax in axes[-1]:
        ax.set_xlabel("elements")
    handles = {}
    for ax in axes.flat:
        for h in ax.get_lines():
            if not h.get_label().startswith("_"):
                handles.setdefault(h.get_label(), h)
    _legend(fig, axes[0][0], 3, handles=list(handles.values()))
    return fig
