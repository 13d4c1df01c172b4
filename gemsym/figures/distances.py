"""The numbers behind the L^p-distance figures, collected from :mod:`gemsym.lp`.

Lines are the module's closed forms evaluated on a grid of the limiting parameter; markers
are the module's own independent quadrature check values (``LpDistance.check``) at a few
parameter values; the divergence region is the module's exact finiteness condition
evaluated on a rational (N, p) grid.  Nothing is derived here.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Sequence

import sympy as sp

from ..evaluate import certified_float
from ..families import e_gem, sqish
from .data import FigureData, Table

__all__ = ["lp_curves", "lp_region", "sqish_distance"]

#: Working digits of the quadrature checks behind the markers (the module's minimum).
CHECK_DPS = 15


def _p_text(p) -> str:
    return "inf" if p == "inf" else str(p)


@lru_cache(maxsize=None)
def _lp(family: str, p: str, **values: str):
    """lp_distance of a built-in family bound to ``values`` (cached within one run)."""
    from ..lp import lp_distance

    act = {"e-gem": e_gem, "sqish": sqish}[family]().bind(**values)
    concrete = all(v != "symbolic" for v in values.values())
    return lp_distance(act, p, dps=CHECK_DPS, check=concrete)


def _closed_form(family: str, p: str, values: dict[str, str], general: dict[str, str]):
    """The module's closed form for ``values`` (limiting parameter symbolic); when it
    finds none, its closed form for ``general`` (more parameters symbolic, p too for
    finite p) with the values substituted."""
    res = _lp(family, p, **values)
    if res.closed_form is not None or not res.converges:
        return res, res.closed_form
    gen = _lp(family, p if p == "inf" else "symbolic", **general)
    if gen.closed_form is None:
        return res, None
    act = res.activation
    subs = {act.parameter(k).symbol: sp.Rational(Fraction(v)) for k, v in values.items()
            if v != "symbolic"}
    from ..lp import P

    if p != "inf":
        subs[P] = sp.Rational(Fraction(p))
    return res, gen.closed_form.subs(subs)


def _evaluate(expr: sp.Expr, sym: sp.Symbol, at: Sequence[sp.Expr]) -> list[float]:
    return [certified_float(expr.subs(sym, a)) for a in at]


def _powers_of_ten(lo: int, hi: int, per_decade: int) -> list[sp.Expr]:
    return [sp.Integer(10) ** sp.Rational(k, per_decade)
            for k in range(lo * per_decade, hi * per_decade + 1)]


def _distance_tables(family: str, param: str, fixed_sets: Sequence[dict[str, str]],
                     ps: Sequence[str], line_at: Sequence[sp.Expr], marker_at: Sequence[str],
                     general: dict[str, str]) -> FigureData:
    lines, markers, status = [], [], []
    key = "N" if "N" in fixed_sets[0] else "a"
    for fixed in fixed_sets:
        label = int(fixed["N"]) if key == "N" else fixed[key]
        for p in ps:
            res, closed = _closed_form(family, p, {**fixed, param: "symbolic"}, general)
            sym = res.activation.parameter(param).symbol
            rate = "" if res.rate is None else str(res.rate)
            status.append((label, p, res.converges, str(res.condition), rate,
                           "" if closed is None else str(closed)))
            if not res.converges:
                continue
            if closed is not None:
                for lam, v in zip(line_at, _evaluate(closed, sym, line_at)):
                    lines.append((label, p, float(lam), v))
            for m in marker_at:
                conc = _lp(family, p, **fixed, **{param: m})
                if conc.check is None:
                    continue
                markers.append((label, p, float(Fraction(m)), float(conc.check.value),
                                float(conc.value.value), float(conc.check.rel_diff)))
    return FigureData({
        "": Table((key, "p", param, "closed_form"), tuple(lines)),
        "quadrature": Table((key, "p", param, "quadrature", "value", "rel_diff"), tuple(markers)),
        "status": Table((key, "p", "finite", "condition", "rate", "closed_form_expr"), tuple(status)),
    })


def lp_curves(Ns: Sequence[int] = (1, 2, 3), ps: Sequence[str] = ("1", "2", "inf"),
              eps_markers: Sequence[str] = ("1/100000", "1/1000", "1/10")) -> FigureData:
    """||E-GEM_{N,eps} - ReLU||_p against eps in [1e-6, 1]: the closed form on a grid
    (4 points a decade), the quadrature check at ``eps_markers``, and per (N, p) the
    finiteness verdict, condition and rate in eps."""
    return _distance_tables(
        "e-gem", "eps", [{"N": str(n)} for n in Ns], ps, _powers_of_ten(-6, 0, 4),
        eps_markers, {"N": "symbolic", "eps": "symbolic"},
    )


def sqish_distance(a_values: Sequence[str] = ("0",), ps: Sequence[str] = ("1", "2", "inf"),
                   gamma_markers: Sequence[str] = ("1/2", "10")) -> FigureData:
    """||Sqish_{a,1,gamma} - max(a x, x)||_p against gamma in [1/10, 100]: closed form on a
    grid, quadrature check at ``gamma_markers``, and the rate in gamma."""
    return _distance_tables(
        "sqish", "gamma", [{"a": a, "beta": "1"} for a in a_values], ps,
        _powers_of_ten(-1, 2, 4), gamma_markers, {"a": "symbolic", "beta": "1", "gamma": "symbolic"},
    )


def lp_region(Ns: Sequence[int] = (1, 2, 3, 4, 5, 6), ps_marked: Sequence[str] = ("1", "3/2", "2")
              ) -> FigureData:
    """Where ||E-GEM_{N,eps} - ReLU||_p is finite, per integer N: the set of p > 0 on which
    the module's condition (for symbolic N and p) holds, solved exactly for p at each N
    (main table: the threshold and whether the threshold itself is finite), and the
    module's own verdict for concrete (N, p) pairs (table ``verdicts``)."""
    res = _lp("e-gem", "symbolic", N="symbolic", eps="symbolic")
    from ..lp import P

    N = res.activation.parameter("N").symbol
    rows = []
    for n in Ns:
        cond = res.condition.subs(N, n)
        finite = sp.solve_univariate_inequality(cond, P, relational=False, domain=sp.Interval.open(0, sp.oo))
        if not isinstance(finite, sp.Interval) or finite.sup != sp.oo:
            raise ValueError(f"N={n}: the finite set of p is {finite}, not a half-line")
        low = finite.inf
        rows.append((n, float(low), str(low), not finite.left_open))
    verdicts = []
    for n in Ns:
        for p in ps_marked:
            r = _lp("e-gem", p, N=str(n), eps="symbolic")
            verdicts.append((n, float(Fraction(p)), p, r.converges))
    return FigureData({
        "": Table(("N", "threshold", "threshold_exact", "threshold_finite"), tuple(rows)),
        "verdicts": Table(("N", "p", "p_exact", "finite"), tuple(verdicts)),
        "condition": Table(("condition",), ((str(res.condition),),)),
    })
