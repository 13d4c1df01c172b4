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


def _legend(fig, ax, ncols: int) -> None:
    """Legend above the axes, with at most ``ncols`` columns and no wider than the figure."""
    handles, labels = ax.get_legend_handles_labels()
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
