"""The figure of any family (catalogue member or ``module:attribute``) at its defaults:
f with its first two derivatives, and the declared limit, as ``family_<identifier>``.

The data are the family's own branch expressions (and their exact derivatives,
:meth:`Activation.derivative`) evaluated by mpmath at ``data.DPS`` digits on an exact
rational grid that contains every junction; a point where a branch has no real finite
value is written as NaN, never as a number.  No family is special-cased by name.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import partial

import mpmath
import sympy as sp

from ..activation import Activation
from .data import DPS, FigureData, Table, grid
from .style import Style

__all__ = ["ORDERS", "PREFIX", "family_figure", "figure_name"]

#: derivative orders drawn beside f
ORDERS = (1, 2)
#: every family figure's name starts with it (no registry figure does)
PREFIX = "family_"


def figure_name(act: Activation) -> str:
    """``family_<identifier>``: the figure's name, and the stem of its files."""
    return PREFIX + act.identifier


def _span(act: Activation) -> Fraction:
    """Half-width of the plotted interval: 4, or twice the largest |junction| + 1."""
    ends = [abs(Fraction(str(sp.nsimplify(c)))) for c in act.junctions if c.is_Rational]
    return max([Fraction(4)] + [2 * e + 1 for e in ends])


def _values(fn, xs) -> list[float]:
    out = []
    with mpmath.workdps(DPS):
        for q in xs:
            try:
                v = fn(mpmath.mpf(q.numerator) / q.denominator)
            except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                v = mpmath.nan  # no value there (a pole, log of 0...): NaN, not a guess
            if isinstance(v, mpmath.mpc):
                v = v.real if v.imag == 0 else mpmath.nan
            out.append(float(v) if mpmath.isfinite(v) else math.nan)
    return out


def collect(act: Activation) -> FigureData:
    """f, f', f'' of ``act`` at its defaults (and the limit) on [-s, s], 321 points."""
    concrete = act.with_defaults()
    span = _span(concrete)
    xs = sorted(set(grid(str(-span), str(span), 321))
                | {Fraction(str(c)) for c in concrete.junctions if c.is_Rational})
    ident = act.identifier
    cols = [(ident, concrete.numeric(0))]
    cols += [(f"{ident}_d{k}", concrete.numeric(k)) for k in ORDERS]
    if concrete.limit is not None:
        cols.append(("limit", concrete.limit.function.with_defaults().numeric(0)))
    data = [_values(fn, xs) for _, fn in cols]
    table = Table(("x", *(n for n, _ in cols)), tuple((float(x), *v) for x, *v in zip(xs, *data)))
    values = {k: str(v) for k, v in concrete.values.items()}
    params = {ident: {"family": act.name, **values}}
    params.update({f"{ident}_d{k}": {"family": act.name, "order": str(k)} for k in ORDERS})
    if concrete.limit is not None:
        params["limit"] = {"family": concrete.limit.function.name}
    return FigureData({"": table}, params)


def draw(act: Activation, data: FigureData, style: Style):
    """f solid, its derivatives dashed and dotted, the limit thin and grey."""
    from .plots import _legend, _new, series_style

    table = data.main
    fig = _new(style, "single", 0.8)
    ax = fig.add_subplot()
    x = table.column("x")
    title = f"${act.title}$" if act.title else act.name
    labels = {act.identifier: title}
    labels.update({f"{act.identifier}_d{k}": f"{title}: $f^{{({k})}}$" if k > 2 else
                   f"{title}: $f{chr(39) * k}$" for k in ORDERS})
    for i, name in enumerate(table.columns[1:]):
        if name == "limit":
            ax.plot(x, table.column(name), color="0.55", linewidth=2.4, alpha=0.6,
                    label=f"{data.params['limit']['family']} (limit)", zorder=1)
            continue
        ax.plot(x, table.column(name), label=labels[name], zorder=2, **series_style(i))
    ax.set_xlabel("$x$")
    ax.set_xlim(min(x), max(x))
    _legend(fig, ax, 2)
    return fig


def family_figure(act: Activation):
    """The :class:`~gemsym.figures.Figure` of ``act`` (collected in the calling process)."""
    from . import Figure

    defaults = ", ".join(f"{k} = {v}" for k, v in act.with_defaults().values.items())
    caption = (f"{act.name}" + (f" at {defaults}" if defaults else "")
               + ": f, f' and f''" + (f", and its limit {act.limit.function.name}"
                                      if act.limit is not None else "") + ".")
    return Figure(figure_name(act), caption, partial(collect, act), partial(draw, act))
