"""The numbers behind the figures, collected from the definitions and analyses.

Nothing here derives mathematics: the curves are the families' own branch expressions
(and their derivatives, :meth:`Activation.derivative`) evaluated with mpmath on fixed
rational grids, and the junction values and jump order come from
:func:`gemsym.smoothness.smoothness`.  mpmath keeps the numbers identical on every machine
(no platform ``libm`` or SIMD differences), so the CSVs are reproducible to the last digit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Iterable, Sequence

import mpmath
import sympy as sp

from ..activation import Activation
from ..evaluate import certified_float
from ..families import e_gem, gelu, gem, relu, se_gem, silu, sqish
from ..smoothness import smoothness

__all__ = [
    "Table",
    "FigureData",
    "grid",
    "values",
    "family_curves",
    "e_gem_curves",
    "se_gem_curves",
    "sqish_curves",
    "SQISH_SETTINGS",
    "gate_curves",
    "derivative_curves",
    "lipschitz_table",
]

#: Working precision of every evaluation (the CSVs keep 17 significant digits).
DPS = 30


@dataclass(frozen=True)
class Table:
    """A rectangular table: one tuple per row, in the order of ``columns``."""

    columns: tuple[str, ...]
    rows: tuple[tuple, ...]

    def column(self, name: str) -> list:
        if name not in self.columns:
            raise ValueError(f"column must be one of {', '.join(self.columns)} (got {name!r})")
        i = self.columns.index(name)
        return [r[i] for r in self.rows]

    def where(self, **match) -> "Table":
        """The rows whose named columns equal the given values."""
        idx = [(self.columns.index(k), v) for k, v in match.items()]
        return Table(self.columns, tuple(r for r in self.rows if all(r[i] == v for i, v in idx)))


@dataclass(frozen=True)
class FigureData:
    """The tables of one figure: CSV name suffix ('' for the main table) -> table."""

    tables: dict[str, Table]
    #: column -> the parameter values (exact text) of the curve in that column
    params: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def main(self) -> Table:
        return self.tables[""]


def grid(lo: str, hi: str, n: int) -> list[Fraction]:
    """``n`` equally spaced exact rationals from ``lo`` to ``hi`` inclusive."""
    a, b = Fraction(lo), Fraction(hi)
    return [a + (b - a) * i / (n - 1) for i in range(n)]


def _mpf(q: Fraction) -> mpmath.mpf:
    return mpmath.mpf(q.numerator) / q.denominator


def values(f: Callable, xs: Iterable[Fraction]) -> list[float]:
    """f at each x (mpmath at ``DPS`` digits), rounded once to float."""
    with mpmath.workdps(DPS):
        return [float(f(_mpf(x))) for x in xs]


def _bind(act: Activation, **vals) -> Activation:
    return act.with_defaults(**vals)


def _curves(xs: Sequence[Fraction], named: Sequence[tuple[str, Activation]]) -> FigureData:
    """One column per named activation, f evaluated on ``xs``."""
    cols = [values(act.numeric(0, "mpmath"), xs) for _, act in named]
    rows = tuple((float(x), *vals) for x, *vals in zip(xs, *cols))
    table = Table(("x", *(name for name, _ in named)), rows)
    params = {name: {"family": act.name, **{k: str(v) for k, v in act.values.items()}}
              for name, act in named}
    return FigureData({"": table}, params)


def _eps_text(eps: str) -> str:
    return str(sp.Rational(Fraction(eps)))


def family_curves(Ns: Sequence[int] = (1, 2, 3, 4)) -> FigureData:
    """GEM_N for each N beside ReLU, GELU and SiLU on [-3, 3]."""
    xs = grid("-3", "3", 241)
    named = [(f"gem_N{n}", _bind(gem(), N=n)) for n in Ns]
    named += [("relu", relu()), ("gelu", gelu()), ("silu", silu())]
    return _curves(xs, named)


def e_gem_curves(N: int = 1, eps: Sequence[str] = ("10", "1", "1/10", "1/100", "1/10000")) -> FigureData:
    """E-GEM_{N,eps} for several eps, and its eps -> 0 limit (ReLU)."""
    xs = grid("-1", "2", 241)
    base = e_gem()
    named = [(f"e_gem_N{N}_eps{_eps_text(e)}", _bind(base, N=N, eps=e)) for e in eps]
    named.append(("limit", base.limit.function))
    return _curves(xs, named)


def se_gem_curves(
    settings: Sequence[tuple[int, str]] = ((1, "1"), (1, "1/10"), (1, "1/10000"), (2, "1"), (2, "1/10000"))
) -> FigureData:
    """SE-GEM_{N,eps} (no dead neurons: a bounded negative branch) for several (N, eps)."""
    xs = grid("-4", "2", 241)
    named = [(f"se_gem_N{n}_eps{_eps_text(e)}", _bind(se_gem(), N=n, eps=e)) for n, e in settings]
    return _curves(xs, named)


#: (a, beta, gamma): the default (0, 1, 1) and variations of one parameter at a time.
SQISH_SETTINGS = (("0", "1", "1"), ("0", "1", "4"), ("0", "1", "1/2"), ("1/4", "1", "1"),
                  ("0", "4", "1"), ("-1/4", "1", "1"))


def sqish_curves(settings: Sequence[tuple[str, str, str]] = SQISH_SETTINGS) -> FigureData:
    """Sqish_{a,beta,gamma} for each setting, and the gamma -> oo limit max(a x, x) at a = 0."""
    xs = grid("-4", "3", 281)
    named = []
    for a, b, g in settings:
        name = f"sqish_a{_eps_text(a)}_beta{_eps_text(b)}_gamma{_eps_text(g)}"
        named.append((name, _bind(sqish(), a=a, beta=b, gamma=g)))
    lim = sqish().limit.function
    named.append(("limit_a0", lim.with_defaults(a=0)))
    return _curves(xs, named)


def gate_curves(Ns: Sequence[int] = (1, 2, 3, 4, 6)) -> FigureData:
    """The GEM gates G_N (log-logistic CDFs of shape 2N, scale 1) on [-1/2, 3]."""
    xs = grid("-1/2", "3", 281)
    cols, names, params = [], [], {}
    for n in Ns:
        act = _bind(gem(), N=n)
        if act.gate is None:
            raise ValueError(f"gem(N={n}) has no gate")
        gate = Activation.from_branches(
            f"gate_N{n}", list(act.gate), act.junctions, x=act.x
        )
        names.append(f"gate_N{n}")
        params[f"gate_N{n}"] = {"family": "gate", "N": str(n)}
        cols.append(values(gate.numeric(0, "mpmath"), xs))
    rows = tuple((float(x), *v) for x, *v in zip(xs, *cols))
    return FigureData({"": Table(("x", *names), rows)}, params)


def derivative_curves(Ns: Sequence[int] = (1, 2), half_width: str = "1") -> FigureData:
    """f^{(k)}, k = 1..K, of GEM_N on each side of the junction x = 0, with K one past
    the first order at which the smoothness engine finds the one-sided derivatives differ.

    Main table: N, order, side, x, value.  Table ``junction``: N, order, the one-sided
    values at the junction (branch derivatives evaluated there) and whether the smoothness
    engine says they agree (order < first mismatch order)."""
    rows, jrows = [], []
    for n in Ns:
        act = _bind(gem(), N=n)
        report = smoothness(act)
        if len(report.junctions) != 1 or report.junctions[0].first_mismatch_order is None:
            raise ValueError(f"gem(N={n}): expected one junction with a finite class")
        j = report.junctions[0]
        c = j.junction
        mismatch = int(j.first_mismatch_order)
        (left_b, right_b) = act.branches
        lo, hi = Fraction(str(c)) - Fraction(half_width), Fraction(str(c)) + Fraction(half_width)
        left_xs = grid(str(lo), str(c), 101)
        right_xs = grid(str(c), str(hi), 101)
        for k in range(1, mismatch + 1):
            dl, dr = act.derivative(k)
            fl = sp.lambdify(act.x, dl, modules="mpmath")
            fr = sp.lambdify(act.x, dr, modules="mpmath")
            for side, f, xs in (("left", fl, left_xs), ("right", fr, right_xs)):
                for x, v in zip(xs, values(f, xs)):
                    rows.append((n, k, side, float(x), v))
            left_val = dl.subs(act.x, c) if k < mismatch else j.left
            right_val = dr.subs(act.x, c) if k < mismatch else j.right
            jrows.append((n, k, float(left_val), float(right_val), k < mismatch))
    return FigureData({
        "": Table(("N", "order", "side", "x", "value"), tuple(rows)),
        "junction": Table(("N", "order", "left", "right", "agree"), tuple(jrows)),
    })


def _float(e) -> float:
    """A SymPy number (or +-oo) as a float, from its certified 30 digits."""
    return certified_float(e)


def lipschitz_table(Ns: Sequence[int] = (1, 2, 3, 4, 5, 6), curve_points: int = 61) -> FigureData:
    """inf f', sup f' = Lipschitz constant and its location (at eps = 1), from
    :func:`gemsym.shape.shape_properties`: for GEM_N, E-GEM_{N,eps} and SE-GEM_{N,eps}
    (eps kept symbolic; an error if the module finds a range that depends on it) at each N,
    and GEM's
    closed form for symbolic N evaluated on a fine grid of real N (table ``closed_form``)."""
    from ..shape import shape_properties

    rows = []
    for name, factory in (("gem", gem), ("e-gem", e_gem), ("se-gem", se_gem)):
        for n in Ns:
            act = factory().bind(N=n)
            props = shape_properties(act)
            eps1 = {p.symbol: 1 for p in act.parameters if p.name == "eps"}
            lo, hi = props.derivative_range
            if lo.free_symbols or hi.free_symbols:
                raise ValueError(f"{name}(N={n}): the range of f' depends on {lo.free_symbols | hi.free_symbols}")
            point = props.lipschitz_point
            at = _float(point.subs(eps1)) if point is not None else math.nan
            rows.append((name, n, _float(lo), _float(hi), _float(props.lipschitz), at, str(props.lipschitz)))
    symbolic = shape_properties(gem().bind(N="symbolic"))
    N = gem().parameter("N").symbol
    lip = symbolic.lipschitz
    fine = grid(str(min(Ns)), str(max(Ns)), curve_points)
    with mpmath.workdps(DPS):
        f = sp.lambdify(N, lip, modules="mpmath")
        crow = tuple((float(q), float(f(_mpf(q))), str(lip)) for q in fine)
    return FigureData({
        "": Table(("family", "N", "inf_df", "sup_df", "lipschitz", "argmax_df", "lipschitz_exact"),
                  tuple(rows)),
        "closed_form": Table(("N", "lipschitz", "formula"), crow),
    })
