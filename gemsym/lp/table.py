"""The plain-text table of ``make run``: E-GEM and Sqish against their limits
(``gemsym lp-distance --table``; the other formats are built by the CLI from the same
:class:`~gemsym.lp.distance.LpDistance` results)."""

from __future__ import annotations

from typing import Sequence

import mpmath
import sympy as sp

from ..families import e_gem, sqish
from .distance import LpDistance, lp_distance

__all__ = ["lp_table", "table_results", "table_text", "is_decided"]


def table_results(Ns: Sequence[int] = (1, 2, 3), ps: Sequence = (1, 2, "inf"),
                  eps="1/10000", dps: int = 30) -> list[LpDistance]:
    r"""\|E-GEM_{N,eps} - ReLU\|_p for N in ``Ns`` and p in ``ps`` at the given eps, then
    Sqish at its defaults (a=0, beta=1, gamma=1) vs max(a x, x): one result per row."""
    acts = [e_gem().bind(N=N, eps=eps) for N in Ns] + [sqish().with_defaults()]
    return [lp_distance(act, p, dps=dps) for act in acts for p in ps]


def is_decided(r: LpDistance) -> bool:
    """True when the row states a certified value or a proved divergence."""
    return r.converges is False or r.value is not None


def table_text(results: Sequence[LpDistance]) -> str:
    """The rows as aligned plain text (values to their certified digits, at most 16)."""
    rows = [_table_row(r) for r in results]
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


def lp_table(Ns: Sequence[int] = (1, 2, 3), ps: Sequence = (1, 2, "inf"), eps="1/10000",
             dps: int = 30) -> str:
    """:func:`table_text` of :func:`table_results`."""
    return table_text(table_results(Ns, ps, eps, dps))


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
