"""The plain-text table of ``make run``: E-GEM and Sqish against their limits
(``gemsym lp-distance --table``; the other formats are built by the CLI from the same
:class:`~gemsym.lp.distance.LpDistance` results)."""

from __future__ import annotations

from typing import Sequence

import mpmath
import sympy as sp

from ..families import e_gem, sqish
from .distance import LpDistance, lp_distance

__all__ = ["lp_table"]


def lp_table(Ns: Sequence[int] = (1, 2, 3), ps: Sequence = (1, 2, "inf"), eps="1/10000",
             dps: int = 30) -> str:
    """The E-GEM table \\|E-GEM_{N,eps} - ReLU\\|_p for N in ``Ns`` and p in ``ps`` at the
    given eps, then Sqish at its defaults (a=0, beta=1, gamma=1) vs max(a x, x)."""
    acts = [e_gem().bind(N=N, eps=eps) for N in Ns] + [sqish().with_defaults()]
    rows = []
    for act in acts:
        for p in ps:
            r = lp_distance(act, p, dps=dps)
            rows.append(_table_row(r))
    head = ("family", "p", "||f - limit||_p", "closed form", "rate", "check rel diff")
    widths = [max(len(row[i]) for row in rows + [head]) for i in range(len(head))]
    widths[3] = min(widths[3], 44)
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = list(row)
        if len(cells[3]) > 44:
            cells[3] = cells[3][:41] + "..."
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
    return "\n".join(lines)


def _table_row(r: LpDistance) -> tuple[str, ...]:
    p = "inf" if r.p == sp.oo else str(r.p)
    rate = "-" if r.rate is None else f"{r.parameter}^({r.rate})"
    if r.converges is False:
        return (r.activation.label, p, "infinite", f"finite iff {r.condition}", "-", "-")
    if r.value is None:
        value = "not certified" if r.undecided else "-"
    else:
        value = mpmath.nstr(r.value.value, min(16, r.value.digits), strip_zeros=False)
    closed = "(numerical)" if r.closed_form is None else str(r.closed_form)
    rel = "-" if r.check is None else mpmath.nstr(r.check.rel_diff, 2)
    return (r.activation.label, p, value, closed, rate, rel)
